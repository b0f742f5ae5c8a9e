/**
 * The streaming produce channel (`…/records/stream`): reports in message order over WebSocket and NDJSON,
 * errors per message without gaps, coalescing into fewer stored batches, the in-flight bound, and auth.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ProduceChannel, STREAM_CLOSE } from "../../src/http/produce-channel.ts";
import { reportFrames, STREAM_REPORT_FRAME_CHARS_MAX } from "../../src/http/routes/produce-stream.ts";
import { unwrap } from "../../src/shared/errors.ts";
import { STREAM_IN_FLIGHT_MESSAGES_MAX } from "../../src/shared/limits.ts";
import { describeTopic, invalidate, remember } from "../../src/topic/topic-cache.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import {
	failedAsBug,
	offsetsOf,
	openArrayProduceSocket,
	openProduceSocket,
	produceNdjson,
	type Report,
	storedBatches,
} from "../support/produce-stream.ts";
import { openSocket } from "../support/socket.ts";
import { call, createTopic, expectError, fetchRecords, highWatermarks, json } from "../support/worker.ts";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A message of one record, and one of several records all in `partition`: JSON text, as a client sends it. */
const one = (value: unknown, partition: number) => JSON.stringify({ value, partition });
const many = (partition: number, ...values: unknown[]) => JSON.stringify({ records: values.map((value) => ({ value, partition })) });
/** How both bad-message tests begin (on a topic whose max.message.bytes is 200): good, not JSON, too large. */
const GOOD_BAD_LARGE = [one("a", 0), "{not json", one("x".repeat(500), 0)];

const newProducer = () => json<{ producer_id: number; epoch: number }>("POST", "/v1/producers", 200, { body: {} });

describe("produce stream over WebSocket", () => {
	it("acknowledges every message in order with its own offsets, coalescing appends", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const socket = await openProduceSocket(topic);
		expect(socket.headers.get("Tributary-Max-In-Flight")).toBe(String(STREAM_IN_FLIGHT_MESSAGES_MAX));
		const messages = 200;
		for (const i of range(messages)) socket.ws.send(JSON.stringify({ value: `m${i}` }));
		await socket.until(() => socket.reports.length === messages);
		expect(offsetsOf(socket.reports)).toEqual(range(messages));
		for (const report of socket.reports) expect(report.offsets).toHaveLength(1);
		// One client sending one record per message: the edge joined messages into far fewer appends.
		const batches = await storedBatches(topic);
		expect(batches).toBeGreaterThan(0);
		expect(batches).toBeLessThan(messages / 4);
		const fetched = await fetchRecords(topic, 0, "?offset=0&max_records=1000");
		expect(fetched.records.map((r) => r.value)).toEqual(range(messages).map((i) => `m${i}`));
		socket.ws.close(1000, "done");
	});

	it("answers a bad message with its own error and leaves its neighbours and the offsets alone", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2, { "max.message.bytes": 200 });
		const socket = await openProduceSocket(topic);
		const sent = [
			...GOOD_BAD_LARGE,
			JSON.stringify({
				records: [
					{ value: 1, partition: 0 },
					{ value: 2, partition: 1 },
				],
			}),
			one("b", 7),
			many(0, "c", "d"),
			JSON.stringify({ vale: "typo" }),
			one("e", 0),
		];
		for (const text of sent) socket.ws.send(text);
		await socket.until(() => socket.reports.length === sent.length);
		const codes = socket.reports.map((r: Report) => r.error?.code ?? "ok");
		expect(codes).toEqual([
			"ok",
			"invalid_json",
			"record_too_large",
			"invalid_request",
			"partition_not_found",
			"ok",
			"invalid_request",
			"ok",
		]);
		expect(socket.reports.map((r) => r.offsets?.map((o) => o.offset) ?? null)).toEqual([[0], null, null, null, null, [1, 2], null, [3]]);
		for (const report of socket.reports.filter((r) => r.error)) expect(typeof report.error?.message).toBe("string");
		const fetched = await fetchRecords(topic, 0, "?offset=0");
		expect(fetched.records.map((r) => r.value)).toEqual(["a", "c", "d", "e"]);
		socket.ws.close(1000, "done");
	});

	it("closes with 4429 a client past the in-flight bound, after answering every message it took", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		// A produce-bytes quota far below the offered rate holds appends back, so answers cannot keep up.
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { produce_bytes_per_sec: 10 });
		const socket = await openProduceSocket(topic, key.secret);
		const sent = STREAM_IN_FLIGHT_MESSAGES_MAX + 100;
		for (const i of range(sent)) socket.ws.send(JSON.stringify({ value: i }));
		await socket.until(() => socket.closed() !== null);
		expect(socket.closed()?.code).toBe(STREAM_CLOSE.tooManyInFlight);
		const answered = socket.reports.length;
		expect(answered).toBeGreaterThanOrEqual(STREAM_IN_FLIGHT_MESSAGES_MAX);
		expect(answered).toBeLessThan(sent);
		expect(offsetsOf(socket.reports)).toEqual(range(answered));
		expect(await highWatermarks(topic)).toEqual([answered]);
	});

	it("needs produce on the topic, and refuses an unknown topic before upgrading", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const reader = await createKey([{ resource: `topic:${topic}`, operations: ["consume", "describe"] }]);
		await expectError("GET", `/v1/topics/${topic}/records/stream`, 403, "forbidden", {
			headers: { Upgrade: "websocket" },
			token: reader.secret,
		});
		await expectError("GET", `/v1/topics/${topic}/records/stream`, 401, "unauthorized", { headers: { Upgrade: "websocket" }, token: null });
		await expectError("GET", `/v1/topics/${uniqueTopic()}/records/stream`, 404, "topic_not_found", { headers: { Upgrade: "websocket" } });
		await expectError("GET", `/v1/topics/${topic}/records/stream`, 400, "invalid_request");
		const writer = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }]);
		const socket = await openProduceSocket(topic, writer.secret);
		socket.ws.send(JSON.stringify({ value: "ok" }));
		await socket.until(() => socket.reports.length === 1);
		expect(offsetsOf(socket.reports)).toEqual([0]);
		socket.ws.close(1000, "done");
	});
});

