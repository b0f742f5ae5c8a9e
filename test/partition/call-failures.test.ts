/**
 * A partition's calls besides its reads (read-failures) and its writes (answered through the group commit's queue)
 * answer a storage failure or a bug inside them as a failure Result (test/support/rpc-failure.ts), not a rejection; a
 * Durable Streams read or HEAD as its stream failure of kind `log`; an append whose batch fails before it joins a
 * group as the group's failures are answered. The edge's answers for them are test/http/call-failures'. The calls
 * left unwrapped only touch memory and cannot throw, even where they look as if they might: a key's tails revoked
 * again while their close is still unanswered (the socket still listed), a wait ended that none holds, past the
 * bound on such ids.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { RELEASED_WAIT_IDS_MAX } from "../../src/shared/limits.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { DEFAULT_TOPIC_CONFIG } from "../../src/shared/topic-config.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { answersWhenBroken, BUG, failureResults, settled } from "../support/rpc-failure.ts";
import { partitionStub, partitionWithOneRecord, topicIdOf } from "../support/stubs.ts";
import { openTail } from "../support/tail.ts";
import { failStatementOnce, throwOnce } from "../support/throw-once.ts";
import { call, createTopic, fetchRecords } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

type Stub = Awaited<ReturnType<typeof partitionStub>>;

/** The statement each call makes first (test/support/throw-once.ts: `failStatementOnce`). */
const STATEMENTS: Record<string, RegExp> = {
	configure: /^UPDATE partition_state SET status/,
	checkClaims: /idempotency_keys/,
	offsetForTimestamp: /FROM batches/,
	watchAppends: /append_watchers/,
	deleteRecords: /log_start_offset/,
	streamRead: /stream_meta/,
	streamReadUtf8: /stream_meta/,
	streamHead: /stream_meta/,
};

/** Makes the first statement of the call named fail in the partition, with `thrown`. */
function breakSql(stub: Stub): (name: string, thrown: string | Error) => Promise<void> {
	return (name, thrown) => runInDurableObject(stub, (_, state) => failStatementOnce(state.storage.sql, STATEMENTS[name] as RegExp, thrown));
}

describe("a partition's other calls", () => {
	it("answer a storage failure or a bug as a failure Result", async () => {
		const { topic, topicId, stub } = await partitionWithOneRecord();
		const assignment = { topic, topicId, partition: 0, configVersion: 99, config: DEFAULT_TOPIC_CONFIG };
		const claims = { topicId, recordCount: 1, producer: null, idempotency: { key: "k", requestHash: "h" } };
		const calls: [string, () => Promise<unknown>][] = [
			["configure", () => stub.configure(assignment)],
			["checkClaims", () => stub.checkClaims(claims)],
			["offsetForTimestamp", () => stub.offsetForTimestamp(topicId, 0)],
			["watchAppends", () => stub.watchAppends(topicId, "watcher", 1)],
			["deleteRecords", () => stub.deleteRecords(topicId, -1)],
		];
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = await answersWhenBroken(calls, breakSql(stub), new RangeError("offset"));
		expect(answers).toEqual(failureResults(calls.map(([name]) => name)));
	});

	it("answer a destroy whose storage failed, or a bug in it, as a failure Result", async () => {
		const { topicId, stub } = await partitionWithOneRecord();
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = await answersWhenBroken(
			[["destroy", () => stub.destroy(topicId)]],
			(_, thrown) => runInDurableObject(stub, (_, state) => throwOnce(state.storage, "deleteAlarm", thrown)),
			new RangeError("alarm"),
		);
		expect(answers).toEqual(failureResults(["destroy"]));
	});

	it("answer a Durable Streams read or HEAD a storage failure or a bug as the stream's log failure", async () => {
		const path = uniqueTopic("ds-calls");
		expect((await call("PUT", `/ds/v1/stream/${path}`, { headers: { "Content-Type": "text/plain" }, raw: "a" })).status).toBe(201);
		const stub = await partitionStub(streamTopic(path));
		const topicId = await topicIdOf(streamTopic(path));
		const read = { topicId, offset: null, maxBytes: 65_536, waitMs: 0 };
		const calls: [string, () => Promise<unknown>][] = [
			["streamRead", () => stub.streamRead(read)],
			["streamReadUtf8", () => stub.streamReadUtf8(read)],
			["streamHead", () => stub.streamHead(topicId)],
		];
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = await answersWhenBroken(calls, breakSql(stub), new RangeError("offset"));
		const logFailures = Object.entries(failureResults(calls.map(([name]) => name))).map(([key, failed]) => [
			key,
			{ ok: false, failure: { kind: "log", error: (failed as { error: unknown }).error } },
		]);
		expect(answers).toEqual(Object.fromEntries(logFailures));
	});

	it("answer an append whose batch fails before the group commit as the group's failures: a bug 500, else the partition unavailable", async () => {
		const { topic, topicId, stub } = await partitionWithOneRecord();
		const request = { topicId, configVersion: 1, producer: null, idempotency: null, expectedOffset: null, textAnswer: true };
		// Two records named, one sent: decoding it is an edge's bug.
		const batch = {
			count: 2,
			tails: `"key":null,"value":"b","headers":[]}`,
			bytes: [33],
			timestamps: null,
			keyIds: null,
			tombstones: null,
		};
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const bug = await settled(stub.append({ ...request, batch }));
		const failed = await runInDurableObject(stub, (instance: PartitionLog) =>
			settled(
				Promise.resolve().then(() =>
					instance.append({
						...request,
						get batch(): never {
							throw new Error("SQLITE_IOERR: disk I/O error");
						},
					}),
				),
			),
		);
		expect({ bug, failed }).toEqual({
			bug: BUG,
			failed: {
				ok: false,
				error: { code: "partition_unavailable", message: "partition 0 is unavailable; retry", details: { partition: 0 } },
			},
		});
		expect(
			(await fetchRecords(topic, 0, "offset=0")).records.map((r) => r.value),
			"nothing written",
		).toEqual(["a"]);
	});

	it("left unwrapped, touch memory only and cannot throw, even on a socket closed unanswered or past the released ids' bound", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		const tail = await openTail(topic, "?offset=0", key.secret);
		const stub = await partitionStub(topic);
		const answers = await runInDurableObject(stub, (instance: PartitionLog, state) => {
			// Both revocations in one turn: the second closes a socket whose close the client has not answered yet.
			instance.revokeTails(key.id);
			instance.revokeTails(key.id);
			const states = state.getWebSockets().map((ws) => ws.readyState);
			for (let i = 0; i <= RELEASED_WAIT_IDS_MAX; i++) instance.stopWaiting(crypto.randomUUID());
			return { states, open: instance.hasTailsOf(key.id) };
		});
		expect(answers).toEqual({ states: [WebSocket.CLOSING], open: true });
		await tail.until(() => tail.closed() !== null);
		expect(tail.closed()?.code).toBe(4401);
	});
});
