/**
 * The Upstash mount over plain HTTP: credentials (admin and API keys over Basic), errors in Upstash's
 * `{"error","status"}` shape for every status (the client parses every body as JSON and retries any non-2xx),
 * the one-line `GET /produce/{topic}/{message}`, the inbound `/webhook?topic=`, and bad input as 400s.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/http/app.ts";
import { cutPollBodies } from "../support/group.ts";
import { basic, createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { appendsNeedConfig, configureBreaksOnce } from "../support/needs-config.ts";
import { clientError, kafka, routeClientToWorker, sent, withoutBackoff } from "../support/upstash.ts";
import { ADMIN_TOKEN, call, createTopic, fetchRecords, json, produce as produceV1 } from "../support/worker.ts";

routeClientToWorker();

afterEach(() => vi.restoreAllMocks());

const admin = basic("admin", ADMIN_TOKEN);

/** Asserts Upstash's error shape and status; returns the message. */
async function upstashError(response: Response, status: number): Promise<string> {
	const text = await response.text();
	expect(response.status, text).toBe(status);
	expect(response.headers.get("Content-Type") ?? "").toContain("application/json");
	const body = JSON.parse(text) as Record<string, unknown>;
	expect(Object.keys(body).sort()).toEqual(["error", "status"]);
	expect(body.status).toBe(status);
	expect(typeof body.error).toBe("string");
	return body.error as string;
}

// A route that fails the way a bug would (this file only: isolates are per file).
app.post("/upstash/__test/bug", () => {
	throw new TypeError("secret internal detail");
});

describe("credentials", () => {
	it("refuses no credentials, a wrong admin password and a wrong key secret with 401 in Upstash's shape", async () => {
		expect(await upstashError(await call("GET", "/upstash/topics", { token: null }), 401)).toMatch(/credentials/);
		await upstashError(await call("GET", "/upstash/topics", { token: null, headers: basic("admin", "wrong") }), 401);
		const key = await createKey([{ resource: "topic:*", operations: ["describe"] }]);
		await upstashError(await call("GET", "/upstash/topics", { token: null, headers: basic(key.id, `${key.secret}x`) }), 401);
		await json("GET", "/upstash/topics", 200, { token: null, headers: basic(key.id, key.secret) });
	});

	it("the client shows the message, and each of its six attempts got JSON", async () => {
		const { error, attempts } = await clientError(() => kafka("admin", "wrong").admin().topics());
		expect(error.name).toBe("UpstashError");
		expect(error.status).toBe(401);
		expect(error.message).toBe("invalid credentials");
		expect(attempts.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 401]);
		for (const a of attempts) expect(JSON.parse(a.body)).toEqual({ error: "invalid credentials", status: 401 });
	});

	it("an API key as username:password may do what its ACL allows, and gets 403 otherwise", async () => {
		const mine = uniqueTopic("key");
		const other = uniqueTopic("other");
		await createTopic(mine, 1);
		await createTopic(other, 1);
		const key = await createKey([
			{ resource: `topic:${mine}`, operations: ["produce", "consume"] },
			{ resource: "group:workers", operations: ["consume"] },
		]);
		const client = kafka(key.id, key.secret);
		const produced = await client.producer().produce(mine, "by key");
		expect(produced).toMatchObject({ topic: mine, partition: 0, offset: 0 });
		const fetched = await client.consumer().fetch({ topic: mine, partition: 0, offset: 0, timeout: 0 });
		expect(fetched.map((m) => m.value)).toEqual(["by key"]);
		const consumed = await client
			.consumer()
			.consume({ consumerGroupId: "workers", instanceId: "w1", topics: [mine], autoOffsetReset: "earliest", timeout: 0 });
		expect(consumed.map((m) => m.value)).toEqual(["by key"]);
		// Only the topics it may describe are listed.
		expect(Object.keys(await client.admin().topics())).toEqual([mine]);

		const denied = await clientError(() => client.producer().produce(other, "nope"));
		expect(denied.error.status).toBe(403);
		expect(denied.error.message).toContain(`topic "${other}"`);
		await upstashError(
			await call("POST", "/upstash/fetch", {
				token: null,
				headers: basic(key.id, key.secret),
				body: { topic: other, partition: 0, offset: 0 },
			}),
			403,
		);
		await upstashError(
			await call("POST", "/upstash/consume/elsewhere/w1", { token: null, headers: basic(key.id, key.secret), body: { topic: mine } }),
			403,
		);
		// A produce batch naming a forbidden topic writes nothing, not even to the allowed one.
		await upstashError(
			await call("POST", "/upstash/produce", {
				token: null,
				headers: basic(key.id, key.secret),
				body: [
					{ topic: mine, value: "a" },
					{ topic: other, value: "b" },
				],
			}),
			403,
		);
		expect((await fetchRecords(mine, 0)).high_watermark).toBe(1);
	});
});