describe("produce stream over WebSocket with reports=array", () => {
	it("answers a run of messages in one frame, an array of each message's report in order", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const socket = await openArrayProduceSocket(topic);
		const messages = 200;
		for (const i of range(messages)) socket.ws.send(JSON.stringify({ value: `m${i}` }));
		await socket.until(() => socket.reports().length === messages);
		for (const frame of socket.frames) {
			expect(Array.isArray(frame)).toBe(true);
			expect(frame.length).toBeGreaterThan(0);
		}
		expect(offsetsOf(socket.reports())).toEqual(range(messages));
		for (const report of socket.reports()) expect(report.offsets).toHaveLength(1);
		// Messages coalesced into one append are answered together: far fewer frames than messages.
		expect(socket.frames.length).toBeLessThan(messages / 4);
		socket.ws.close(1000, "done");
	});

	it("keeps each message's own report, errors included, in order across frames", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2, { "max.message.bytes": 200 });
		const socket = await openArrayProduceSocket(topic);
		const sent = [
			...GOOD_BAD_LARGE,
			JSON.stringify({ records: [{ value: "b" }, { value: "c" }], producer_id: 1 }),
			one("d", 9),
			many(1, "e", "f"),
			one("g", 0),
		];
		for (const text of sent) socket.ws.send(text);
		await socket.until(() => socket.reports().length === sent.length);
		const reports = socket.reports();
		expect(reports.map((r) => r.error?.code ?? "ok")).toEqual([
			"ok",
			"invalid_json",
			"record_too_large",
			"invalid_request",
			"partition_not_found",
			"ok",
			"ok",
		]);
		expect(reports.map((r) => r.status ?? null)).toEqual([null, 400, 413, 400, 404, null, null]);
		expect(reports.map((r) => r.offsets?.map((o) => `${o.partition}:${o.offset}`) ?? null)).toEqual([
			["0:0"],
			null,
			null,
			null,
			null,
			["1:0", "1:1"],
			["0:1"],
		]);
		socket.ws.close(1000, "done");
	});

	it("refuses an unknown framing before upgrading, and keeps one report per message when asked by name", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await expectError("GET", `/v1/topics/${topic}/records/stream?reports=lines`, 400, "invalid_request", {
			headers: { Upgrade: "websocket" },
		});
		const socket = await openSocket<Report>(`/v1/topics/${topic}/records/stream?reports=message`);
		for (const i of range(20)) socket.ws.send(JSON.stringify({ value: i }));
		await socket.until(() => socket.messages.length === 20);
		for (const report of socket.messages) expect(Array.isArray(report)).toBe(false);
		expect(offsetsOf(socket.messages)).toEqual(range(20));
		socket.ws.close(1000, "done");
	});

	it("splits reports due together into frames under the size bound, never splitting a report", () => {
		const report = (i: number, chars: number) => JSON.stringify({ offsets: [{ offset: i, pad: "p".repeat(chars) }] });
		const small = range(10).map((i) => report(i, 10));
		expect(reportFrames(small)).toEqual([`[${small.join(",")}]`]);
		expect(reportFrames([])).toEqual([]);
		const big = range(7).map((i) => report(i, STREAM_REPORT_FRAME_CHARS_MAX / 3));
		const frames = reportFrames(big);
		expect(frames.length).toBeGreaterThan(1);
		for (const frame of frames) expect(frame.length <= STREAM_REPORT_FRAME_CHARS_MAX).toBe(true);
		expect(frames.flatMap((f) => JSON.parse(f) as unknown[])).toEqual(big.map((r) => JSON.parse(r)));
		const huge = report(0, STREAM_REPORT_FRAME_CHARS_MAX);
		expect(reportFrames([small[0] as string, huge, small[1] as string])).toEqual([`[${small[0]}]`, `[${huge}]`, `[${small[1]}]`]);
	});
});

