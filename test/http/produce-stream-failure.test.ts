/**
 * A produce stream that fails after it started: a thrown failure inside the channel's own work (a bug: here the
 * placement of a plain record throws), or an NDJSON body whose read fails, is told to the client in the stream's
 * protocol (every message not yet answered gets the failure's report, in order; a WebSocket is then closed 1011, an
 * NDJSON answer ends), and logged and counted as the request failing with that status, beside the 200 or 101 of its
 * start. Nothing of the messages answered so is written after their answer.
 */

import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { counterEntries } from "../../src/http/middleware/observe.ts";
import { ProduceChannel } from "../../src/http/produce-channel.ts";
import { StreamedRecord } from "../../src/http/stream-record-text.ts";
import { series } from "../../src/metrics/catalog.ts";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { keyAuthority, topicRegistry } from "../../src/shared/stubs.ts";
import { invalidate } from "../../src/topic/topic-cache.ts";
import { createKey, failKeyStatement } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { appendsNeedConfig, configureBreaksOnce } from "../support/needs-config.ts";
import { openProduceSocket, type Report } from "../support/produce-stream.ts";
import { BUG } from "../support/rpc-failure.ts";
import { throwOnce } from "../support/throw-once.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { ADMIN_TOKEN, BASE, call, createTopic, fetchRecords, highWatermarks } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

const ROUTE = "/v1/topics/:topic/records/stream";

/** The stream route's requests counted under `status` so far. */
const counted = (status: number) =>
	counterEntries()[series("tributary_http_requests_total", { route: ROUTE, status: String(status) })] ?? 0;

/** The request lines logged for the stream route (`log`: console.log's spy). */
function streamLines(log: { mock: { calls: unknown[][] } }): { status: number; request_id: string }[] {
	return log.mock.calls
		.map(([line]) => (typeof line === "string" && line.startsWith("{") ? JSON.parse(line) : null))
		.filter((line) => line?.msg === "request" && line.route === ROUTE);
}

/** From now on, placing a plain record (choosing its partition) throws, as a bug in the channel's own code would. */
function breakPlacement(): void {
	vi.spyOn(StreamedRecord.prototype, "withPartition").mockImplementation(() => {
		throw new TypeError("placement broke");
	});
}

/** Console output of this test kept out of the run's, `console.log` returned to read the request lines. */
function quiet() {
	vi.spyOn(console, "error").mockImplementation(() => undefined);
	vi.spyOn(console, "warn").mockImplementation(() => undefined);
	return vi.spyOn(console, "log").mockImplementation(() => undefined);
}

describe("a WebSocket produce stream whose own code throws", () => {
	it("answers each message not yet answered 500 internal naming the request, closes 1011, and is logged and counted as a 500", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const log = quiet();
		const before = counted(500);
		const socket = await openProduceSocket(topic);
		socket.ws.send(JSON.stringify({ value: "a" }));
		await socket.until(() => socket.reports.length === 1);
		breakPlacement();
		socket.ws.send(JSON.stringify({ value: "b" }));
		await vi.waitFor(() => expect(socket.closed()).not.toBeNull(), UNTIL_SEEN);
		const [first, ...failed] = socket.reports;
		expect(first?.offsets?.[0]?.offset).toBe(0);
		expect(failed.length).toBeGreaterThan(0);
		const lines = streamLines(log).filter((line) => line.status === 500);
		expect(lines).toHaveLength(1);
		for (const report of failed) {
			expect(report).toMatchObject({ status: 500, error: { code: "internal", request_id: lines[0]?.request_id } });
		}
		expect(socket.closed()).toMatchObject({ code: 1011, reason: expect.stringContaining("internal") });
		expect(counted(500) - before).toBe(1);
		expect((await fetchRecords(topic, 0, "?offset=0")).records.map((r) => r.value)).toEqual(["a"]);
	});
});

describe("an NDJSON produce stream whose own code throws", () => {
	it("ends with the failure's report for the message it failed on, reads no more, writes nothing, and is logged and counted as a 500", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const log = quiet();
		const before = counted(500);
		breakPlacement();
		const response = await call("POST", `/v1/topics/${topic}/records/stream`, {
			headers: { "Content-Type": "application/x-ndjson" },
			raw: ["a", "b", "c"].map((value) => JSON.stringify({ value })).join("\n"),
		});
		expect(response.status).toBe(200);
		const reports = (await response.text())
			.split("\n")
			.filter((line) => line !== "")
			.map((line) => JSON.parse(line) as Report);
		// The first line's placement threw: its report is the failure's, and the lines after it were not taken.
		expect(reports.map((r) => [r.status, r.error?.code])).toEqual([[500, "internal"]]);
		expect(streamLines(log).map((line) => line.status)).toEqual([500]);
		expect(counted(500) - before).toBe(1);
		expect((await fetchRecords(topic, 0, "?offset=0")).records).toEqual([]);
	});
});

