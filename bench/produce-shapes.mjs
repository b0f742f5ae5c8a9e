// @ts-check
/**
 * `node bench/produce-shapes.mjs [passes] [requests]`: the produce handler's own pieces, each alone in a bare workerd
 * (bench/lib/bare-workerd.mjs), for produce-32c-1r's request: one 1 KiB record to partition 0. The route's real code
 * (src/http/body.ts, produce-fast-path.ts, src/topic/produce.ts, record-codec.ts, append-answer.ts, topic-cache.ts,
 * Hono's `Context`) is bundled with esbuild. Every request POSTs the same body and reads it with `readText`; a shape
 * then runs its piece `BUILDS` times (default 50) and answers `{"ok":true}`. Prints workerd's CPU (from /proc) per
 * piece over `floor`'s, pass by pass (floor's own: per request), the shapes alternating. Not part of `npm test` or
 * the bench.
 *
 * Shapes (`SHAPES=a,b,…`): `floor` (nothing more), `parse` (what `readProduceRequest` does after the text:
 * `mediaType`, `declaredTextBytes`, `parsesToAscii`, `fastProduceBody`), `parse-headers` (its header reads alone:
 * `mediaType` and `declaredTextBytes` twice, as `readText` and `readProduceRequest` call it), `parse-fast`
 * (`fastProduceBody` alone), `check` (`checkProduce`: partitions, the
 * encoding's checks and sizes, claims), `batch` (the share: `encodeBatch` and its append request), `stub`
 * (`getByName` of a partition's name), `stub-id` (`get` of an id kept across requests), `rpc-none` (an RPC with no
 * argument to an object that answers at once, as text, read back by `appendOutcome`), `rpc-text` (the same carrying
 * the record's 1 KiB tail as a string, the ceiling's shape), `rpc-lean` (the append request without its null
 * fields), `rpc` (the append request as `appendShare` sends it), `rpc-stub` (the same with `getByName` each call, as
 * `appendShare` does), `produce` (the real `produce()`, its topic cached, through `rpc-stub`'s object), `answer-json`
 * (a Hono `Context` and `c.json` of one position), `answer-response` (`new Response` of the same text with
 * Content-Type, then the eight headers set after, as the middleware do), `answer` (`c.json`, then the eight headers).
 *
 * What it showed (BUILDS=50, 200 requests a pass, load 7-10; µs a piece over floor's, median of 6 passes and the
 * passes' range; floor itself 650-900 µs a request, Miniflare's entry worker included): parse 5 (1 to 5), check 1
 * (−3 to 7), batch 1 (−3 to 3), stub 4 (−2 to 10), stub-id 6 (1 to 9), rpc-none 44 (30 to 56), rpc 60 (23 to 75),
 * rpc-stub 71 (50 to 91), produce 71 (52 to 81), answer-json 8 (0 to 12), answer-response 21 (11 to 30), answer 22
 * (13 to 35). The RPC alone, 8 passes: rpc-none 30 (23 to 53), rpc-text 29 (13 to 39), rpc-lean 31 (22 to 51), rpc 36
 * (22 to 60); rpc − rpc-lean per pass +9, −3, +3, −3, +23, −15, +20, +6. The parse, 8 passes (load ~10, floor
 * 1,000-1,450): parse 4 (−1 to 8), parse-headers 1 (−3 to 4), parse-fast 4 (−9 to 6); `declaredTextBytes` read
 * twice is inside parse-headers' 1. So of the handler's ~100 µs here (parse 5,
 * produce 71, answer 22) the RPC is 30-44 and the same with no argument at all (what the ceiling's append pays
 * too; its argument's shape 0-5, within the passes' spread); `produce()` costs no more than its stub and RPC (its
 * checks, share, awaits and positions within noise); the answer ~22, of which `c.json` ~8 (a `new Response` no cheaper) and the eight
 * headers ~13 (each kept for a reason: security-headers.ts); reading the parsed body's checks ~5; a kept id no
 * cheaper than `getByName`. Nothing here above ~5 µs can go without weakening a check or an answer, and nothing
 * of ~5 resolves against these passes' spread, so no cut was made.
 */