describe("produce stream over NDJSON", () => {
	it("answers one line per message line, in order, without gaps", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const lines = [
			JSON.stringify({ value: "a" }),
			"",
			"[1,2]",
			JSON.stringify({ key: "k", value: { n: 1 }, headers: [{ key: "h", value: "v" }] }),
			JSON.stringify({ records: [{ value: "b" }, { value: "c" }] }),
		];
		const reports = await produceNdjson(topic, lines);
		expect(reports.map((r) => r.error?.code ?? "ok")).toEqual(["ok", "invalid_request", "ok", "ok"]);
		expect(offsetsOf(reports)).toEqual([0, 1, 2, 3]);
		expect(reports[3]?.offsets?.map((o) => o.offset)).toEqual([2, 3]);
	});

	it("stores each message as POST …/records stores the same record, and refuses what it refuses", async () => {
		// Messages the hand-checked path takes, and messages only the schema path may judge (exact big numbers,
		// unknown fields, bad encodings, extra top-level fields): both paths must agree record for record.
		const messages = [
			'{"value":"plain"}',
			'{"partition":0,"key":"k","value":{"n":1.5,"s":"é"},"headers":[{"key":"h","value":null}],"timestamp":1700000000000}',
			'{"value":12345678901234567890}',
			'{"key":{"id":98765432109876543210},"value":null}',
			'{"value":"aGk=","value_encoding":"base64"}',
			'{"value":"not base64!","value_encoding":"base64"}',
			'{"value":"x","extra":true}',
			'{"value":"x","partition":-1}',
			'{"value":"x","timestamp":1.5}',
			'{"records":[{"value":"r1"},{"value":"r2","key":"k"}]}',
			'{"records":[{"value":"r3"}],"extra":1}',
			' { "value" : "spaced" } ',
			'{"value":"\\u00e9scaped"}',
			"null",
		];
		const streamed = uniqueTopic();
		const posted = uniqueTopic();
		await createTopic(streamed);
		await createTopic(posted);
		const reports = await produceNdjson(streamed, messages);
		const answers: string[] = [];
		for (const text of messages) {
			const body = text.trim().startsWith('{"records"') ? text : `{"records":[${text}]}`;
			const response = await call("POST", `/v1/topics/${posted}/records`, { headers: { "Content-Type": "application/json" }, raw: body });
			const answer = (await response.json()) as { error?: { code: string } };
			answers.push(answer.error?.code ?? "ok");
		}
		const codes = reports.map((r) => r.error?.code ?? "ok");
		expect(codes).toEqual(answers);
		expect(codes.filter((c) => c === "ok")).toHaveLength(8);
		const strip = (records: { key: unknown; value: unknown; headers: unknown; timestamp: number }[]) =>
			records.map(({ key, value, headers }) => JSON.stringify({ key, value, headers }));
		const [a, b] = await Promise.all([fetchRecords(streamed, 0, "offset=0"), fetchRecords(posted, 0, "offset=0")]);
		expect(strip(a.records)).toEqual(strip(b.records));
		expect(a.records).toHaveLength(9);
		const raw = await (await call("GET", `/v1/topics/${streamed}/partitions/0/records?offset=2&max_records=2`)).text();
		expect(raw).toContain('"value":12345678901234567890');
		expect(raw).toContain('"key":{"id":98765432109876543210}');
	});

	it("takes more messages than the in-flight bound, reading on as answers free room", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const messages = STREAM_IN_FLIGHT_MESSAGES_MAX * 3;
		const reports = await produceNdjson(
			topic,
			range(messages).map((i) => JSON.stringify({ value: i })),
		);
		expect(offsetsOf(reports)).toEqual(range(messages));
		expect(await storedBatches(topic)).toBeLessThan(messages / 4);
	});

	it("writes an idempotent producer's coalesced messages once, and knows each of them on a retry", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const producer = await newProducer();
		const message = (sequence: number) =>
			JSON.stringify({
				records: [{ value: `s${sequence}`, partition: 0 }],
				producer_id: producer.producer_id,
				epoch: producer.epoch,
				sequence,
			});
		const reports = await produceNdjson(topic, range(20).map(message));
		expect(offsetsOf(reports)).toEqual(range(20));
		// The same messages again (a client that lost its answers): every one is recognised, nothing is written twice.
		const again = await produceNdjson(topic, range(20).map(message));
		expect(offsetsOf(again)).toEqual(range(20));
		const retried = await json<{ offsets: { offset: number }[] }>("POST", `/v1/topics/${topic}/records`, 200, {
			body: { records: [{ value: "s7", partition: 0 }], producer_id: producer.producer_id, epoch: producer.epoch, sequence: 7 },
		});
		expect(retried.offsets[0]?.offset).toBe(7);
		expect(await highWatermarks(topic)).toEqual([20]);
	});

	it("takes an idempotent producer's messages across the sequence wrap (2147483647, then 0), and refuses one past it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const producer = await newProducer();
		const MAX = 2_147_483_647;
		const message = (sequence: number, value: number) =>
			JSON.stringify({ records: [{ value, partition: 0 }], producer_id: producer.producer_id, epoch: producer.epoch, sequence });
		const sequences = [...range(10).map((i) => MAX - 9 + i), ...range(10)];
		const reports = await produceNdjson(
			topic,
			sequences.map((sequence, i) => message(sequence, i)),
		);
		expect(reports.map((r) => r.error?.code ?? "ok")).toEqual(range(20).map(() => "ok"));
		expect(offsetsOf(reports)).toEqual(range(20));
		const again = await produceNdjson(topic, [message(MAX, 9), message(0, 10), message(MAX + 1, 20)]);
		expect(offsetsOf(again.slice(0, 2))).toEqual([9, 10]);
		expect(again[2]?.error?.code).toBe("invalid_request");
		expect(await highWatermarks(topic)).toEqual([20]);
	});

	it("refuses a body that is not NDJSON, and a key without produce", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await expectError("POST", `/v1/topics/${topic}/records/stream`, 415, "unsupported_media_type", { body: { value: 1 } });
		const reader = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		await expectError("POST", `/v1/topics/${topic}/records/stream`, 403, "forbidden", {
			headers: { "Content-Type": "application/x-ndjson" },
			raw: '{"value":1}\n',
			token: reader.secret,
		});
		const response = await call("DELETE", `/v1/topics/${topic}/records/stream`);
		expect(response.status).toBe(405);
	});
});

