/**
 * Which failed requests the SDK sends again. A request whose repeat cannot write twice (a read, an idempotent write, an
 * idempotent producer's batch, which the partition deduplicates by its sequence) is sent again on any transient
 * failure. One whose repeat could (a plain produce: `idempotent: false`) is sent again only when the failure proves
 * nothing was done: a 429, the Worker's 503 `unavailable` (every place answering it wrote nothing, or undid it). Not
 * on a lost answer, wrangler dev's proxy's own 503 (its catch covers a failure after the Worker served), or a 503
 * `partition_unavailable` from a produce: a partition's call that threw may have committed first, and a request's
 * other partitions may have written their shares (the first test shows it). An answer the Worker marks `retriable:
 * false` (a 503 `not_configured`) is sent again under neither: the same request meets it again.
 */

import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { errorFromResponse, WRANGLER_PROXY_RETRY_TEXT } from "../../client/errors.ts";
import { Http, mayHaveLanded, mayRetry } from "../../client/http.ts";
import { type ResetTarget, Tributary, TributaryError } from "../../client/index.ts";
import { app } from "../../src/http/app.ts";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { holdClock } from "../support/clock.ts";
import { cutPollBodies, join } from "../support/group.ts";
import { untilWaiting } from "../support/long-poll.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { appendsNeedConfig } from "../support/needs-config.ts";
import { isProduce, type Sent, wiredClient } from "../support/sdk.ts";
import { partitionStub } from "../support/stubs.ts";
import { throwOnce } from "../support/throw-once.ts";
import { useReceiver } from "../support/webhook-receiver.ts";
import { ADMIN_TOKEN, BASE, createTopic, fetchRecords, json, produce, sized, workerFetch } from "../support/worker.ts";

/** Makes `partition`'s next append of `topic` throw inside its transaction (rolled back), as a storage failure would. */
async function breakNextAppend(topic: string, partition = 0): Promise<void> {
	const found = await env.TOPIC_REGISTRY.getByName("global").getTopic(topic);
	if (!found.ok) throw new Error(`no topic ${topic}`);
	const { name, topicId, configVersion, config } = found.value;
	await runInDurableObject(await partitionStub(topic, partition), (instance: PartitionLog) => {
		// Configured first: an unconfigured partition's failed write asks for the config, and the edge's next append writes.
		instance.configure({ topic: name, topicId, partition, configVersion, config });
		throwOnce((instance as unknown as { producers: { rowsWritten(): void } }).producers, "rowsWritten");
	});
}

async function valuesOf(topic: string, partition = 0): Promise<unknown[]> {
	return (await fetchRecords(topic, partition, "offset=0")).records.map((r) => r.value);
}

