/**
 * The ceiling's streaming produce channel (`…/records/stream`): the same transports and hops as Tributary's (a
 * WebSocket held by the edge Worker, or one long NDJSON request answered through a native byte pipe; messages
 * arriving while an append is in flight go together as the next one, after a timer lets the runtime deliver what
 * is already on the connection; one RPC to the partition's Durable Object per run), with nothing done per message
 * beyond splitting lines and writing a report. Each message is answered after the RPC its run went in, with dense
 * offsets, so the bench's client checks it as it checks Tributary.
 *
 * With CEILING_PARSE = "true", each message is first parsed with `JSON.parse` (the result dropped), as Tributary must
 * read and check every message before it is written: with `ceiling+sqlite`, a fair floor for the channel.
 *
 * With `?echo=1` the edge answers each message at once, no RPC: what a bare WebSocket (or NDJSON line) round trip
 * costs in this runtime. With `?reports=array` the WebSocket frames reports as Tributary's does: the reports due
 * together as one JSON array (the echo's: one report each, as it answers each message alone).
 */

/**
 * One connection's channel: `accept(text)` in arrival order; `write(reports)` gets each run's reports in order.
 * @param {{ appendStream(messages: string[]): Promise<number> } | null} stub  null: echo
 * @param {(reports: string[]) => void | Promise<void>} write
 * @param {boolean} parse  each message parsed with `JSON.parse` as it arrives (CEILING_PARSE)
 */
function channel(stub, write, parse) {
	let queue = [];
	let echoed = 0;
	let busy = null;
	const reports = (base, count) => {
		const timestamp = Date.now();
		const out = new Array(count);
		for (let i = 0; i < count; i++) out[i] = `{"offsets":[{"partition":0,"offset":${base + i},"timestamp":${timestamp}}]}`;
		return out;
	};
	const drain = async () => {
		while (queue.length > 0) {
			// As Tributary's channel does: let the runtime deliver what is already on the connection first.
			await new Promise((resolve) => setTimeout(resolve, 0));
			const run = queue;
			queue = [];
			// The run's texts as an array, as Tributary sends a share's tails (no string joining them crosses the RPC).
			const baseOffset = await stub.appendStream(run);
			await write(reports(baseOffset, run.length));
		}
		busy = null;
	};
	return {
		accept(text) {
			if (stub === null) {
				void write(reports(echoed++, 1));
				return;
			}
			if (parse) JSON.parse(text);
			queue.push(text);
			busy ??= drain();
		},
		finish: () => busy ?? Promise.resolve(),
	};
}

/**
 * @param {boolean} arrays  one frame per write, a JSON array of its reports (`?reports=array`)
 * @param {boolean} parse  see `channel`
 */
function webSocket(stub, arrays, parse) {
	const [client, server] = Object.values(new WebSocketPair());
	server.accept();
	const write = (reports) => {
		if (arrays) server.send(`[${reports.join(",")}]`);
		else for (const report of reports) server.send(report);
	};
	const stream = channel(stub, write, parse);
	server.addEventListener("message", (event) => stream.accept(event.data));
	server.addEventListener("close", () => stream.finish().then(() => server.close(1000, "closed")));
	return new Response(null, { status: 101, webSocket: client });
}

/** @param {boolean} parse  see `channel` */
function ndjson(stub, request, ctx, parse) {
	const { readable, writable } = new IdentityTransformStream();
	const writer = writable.getWriter();
	const encoder = new TextEncoder();
	const stream = channel(stub, (reports) => writer.write(encoder.encode(`${reports.join("\n")}\n`)), parse);
	const feed = async () => {
		const decoder = new TextDecoder();
		let pending = "";
		for await (const chunk of request.body) {
			const text = pending + decoder.decode(chunk, { stream: true });
			let from = 0;
			for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", from)) {
				if (newline > from) stream.accept(text.slice(from, newline));
				from = newline + 1;
			}
			pending = text.slice(from);
		}
		if (pending.length > 0) stream.accept(pending);
		await stream.finish();
		await writer.close();
	};
	ctx.waitUntil(feed());
	return new Response(readable, { headers: { "Content-Type": "application/x-ndjson" } });
}

/**
 * The answer to `…/records/stream` of `topic` (partition 0: the bench streams to one partition).
 * @param {Request} request
 * @param {{ CEILING_LOG: DurableObjectNamespace, CEILING_PARSE?: string }} env
 * @param {ExecutionContext} ctx
 * @param {string} topic
 */
export function streamResponse(request, env, ctx, topic) {
	const query = new URL(request.url).searchParams;
	const stub = query.get("echo") === "1" ? null : env.CEILING_LOG.getByName(`${topic}/0`);
	const parse = env.CEILING_PARSE === "true";
	if (request.method === "GET" && request.headers.get("Upgrade") === "websocket")
		return webSocket(stub, query.get("reports") === "array", parse);
	if (request.method === "POST" && request.body !== null) return ndjson(stub, request, ctx, parse);
	return new Response('{"error":{"code":"invalid_request"}}', { status: 400, headers: { "Content-Type": "application/json" } });
}