describe("errors in Upstash's shape", () => {
	it("404 for an unknown path, an unknown topic, an unknown partition and an unknown instance", async () => {
		expect(await upstashError(await call("GET", "/upstash/nope", { token: null, headers: admin }), 404)).toContain("/upstash/nope");
		const missing = uniqueTopic("missing");
		expect(
			await upstashError(
				await call("POST", "/upstash/produce", { token: null, headers: admin, body: { topic: missing, value: "x" } }),
				404,
			),
		).toContain(missing);
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		// A batch naming a missing topic writes nothing, not even to the topic that exists.
		const batch = [
			{ topic, value: "kept out" },
			{ topic: missing, value: "x" },
		];
		await upstashError(await call("POST", "/upstash/produce", { token: null, headers: admin, body: batch }), 404);
		expect((await fetchRecords(topic, 0)).high_watermark).toBe(0);
		await upstashError(
			await call("POST", "/upstash/fetch", { token: null, headers: admin, body: { topic, partition: 3, offset: 0 } }),
			404,
		);
		expect(await upstashError(await call("POST", "/upstash/commit/nobody-group/ghost", { token: null, headers: admin }), 404)).toContain(
			'"ghost"',
		);
		await upstashError(await call("POST", "/upstash/delete-consumer/nobody-group/ghost", { token: null, headers: admin }), 404);
	});

	it("refuses a commit past a partition's end with 416, as /v1 does, and commits nothing", async () => {
		const topic = uniqueTopic("bounds");
		await createTopic(topic, 1);
		await produceV1(topic, [{ value: "one" }]);
		const group = `bounds-${crypto.randomUUID().slice(0, 8)}`;
		const consumed = await call("POST", `/upstash/consume/${group}/i1`, { token: null, headers: admin, body: { topic } });
		expect(consumed.status, await consumed.text()).toBe(200);
		const commit = (offset: number) =>
			call("POST", `/upstash/commit/${group}/i1`, { token: null, headers: admin, body: { topic, partition: 0, offset } });
		expect(await upstashError(await commit(42), 416)).toContain("from 0 to 1");
		expect((await commit(1)).status).toBe(200);
		const committed = await json<{ offset: number }[]>("POST", `/upstash/committed/${group}/i1`, 200, {
			token: null,
			headers: admin,
			body: [{ topic, partition: 0 }],
		});
		expect(committed.map((o) => o.offset)).toEqual([1]);
	});

	it("a consume whose read is cut short mid-pipe is a 503, and the next consume reads those records", async () => {
		const topic = uniqueTopic("cut");
		await createTopic(topic, 1);
		await produceV1(topic, [{ value: "one" }, { value: "two" }]);
		const group = `cut-${crypto.randomUUID().slice(0, 8)}`;
		const consume = () =>
			call("POST", `/upstash/consume/${group}/i1`, {
				token: null,
				headers: { ...admin, "Kafka-Auto-Offset-Reset": "earliest" },
				body: { topic },
			});
		const cut = await cutPollBodies(topic);
		try {
			expect(await upstashError(await consume(), 503)).toMatch(/cut short/);
		} finally {
			cut.stop();
		}
		const again = await consume();
		const text = await again.text();
		expect(again.status, text).toBe(200);
		expect((JSON.parse(text) as { value: string }[]).map((m) => m.value)).toEqual(["one", "two"]);
	});

	it("a batch with a bad record for one topic writes nothing to any topic (413, 400, 404 partition)", async () => {
		const ok = uniqueTopic("whole");
		const small = uniqueTopic("small");
		const compacted = uniqueTopic("compacted");
		await createTopic(ok, 1);
		await createTopic(small, 1, { "max.message.bytes": 100 });
		await createTopic(compacted, 1, { "cleanup.policy": "compact" });
		const cases: [unknown[], number][] = [
			[
				[
					{ topic: ok, value: "fine" },
					{ topic: small, value: "x".repeat(500) },
				],
				413,
			],
			[
				[
					{ topic: ok, value: "fine" },
					{ topic: compacted, value: "no key" },
				],
				400,
			],
			[
				[
					{ topic: ok, value: "fine" },
					{ topic: small, value: "y", partition: 5 },
				],
				404,
			],
		];
		for (const [batch, status] of cases) {
			await upstashError(await call("POST", "/upstash/produce", { token: null, headers: admin, body: batch }), status);
		}
		for (const topic of [ok, small, compacted]) expect((await fetchRecords(topic, 0)).high_watermark).toBe(0);
	});

	it("a batch across topics names a bad message by its index in the request, not in its topic's share", async () => {
		const ok = uniqueTopic("index-ok");
		const strict = uniqueTopic("index-strict");
		await createTopic(ok, 1);
		await createTopic(strict, 1, { "cleanup.policy": "compact", "max.message.bytes": 200, "message.timestamp.before.max.ms": 86_400_000 });
		const fine = { topic: ok, value: "fine" };
		const cases: [unknown[], number, RegExp][] = [
			[[fine, fine, { topic: strict, key: "k", value: "x".repeat(500) }], 413, /^records\[2\] is \d+ bytes/],
			[[fine, { topic: strict, value: "no key" }], 400, /^records\[1\] has no key/],
			[[fine, fine, { topic: strict, key: "k", value: "old", timestamp: 1 }], 400, /^records\[2\]: timestamp 1 is outside/],
			[[{ topic: strict, key: "k", value: "a" }, fine, { topic: ok, key: "\ud800", value: "b" }], 400, /^records\[2\]: a lone surrogate/],
			[[fine, { topic: strict, key: "k", value: "y", partition: 5 }], 404, /^records\[1\]: topic/],
		];
		for (const [batch, status, said] of cases) {
			const message = await upstashError(await call("POST", "/upstash/produce", { token: null, headers: admin, body: batch }), status);
			expect(message, JSON.stringify(batch).slice(0, 200)).toMatch(said);
		}
		for (const topic of [ok, strict]) expect((await fetchRecords(topic, 0)).high_watermark).toBe(0);
	});

	it("405 for a known path with another method", async () => {
		await upstashError(await call("GET", "/upstash/fetch", { token: null, headers: admin }), 405);
		await upstashError(await call("DELETE", "/upstash/topics", { token: null, headers: admin }), 405);
	});

	it("500 carries its request id in the message and nothing internal", async () => {
		const response = await call("POST", "/upstash/__test/bug", { token: null, headers: admin });
		const message = await upstashError(response, 500);
		expect(message).toBe(`internal error (request id ${response.headers.get("X-Request-Id")})`);
	});

	it("416 for a fetch past the end of the log", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await upstashError(
			await call("POST", "/upstash/fetch", { token: null, headers: admin, body: { topic, partition: 0, offset: 5 } }),
			416,
		);
	});

	it("400 for bad input, never a 500", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const bad: [string, string, unknown, Record<string, string>?][] = [
			["POST", "/upstash/produce", "{not json"],
			["POST", "/upstash/produce", ""],
			["POST", "/upstash/produce", []],
			["POST", "/upstash/produce", { topic, value: { not: "a string" } }],
			["POST", "/upstash/produce", { topic, value: "x", partition: -1 }],
			["POST", "/upstash/produce", { topic: "bad topic!", value: "x" }],
			["POST", `/upstash/produce/${topic}`, { value: "x", headers: [{ key: "h" }] }],
			["POST", "/upstash/fetch", {}],
			["POST", "/upstash/fetch", { topic }],
			["POST", "/upstash/fetch", { topic, partition: 0, offset: 1.5 }],
			["POST", "/upstash/fetch", { topic, partition: 0, timeout: -1 }],
			["POST", "/upstash/fetch", { topicPartitionOffsets: Array.from({ length: 101 }, () => ({ topic, partition: 0, offset: 0 })) }],
			["POST", "/upstash/consume/g/i", {}],
			["POST", "/upstash/consume/g/i", { topic, topics: [topic] }],
			["POST", "/upstash/consume/g/i", { topic }, { "Kafka-Enable-Auto-Commit": "yes" }],
			["POST", "/upstash/consume/g/i", { topic }, { "Kafka-Auto-Offset-Reset": "middle" }],
			["POST", "/upstash/consume/g/i", { topic }, { "Kafka-Auto-Commit-Interval": "-5" }],
			["POST", "/upstash/consume/bad%20group/i", { topic }],
			["POST", "/upstash/commit/g/i", [{ topic, partition: 0, offset: -1 }]],
			[
				"POST",
				"/upstash/commit/g/i",
				[
					{ topic, partition: 0, offset: 1 },
					{ topic, partition: 0, offset: 2 },
				],
			],
			["POST", "/upstash/committed/g/i", [{ topic }]],
			["POST", "/upstash/offsets/yesterday", [{ topic, partition: 0 }]],
			["POST", "/upstash/offsets/latest", "[1,2"],
		];
		for (const [method, path, body, headers] of bad) {
			const raw = typeof body === "string" ? body : JSON.stringify(body);
			const response = await call(method, path, {
				token: null,
				headers: { ...admin, "Content-Type": "application/json", ...headers },
				raw,
			});
			await upstashError(response, 400);
		}
	});

	it("a 400 for a list of messages or offsets names the item and what is wrong with it, not the one-or-many union", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const cases: [string, unknown, RegExp][] = [
			[`/upstash/produce/${topic}`, [{ value: "a" }, { value: 1 }], /^\[1\]\.value: must be a string, not a number$/],
			["/upstash/produce", [{ value: "a" }], /^\[0\]\.topic: is required$/],
			[`/upstash/produce/${topic}`, Array.from({ length: 10_001 }, () => ({ value: "v" })), /^body: must hold at most 10000 items$/],
			[
				"/upstash/commit/g/i",
				Array.from({ length: 101 }, (_, p) => ({ topic, partition: p, offset: 0 })),
				/^body: must hold at most 100 items$/,
			],
			["/upstash/offsets/latest", [{ topic, partition: "0" }], /^\[0\]\.partition: must be a number, not a string$/],
		];
		for (const [path, body, message] of cases) {
			const response = await call("POST", path, {
				token: null,
				headers: { ...admin, "Content-Type": "application/json" },
				raw: JSON.stringify(body),
			});
			expect(await upstashError(response, 400), path).toMatch(message);
		}
	});
});