describe("the SDK's retries", { timeout: 60_000 }, () => {
	afterEach(() => vi.restoreAllMocks());
	useReceiver(); // a subscription's create checks its host's addresses

	it("a plain produce answered 503 partition_unavailable may have written: a POST is not sent again on it", async () => {
		const topic = uniqueTopic("retry-split");
		await createTopic(topic, 2);
		await breakNextAppend(topic, 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		let sends = 0;
		const http = new Http({
			url: BASE,
			token: ADMIN_TOKEN,
			fetch: async (request) => {
				sends++;
				return workerFetch(sized(request, await request.clone().text()));
			},
		});
		const body = {
			records: [
				{ value: "a", partition: 0 },
				{ value: "b", partition: 1 },
			],
		};
		const failure = await http.request("POST", `/v1/topics/${topic}/records`, { body }).catch((error: unknown) => error);
		// Partition 0 wrote its share before the 503: a repeat writes it twice.
		expect(await valuesOf(topic, 0)).toEqual(["a"]);
		expect(await valuesOf(topic, 1)).toEqual([]);
		expect(failure).toBeInstanceOf(TributaryError);
		expect(failure).toMatchObject({ status: 503, code: "partition_unavailable" });
		expect(sends).toBe(1);
	});

	it("idempotent: false: a produce whose answer was lost is not sent again (it was written once; the send fails)", async () => {
		const topic = uniqueTopic("retry-lost-plain");
		await createTopic(topic, 1);
		const { client, sent, dropAnswer } = wiredClient();
		const producer = client.producer({ idempotent: false, lingerMs: 0 });
		dropAnswer(isProduce);
		const failure = await producer.send(topic, { value: 1 }).catch((error: unknown) => error);
		expect(await valuesOf(topic)).toEqual([1]);
		expect(failure).toMatchObject({ code: "network_error" });
		expect(sent.filter(isProduce)).toHaveLength(1);
		await producer.close().catch(() => undefined);
	});

	it("idempotent: false: a produce answered 503 partition_unavailable is not sent again", async () => {
		const topic = uniqueTopic("retry-503-plain");
		await createTopic(topic, 1);
		await breakNextAppend(topic);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const { client, sent } = wiredClient();
		const producer = client.producer({ idempotent: false, lingerMs: 0 });
		const failure = await producer.send(topic, { value: 1 }).catch((error: unknown) => error);
		expect(failure).toMatchObject({ status: 503, code: "partition_unavailable" });
		expect(sent.filter(isProduce)).toHaveLength(1);
		await producer.close().catch(() => undefined);
	});

	it("idempotent: false: a produce answered wrangler dev's proxy's 503 is not sent again (the Worker may have served it)", async () => {
		const topic = uniqueTopic("retry-proxy-plain");
		await createTopic(topic, 1);
		const { client, sent, notForwarded } = wiredClient();
		const producer = client.producer({ idempotent: false, lingerMs: 0 });
		notForwarded(isProduce);
		const failure = await producer.send(topic, { value: 1 }).catch((error: unknown) => error);
		expect(failure).toMatchObject({ status: 503, code: "not_forwarded" });
		expect(sent.filter(isProduce)).toHaveLength(1);
		await producer.close().catch(() => undefined);
	});

	it("an idempotent producer's batch answered wrangler dev's proxy's 503 is sent again, and written once", async () => {
		const topic = uniqueTopic("retry-proxy-idem");
		await createTopic(topic, 1);
		const { client, sent, notForwarded } = wiredClient();
		const producer = client.producer({ lingerMs: 0 });
		notForwarded(isProduce);
		expect((await producer.send(topic, { value: 1 })).offset).toBe(0);
		expect(sent.filter(isProduce)).toHaveLength(2);
		expect(await valuesOf(topic)).toEqual([1]);
		await producer.close();
	});

	it("a subscription's secret rotation whose answer was lost is not sent again (a second would retire the held secret at once)", async () => {
		const topic = uniqueTopic("retry-rotate");
		await createTopic(topic, 1);
		const { client, sent, dropAnswer } = wiredClient();
		const created = await client.subscriptions.create(topic, { url: "https://receiver.test/hook" });
		const isPatch = (r: { method: string }) => r.method === "PATCH";
		dropAnswer(isPatch);
		const failure = await client.subscriptions.update(topic, created.id, { rotate_secret: true }).catch((error: unknown) => error);
		expect(failure).toMatchObject({ code: "network_error" });
		expect(sent.filter(isPatch)).toHaveLength(1);
		// Any other change is the same change when set twice: sent again after a lost answer.
		dropAnswer(isPatch);
		expect(await client.subscriptions.update(topic, created.id, { max_attempts: 3 })).toMatchObject({ id: created.id });
		expect(sent.filter(isPatch)).toHaveLength(3);
	});

	it("a group's reset to 'latest' whose answer was lost is not sent again: its repeat would skip records produced since", async () => {
		const topic = uniqueTopic("retry-reset-latest");
		await createTopic(topic, 1);
		await produce(topic, [{ value: 1 }, { value: 2 }]);
		const group = uniqueGroup();
		const { client, sent, dropAnswer, delayAnswer } = wiredClient();
		const isReset = (r: Sent) => r.path.endsWith("/offsets/reset");
		const { served, release } = delayAnswer(isReset);
		dropAnswer(isReset);
		const reset = client.groups.resetOffsets(group, topic, "latest").catch((error: unknown) => error);
		await served;
		// Produced after the reset landed: records the group is to read.
		await produce(topic, [{ value: 3 }, { value: 4 }]);
		release();
		const failure = await reset;
		expect((await client.groups.describe(group)).offsets.map((o) => o.committed)).toEqual([2]);
		expect(failure).toMatchObject({ code: "network_error" });
		expect(sent.filter(isReset)).toHaveLength(1);
		// A place in the log, not a moment, is the same place when sent again: an offset, a time, the log's start.
		const places: [ResetTarget, number][] = [
			[{ offset: 1 }, 1],
			[{ timestamp: 0 }, 0],
			["earliest", 0],
		];
		for (const [to, offset] of places) {
			dropAnswer(isReset);
			expect(await client.groups.resetOffsets(group, topic, to)).toMatchObject({ offsets: [{ offset }] });
		}
		expect(sent.filter(isReset)).toHaveLength(7);
	});

	it("a 503 not_configured (a Worker without its admin token) is thrown at once, even by a read: waiting configures nothing", async () => {
		let sends = 0;
		const client = new Tributary({
			url: BASE,
			token: ADMIN_TOKEN,
			fetch: async (request) => {
				sends++;
				const ctx = createExecutionContext();
				const response = await app.fetch(request, { ...env, ADMIN_TOKEN: "" }, ctx);
				await waitOnExecutionContext(ctx);
				return response;
			},
		});
		const failure = await client.topics.list().catch((error: unknown) => error);
		expect(sends).toBe(1);
		expect(failure).toMatchObject({ status: 503, code: "not_configured", retriable: false });
	});

	it("an idempotent producer's batch answered 503 not_configured (refused before anything ran) fails with it: the producer keeps its id and gives the sequence back", async () => {
		const topic = uniqueTopic("retry-unconfigured");
		await createTopic(topic, 1);
		let unconfigured = false;
		const sent: Sent[] = [];
		const client = new Tributary({
			url: BASE,
			token: ADMIN_TOKEN,
			fetch: async (request) => {
				const body = request.method === "GET" ? "" : await request.clone().text();
				sent.push({ method: request.method, path: new URL(request.url).pathname, body });
				if (!unconfigured) return workerFetch(request.body === null ? request : sized(request, body));
				const ctx = createExecutionContext();
				const response = await app.fetch(request, { ...env, ADMIN_TOKEN: "" }, ctx);
				await waitOnExecutionContext(ctx);
				return response;
			},
		});
		const producer = client.producer({ lingerMs: 0 });
		expect((await producer.send(topic, { value: 1 })).offset).toBe(0);
		unconfigured = true;
		const failure = await producer.send(topic, { value: 2 }).catch((error: unknown) => error);
		unconfigured = false;
		expect(failure).toMatchObject({ code: "not_configured", status: 503 });
		expect((await producer.send(topic, { value: 3 })).offset).toBe(1);
		expect(
			sent.filter((r) => r.path === "/v1/producers"),
			"one producer id",
		).toHaveLength(1);
		expect(sent.filter(isProduce).map((r) => JSON.parse(r.body).sequence)).toEqual([0, 1, 1]);
		expect(await valuesOf(topic)).toEqual([1, 3]);
		await producer.close().catch(() => undefined);
	});

	it("a consumer's poll answered 503 partition_unavailable (its read cut short, its positions set back) is sent again by the same member", async () => {
		const [mine, theirs] = [uniqueTopic("retry-poll"), uniqueTopic("retry-poll-other")];
		await createTopic(mine, 1);
		await createTopic(theirs, 1);
		const group = uniqueGroup();
		const { client, sent, beforeServing } = wiredClient();
		const isPoll = (r: Sent) => r.path.endsWith("/poll");
		// Without a commit to carry, the repeat is the same request.
		const consumer = client.consumer({ group, topics: [mine], from: "earliest", waitMs: 20_000, autoCommit: false });
		await produce(mine, [{ value: "before" }]);
		const records = consumer[Symbol.asyncIterator]();
		expect((await records.next()).value).toMatchObject({ offset: 0, value: "before" });
		const cut = await cutPollBodies(mine);
		// The repeat finds the partition's pipe whole again.
		beforeServing(
			(r) => isPoll(r) && sent.filter(isPoll).length > 2,
			async () => cut.stop(),
		);
		try {
			const next = records.next();
			await untilWaiting(mine);
			// A new generation in which the consumer keeps its partition: the waiting read's body is read again to rewrite
			// its tail, and comes cut short.
			await join(group, { topics: [theirs], auto_offset_reset: "earliest" });
			await produce(mine, [{ value: "after the rebalance" }]);
			expect((await next).value).toMatchObject({ offset: 1, value: "after the rebalance" });
		} finally {
			cut.stop();
		}
		const polls = sent.filter(isPoll);
		expect(polls).toHaveLength(3);
		expect(polls[2]).toEqual(polls[1]);
		// Not the recovery from a poll whose answer was lost (a leave and a join, which read again from the last commit:
		// "before" a second time).
		expect(sent.filter((r) => r.method === "DELETE" || r.path.endsWith("/members")).map((r) => r.method)).toEqual(["POST"]);
		await consumer.close();
	});

	it("idempotent: false: a produce refused 429 by the key's request quota is sent again (a quota refuses before the write), and written once", async () => {
		const topic = uniqueTopic("retry-429-plain");
		await createTopic(topic, 1);
		const key = await json<{ secret: string }>("POST", "/v1/keys", 201, {
			body: {
				name: "plain-producer",
				acl: [{ resource: `topic:${topic}`, operations: ["produce", "describe"] }],
				quotas: { requests_per_sec: 1 },
			},
		});
		const { client, sent, beforeServing } = wiredClient({ token: key.secret });
		const producer = client.producer({ idempotent: false, lingerMs: 0 });
		// Held, the clock refills nothing between requests, however slowly a loaded machine serves them: the key's one
		// request a second, spent by the producer's lookup of the topic, leaves its produce a 429 to meet.
		const clock = holdClock();
		// The produce sent again comes after the second its 429's Retry-After asked for.
		beforeServing(
			(r) => isProduce(r) && sent.filter(isProduce).length === 2,
			async () => clock.advance(1_000),
		);
		expect((await producer.send(topic, { value: 1 })).offset).toBe(0);
		expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
			`GET /v1/topics/${topic}`,
			`POST /v1/topics/${topic}/records`,
			`POST /v1/topics/${topic}/records`,
		]);
		expect(await valuesOf(topic)).toEqual([1]);
		await producer.close();
	});

	it("idempotent: false: a produce refused because the topic's config changed during it (nothing written) is sent again, and written once", async () => {
		const topic = uniqueTopic("retry-config-plain");
		await createTopic(topic, 1);
		const { client, sent } = wiredClient();
		const producer = client.producer({ idempotent: false, lingerMs: 0 });
		const restore = appendsNeedConfig(0, 2);
		try {
			expect((await producer.send(topic, { value: 1 })).offset).toBe(0);
		} finally {
			restore();
		}
		expect(sent.filter(isProduce)).toHaveLength(2);
		expect(await valuesOf(topic)).toEqual([1]);
		await producer.close();
	});

	it("an idempotent producer's batch whose answer was lost, then refused 429 until its retries ran out, fails as the lost answer: the next batch is written, not answered with its offsets", async () => {
		const topic = uniqueTopic("retry-lost-429");
		await createTopic(topic, 1);
		const { client, sent, dropAnswer, quotaRefuses } = wiredClient({ retries: 1 });
		const producer = client.producer({ lingerMs: 0 });
		dropAnswer(isProduce);
		quotaRefuses((r) => isProduce(r) && sent.filter(isProduce).length === 2);
		const failure = await producer.send(topic, { value: "first" }).catch((error: unknown) => error);
		// Thrown as the 429, the batch read as never written: its sequence was given back, and the next batch, sent under
		// it, was answered with the first's offset and never written.
		expect((await producer.send(topic, { value: "second" })).offset).toBe(1);
		expect(await valuesOf(topic)).toEqual(["first", "second"]);
		expect(failure).toMatchObject({ code: "network_error", status: 0, cause: { code: "quota_exceeded", status: 429 } });
		expect(sent.filter(isProduce)).toHaveLength(3);
		await producer.close().catch(() => undefined);
	});

	it("an idempotent producer's batch written, then answered 503 until its retries ran out, fails with its outcome unknown: the next batch is written, not answered with its offsets", async () => {
		const topic = uniqueTopic("retry-landed-503");
		await createTopic(topic, 1);
		const { client, sent, servedNotForwarded, notForwarded } = wiredClient({ retries: 1 });
		const producer = client.producer({ lingerMs: 0 });
		// Written, its answer lost by wrangler dev's proxy (a 503 that may follow the Worker's work); its repeat unforwarded.
		servedNotForwarded(isProduce);
		notForwarded((r) => isProduce(r) && sent.filter(isProduce).length === 2);
		const failure = await producer.send(topic, { value: "first" }).catch((error: unknown) => error);
		expect(failure).toMatchObject({ code: "not_forwarded", status: 503 });
		// Its sequence given back, the next batch, sent under it, was answered with the first's offset and never written.
		expect((await producer.send(topic, { value: "second" })).offset).toBe(1);
		expect(await valuesOf(topic)).toEqual(["first", "second"]);
		await producer.close().catch(() => undefined);
	});

	it("an idempotent producer's batch answered 503 partition_unavailable is sent again with its sequence, and written once", async () => {
		const topic = uniqueTopic("retry-503-idem");
		await createTopic(topic, 1);
		await breakNextAppend(topic);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const { client, sent } = wiredClient();
		const producer = client.producer({ lingerMs: 0 });
		expect((await producer.send(topic, { value: 1 })).offset).toBe(0);
		const produces = sent.filter(isProduce);
		expect(produces).toHaveLength(2);
		expect(JSON.parse(produces[1]?.body ?? "{}")).toMatchObject({ sequence: 0 });
		expect(await valuesOf(topic)).toEqual([1]);
		await producer.close();
	});
});

