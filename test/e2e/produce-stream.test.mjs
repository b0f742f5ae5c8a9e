// @ts-check
/**
 * The streaming produce channel against a real `wrangler dev`: the SDK's producer with many unawaited sends
 * takes the NDJSON channel (Node's own fetch, full duplex) and every send gets its offset, in order; and a
 * WebSocket client (the `ws` package) gets one report per message, in order, a bad message answered alone, or with
 * `?reports=array` the same reports as arrays, several to a frame.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Tributary } from "tributary/client";
import { WebSocket } from "ws";
import { stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { plainDevToken, plainWranglerDev } from "./lib/shared-dev.mjs";

/**
 * One broker for the file's tests, which run one after another: each works on topics of its own (the first on
 * "streamed", the others on a fresh `ordered-…` each), and what the others break or refuse is their own client's
 * wire, not the broker; so a wrangler dev start apiece (about 8 s, more under load) would prove nothing more. Under
 * `npm run test:e2e`, the shared one (test/e2e/lib/shared-dev.mjs).
 */
const token = plainDevToken();
/** @type {Awaited<ReturnType<typeof plainWranglerDev>>} */
let dev;
before(async () => {
	dev = await plainWranglerDev("produce-stream", token);
});
after(async () => {
	await stopAllWranglerDevs();
	dev?.remove();
});

test("produce stream on wrangler dev: the SDK's channel and a WebSocket", { timeout: 120_000 }, async () => {
	const client = new Tributary({ url: dev.url, token });
	await client.topics.create({ name: "streamed", partitions: 2 });

	// Which paths the SDK asks for: it uses the global fetch, so watching that one sees every request.
	/** @type {string[]} */
	const paths = [];
	const realFetch = globalThis.fetch;
	globalThis.fetch = (input, init) => {
		paths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
		return realFetch(input, init);
	};
	try {
		const producer = client.producer();
		const count = 3_000;
		const sends = Array.from({ length: count }, (_, i) => producer.send("streamed", { key: `k${i % 7}`, value: { i } }));
		const written = await Promise.all(sends);
		await producer.close();
		assert.ok(paths.includes("/v1/topics/streamed/records/stream"), `the producer opened the channel: ${[...new Set(paths)].join(", ")}`);
		/** @type {Map<number, number[]>} */
		const offsets = new Map();
		for (const w of written) offsets.set(w.partition, [...(offsets.get(w.partition) ?? []), w.offset]);
		const described = await client.topics.describe("streamed");
		for (const p of described.partitions) {
			const seen = offsets.get(p.partition) ?? [];
			assert.deepEqual(
				seen,
				seen.map((_, i) => i),
				`partition ${p.partition}: offsets dense and in send order`,
			);
			assert.equal(p.high_watermark, seen.length, `partition ${p.partition}: written once`);
		}
	} finally {
		globalThis.fetch = realFetch;
	}

	const ws = new WebSocket(`${dev.url.replace(/^http/, "ws")}/v1/topics/streamed/records/stream`, {
		headers: { Authorization: `Bearer ${token}` },
	});
	await new Promise((resolve, reject) => {
		ws.once("open", resolve);
		ws.once("error", reject);
	});
	/** @type {any[]} */
	const reports = [];
	const messages = [
		...Array.from({ length: 50 }, (_, i) => JSON.stringify({ value: i, partition: 1 })),
		"{oops",
		JSON.stringify({ value: "last", partition: 1 }),
	];
	const done = new Promise((resolve) => {
		ws.on("message", (data) => {
			reports.push(JSON.parse(data.toString()));
			if (reports.length === messages.length) resolve(undefined);
		});
	});
	const base = (await client.topics.describe("streamed")).partitions[1]?.high_watermark ?? 0;
	for (const message of messages) ws.send(message);
	await done;
	ws.close(1000, "done");
	assert.deepEqual(
		reports.slice(0, 50).map((r) => r.offsets[0].offset),
		Array.from({ length: 50 }, (_, i) => base + i),
	);
	assert.equal(reports[50].error.code, "invalid_json");
	assert.equal(reports[51].offsets[0].offset, base + 50, "no gap after a bad message");

	const arrays = new WebSocket(`${dev.url.replace(/^http/, "ws")}/v1/topics/streamed/records/stream?reports=array`, {
		headers: { Authorization: `Bearer ${token}` },
	});
	await new Promise((resolve, reject) => {
		arrays.once("open", resolve);
		arrays.once("error", reject);
	});
	/** @type {any[][]} */
	const frames = [];
	const answered = new Promise((resolve) => {
		arrays.on("message", (data) => {
			frames.push(JSON.parse(data.toString()));
			if (frames.flat().length >= messages.length) resolve(undefined);
		});
	});
	for (const message of messages) arrays.send(message);
	await answered;
	arrays.close(1000, "done");
	assert.ok(
		frames.every((frame) => Array.isArray(frame) && frame.length > 0),
		"every frame is a non-empty array of reports",
	);
	assert.ok(frames.length < messages.length, `reports shared frames: ${frames.length} frames for ${messages.length} messages`);
	const flat = frames.flat();
	assert.equal(flat.length, messages.length, "one report per message");
	assert.deepEqual(
		flat.slice(0, 50).map((r) => r.offsets[0].offset),
		Array.from({ length: 50 }, (_, i) => base + 51 + i),
	);
	assert.equal(flat[50].error.code, "invalid_json");
	assert.equal(flat[51].offsets[0].offset, base + 101, "no gap after a bad message");
});