import { bundleEntry, measurePasses, startBareWorkerd } from "./lib/bare-workerd.mjs";
import { produceBodies } from "./lib/records.mjs";

const PASSES = Number(process.argv[2] ?? 6);
const REQUESTS = Number(process.argv[3] ?? 200);
const BUILDS = Number(process.env.BUILDS ?? 50);
const SHAPES = (
	process.env.SHAPES ?? "floor,parse,check,batch,stub,stub-id,rpc-none,rpc,rpc-stub,produce,answer-json,answer-response,answer"
).split(",");

const entry = /* js */ `
import { DurableObject } from "cloudflare:workers";
import { Context } from "./node_modules/hono/dist/context.js";
import { SECURITY_HEADERS } from "./src/http/middleware/security-headers.ts";
import { declaredTextBytes, mediaType, readText } from "./src/http/body.ts";
import { fastProduceBody, parsesToAscii } from "./src/http/produce-fast-path.ts";
import { checkProduce, produce } from "./src/topic/produce.ts";
import { remember } from "./src/topic/topic-cache.ts";
import { compactionKeyId, encodeBatch } from "./src/shared/record-codec.ts";
import { appendOutcome } from "./src/shared/append-answer.ts";
import { DEFAULT_TOPIC_CONFIG } from "./src/shared/topic-config.ts";

const ENTRIES = Object.entries(SECURITY_HEADERS);
const ID = "0b6b8d1e-6f0b-4d6e-9a55-2b1f0c3d4e5f";
const META = { name: "bench", topicId: "0b6b8d1e6f0b4d6e9a552b1f0c3d4e5f", partitions: 1, config: DEFAULT_TOPIC_CONFIG, configVersion: 1, createdAtMs: 0, locationHint: null };
const NAME = META.topicId + "/0";

export class Partition extends DurableObject {
	next = 0;
	append(request) {
		if (request.batch.count !== 1) throw new Error("no batch");
		return (this.next++) + " " + Date.now();
	}
	appendText(text) {
		if (typeof text !== "string") throw new Error("no text");
		return (this.next++) + " " + Date.now();
	}
	ping() {
		return (this.next++) + " " + Date.now();
	}
}

function parsed(request, text) {
	const type = mediaType(request);
	if (type !== "application/json") throw new Error("type " + type);
	const declared = declaredTextBytes(request);
	const asciiText = parsesToAscii(text, declared);
	const fast = fastProduceBody(text, declared);
	if (fast === null) throw new Error("not fast");
	return { ...fast, asciiText };
}

function shareRequest(body) {
	const record = body.records[0];
	const encoded = [{ timestampMs: record.timestampMs, tail: record.encoded.tail, bytes: record.encoded.bytes, keyId: compactionKeyId(record.key, record.keyEncoding), tombstone: false }];
	return { topicId: META.topicId, configVersion: 1, batch: encodeBatch(encoded), producer: null, idempotency: null, expectedOffset: null, textAnswer: true };
}

let sink = 0;
let id = null;
function keptId(env) {
	id ??= env.PARTITION_LOG.idFromName(NAME);
	return id;
}
async function piece(shape, request, text, body, share, env, stub) {
	switch (shape) {
		case "floor": return;
		case "parse": sink += parsed(request, text).records.length; return;
		case "parse-headers": sink += mediaType(request).length + (declaredTextBytes(request) ?? 0) + (declaredTextBytes(request) ?? 0); return;
		case "parse-fast": sink += fastProduceBody(text, text.length).records.length; return;
		case "check": if (!checkProduce(META, body.records, { asciiText: body.asciiText }).ok) throw new Error("refused"); return;
		case "batch": sink += shareRequest(body).batch.count; return;
		case "stub": sink += env.PARTITION_LOG.getByName(NAME) ? 1 : 0; return;
		case "rpc": sink += appendOutcome(await stub.append(share)).value.baseOffset; return;
		case "rpc-none": sink += appendOutcome(await stub.ping()).value.baseOffset; return;
		case "rpc-text": sink += appendOutcome(await stub.appendText(share.batch.tails)).value.baseOffset; return;
		case "rpc-lean": {
			const { count, tails, bytes } = share.batch;
			const lean = { topicId: share.topicId, configVersion: 1, batch: { count, tails, bytes, timestamps: null, keyIds: null, tombstones: null } };
			sink += appendOutcome(await stub.append(lean)).value.baseOffset;
			return;
		}
		case "rpc-stub": sink += appendOutcome(await env.PARTITION_LOG.getByName(NAME).append(share)).value.baseOffset; return;
		case "produce": {
			remember(META);
			const outcome = await produce(env, META.name, body.records, { producer: null, idempotencyKey: null, expectedOffset: null, asciiText: body.asciiText });
			if (!outcome.ok) throw new Error(outcome.error.message);
			sink += outcome.value.positions.length;
			return;
		}
		case "stub-id": sink += env.PARTITION_LOG.get(keptId(env)) ? 1 : 0; return;
		case "answer-json": {
			const c = new Context(request, {});
			c.res = c.json({ offsets: [{ partition: 0, offset: sink, timestamp: Date.now() }] });
			sink += c.res.status;
			return;
		}
		case "answer-response": {
			const c = new Context(request, {});
			c.res = new Response(JSON.stringify({ offsets: [{ partition: 0, offset: sink, timestamp: Date.now() }] }), { headers: { "Content-Type": "application/json" } });
			const headers = c.res.headers;
			if (!headers.has("X-Request-Id")) headers.set("X-Request-Id", ID);
			for (const [name, value] of ENTRIES) if (!headers.has(name)) headers.set(name, value);
			sink += c.res.status;
			return;
		}
		case "answer": {
			const c = new Context(request, {});
			c.res = c.json({ offsets: [{ partition: 0, offset: sink, timestamp: Date.now() }] });
			const headers = c.res.headers;
			if (!headers.has("X-Request-Id")) headers.set("X-Request-Id", ID);
			for (const [name, value] of ENTRIES) if (!headers.has(name)) headers.set(name, value);
			sink += c.res.status;
			return;
		}
		default: throw new Error("no shape " + shape);
	}
}

export default {
	async fetch(request, env) {
		const shape = new URL(request.url).pathname.slice(1);
		const text = await readText(request);
		const body = parsed(request, text);
		const share = shareRequest(body);
		const kept = env.PARTITION_LOG.getByName(NAME); // a stub serves its own request only
		for (let k = 0; k < ${BUILDS}; k++) await piece(shape, request, text, body, share, env, kept);
		return new Response('{"ok":true}', { headers: { "Content-Type": "application/json" } });
	},
};
`;