/** Fills `channel` to its in-flight bound (it is full then): `room` settles once it has room, `roomy()` says whether it has. */
function fillToBound(channel: ProduceChannel) {
	for (const i of range(STREAM_IN_FLIGHT_MESSAGES_MAX)) channel.accept(JSON.stringify({ value: i }));
	expect(channel.full).toBe(true);
	let roomy = false;
	const room = channel.room().then(() => {
		roomy = true;
	});
	return { room, roomy: () => roomy };
}

/** Once a filled channel was let on: it has room, drains to not full, and wrote every message's report in order. */
async function expectDrained(channel: ProduceChannel, room: Promise<void>, written: readonly string[]) {
	await room;
	await channel.finish();
	expect(channel.full).toBe(false);
	expect(offsetsOf(written.map((w) => JSON.parse(w) as Report))).toEqual(range(STREAM_IN_FLIGHT_MESSAGES_MAX));
}

describe("ProduceChannel", () => {
	it("is full at the bound and has room again once answers go out", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		let open!: () => void;
		const gate = new Promise<void>((resolve) => {
			open = resolve;
		});
		const written: string[] = [];
		const channel = new ProduceChannel(env, topic, {
			failed: failedAsBug,
			write: (reports) => {
				written.push(...reports);
			},
			// Holds every append until the test opens the gate.
			stillAuthorized: async () => {
				await gate;
				return true;
			},
		});
		const { room, roomy } = fillToBound(channel);
		await Promise.resolve();
		expect(roomy()).toBe(false);
		open();
		await expectDrained(channel, room, written);
	});

	it("charges the produce quota a message's UTF-8 bytes, not its characters", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const charged: number[] = [];
		const channel = new ProduceChannel(env, topic, {
			failed: failedAsBug,
			write: () => {},
			charge: async (size) => void charged.push(size()),
		});
		const messages = [JSON.stringify({ value: "é".repeat(1000) }), JSON.stringify({ value: "漢".repeat(1000) })];
		for (const message of messages) channel.accept(message);
		await channel.finish();
		const bytes = messages.reduce((sum, m) => sum + new TextEncoder().encode(m).byteLength, 0);
		expect(charged.reduce((a, b) => a + b, 0)).toBe(bytes);
	});

	it("counts a message in flight until its report is written: a reader that does not read holds the stream", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		let release!: () => void;
		const reading = new Promise<void>((resolve) => {
			release = resolve;
		});
		let firstWrite!: () => void;
		const wrote = new Promise<void>((resolve) => {
			firstWrite = resolve;
		});
		const written: string[] = [];
		const channel = new ProduceChannel(env, topic, {
			failed: failedAsBug,
			// A client that does not read its reports: the first write waits until the test lets it through.
			write: async (reports) => {
				firstWrite();
				await reading;
				written.push(...reports);
			},
		});
		const { room, roomy } = fillToBound(channel);
		await wrote;
		await Promise.resolve();
		// Answered but not written: still in flight, so the transport reads no more of the body.
		expect({ roomy: roomy(), full: channel.full }).toEqual({ roomy: false, full: true });
		release();
		await expectDrained(channel, room, written);
	});

	it("stores messages in arrival order whether they find the topic's metadata cached or wait for it to be read", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const meta = unwrap(await describeTopic(env, topic));
		const written: string[] = [];
		const channel = new ProduceChannel(env, topic, { write: (reports) => void written.push(...reports), failed: failedAsBug });
		const expected: string[] = [];
		const send = (value: string) => {
			channel.accept(JSON.stringify({ value }));
			expected.push(value);
		};
		for (const round of range(6)) {
			invalidate(topic);
			send(`r${round}-waits`);
			// The metadata arrives (another request read it) while that first message still waits for its own read.
			remember(meta);
			send(`r${round}-cached`);
			if (round === 3) channel.refuse({ code: "request_too_large", message: "too long" });
			send(`r${round}-last`);
			await Promise.resolve();
		}
		await channel.finish();
		const reports = written.map((w) => JSON.parse(w) as Report);
		expect(reports[11]?.error).toMatchObject({ code: "request_too_large" });
		expect(offsetsOf(reports.filter((r) => r.error === undefined))).toEqual(range(expected.length));
		const fetched = await fetchRecords(topic, 0, "?offset=0&max_records=100");
		expect(fetched.records.map((r) => r.value)).toEqual(expected);
	});
});