describe("mayRetry", () => {
	const answer = (status: number, body: string) => errorFromResponse(status, body);
	const json = (status: number, code: string) => answer(status, JSON.stringify({ error: { code, message: code, retriable: true } }));
	const proxy503 = () => errorFromResponse(503, WRANGLER_PROXY_RETRY_TEXT);

	it("under unsent: only what proves nothing was done (429, 503 unavailable)", () => {
		expect(mayRetry(json(429, "quota_exceeded"), "unsent")).toBe(true);
		expect(mayRetry(json(503, "unavailable"), "unsent")).toBe(true);
		expect(mayRetry(proxy503(), "unsent")).toBe(false);
		expect(mayRetry(proxy503(), "always")).toBe(true);
		expect(mayRetry(json(503, "partition_unavailable"), "unsent")).toBe(false);
		// A Durable Object call that threw may have committed first.
		expect(mayRetry(json(503, "service_unavailable"), "unsent")).toBe(false);
		expect(mayRetry(answer(503, "<html>error code: 1102</html>"), "unsent")).toBe(false);
		expect(mayRetry(new TributaryError("network_error", "reset", { retriable: true }), "unsent")).toBe(false);
		expect(mayRetry(json(502, "internal"), "unsent")).toBe(false);
		// A route may name a 503 code that, there, says nothing was done (a poll's, whose read was undone).
		expect(mayRetry(json(503, "partition_unavailable"), "unsent", ["partition_unavailable"])).toBe(true);
	});

	it("under always: any transient failure; under never: none", () => {
		for (const error of [
			json(429, "quota_exceeded"),
			json(503, "partition_unavailable"),
			json(503, "service_unavailable"),
			answer(503, "<html>error code: 1102</html>"),
			answer(502, "bad gateway"),
			answer(504, "gateway timeout"),
			// A proxy's JSON error without the Worker's flag goes by its status, as its text would.
			answer(502, JSON.stringify({ error: { code: "bad_gateway", message: "bad gateway" } })),
			answer(504, JSON.stringify({ error: { code: "gateway_timeout", message: "gateway timeout" } })),
			new TributaryError("network_error", "reset", { retriable: true }),
			new TributaryError("timeout", "no answer", { retriable: true }),
		]) {
			expect(mayRetry(error, "always"), error.message).toBe(true);
			expect(mayRetry(error, "conditional"), error.message).toBe(true);
			expect(mayRetry(error, "never"), error.message).toBe(false);
		}
		expect(mayRetry(json(500, "internal"), "always")).toBe(false);
		// A failure the Worker says the same request will meet again (its operator must act first) is not transient.
		const notConfigured = answer(503, JSON.stringify({ error: { code: "not_configured", message: "no ADMIN_TOKEN", retriable: false } }));
		expect(notConfigured.retriable).toBe(false);
		expect(mayRetry(notConfigured, "always")).toBe(false);
	});
});

