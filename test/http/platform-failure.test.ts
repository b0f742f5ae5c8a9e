/**
 * A Durable Object call that throws (the object's code or storage failed, the object was reset or is overloaded)
 * is answered 503 `service_unavailable`, retriable, in the mount's dialect: not 500, and not `unavailable`, which
 * the SDK takes as proof nothing was written (the object may have thrown after committing). A bug in edge code
 * is still 500 `internal`.
 */
import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index.ts";
import type { ReadRequest } from "../../src/partition/types.ts";
import { AssertionError } from "../../src/shared/assert.ts";
import { partitionLog, topicRegistry } from "../../src/shared/stubs.ts";
import { invalidate } from "../../src/topic/topic-cache.ts";
import { join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { expectPlatformFailure } from "../support/rpc-failure.ts";
import { openSse } from "../support/sse.ts";
import { coordinatorStub, topicIdOf } from "../support/stubs.ts";
import { throwOnce } from "../support/throw-once.ts";
import { ADMIN_TOKEN, BASE, call, createTopic, json, produce } from "../support/worker.ts";

/** The next call of `group`'s coordinator throws `thrown` inside the object: a failed storage statement by default. */
function coordinatorFailsOnce(group: string, thrown: string | Error = "SQLITE_IOERR: disk I/O error"): Promise<void> {
	return runInDurableObject(coordinatorStub(group), (instance) =>
		throwOnce((instance as unknown as { store: { identify(): void } }).store, "identify", thrown),
	);
}

async function groupWithMember(): Promise<{ group: string; topic: string; member: string; generation: number }> {
	const topic = uniqueTopic();
	await createTopic(topic, 1);
	const group = uniqueGroup();
	const joined = await join(group, { topics: [topic] });
	return { group, topic, member: joined.member_id, generation: joined.generation };
}

describe("a Durable Object call that throws", () => {
	it("answers a group's join, heartbeat, poll and commit 503 service_unavailable, and the repeat is served", async () => {
		const { group, topic, member, generation } = await groupWithMember();
		const members = `/v1/groups/${group}/members`;
		const commitBody = { member_id: member, generation, offsets: [{ topic, partition: 0, offset: 0 }] };
		const cases: [string, string, unknown][] = [
			["POST", members, { topics: [topic] }],
			["POST", `${members}/${member}/heartbeat`, {}],
			["POST", `${members}/${member}/poll`, {}],
			["POST", `/v1/groups/${group}/offsets`, commitBody],
		];
		for (const [method, path, body] of cases) {
			await coordinatorFailsOnce(group);
			await expectPlatformFailure(method, path, body);
		}
		await json("POST", `/v1/groups/${group}/offsets`, 200, { body: commitBody });
	});

	it("answers a join whose topic lookup failed in the registry 503 service_unavailable, not topic_not_found", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		invalidate(topic);
		await runInDurableObject(topicRegistry(env), (instance) => throwOnce(instance as unknown as { find(): void }, "find"));
		await expectPlatformFailure("POST", `/v1/groups/${uniqueGroup()}/members`, { topics: [topic] });
	});

	it("answers a topic's config change 503 service_unavailable, and the repeat is served", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await runInDurableObject(topicRegistry(env), (instance) => throwOnce(instance as unknown as { find(): void }, "find"));
		const body = { config: { "retention.ms": 60_000 } };
		await expectPlatformFailure("PATCH", `/v1/topics/${topic}`, body);
		await json("PATCH", `/v1/topics/${topic}`, 200, { body });
	});

	it("answers a record read 503 service_unavailable, and the repeat is served", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(topic, [{ value: "a" }]);
		const log = partitionLog(env, await topicIdOf(topic), 0);
		await runInDurableObject(log, (instance) => throwOnce((instance as unknown as { reads: { fetchBody(): void } }).reads, "fetchBody"));
		const path = `/v1/topics/${topic}/partitions/0/records?offset=0`;
		await expectPlatformFailure("GET", path);
		expect((await json<{ records: unknown[] }>("GET", path, 200)).records).toHaveLength(1);
	});

	it("answers through the Confluent v3 mount in its dialect: 503 with error_code 50003", async () => {
		const { group } = await groupWithMember();
		await coordinatorFailsOnce(group);
		const path = `/kafka/v3/clusters/tributary/consumer-groups/${group}`;
		const response = await call("GET", path);
		expect(response.status).toBe(503);
		const body = await response.json<{ error_code: number; error: { code: string; retriable: boolean } }>();
		expect(body).toMatchObject({ error_code: 50003, error: { code: "service_unavailable", retriable: true } });
		expect((await call("GET", path)).status).toBe(200);
	});

	it("answers a Confluent dry-run create whose name lookup failed 503, not 200 as if the name were free", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await runInDurableObject(topicRegistry(env), (instance) => throwOnce(instance as unknown as { find(): void }, "find"));
		const body = { topic_name: topic, partitions_count: 1, validate_only: true };
		const response = await call("POST", "/kafka/v3/clusters/tributary/topics", { body });
		expect(response.status).toBe(503);
		expect(await response.json()).toMatchObject({ error_code: 50003, error: { code: "service_unavailable" } });
	});

	it("answers Upstash's consumer listing 503 when a group's coordinator failed, not 200 without the group", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const group = uniqueGroup();
		await json("POST", `/upstash/consume/${group}/i1`, 200, { body: { topic, timeout: 0 } });
		expect((await json<{ name: string }[]>("GET", "/upstash/consumers", 200)).map((g) => g.name)).toContain(group);
		await coordinatorFailsOnce(group);
		expect((await call("GET", "/upstash/consumers")).status).toBe(503);
	});
});