describe("a produce stream whose key check fails at the key's authority once", () => {
	it("answers that run 503 unavailable (nothing written: send it again), writes the next messages, stays open, and is logged and counted as a 503", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }]);
		const log = quiet();
		const before = counted(503);
		// The first read is authentication's; the second, the stream's check that the key still exists, before its first append.
		await failKeyStatement(keyAuthority(env, key.id), "SELECT * FROM api_keys WHERE id", 2);
		const socket = await openProduceSocket(topic, key.secret);
		socket.ws.send(JSON.stringify({ value: "a" }));
		await socket.until(() => socket.reports.length === 1);
		expect(socket.reports[0]).toEqual({ status: 503, error: expect.objectContaining({ code: "unavailable", retriable: true }) });
		// A 5xx names the request's id, as a request's own answer does, so its log line can be found.
		expect(socket.reports[0]?.error?.request_id).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
		socket.ws.send(JSON.stringify({ value: "b" }));
		await socket.until(() => socket.reports.length === 2);
		expect(socket.reports[1]?.offsets?.[0]?.offset).toBe(0);
		expect(socket.closed()).toBeNull();
		expect(streamLines(log).map((line) => line.status)).toEqual([503]);
		expect(socket.reports[0]?.error?.request_id).toBe(streamLines(log)[0]?.request_id);
		expect(counted(503) - before).toBe(1);
		expect((await fetchRecords(topic, 0, "?offset=0")).records.map((r) => r.value)).toEqual(["b"]);
		socket.ws.close(1000);
	});
});

describe("a produce stream whose topic lookup meets a bug inside the registry", () => {
	it("ends as on its own bug: 500 internal, closed 1011, counted once as a 500, where it answered 503 unavailable and went on", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const log = quiet();
		const before = counted(500);
		const socket = await openProduceSocket(topic);
		invalidate(topic);
		// The registry's getTopic answers its bug 500 internal (settleEach), which the lookup throws on (an ApiError).
		await runInDurableObject(topicRegistry(env), (instance) =>
			throwOnce(instance as unknown as { find(): void }, "find", new TypeError("find broke")),
		);
		socket.ws.send(JSON.stringify({ value: "a" }));
		await socket.until(() => socket.reports.length === 1);
		expect(socket.reports[0]).toEqual({ status: 500, error: expect.objectContaining({ code: "internal", retriable: false }) });
		await vi.waitFor(() => expect(socket.closed()).toMatchObject({ code: 1011 }), UNTIL_SEEN);
		expect(streamLines(log).map((line) => line.status)).toEqual([500]);
		expect(counted(500) - before).toBe(1);
	});
});

describe("a produce whose partition meets a bug", () => {
	it("configuring itself (asked again for its config): 500 internal for a request, and a stream of it ends, where both answered 503 partition_unavailable", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		quiet();
		// The partition's configure answers its bug 500 internal (settleEach); the produce throws on it (thrownUnless).
		const restore = appendsNeedConfig(0, 2);
		try {
			await configureBreaksOnce(topic);
			const posted = await call("POST", `/v1/topics/${topic}/records`, { body: { records: [{ value: "a" }] } });
			const socket = await openProduceSocket(topic);
			await configureBreaksOnce(topic);
			socket.ws.send(JSON.stringify({ value: "b" }));
			await socket.until(() => socket.reports.length === 1);
			expect([posted.status, socket.reports[0]?.status, socket.reports[0]?.error?.code]).toEqual([500, 500, "internal"]);
			await vi.waitFor(() => expect(socket.closed()).toMatchObject({ code: 1011 }), UNTIL_SEEN);
		} finally {
			restore();
		}
	});

	it("in one share of a request spread over partitions: 500 internal once every share settled, saying the others' records may have been written", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		quiet();
		await configureBreaksOnce(topic, 0);
		const restore = appendsNeedConfig(0, 1);
		let response: Response;
		try {
			const records = [
				{ value: "a", partition: 0 },
				{ value: "b", partition: 1 },
			];
			response = await call("POST", `/v1/topics/${topic}/records`, { body: { records } });
		} finally {
			restore();
		}
		// Answered after partition 1's share landed, not at partition 0's bug.
		expect(await highWatermarks(topic)).toEqual([0, 1]);
		expect([response.status, ((await response.json()) as { error: unknown }).error]).toEqual([
			500,
			expect.objectContaining({ code: "internal", message: "internal error; some of this request's records may have been written" }),
		]);
	});

	it("answered as its append's failure (500 internal): a stream of it ends, where it answered that run and went on", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		quiet();
		const socket = await openProduceSocket(topic);
		const append = vi.spyOn(PartitionLog.prototype, "append").mockResolvedValueOnce(BUG as never);
		socket.ws.send(JSON.stringify({ value: "a" }));
		await socket.until(() => socket.reports.length === 1);
		expect(append).toHaveBeenCalled();
		expect(socket.reports[0]).toMatchObject({ status: 500, error: { code: "internal" } });
		await vi.waitFor(() => expect(socket.closed()).toMatchObject({ code: 1011 }), UNTIL_SEEN);
	});
});

