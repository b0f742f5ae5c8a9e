/**
 * A failure after a streamed answer started never reaches `onError`, yet is logged and counted as it would have been
 * answered: the request's line again with the failure's status, a thrown error's stack under the request's id, and
 * `tributary_http_requests_total` by that status (its start was counted with 200, its time to the headers once).
 * Also a failure `onError` answers itself but did not log: the static assets' fetch failing.
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AppEnv } from "../../src/http/app-env.ts";
import { Hono } from "../../src/http/hono.ts";
import { counterEntries, failedAfterStart, observe } from "../../src/http/middleware/observe.ts";
import worker from "../../src/index.ts";
import { series } from "../../src/metrics/catalog.ts";
import { ApiError } from "../../src/shared/errors.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { partitionLog } from "../../src/shared/stubs.ts";
import { uniqueTopic } from "../support/names.ts";
import { openDsLiveSse, openSse } from "../support/sse.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { throwOnce } from "../support/throw-once.ts";
import { BASE, call, createTopic, produce } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

/** The request lines of request `id` logged so far (`log`: console.log's spy). */
function requestLines(log: { mock: { calls: unknown[][] } }, id: string): { status: number; route: string }[] {
	return log.mock.calls
		.map(([line]) => (typeof line === "string" && line.startsWith("{") ? JSON.parse(line) : null))
		.filter((line) => line?.msg === "request" && line.request_id === id);
}

describe("a /v1 SSE stream whose read fails after the stream started", () => {
	it("tells its client a 503 naming the request's id, logs the request's line with 503 and counts a 503 for the route, beside the 200 of its start", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(topic, [{ value: "a" }]);
		const route = "/v1/topics/:topic/partitions/:partition/records";
		const keys = ["200", "503"].map((status) => series("tributary_http_requests_total", { route, status }));
		keys.push(series("tributary_http_request_duration_seconds_count", { route }));
		const before = keys.map((key) => counterEntries()[key] ?? 0);
		const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
		const id = crypto.randomUUID();
		const sse = await openSse(`/v1/topics/${topic}/partitions/0/records?offset=0`, { "X-Request-Id": id });
		expect((await sse.records(1))[0]?.record.value).toBe("a");
		const partition = partitionLog(env, await topicIdOf(topic), 0);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await runInDurableObject(partition, (instance) => throwOnce((instance as unknown as { reads: { read(): void } }).reads, "read"));
		await produce(topic, [{ value: "b" }]);
		await sse.records(1);
		const ended = await sse.next();
		// Its error names the request's id, as the same failure answered before the stream's start does.
		expect([ended.event, JSON.parse(ended.data ?? "{}").error?.code, JSON.parse(ended.data ?? "{}").error?.request_id]).toEqual([
			"error",
			"service_unavailable",
			id,
		]);
		expect(requestLines(log, id).map((line) => [line.route, line.status])).toEqual([[route, 503]]);
		// Requests by status: the start's 200 and the failure's 503; its time to the headers: once, at the start.
		expect(keys.map((key, i) => (counterEntries()[key] ?? 0) - (before[i] as number))).toEqual([1, 1, 1]);
	});
});

describe("a Durable Streams live=sse stream whose read fails after the stream started", () => {
	it("ends with an error event in the dialect (503 BUSY, retriable), and logs the request's line with 503", async () => {
		const path = uniqueTopic("late-ds");
		const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const { sse, ctx } = await openDsLiveSse(path, 10_000);
		// The read waiting at the tail answers the append; the stream's next read throws inside the object.
		await runInDurableObject(await partitionStub(streamTopic(path)), (instance) =>
			throwOnce(Object.getPrototypeOf(instance) as { streamRead(): void }, "streamRead", "SQLITE_IOERR: disk I/O error"),
		);
		const appended = await call("POST", `/ds/v1/stream/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "b" });
		expect(appended.status).toBe(204);
		expect([(await sse.next()).event, (await sse.next()).event]).toEqual(["data", "control"]);
		const ended = await sse.next().catch((cause: Error) => ({ event: cause.message, data: "{}" }));
		expect([ended.event, JSON.parse(ended.data ?? "{}").error]).toEqual([
			"error",
			{ code: "BUSY", message: expect.any(String), retriable: true },
		]);
		await waitOnExecutionContext(ctx);
		const statuses = log.mock.calls.map(([line]) => (typeof line === "string" && line.startsWith("{") ? JSON.parse(line) : null));
		expect(statuses.filter((line) => line?.msg === "request" && line.route.startsWith("/ds/")).map((line) => line.status)).toEqual([503]);
	});
});

describe("a late failure on a mount whose dialect answers some codes with statuses of its own", () => {
	it("logs and counts it with the mount's status (one status for both), as onError would answer it there", async () => {
		// Confluent's mount answers topic_exists 400 where /v1 answers 409.
		const mount = new Hono<AppEnv>().use(observe()).get("/late", (c) => {
			c.set("requestId", "late-on-mount");
			c.set("errorStatuses", { topic_exists: 400 });
			failedAfterStart(c, new ApiError("topic_exists", "exists"));
			return c.text("started");
		});
		const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
		expect((await mount.request("/late", {}, env)).status).toBe(200);
		const statuses = requestLines(log, "late-on-mount").map((line) => line.status);
		expect(statuses.filter((status) => status >= 400)).toEqual([400]);
	});
});

describe("static assets whose fetch fails", () => {
	it("log the failure with its cause before the 503", async () => {
		const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const lost = Object.assign(new Error("Network connection lost."), { retryable: true });
		const fake = Object.create(env, { ASSETS: { value: { fetch: () => Promise.reject(lost) } } });
		const response = await worker.fetch(new Request(`${BASE}/openapi.json`), fake, createExecutionContext());
		expect(response.status).toBe(503);
		const lines = error.mock.calls.map(([line]) => String(line));
		expect(lines.filter((line) => / failed: Error: Network connection lost\./.test(line))).toHaveLength(1);
	});
});