describe("mayHaveLanded", () => {
	const json = (status: number, code: string) =>
		errorFromResponse(status, JSON.stringify({ error: { code, message: code, retriable: true } }));

	it("no answer, an answer not the API's, or a 5xx that does not prove nothing was done: the request may have been done", () => {
		for (const error of [
			new TributaryError("network_error", "reset", { retriable: true }),
			new TributaryError("timeout", "no answer", { retriable: true }),
			// A produce's partition call that threw may have committed first; a Durable Object call's too.
			json(503, "partition_unavailable"),
			json(503, "service_unavailable"),
			// wrangler dev's proxy's catch covers a failure reading the Worker's answer.
			errorFromResponse(503, WRANGLER_PROXY_RETRY_TEXT),
			errorFromResponse(503, "<html>error code: 1102</html>"),
			errorFromResponse(500, JSON.stringify({ error: { code: "internal", message: "bug", retriable: false } })),
			errorFromResponse(502, "bad gateway"),
			errorFromResponse(504, "gateway timeout"),
			// Served, but its answer is not JSON.
			errorFromResponse(200, "<html>"),
		]) {
			expect(mayHaveLanded(error), error.message).toBe(true);
		}
	});

	it("a refusal before the request ran, or one whose route says it was undone: nothing was done", () => {
		for (const error of [
			json(429, "quota_exceeded"),
			json(503, "unavailable"),
			json(400, "invalid_argument"),
			json(404, "topic_not_found"),
			json(409, "out_of_order_sequence"),
		]) {
			expect(mayHaveLanded(error), error.message).toBe(false);
		}
		// Refused by the Worker's authentication before any route ran, though not retriable.
		const notConfigured = errorFromResponse(503, JSON.stringify({ error: { code: "not_configured", message: "m", retriable: false } }));
		expect(mayHaveLanded(notConfigured)).toBe(false);
		// A poll's 503 partition_unavailable: its read was undone.
		expect(mayHaveLanded(json(503, "partition_unavailable"), ["partition_unavailable"])).toBe(false);
		expect(mayHaveLanded(json(503, "service_unavailable"), ["partition_unavailable"])).toBe(true);
	});
});