// A partition that asks for the topic's config again after the edge gave it (the config changed during the request)
// refuses its share and writes nothing; the client sends any non-2xx again, the whole batch, five times.
describe("a produce across topics that a platform failure cuts short in one of them", () => {
	const values = async (topic: string, partition: number) => (await fetchRecords(topic, partition)).records.map((r) => r.value);
	type Messages = Parameters<ReturnType<ReturnType<typeof kafka>["producer"]>["produceMany"]>[0];
	/**
	 * The real client's produceMany with `partition`'s appends asking for the config `times` times: its answer, the
	 * statuses it got, and the last request's id.
	 */
	async function produceManyCut(partition: number, times: number, messages: Messages) {
		const restore = appendsNeedConfig(partition, times);
		const before = sent.length;
		try {
			const answer: unknown = await withoutBackoff(() => kafka().producer().produceMany(messages));
			return { answer, statuses: sent.slice(before).map((a) => a.status), requestId: sent.at(-1)?.requestId };
		} finally {
			restore();
		}
	}

	it("answers 207 with each message's metadata, or its topic's error where nothing of that topic was written: the client does not send the batch again", async () => {
		const refused = uniqueTopic("cut-refused");
		const written = uniqueTopic("cut-written");
		await createTopic(refused, 1);
		await createTopic(written, 2);
		// Only partition 0 asks again: the refused topic's one share; the written topic's goes to partition 1.
		const { answer, statuses, requestId } = await produceManyCut(0, 2, [
			{ topic: written, value: "once", partition: 1 },
			{ topic: refused, value: "not yet" },
		]);
		expect(await values(written, 1)).toEqual(["once"]);
		expect(await values(refused, 0)).toEqual([]);
		expect(statuses).toEqual([207]);
		expect(answer).toEqual([
			{ topic: written, partition: 1, offset: 0, timestamp: expect.any(Number) },
			{ topic: refused, error: `topic configuration changed during the request; retry (request id ${requestId})`, status: 503 },
		]);
	});

	it("answers a topic's messages written on one of its partitions their metadata, and only those of its failed share the error", async () => {
		const spread = uniqueTopic("cut-spread");
		const written = uniqueTopic("cut-other");
		await createTopic(spread, 2);
		await createTopic(written, 1);
		// Only partition 1 asks again: the spread topic's second share; its first, and the other topic's, are written.
		const restore = appendsNeedConfig(1, 2);
		let response: Response;
		try {
			response = await call("POST", "/upstash/produce", {
				token: null,
				headers: admin,
				body: [
					{ topic: spread, value: "a", partition: 0 },
					{ topic: spread, value: "b", partition: 1 },
					{ topic: written, value: "c" },
				],
			});
		} finally {
			restore();
		}
		expect(response.status).toBe(207);
		// The written share's message is answered its metadata, so the client does not send it again.
		expect(await response.json()).toEqual([
			{ topic: spread, partition: 0, offset: 0, timestamp: expect.any(Number) },
			{
				topic: spread,
				error: `topic configuration changed during the request; some of this request's records may have been written (request id ${response.headers.get("X-Request-Id")})`,
				status: 503,
			},
			{ topic: written, partition: 0, offset: 0, timestamp: expect.any(Number) },
		]);
		expect(await values(spread, 0)).toEqual(["a"]);
		expect(await values(spread, 1)).toEqual([]);
	});

	it("answers 207 too when the request names one topic whose share on one partition was written and on another failed", async () => {
		const spread = uniqueTopic("cut-alone");
		await createTopic(spread, 2);
		const { answer, statuses, requestId } = await produceManyCut(1, 2, [
			{ topic: spread, value: "a", partition: 0 },
			{ topic: spread, value: "b", partition: 1 },
		]);
		// A whole refusal would have the client send both again, writing "a" twice.
		expect(statuses).toEqual([207]);
		expect(answer).toEqual([
			{ topic: spread, partition: 0, offset: 0, timestamp: expect.any(Number) },
			{
				topic: spread,
				error: `topic configuration changed during the request; some of this request's records may have been written (request id ${requestId})`,
				status: 503,
			},
		]);
		expect(await values(spread, 0)).toEqual(["a"]);
	});

	it("answers 207 too when one topic's share meets a partition's bug: the written topic's message its metadata, the other a 500 naming the request", async () => {
		const broken = uniqueTopic("bug-topic");
		const written = uniqueTopic("bug-other");
		await createTopic(broken, 1);
		await createTopic(written, 2);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await configureBreaksOnce(broken);
		// Only partition 0 asks again: the broken topic's one share; the written topic's goes to partition 1.
		const { answer, statuses, requestId } = await produceManyCut(0, 1, [
			{ topic: broken, value: "a" },
			{ topic: written, value: "b", partition: 1 },
		]);
		// A whole 500 would have the client send both again, writing "b" twice.
		expect(statuses).toEqual([207]);
		// The request id, in Upstash's dialect (in the message) as a whole 500 has it: the bug's log line can be found.
		const error = `internal error; some of this request's records may have been written (request id ${requestId})`;
		expect(answer).toEqual([
			{ topic: broken, error, status: 500 },
			{ topic: written, partition: 1, offset: 0, timestamp: expect.any(Number) },
		]);
		expect(await values(written, 1)).toEqual(["b"]);
	});

	it("is refused as a whole (503) when no topic's share was written, and the client's repeat writes each message once", async () => {
		const first = uniqueTopic("cut-first");
		const second = uniqueTopic("cut-second");
		await createTopic(first, 1);
		await createTopic(second, 1);
		// Both topics' one share is on partition 0: each is refused twice (append, configure, append again).
		const { answer, statuses } = await produceManyCut(0, 4, [
			{ topic: first, value: "a" },
			{ topic: second, value: "b" },
		]);
		expect((answer as { offset: number }[]).map((m) => m.offset)).toEqual([0, 0]);
		expect(statuses).toEqual([503, 200]);
		expect(await values(first, 0)).toEqual(["a"]);
		expect(await values(second, 0)).toEqual(["b"]);
	});
});