describe("an NDJSON produce stream whose body's read fails", () => {
	it("answers the lines read before it, then one more report line with the failure, logged and counted", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const log = quiet();
		const before = counted(500);
		const encoder = new TextEncoder();
		let sent = false;
		const body = new ReadableStream<Uint8Array>({
			pull(controller) {
				if (sent) return controller.error(new Error("the sender's connection broke"));
				sent = true;
				controller.enqueue(encoder.encode(`${JSON.stringify({ value: "a" })}\n`));
			},
		});
		const response = await call("POST", `/v1/topics/${topic}/records/stream`, {
			headers: { "Content-Type": "application/x-ndjson" },
			raw: body,
		});
		expect(response.status).toBe(200);
		const reports = (await response.text())
			.split("\n")
			.filter((line) => line !== "")
			.map((line) => JSON.parse(line) as Report);
		expect(reports.map((r) => [r.offsets?.[0]?.offset, r.status, r.error?.code])).toEqual([
			[0, undefined, undefined],
			[undefined, 500, "internal"],
		]);
		expect(streamLines(log).map((line) => line.status)).toEqual([500]);
		expect(counted(500) - before).toBe(1);
	});
});

describe("an NDJSON produce stream whose client leaves mid-body", () => {
	it("is no failure of the server's: its body's failed read is neither logged nor counted, and the lines it sent stay written", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const log = quiet();
		const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const before = [counted(500), counted(503)];
		// The stream's end, after its body's read failed: the channel's last reports written (or dropped, its client gone).
		// A flag, not a promise: one resolved from the request's context would not wake the test's.
		let finished = false;
		const finish = ProduceChannel.prototype.finish;
		vi.spyOn(ProduceChannel.prototype, "finish").mockImplementation(function (this: ProduceChannel) {
			return finish.call(this).finally(() => {
				finished = true;
			});
		});
		const client = new AbortController();
		const body = new ReadableStream<Uint8Array>({
			start: (controller) => controller.enqueue(new TextEncoder().encode(`${JSON.stringify({ value: "a" })}\n`)),
		});
		// Through the runtime's own boundary, as test/support/long-poll.ts's leavingClient: workerd fails the body's read.
		const response = await exports.default.fetch(
			new Request(`${BASE}/v1/topics/${topic}/records/stream`, {
				method: "POST",
				headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/x-ndjson" },
				body,
				signal: client.signal,
				duplex: "half",
			} as RequestInit),
		);
		const reader = (response.body as ReadableStream<Uint8Array>).getReader();
		expect(JSON.parse(new TextDecoder().decode((await reader.read()).value)).offsets[0].offset).toBe(0);
		client.abort();
		await vi.waitFor(() => expect(finished).toBe(true), UNTIL_SEEN);
		expect(streamLines(log).map((line) => line.status)).toEqual([]);
		expect([counted(500), counted(503)]).toEqual(before);
		expect(errors).not.toHaveBeenCalled();
		expect((await fetchRecords(topic, 0, "?offset=0")).records.map((r) => r.value)).toEqual(["a"]);
	});
});

describe("ProduceChannel", () => {
	it("answers every message accepted before its failure, in order, and takes none after it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const written: string[] = [];
		const failures: unknown[] = [];
		const channel = new ProduceChannel(env, topic, {
			write: (reports) => void written.push(...reports),
			failed: (cause) => {
				failures.push(cause);
				return { code: "internal", message: "internal error" };
			},
		});
		breakPlacement();
		invalidate(topic);
		channel.accept(JSON.stringify({ partition: 0, value: "placed by hand" }));
		channel.accept(JSON.stringify({ value: "throws" }));
		channel.accept(JSON.stringify({ partition: 0, value: "after" }));
		await channel.finish();
		expect(failures).toHaveLength(1);
		expect(written.map((w) => (JSON.parse(w) as Report).error?.code)).toEqual(["internal", "internal", "internal"]);
		channel.accept(JSON.stringify({ partition: 0, value: "late" }));
		await channel.finish();
		expect(written).toHaveLength(3);
		expect((await fetchRecords(topic, 0, "?offset=0")).records).toEqual([]);
	});
});