const precondition = () =>
	Response.json({ error: { code: "precondition_failed", message: "the grant changed", retriable: false } }, { status: 412 });
/** A 503 `unavailable`: the Worker wrote nothing (or the repeat finishes what it began). */
const unavailable = () =>
	Response.json(
		{ error: { code: "unavailable", message: "try again", retriable: true } },
		{ status: 503, headers: { "Retry-After": "0" } },
	);
/** A 429: a quota refused the request before it ran. */
const quota = () =>
	Response.json(
		{ error: { code: "quota_exceeded", message: "slow down", retriable: true } },
		{ status: 429, headers: { "Retry-After": "0" } },
	);
/** A lost answer: the request may have been served. */
const lost = (): Response => {
	throw new TypeError("fetch failed");
};

/**
 * An Http whose requests meet `answers` in turn (a function: thrown, as a network error), then 412s; `retries` as the
 * client's option.
 */
function httpMeeting(answers: Array<() => Response>, retries?: number): { http: Http; sends: () => number } {
	let sends = 0;
	const fetch = async () => (answers[sends++] ?? precondition)();
	return { http: new Http({ url: BASE, token: ADMIN_TOKEN, fetch, retries }), sends: () => sends };
}

describe("a request whose retries ran out", () => {
	/** A change whose repeat cannot write twice: sent again on any transient failure. */
	const put = (http: Http) => http.request("PUT", "/v1/anonymous", { body: { acl: [] }, retry: "always" }).catch((e: unknown) => e);

	it("after a failure that may have landed, its repeats refused only as nothing done (429, 503 unavailable), throws that failure, the last refusal its cause", async () => {
		const refusedQuota = httpMeeting([lost, quota, quota], 2);
		expect(await put(refusedQuota.http)).toMatchObject({
			code: "network_error",
			status: 0,
			retriable: true,
			cause: { code: "quota_exceeded", status: 429, details: { retry_after_ms: 0 } },
		});
		expect(refusedQuota.sends()).toBe(3);
		expect(await put(httpMeeting([quota, lost, unavailable], 2).http)).toMatchObject({
			code: "network_error",
			cause: { code: "unavailable", status: 503 },
		});
		// The first that may have landed, not a later one: a timeout after it says no more.
		const slow = () => new Response("", { status: 504 });
		expect(await put(httpMeeting([lost, slow, quota], 2).http)).toMatchObject({ code: "network_error", cause: { status: 429 } });
	});

	it("after a 503 unavailable, its repeats refused 429 until they ran out, throws the 503 (the Worker's word on the request), the 429 its cause", async () => {
		// The 503 may say what was done and what a repeat is to finish (a key revoked, some of its tails not closed); the
		// 429 says only that the repeat was not run. Thrown as the 429, the caller reads the request as refused outright.
		const revoking = () =>
			Response.json(
				{
					error: {
						code: "unavailable",
						message: "the key is revoked, but 1 partition(s) did not answer; retry the DELETE",
						retriable: true,
					},
				},
				{ status: 503 },
			);
		const thrown = await put(httpMeeting([revoking, quota, quota], 2).http);
		expect(thrown).toMatchObject({
			code: "unavailable",
			status: 503,
			retriable: true,
			cause: { code: "quota_exceeded", status: 429, details: { retry_after_ms: 0 } },
		});
		expect((thrown as TributaryError).message).toMatch(
			/^the key is revoked, but 1 partition\(s\) did not answer; retry the DELETE; sent again, it was refused 429/,
		);
		// A 503 unavailable last is the same word again: thrown as itself.
		const again = await put(httpMeeting([unavailable, quota, unavailable], 2).http);
		expect(again).toMatchObject({ code: "unavailable", status: 503 });
		expect((again as TributaryError).cause).toBeUndefined();
	});

	it("after a 503 the route says proves nothing was done (a poll's partition_unavailable), its repeats refused 429, throws that 503, not an unknown outcome", async () => {
		const cutShort = () =>
			Response.json(
				{ error: { code: "partition_unavailable", message: "the read was cut short", retriable: true } },
				{ status: 503, headers: { "Retry-After": "0" } },
			);
		const poll = (http: Http) =>
			http
				.request("POST", "/v1/groups/g/members/m/poll", { body: {}, retry: "unsent", unsentCodes: ["partition_unavailable"] })
				.catch((e: unknown) => e);
		const { http, sends } = httpMeeting([cutShort, quota, quota], 2);
		const thrown = await poll(http);
		expect(sends()).toBe(3);
		expect(thrown).toMatchObject({ code: "partition_unavailable", status: 503, cause: { code: "quota_exceeded", status: 429 } });
		expect((thrown as TributaryError).message).toBe("the read was cut short; sent again, it was refused 429 (slow down)");
	});

	it("refused only as nothing done, or last failed in a way that may have landed, throws the last failure, as before", async () => {
		expect(await put(httpMeeting([quota, quota], 1).http)).toMatchObject({ code: "quota_exceeded", status: 429 });
		const last = await put(httpMeeting([quota, lost], 1).http);
		expect(last).toMatchObject({ code: "network_error", status: 0 });
		expect((last as TributaryError).cause).toBeInstanceOf(TypeError);
		// An answer that is not a refusal before running says what the repeat met (the topic gone, say): it is thrown.
		const gone = () => Response.json({ error: { code: "topic_not_found", message: "no topic", retriable: false } }, { status: 404 });
		expect(await put(httpMeeting([lost, gone], 1).http)).toMatchObject({ code: "topic_not_found", status: 404 });
	});
});