/**
 * `globalThis.fetch` for the SDK, whose channel's answer (the report lines) breaks once, after `dropAfter` reports,
 * as a connection lost mid-stream does: the broker goes on writing what it had received, the SDK never hears of it.
 * With `dropAfter` -1 it only watches whether the channel was opened.
 * @param {number} dropAfter
 * @returns {{ restore: () => void, opened: () => boolean, cut: () => boolean, ended: () => boolean }} `restore` puts the
 *   real fetch back; `cut` says whether the answer was cut (a channel answering no more than `dropAfter` reports is
 *   not); `ended`, whether the channel's request body was ended
 */
function breakChannelOnce(dropAfter) {
	const realFetch = globalThis.fetch;
	let broken = false;
	let answerCut = false;
	let bodyEnded = false;
	globalThis.fetch = async (input, init) => {
		const request = input instanceof Request ? input : new Request(input, init);
		if (broken || !new URL(request.url).pathname.endsWith("/records/stream") || request.body === null) return realFetch(request);
		broken = true;
		// The producer's close must end the channel's request: a request left open keeps the connection, and the process.
		const body = request.body.pipeThrough(
			new TransformStream({
				flush() {
					bodyEnded = true;
				},
			}),
		);
		const sent = new Request(request, { body, duplex: "half" });
		if (dropAfter < 0) return realFetch(sent);
		const response = await realFetch(sent);
		let seen = 0;
		const decoder = new TextDecoder();
		const cut = new TransformStream({
			transform(chunk, controller) {
				const lines = decoder.decode(chunk, { stream: true }).split("\n").filter(Boolean);
				if (seen + lines.length <= dropAfter) {
					seen += lines.length;
					controller.enqueue(chunk);
					return;
				}
				const kept = lines.slice(0, dropAfter - seen).map((line) => `${line}\n`);
				if (kept.length > 0) controller.enqueue(new TextEncoder().encode(kept.join("")));
				answerCut = true;
				controller.error(new TypeError("terminated: other side closed"));
			},
		});
		return new Response(response.body?.pipeThrough(cut) ?? null, response);
	};
	return {
		restore: () => {
			globalThis.fetch = realFetch;
		},
		opened: () => broken,
		cut: () => answerCut,
		ended: () => bodyEnded,
	};
}

/**
 * `globalThis.fetch` for the SDK, whose channel answers one message, the `at`-th line sent on it, with `report`
 * instead of passing it to the broker: as a partition briefly unavailable, or a quota refusing, answers a message it
 * did not write. Every produce body (channel line or plain request) is kept, with when it was sent.
 * @param {number} at
 * @param {object} report
 */
