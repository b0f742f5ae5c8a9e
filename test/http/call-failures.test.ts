/**
 * The edge's answers when the registry's listings or a producer's init, or a partition's calls besides its reads,
 * fail inside the object (answered as failure Results: test/topic/registry-failures, test/partition/call-failures):
 * 503 in the mount's dialect, as the rejection was answered, never a 500, an empty listing or a missing topic; and
 * the registry retries a config push or a wipe a partition failed, as it retried one that rejected.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { topicRegistry } from "../../src/shared/stubs.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { expectPlatformFailure } from "../support/rpc-failure.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { failStatementOnce, throwOnce } from "../support/throw-once.ts";
import { call, createTopic, expectError, highWatermarks, json, produce } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

const STORAGE_ERROR = "SQLITE_IOERR: disk I/O error";

/** The registry's next statement matching `statement` fails (storage, unless `thrown` says otherwise): its listing by default. */
function registryFailsOnce(statement = /ORDER BY name/, thrown: string | Error = STORAGE_ERROR): Promise<void> {
	return runInDurableObject(topicRegistry(env), (_, state) => failStatementOnce(state.storage.sql, statement, thrown));
}

type Stub = Awaited<ReturnType<typeof partitionStub>>;

/** `topic`'s partition's next statement matching `statement` fails. */
async function partitionFailsOnce(topic: string, statement: RegExp, partition = 0): Promise<void> {
	await runInDurableObject(await partitionStub(topic, partition), (_, state) =>
		failStatementOnce(state.storage.sql, statement, STORAGE_ERROR),
	);
}

/** `stub`'s next configure throws after writing its row, as storage failing under its schedule would. */
function configureFailsOnce(stub: Stub): Promise<void> {
	return runInDurableObject(stub, (instance) =>
		throwOnce((instance as unknown as { lifecycle: { configured(): void } }).lifecycle, "configured", STORAGE_ERROR),
	);
}

describe("the registry's listings and a producer's init, failing inside the registry", () => {
	it("answer /v1's topic listing and producer init 503 service_unavailable", async () => {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await registryFailsOnce();
		await expectPlatformFailure("GET", "/v1/topics");
		await registryFailsOnce(/producer/);
		await expectPlatformFailure("POST", "/v1/producers", {});
		await json("GET", "/v1/topics", 200);
	});

	it("answer a join by pattern 503 service_unavailable, not as if no topic matched", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await registryFailsOnce();
		await expectPlatformFailure("POST", `/v1/groups/${uniqueGroup()}/members`, { topic_pattern: `${topic}.*` });
	});

	it("answer a join by pattern whose listing hit a bug 500 internal, as the listing is, the bug logged once", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
		await registryFailsOnce(/ORDER BY name/, new TypeError("Cannot read properties of undefined (reading 'name')"));
		const response = await call("POST", `/v1/groups/${uniqueGroup()}/members`, { body: { topic_pattern: `${topic}.*` } });
		const body = (await response.json()) as { error: { code: string } };
		const logged = error.mock.calls.filter((args) =>
			args.some((arg) => String(arg).includes("reading 'name'") || String((arg as Error)?.stack).includes("reading 'name'")),
		);
		expect([response.status, body.error.code, logged.length]).toEqual([500, "internal", 1]);
	});

	it("answer Confluent's topic and replica listings 503 50003 and Upstash's topic listing 503, not 500 or an empty list", async () => {
		await createTopic(uniqueTopic(), 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = [];
		for (const path of [
			"/kafka/v3/clusters/tributary/topics",
			"/kafka/v3/clusters/tributary/brokers/0/partition-replicas",
			"/upstash/topics",
		]) {
			await registryFailsOnce();
			const response = await call("GET", path);
			answers.push([path, response.status, ((await response.json()) as { error_code?: number }).error_code ?? null]);
		}
		expect(answers).toEqual([
			["/kafka/v3/clusters/tributary/topics", 503, 50003],
			["/kafka/v3/clusters/tributary/brokers/0/partition-replicas", 503, 50003],
			["/upstash/topics", 503, null],
		]);
	});
});

describe("a partition's calls failing inside it", () => {
	it("answers a produce whose partition failed to take its config 503 partition_unavailable, and the repeat is served", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await configureFailsOnce(await partitionStub(topic));
		await expectError("POST", `/v1/topics/${topic}/records`, 503, "partition_unavailable", { body: { records: [{ value: "a" }] } });
		await produce(topic, [{ value: "a" }]);
	});

	it("names the request's id in a produce's 503 partition_unavailable, as a 500 does: every 5xx's log line can be found", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await configureFailsOnce(await partitionStub(topic));
		const response = await call("POST", `/v1/topics/${topic}/records`, { body: { records: [{ value: "a" }] } });
		const { error } = (await response.json()) as { error: Record<string, unknown> };
		expect([response.status, error.code, error.request_id]).toEqual([503, "partition_unavailable", response.headers.get("X-Request-Id")]);
	});

	it("answers a produce over partitions whose claims check failed 503 partition_unavailable, writing none of it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const records = [
			{ value: "a", partition: 0 },
			{ value: "b", partition: 1 },
		];
		await produce(topic, records);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await partitionFailsOnce(topic, /idempotency_keys/, 1);
		const headers = { "Idempotency-Key": `k-${crypto.randomUUID()}` };
		await expectError("POST", `/v1/topics/${topic}/records`, 503, "partition_unavailable", { body: { records }, headers });
		expect(await highWatermarks(topic)).toEqual([1, 1]);
	});

	it("answers an offset lookup by time and a DeleteRecords 503 service_unavailable", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(topic, [{ value: "a" }]);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await partitionFailsOnce(topic, /FROM batches/);
		await expectPlatformFailure("GET", `/v1/topics/${topic}/partitions/0/offsets?at=0`);
		await partitionFailsOnce(topic, /log_start_offset/);
		await expectPlatformFailure("POST", `/v1/topics/${topic}/partitions/0/delete-records`, { before_offset: 1 });
	});

	it("leaves a config push a partition failed to take for the registry's retry", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(topic, [{ value: "a" }]);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await configureFailsOnce(await partitionStub(topic));
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { config: { "retention.ms": 60_000 } } });
		const pushed = await runInDurableObject(
			topicRegistry(env),
			(_, state) =>
				state.storage.sql.exec<{ pushed: number }>("SELECT config_pushed AS pushed FROM topics WHERE name = ?", topic).one().pushed,
		);
		expect(pushed, "marked pushed").toBe(0);
	});

	it("leaves a wipe a partition failed for the registry's retry", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(topic, [{ value: "a" }]);
		const topicId = await topicIdOf(topic);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await runInDurableObject(await partitionStub(topic), (_, state) => throwOnce(state.storage, "deleteAlarm", STORAGE_ERROR));
		expect((await call("DELETE", `/v1/topics/${topic}`)).status).toBe(204);
		const pending = await runInDurableObject(
			topicRegistry(env),
			(_, state) =>
				state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM pending_deletions WHERE topic_id = ?", topicId).one().n,
		);
		expect(pending, "the wipe still pending").toBe(1);
	});
});