describe("a conditional change's repeat refused 412", () => {
	const patch = (http: Http) =>
		http
			.request("PATCH", "/v1/anonymous", { body: { acl: [] }, headers: { "If-Match": '"a"' }, retry: "conditional" })
			.catch((e: unknown) => e);

	it("after a failure that may have landed is thrown as that failure, the 412 its cause: whether the change landed is unknown", async () => {
		const { http, sends } = httpMeeting([lost]);
		const thrown = await patch(http);
		expect(sends()).toBe(2);
		expect(thrown).toMatchObject({
			code: "network_error",
			status: 0,
			retriable: true,
			cause: { code: "precondition_failed", status: 412 },
		});
	});

	it("after a 503 unavailable too (a key's quota change may be in force behind one); after a 429 only, it is the 412", async () => {
		expect(await patch(httpMeeting([unavailable, quota]).http)).toMatchObject({ code: "unavailable", status: 503 });
		expect(await patch(httpMeeting([quota]).http)).toMatchObject({ code: "precondition_failed", status: 412 });
		// The lost answer, not the 503 after it, is what is thrown: an `unavailable` would read as provably unsent.
		expect(await patch(httpMeeting([lost, unavailable]).http)).toMatchObject({ code: "network_error", status: 0 });
		expect(await patch(httpMeeting([]).http), "the first answer's 412 is the refusal").toMatchObject({ code: "precondition_failed" });
	});
});
