/**
 * The registry's methods answer a storage failure or a bug inside them as a failure Result (test/support/rpc-failure.ts), not a
 * rejection; the edge's answers for them are test/http/platform-failure's.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AssertionError } from "../../src/shared/assert.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { topicRegistry } from "../../src/shared/stubs.ts";
import { uniqueTopic } from "../support/names.ts";
import { answersWhenBroken, failureResults, STORAGE_FAILED, settled } from "../support/rpc-failure.ts";
import { failStatementOnce, throwOnce } from "../support/throw-once.ts";
import { call, createTopic } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

describe("the registry's methods", () => {
	it("answer a storage failure or a bug as a failure Result", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const registry = topicRegistry(env);
		const calls: [string, () => Promise<unknown>][] = [
			["getTopic", () => registry.getTopic(topic)],
			["createTopic", () => registry.createTopic({ name: uniqueTopic(), partitions: 1 })],
			["updateTopic", () => registry.updateTopic(topic, { config: { "retention.ms": 60_000 } })],
			["deleteTopic", () => registry.deleteTopic(uniqueTopic())],
		];
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = await answersWhenBroken(
			calls,
			(_, thrown) => runInDurableObject(registry, (instance) => throwOnce(instance as unknown as { find(): void }, "find", thrown)),
			new AssertionError("find in registry"),
		);
		expect(answers).toEqual(failureResults(calls.map(([name]) => name)));
	});

	it("answer their listings and a producer's init a storage failure or a bug as a failure Result", async () => {
		const registry = topicRegistry(env);
		const calls: [string, () => Promise<unknown>][] = [
			["listTopics", () => registry.listTopics()],
			["listTopicsPage", () => registry.listTopicsPage({ after: null, limit: 10 })],
			["initProducer", () => registry.initProducer(null)],
		];
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = await answersWhenBroken(
			calls,
			(name, thrown) =>
				runInDurableObject(registry, (_, state) =>
					failStatementOnce(state.storage.sql, name === "initProducer" ? /producer/ : /ORDER BY name/, thrown),
				),
			new AssertionError("exec in registry"),
		);
		expect(answers).toEqual(failureResults(calls.map(([name]) => name)));
	});

	it("answers getProducer a storage failure as a failure Result", async () => {
		const registry = topicRegistry(env);
		await runInDurableObject(registry, (_, state) => throwOnce(state.storage.sql, "exec", "SQLITE_IOERR: disk I/O error"));
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		expect(await settled(registry.getProducer(1))).toEqual(STORAGE_FAILED);
	});

	it("answers a Durable Streams delete whose topic removal failed in the registry 503, not 204", async () => {
		const path = uniqueTopic("ds-drop");
		expect((await call("PUT", `/ds/v1/stream/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "a" })).status).toBe(201);
		await runInDurableObject(topicRegistry(env), (instance) => throwOnce(instance as unknown as { find(): void }, "find"));
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		expect((await call("DELETE", `/ds/v1/stream/${path}`)).status).toBe(503);
		expect((await call("GET", `/v1/topics/${streamTopic(path)}`)).status, "its topic is still there").toBe(200);
	});
});