function refuseOnce(at, report) {
	const realFetch = globalThis.fetch;
	/** @type {{ body: string, atMs: number }[]} */
	const bodies = [];
	/** @type {{ body: string, atMs: number } | null} */
	let refused = null;
	let streams = 0;
	globalThis.fetch = async (input, init) => {
		const request = input instanceof Request ? input : new Request(input, init);
		const path = new URL(request.url).pathname;
		if (path.endsWith("/records") && request.method === "POST") bodies.push({ body: await request.clone().text(), atMs: Date.now() });
		if (!path.endsWith("/records/stream") || streams++ > 0 || request.body === null) return realFetch(request);
		let lines = 0;
		let carry = "";
		const decoder = new TextDecoder();
		const encoder = new TextEncoder();
		/** Set once the refused message's place in the answers is known: that many reports come before its own. */
		let answeredBefore = -1;
		const outgoing = request.body.pipeThrough(
			new TransformStream({
				transform(chunk, controller) {
					carry += decoder.decode(chunk, { stream: true });
					for (let newline = carry.indexOf("\n"); newline !== -1; newline = carry.indexOf("\n")) {
						const line = carry.slice(0, newline);
						carry = carry.slice(newline + 1);
						if (line.trim() === "") continue;
						const sent = { body: line, atMs: Date.now() };
						bodies.push(sent);
						if (lines++ === at) {
							refused = sent;
							answeredBefore = at;
							continue;
						}
						controller.enqueue(encoder.encode(`${line}\n`));
					}
				},
			}),
		);
		const response = await realFetch(new Request(request, { body: outgoing, duplex: "half" }));
		let reports = 0;
		let pending = "";
		const incoming = new TransformStream({
			transform(chunk, controller) {
				pending += decoder.decode(chunk, { stream: true });
				let out = "";
				for (let newline = pending.indexOf("\n"); newline !== -1; newline = pending.indexOf("\n")) {
					if (reports++ === answeredBefore) out += `${JSON.stringify(report)}\n`;
					out += pending.slice(0, newline + 1);
					pending = pending.slice(newline + 1);
				}
				if (out !== "") controller.enqueue(encoder.encode(out));
			},
		});
		return new Response(response.body?.pipeThrough(incoming) ?? null, response);
	};
	return {
		bodies,
		refused: () => refused,
		restore: () => {
			globalThis.fetch = realFetch;
		},
	};
}

/**
 * Sends `count` records to partition 0 of a new topic through a producer (idempotent unless `idempotent` is false) in
 * batches of 40, those at `refused` too large for the topic, and reads the partition back. Batches of 40 go on the
 * channel from the first (a batch of at least `STREAM_PENDING_SENDS_MIN`, 32, is many sends pending); batches of 10
 * never would: the first goes as a plain request, and each next one is prepared while the one before is in flight.
 * @param {Tributary} client
 * @param {number} count
 * @param {Set<number>} refused
 * @param {boolean} [idempotent]
 */
async function sendInOrder(client, count, refused, idempotent = true) {
	const topic = `ordered-${crypto.randomUUID().slice(0, 8)}`;
	await client.topics.create({ name: topic, partitions: 1, config: { "max.message.bytes": 2048 } });
	const producer = client.producer({ batchRecords: 40, lingerMs: 20, idempotent });
	const sends = Array.from({ length: count }, (_, i) =>
		producer.send(topic, { partition: 0, value: refused.has(i) ? { i, pad: "x".repeat(4000) } : { i } }),
	);
	const settled = await Promise.allSettled(sends);
	await producer.close().catch(() => {}); // (it rejects with the refused sends' error, which `settled` holds)
	/** @type {{ offset: number, value: { i: number } }[]} */
	const records = [];
	for (let offset = 0; ; ) {
		const page = await client.fetch(topic, 0, { offset, maxRecords: 1000 });
		records.push(...page.records.map((r) => ({ offset: r.offset, value: /** @type {{ i: number }} */ (r.value) })));
		if (page.records.length === 0 || page.nextOffset >= page.highWatermark) break;
		offset = page.nextOffset;
	}
	const acked = settled.flatMap((s, i) => (s.status === "fulfilled" ? [{ i, offset: s.value.offset }] : []));
	return {
		values: records.map((r) => r.value.i),
		acked,
		records,
		rejected: settled.flatMap((s, i) => (s.status === "rejected" ? [i] : [])),
	};
}

/**
 * The log holds `expected` (the sends' numbers) once each, in send order, and every acknowledged send's offset
 * names its own record.
 * @param {Awaited<ReturnType<typeof sendInOrder>>} result @param {number[]} expected @param {string} label
 */
function assertOnceInOrder(result, expected, label) {
	assert.deepEqual(result.values, expected, `${label}: every record once, in send order`);
	for (const { i, offset } of result.acked) {
		assert.equal(result.records.find((r) => r.offset === offset)?.value.i, i, `${label}: send ${i}'s offset names its record`);
	}
}