describe("GET /produce/{topic}/{message}", () => {
	it("produces the path's message, with ?key=, and answers one metadata object", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const metadata = await json<Record<string, unknown>>("GET", `/upstash/produce/${topic}/hello%20kafka?key=city`, 200, {
			token: null,
			headers: admin,
		});
		expect(metadata).toEqual({ topic, partition: expect.any(Number), offset: 0, timestamp: expect.any(Number) });
		const stored = await fetchRecords(topic, metadata.partition as number);
		expect(stored.records.map((r) => [r.key, r.value])).toEqual([["city", "hello kafka"]]);
		// The key's partition is Kafka's default partitioner's, as for any other produce.
		const again = await produceV1(topic, [{ key: "city", value: "x" }]);
		expect(again.offsets[0]?.partition).toBe(metadata.partition);
	});

	it("POST /produce/{topic} takes one message or several", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const one = await json<unknown[]>("POST", `/upstash/produce/${topic}`, 200, { token: null, headers: admin, body: { value: "one" } });
		expect(one).toEqual([{ topic, partition: 0, offset: 0, timestamp: expect.any(Number) }]);
		const many = await json<{ offset: number }[]>("POST", `/upstash/produce/${topic}`, 200, {
			token: null,
			headers: admin,
			body: [{ value: "two" }, { value: "three", key: "k" }],
		});
		expect(many.map((m) => m.offset)).toEqual([1, 2]);
	});

	it("POST /produce/{topic} takes a message's own topic when it is the path's, and refuses another with a 400", async () => {
		const topic = uniqueTopic();
		const other = uniqueTopic();
		await createTopic(topic, 1);
		await createTopic(other, 1);
		const same = await json<unknown[]>("POST", `/upstash/produce/${topic}`, 200, {
			token: null,
			headers: admin,
			body: { topic, value: "one" },
		});
		expect(same).toEqual([{ topic, partition: 0, offset: 0, timestamp: expect.any(Number) }]);
		const response = await call("POST", `/upstash/produce/${topic}`, {
			token: null,
			headers: admin,
			body: [{ value: "two" }, { topic: other, value: "three" }],
		});
		expect(await upstashError(response, 400)).toBe(`[1].topic: is "${other}" where the path names "${topic}"`);
		const single = await call("POST", `/upstash/produce/${topic}`, { token: null, headers: admin, body: { topic: other, value: "four" } });
		expect(await upstashError(single, 400)).toBe(`topic: is "${other}" where the path names "${topic}"`);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["one"]);
		expect((await fetchRecords(other, 0)).records).toEqual([]);
	});
});