describe("an SSE stream whose partition's read throws after the stream started", () => {
	it("ends with an error event saying 503 service_unavailable, not as a clean end", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(topic, [{ value: "a" }]);
		// The shortest keep-alive: the stream's read at the tail ends and another starts every 100 ms.
		const sse = await openSse(`/v1/topics/${topic}/partitions/0/records?offset=0&keepalive_ms=100`);
		expect((await sse.records(1))[0]?.record.value).toBe("a");
		// The stream's reads from offset 1 answer "b"; its first one past "b" throws inside the object.
		const log = partitionLog(env, await topicIdOf(topic), 0);
		const reads = (instance: unknown) => (instance as { reads: { read(request: ReadRequest): void } }).reads;
		await runInDurableObject(log, (instance) => throwOnce(reads(instance), "read", "read broke", (request) => (request.offset ?? 0) >= 2));
		// Reads at the tail end and start again before "b" is produced, as a loaded machine's slow produce lets them: the
		// second keep-alive after the fault is set follows a read begun after it.
		for (let seen = 0; seen < 2; seen++) expect(await sse.next()).toEqual({ comment: "keep-alive" });
		await produce(topic, [{ value: "b" }]);
		expect((await sse.records(1))[0]?.record.value).toBe("b");
		const ended = await sse.next().catch((cause: Error) => ({ event: cause.message, data: "{}" }));
		expect([ended.event, JSON.parse(ended.data ?? "{}").error?.code]).toEqual(["error", "service_unavailable"]);
	});
});

