/**
 * The edge's answers when the registry's listings or a producer's init fail inside the object (answered as failure
 * Results: test/topic/registry-failures): 503 in the mount's dialect, as the rejection was answered, never a 500 or
 * an empty listing.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { topicRegistry } from "../../src/shared/stubs.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { expectPlatformFailure } from "../support/rpc-failure.ts";
import { failStatementOnce } from "../support/throw-once.ts";
import { call, createTopic, json } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

const STORAGE_ERROR = "SQLITE_IOERR: disk I/O error";

/** The registry's next statement matching `statement` fails: its listing by default. */
function registryFailsOnce(statement = /ORDER BY name/): Promise<void> {
	return runInDurableObject(topicRegistry(env), (_, state) => failStatementOnce(state.storage.sql, statement, STORAGE_ERROR));
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