describe("/webhook?topic=", () => {
	it("turns the request into one record: body as value, headers as record headers, credentials left out", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const response = await call("POST", `/upstash/webhook?topic=${topic}&key=repo-1`, {
			token: null,
			headers: { ...admin, "Content-Type": "text/plain", "event-origin": "my-app" },
			raw: "some event data",
		});
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual({ topic, partition: 0, offset: 0, timestamp: expect.any(Number) });
		const [record] = (await fetchRecords(topic, 0)).records;
		expect(record?.key).toBe("repo-1");
		expect(record?.value).toBe("some event data");
		expect(record?.headers).toContainEqual({ key: "event-origin", value: "my-app" });
		expect(record?.headers.map((h) => h.key)).not.toContain("authorization");
		const [message] = await kafka().consumer().fetch({ topic, partition: 0, offset: 0, timeout: 0 });
		expect(message?.value).toBe("some event data");
	});

	it("a GET (a sender that only pings) is a record with headers and no value", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await json("GET", `/upstash/webhook?topic=${topic}`, 200, { token: null, headers: { ...admin, "x-ping": "1" } });
		const [record] = (await fetchRecords(topic, 0)).records;
		expect(record?.value).toBeNull();
		expect(record?.headers).toContainEqual({ key: "x-ping", value: "1" });
	});

	it("needs ?topic= and produce rights on it", async () => {
		await upstashError(await call("POST", "/upstash/webhook", { token: null, headers: admin, raw: "x" }), 400);
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		await upstashError(
			await call("POST", `/upstash/webhook?topic=${topic}`, { token: null, headers: basic(key.id, key.secret), raw: "x" }),
			403,
		);
	});
});