/** The Worker's fetch handler with `env`'s coordinators replaced by `coordinator` (not reached through RPC). */
async function withCoordinator(coordinator: object, path: string): Promise<Response> {
	const fake = Object.create(env, { GROUP_COORDINATOR: { value: { getByName: () => coordinator } } });
	const request = new Request(`${BASE}${path}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
	return worker.fetch(request, fake, createExecutionContext());
}

describe("what the edge tells apart", () => {
	it("answers an overloaded object 503 service_unavailable with a Retry-After, and a reset object 503 without one", async () => {
		const overloaded = Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { overloaded: true });
		const reset = Object.assign(new Error("Durable Object reset because its code was updated."), {
			durableObjectReset: true,
			retryable: true,
		});
		const answers = [];
		for (const thrown of [overloaded, reset]) {
			const response = await withCoordinator({ describe: () => Promise.reject(thrown) }, `/v1/groups/${uniqueGroup()}`);
			const body = await response.json<{ error: { code: string } }>();
			answers.push({ status: response.status, code: body.error.code, retryAfter: response.headers.get("Retry-After") });
		}
		expect(answers).toEqual([
			{ status: 503, code: "service_unavailable", retryAfter: "1" },
			{ status: 503, code: "service_unavailable", retryAfter: null },
		]);
	});

	it("keeps the Retry-After of an object overloaded behind the one called: a coordinator whose own call was refused so", async () => {
		const group = (await groupWithMember()).group;
		const overloaded = Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { overloaded: true });
		await coordinatorFailsOnce(group, overloaded);
		const response = await call("GET", `/v1/groups/${group}`);
		const { error } = await response.json<{ error: Record<string, unknown> }>();
		expect([response.status, error.code, error.retry_after_ms, response.headers.get("Retry-After")]).toEqual([
			503,
			"service_unavailable",
			1000,
			"1",
		]);
		expect(error.request_id, "the request's id").toMatch(/^[\w-]{8,}$/);
	});

	it("answers a call the platform marks only retryable (a connection lost on the way) 503 service_unavailable", async () => {
		const lost = Object.assign(new Error("Network connection lost."), { retryable: true });
		const response = await withCoordinator({ describe: () => Promise.reject(lost) }, `/v1/groups/${uniqueGroup()}`);
		expect([response.status, (await response.json<{ error: { code: string } }>()).error.code]).toEqual([503, "service_unavailable"]);
	});

	it("answers workerd's own failure of an object's call, with no mark at all, 503 (a produce's partition_unavailable), not as our bug", async () => {
		// What workerd makes of a failure inside its RPC that is no JavaScript error (jsg/util.c++, exceptionToJs): a plain
		// Error named by an id for its own log, not `remote` (the object's code did not throw it; worker-rpc.c++ marks only
		// tunneled JS errors so), and neither `retryable` nor `overloaded` unless the failure was a disconnection or an
		// overload, nor `durableObjectReset` unless the object broke. The object may not have run the call.
		const unmarked = () => new Error("internal error; reference = 0123456789abcdefghijklmn");
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const partitions = { getByName: () => ({ append: () => Promise.reject(unmarked()) }) };
		const fake = Object.create(env, { PARTITION_LOG: { value: partitions } });
		const headers = { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" };
		const body = JSON.stringify({ records: [{ value: "a" }] });
		const request = new Request(`${BASE}/v1/topics/${topic}/records`, { method: "POST", headers, body });
		const produced = await worker.fetch(request, fake, createExecutionContext());
		const described = await withCoordinator({ describe: () => Promise.reject(unmarked()) }, `/v1/groups/${uniqueGroup()}`);
		const answers = [];
		for (const response of [produced, described]) {
			const { error } = await response.json<{ error: { code: string; retriable: boolean } }>();
			answers.push([response.status, error.code, error.retriable]);
		}
		expect(answers).toEqual([
			[503, "partition_unavailable", true],
			[503, "service_unavailable", true],
		]);
	});

	it("answers static assets whose fetch lost its connection 503 service_unavailable, naming no Durable Object", async () => {
		const lost = Object.assign(new Error("Network connection lost."), { retryable: true });
		const fake = Object.create(env, { ASSETS: { value: { fetch: () => Promise.reject(lost) } } });
		const response = await worker.fetch(new Request(`${BASE}/openapi.json`), fake, createExecutionContext());
		const { error } = await response.json<{ error: { code: string; message: string } }>();
		expect([response.status, error.code, error.message]).toEqual([503, "service_unavailable", "static assets failed; retry"]);
	});

	it("answers a bug inside an object 500 internal, as one at the edge: a TypeError, a failed assertion", async () => {
		const group = (await groupWithMember()).group;
		const bugs = [
			new TypeError("Cannot read properties of undefined (reading 'members')"),
			new AssertionError("invariant violated: a member's generation is the group's"),
		];
		const answers = [];
		for (const bug of bugs) {
			await coordinatorFailsOnce(group, bug);
			const response = await call("GET", `/v1/groups/${group}`);
			answers.push([response.status, (await response.json<{ error: { code: string } }>()).error.code]);
		}
		// Not the platform's: the same request fails the same way, so no retry is invited.
		expect(answers).toEqual([
			[500, "internal"],
			[500, "internal"],
		]);
	});

	it("answers a bug in edge code 500 internal: a TypeError no Durable Object threw", async () => {
		const response = await withCoordinator(
			{
				describe: () => {
					throw new TypeError("Cannot read properties of undefined (reading 'members')");
				},
			},
			`/v1/groups/${uniqueGroup()}`,
		);
		expect(response.status).toBe(500);
		expect((await response.json<{ error: { code: string } }>()).error.code).toBe("internal");
	});
});