const script = await bundleEntry(entry);
const [body] = produceBodies({ count: 1, perRequest: 1, partition: 0, seed: 1 });
if (body === undefined) throw new Error("no body");

const { mf, base, pid } = await startBareWorkerd(script, { PARTITION_LOG: { className: "Partition", useSQLite: true } });
try {
	const results = await measurePasses({
		base,
		pid,
		shapes: SHAPES,
		passes: PASSES,
		requests: REQUESTS,
		init: { method: "POST", body, headers: { "Content-Type": "application/json" } },
	});
	console.log(`BUILDS=${BUILDS}, ${REQUESTS} requests a pass, a body of ${body.length} bytes`);
	console.log("shape          µs workerd CPU per piece over floor's, per pass (floor: µs a request)");
	const floor = results.get("floor");
	for (const [shape, runs] of results) {
		const cells = runs.map((r, i) =>
			shape === "floor" || floor === undefined ? (r.cpu / REQUESTS) * 1e6 : ((r.cpu - (floor[i]?.cpu ?? 0)) / (REQUESTS * BUILDS)) * 1e6,
		);
		const sorted = [...cells].sort((a, b) => a - b);
		const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
		console.log(`${shape.padEnd(14)} ${cells.map((c) => c.toFixed(1)).join(" ")}  (median ${median.toFixed(1)})`);
	}
} finally {
	await mf.dispose();
}