describe("quotas", () => {
	it("produce and fetch through the mount draw on the key's byte quotas", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce", "consume"] }], {
			produce_bytes_per_sec: 100,
			fetch_bytes_per_sec: 100,
		});
		const auth = { token: null, headers: basic(key.id, key.secret) };
		const big = "x".repeat(300);
		await json("POST", "/upstash/produce", 200, { ...auth, body: { topic, value: big } });
		await upstashError(await call("POST", "/upstash/produce", { ...auth, body: { topic, value: "y" } }), 429);
		await json("POST", "/upstash/fetch", 200, { ...auth, body: { topic, partition: 0, offset: 0, timeout: 0 } });
		await upstashError(await call("POST", "/upstash/fetch", { ...auth, body: { topic, partition: 0, offset: 0, timeout: 0 } }), 429);
	});

	it("GET /produce/{topic}/{message} and GET /webhook charge the bytes their URL writes, and a key in debt writes nothing", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const produceKey = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { produce_bytes_per_sec: 100 });
		const byPath = { token: null, headers: basic(produceKey.id, produceKey.secret) };
		await json("GET", `/upstash/produce/${topic}/${"x".repeat(300)}?key=k`, 200, byPath);
		expect(await upstashError(await call("GET", `/upstash/produce/${topic}/y`, byPath), 429)).toMatch(/produce bytes/);
		const webhookKey = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { produce_bytes_per_sec: 100 });
		const byWebhook = { token: null, headers: basic(webhookKey.id, webhookKey.secret) };
		await json("GET", `/upstash/webhook?topic=${topic}&key=${"k".repeat(300)}`, 200, byWebhook);
		expect(await upstashError(await call("GET", `/upstash/webhook?topic=${topic}&key=z`, byWebhook), 429)).toMatch(/produce bytes/);
		expect((await fetchRecords(topic, 0)).records).toHaveLength(2);
	});
});