test("the SDK's channel keeps an idempotent producer's records once and in send order, through a refused record and a lost connection", {
	timeout: 180_000,
}, async () => {
	const client = new Tributary({ url: dev.url, token });
	const count = 600;
	for (const [label, refused, dropAfter] of /** @type {const} */ ([
		["refused records", new Set([120, 180, 240, 300]), -1],
		// 600 records in batches of 40 are 15 to 19 reports: cut after 5, while batches are in flight.
		["a lost connection", new Set([15]), 5],
	])) {
		const channel = breakChannelOnce(dropAfter);
		let result;
		try {
			result = await sendInOrder(client, count, refused);
		} finally {
			channel.restore();
		}
		assert.ok(channel.opened(), `${label}: the batches went on the channel`);
		assert.equal(channel.cut(), dropAfter >= 0, `${label}: the channel's answer was cut`);
		assert.ok(channel.ended(), `${label}: the producer's close ended the channel's request`);
		const expected = Array.from({ length: count }, (_, i) => i).filter((i) => !refused.has(i));
		assert.deepEqual(result.rejected, [...refused], `${label}: only the records too large were refused`);
		assertOnceInOrder(result, expected, label);
	}
});

// Without sequences the broker cannot tell a batch sent again from a new one: the batches whose answers the broken
// channel lost may have been written (here they were), so their sends fail rather than write them twice.
test("a plain (idempotent: false) producer's batches whose channel broke fail, and no record is written twice", {
	timeout: 180_000,
}, async () => {
	const client = new Tributary({ url: dev.url, token });
	const count = 600;
	const channel = breakChannelOnce(5);
	let result;
	try {
		result = await sendInOrder(client, count, new Set(), false);
	} finally {
		channel.restore();
	}
	assert.ok(channel.opened() && channel.cut(), "the batches went on the channel, and its answer was cut");
	const twice = result.values.filter((i, at) => result.values.indexOf(i) !== at);
	assert.equal(twice.length, 0, `no record written twice (${twice.length} were, of ${result.values.length})`);
	assert.ok(result.rejected.length > 0, "the sends of the batches in flight when the channel broke failed");
	const written = new Set(result.values);
	assert.deepEqual(
		result.acked.filter(({ i }) => !written.has(i)),
		[],
		"every acknowledged send is written",
	);
});

test("the SDK's channel retries a streamed batch refused as retriable (503, 429 with retry_after_ms) with its sequences, once and in send order", {
	timeout: 180_000,
}, async () => {
	const client = new Tributary({ url: dev.url, token });
	const count = 600;
	const retryAfterMs = 400;
	for (const [label, report] of /** @type {const} */ ([
		[
			"a partition briefly unavailable",
			{ error: { code: "partition_unavailable", message: "the partition is unavailable; retry", retriable: true }, status: 503 },
		],
		[
			"a quota refusal",
			{
				error: {
					code: "quota_exceeded",
					message: "over quota",
					retriable: true,
					quota: "produce_bytes_per_sec",
					retry_after_ms: retryAfterMs,
				},
				status: 429,
			},
		],
	])) {
		const wire = refuseOnce(3, report);
		let result;
		try {
			result = await sendInOrder(client, count, new Set());
		} finally {
			wire.restore();
		}
		const expected = Array.from({ length: count }, (_, i) => i);
		assert.deepEqual(result.rejected, [], `${label}: no send failed`);
		assertOnceInOrder(result, expected, label);
		const refused = wire.refused();
		assert.ok(refused !== null, `${label}: a message was refused on the channel (${wire.bodies.length} bodies)`);
		const { producer_id, sequence, records } = JSON.parse(refused.body);
		const first = records[0].value.i;
		// Sent again under the same producer id, its first record under the same sequence.
		const again = wire.bodies.filter((sent) => {
			if (sent === refused || sent.atMs < refused.atMs) return false;
			const { body } = sent;
			const message = JSON.parse(body);
			return message.producer_id === producer_id && message.sequence === sequence && message.records[0]?.value.i === first;
		});
		assert.ok(again.length > 0, `${label}: the refused batch was sent again with its sequence and producer id`);
		if (report.status === 429) {
			assert.ok((again[0]?.atMs ?? 0) - refused.atMs >= retryAfterMs - 5, `${label}: sent again only after its retry_after_ms`);
		}
	}
});