describe("the consumer API as Upstash documents it", () => {
	async function up(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
		const response = await call(method, `/upstash${path}`, {
			token: null,
			headers: { ...admin, ...headers },
			raw: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await response.text();
		return { status: response.status, text, json: text ? (JSON.parse(text) as unknown) : undefined };
	}
	async function seeded(count: number): Promise<string> {
		const topic = uniqueTopic("docs");
		await createTopic(topic, 1);
		await produceV1(
			topic,
			Array.from({ length: count }, (_, i) => ({ value: `v${i}` })),
		);
		return topic;
	}
	const committed = async (group: string, topic: string) =>
		((await up("POST", `/committed/${group}/i1`, [{ topic, partition: 0 }])).json as { offset: number }[])[0]?.offset;
	const manual = { "Kafka-Enable-Auto-Commit": "false", "Kafka-Auto-Offset-Reset": "earliest" };

	it("commits what was consumed for no body, an empty array, and a GET (the docs' curl example)", async () => {
		for (const [method, body] of [
			["POST", []],
			["GET", undefined],
		] as const) {
			const topic = await seeded(3);
			const group = `docs-${crypto.randomUUID().slice(0, 8)}`;
			expect(((await up("POST", `/consume/${group}/i1`, { topic, timeout: 0 }, manual)).json as unknown[]).length).toBe(3);
			const commit = await up(method, `/commit/${group}/i1`, body);
			expect({ method, status: commit.status, json: commit.json }).toEqual({
				method,
				status: 200,
				json: { result: "Success", status: 200 },
			});
			expect(await committed(group, topic)).toBe(3);
		}
	});

	it("removes an instance with DELETE as with POST", async () => {
		const topic = await seeded(1);
		const group = `docs-${crypto.randomUUID().slice(0, 8)}`;
		await up("POST", `/consume/${group}/i1`, { topic, timeout: 0 }, manual);
		const removed = await up("DELETE", `/delete-consumer/${group}/i1`);
		expect({ status: removed.status, json: removed.json }).toEqual({ status: 200, json: { result: "Success", status: 200 } });
		expect((await json<{ members: unknown[] }>("GET", `/v1/groups/${group}`, 200)).members).toEqual([]);
	});

	it("reads ?timeout= on GET /consume/{group}/{instance}/{topic}, and Kafka-Session-Timeout-Ms when an instance is made", async () => {
		const topic = await seeded(1);
		const group = `docs-${crypto.randomUUID().slice(0, 8)}`;
		const bad = await up("GET", `/consume/${group}/i1/${topic}?timeout=soon`);
		expect(bad.status).toBe(400);
		const read = await up("GET", `/consume/${group}/i1/${topic}?timeout=0`, undefined, {
			...manual,
			"Kafka-Session-Timeout-Ms": "10000",
		});
		expect(read.json).toMatchObject([{ value: "v0" }]);
		const described = await json<{ members: { session_timeout_ms: number }[] }>("GET", `/v1/groups/${group}`, 200);
		expect(described.members.map((m) => m.session_timeout_ms)).toEqual([10_000]);
	});
	it("keeps an instance's auto-commit settings from its first request: later ones without the headers commit nothing", async () => {
		const topic = await seeded(2);
		const group = `docs-${crypto.randomUUID().slice(0, 8)}`;
		const first = await up("POST", `/consume/${group}/i1`, { topic, timeout: 0 }, manual);
		expect(first.json).toMatchObject([{ value: "v0" }, { value: "v1" }]);
		await produceV1(topic, [{ value: "v2" }]);
		expect((await up("POST", `/consume/${group}/i1`, { topic, timeout: 0 })).json).toMatchObject([{ value: "v2" }]);
		await up("POST", `/consume/${group}/i1`, { topic, timeout: 0 });
		expect(await committed(group, topic)).toBe(-1);
	});
});
