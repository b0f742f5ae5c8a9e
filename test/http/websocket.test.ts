/**
 * WebSocket tails: backlog then live appends pushed by the partition, acks, and a slow consumer disconnected
 * with close code 4008 instead of buffering without bound, and tails closed but not yet gone passed by.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AclEntry } from "../../src/auth/acl.ts";
import { ANONYMOUS_ID } from "../../src/auth/anonymous.ts";
import { KeyStore } from "../../src/auth/key-store.ts";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { TAIL_CLOSE } from "../../src/partition/tail.ts";
import { appendOutcome } from "../../src/shared/append-answer.ts";
import { bare } from "../../src/shared/errors.ts";
import { TAIL_PAYER_CHECK_MS, TAIL_RESUME_MS, TAIL_UNACKED_BYTES_MAX } from "../../src/shared/limits.ts";
import { keyAuthority, topicRegistry } from "../../src/shared/stubs.ts";
import { runDueAlarm } from "../support/alarm.ts";
import { closeAnonymousAtTestEnd, grantAnonymous } from "../support/anonymous.ts";
import { holdClock } from "../support/clock.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub } from "../support/stubs.ts";
import { openTail } from "../support/tail.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { call, createTopic, expectError, fetchRecords, produce } from "../support/worker.ts";

/**
 * Makes the next send on the tail open in partition `stub` throw, as a send does on an evicted object (the send
 * after it works again); `onFail` runs when it does.
 */
async function failNextSend(stub: Awaited<ReturnType<typeof partitionStub>>, onFail: () => void = () => {}): Promise<void> {
	await runInDurableObject(stub, (_, state) => {
		const [socket] = state.getWebSockets();
		if (socket === undefined) throw new Error("the tail is not open here");
		const send = socket.send.bind(socket);
		socket.send = () => {
			socket.send = send;
			onFail();
			throw new Error("evicted");
		};
	});
}

/**
 * How far ahead of the real clock `tailInDebt` holds it: the resume alarm its tail's sends set (`TAIL_RESUME_MS` from
 * the held time) would otherwise fall due in real time while the clock stands still, and workerd run it by itself,
 * again and again, before or between the tests' own runs of it.
 */
const DEBT_CLOCK_AHEAD_MS = 60 * 60 * 1000;

/**
 * A tail of a key with a fetch quota of 1000 bytes/s that was sent one record of ~3000 bytes, with the clock held
 * (`DEBT_CLOCK_AHEAD_MS` ahead): the key stays ~2000 bytes in debt, so the tail's next message waits to be paid for
 * until the clock moves.
 */
async function tailInDebt() {
	const topic = uniqueTopic();
	await createTopic(topic, 1, { "retention.ms": -1 });
	await produce(topic, [{ value: "y".repeat(3000) }]);
	const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }], { fetch_bytes_per_sec: 1000 });
	const clock = holdClock(DEBT_CLOCK_AHEAD_MS);
	const tail = await openTail(topic, "?offset=0", key.secret);
	await tail.until(() => tail.values().length === 1);
	return { topic, key, clock, tail, stub: await partitionStub(topic) };
}

describe("WebSocket tail", () => {
	// A test that fails while it holds the clock (or spies on the key store) gives it back here, not to the next test.
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("sends the backlog from offset, then every append, in order", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, [{ value: "a" }, { value: "b" }, { value: "c" }]);
		const tail = await openTail(topic, "?offset=1");
		await tail.until(() => tail.values().length >= 2);
		expect(tail.values()).toEqual(["b", "c"]);
		await produce(topic, [{ value: "d" }]);
		await produce(topic, [{ value: "e" }, { value: "f" }]);
		await tail.until(() => tail.values().length >= 5);
		expect(tail.values()).toEqual(["b", "c", "d", "e", "f"]);
		expect(tail.messages.at(-1)).toMatchObject({ next_offset: 6, high_watermark: 6 });
		tail.ws.send(JSON.stringify({ ack: 6 }));
		tail.ws.close(1000, "done");
	});

	it("disconnects a consumer that does not acknowledge with close code 4008", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const tail = await openTail(topic);
		const value = "x".repeat(512 * 1024);
		const batches = Math.ceil(TAIL_UNACKED_BYTES_MAX / value.length) + 2;
		for (let i = 0; i < batches; i++) await produce(topic, [{ value }]);
		await tail.until(() => tail.closed() !== null);
		expect(tail.closed()?.code).toBe(TAIL_CLOSE.slowConsumer);
	});

	it("keeps a consumer that acknowledges", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const tail = await openTail(topic);
		const value = "y".repeat(512 * 1024);
		const batches = Math.ceil(TAIL_UNACKED_BYTES_MAX / value.length) + 2;
		for (let i = 0; i < batches; i++) {
			await produce(topic, [{ value }]);
			await tail.until(() => tail.messages.at(-1)?.next_offset === i + 1);
			tail.ws.send(JSON.stringify({ ack: i + 1 }));
		}
		expect(tail.closed()).toBeNull();
		expect(tail.values()).toHaveLength(batches);
		tail.ws.close(1000, "done");
	});

	it("refuses a bad start before upgrading, with a JSON error", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const error = await expectError("GET", `/v1/topics/${topic}/partitions/0/records?offset=5`, 416, "offset_out_of_range", {
			headers: { Upgrade: "websocket" },
		});
		expect(error).toMatchObject({ log_start_offset: 0, high_watermark: 0 });
		// The same error as a plain fetch's: details beside the code, no `details` member of their own.
		const fetched = await expectError("GET", `/v1/topics/${topic}/partitions/0/records?offset=5`, 416, "offset_out_of_range");
		expect(Object.keys(error).sort()).toEqual(Object.keys(fetched).sort());
		await expectError("GET", `/v1/topics/${topic}/partitions/3/records`, 404, "partition_not_found", { headers: { Upgrade: "websocket" } });
	});

	it("closes a tail with 4416 once DeleteRecords moved the log start past it, as a fetch there is refused", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, [{ value: "y".repeat(3000) }]);
		// A key whose fetch quota makes its tail send in the background, one message at a time, each paid first.
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }], { fetch_bytes_per_sec: 1000 });
		const clock = holdClock();
		const tail = await openTail(topic, "?offset=0", key.secret);
		await tail.until(() => tail.values().length === 1);
		// The first message left the key ~2000 bytes in debt, and with the clock held the debt is not repaid: the
		// tail has offset 1 to send and waits to pay for it while the log start moves past it.
		await produce(topic, [{ value: "z" }]);
		expect((await call("POST", `/v1/topics/${topic}/partitions/0/delete-records`, { body: { before_offset: -1 } })).status).toBe(200);
		await expectError("GET", `/v1/topics/${topic}/partitions/0/records?offset=1`, 416, "offset_out_of_range");
		clock.release();
		await tail.until(() => tail.closed() !== null || tail.values().length > 1);
		expect(tail.values()).toHaveLength(1);
		expect(tail.closed()).toMatchObject({ code: TAIL_CLOSE.offsetOutOfRange, reason: expect.stringContaining("below the log start, 2") });
	});

	it("resumes a paying tail whose background send ended early from the alarm, with no append or ack to wake it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1, { "retention.ms": -1 });
		await produce(topic, [{ value: "a" }]);
		// A key whose fetch quota makes its tail send in the background, one paid message at a time (no debt here).
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }], { fetch_bytes_per_sec: 1_000_000 });
		const tail = await openTail(topic, "?offset=0", key.secret);
		await tail.until(() => tail.values().length === 1);
		const stub = await partitionStub(topic);
		// The next send fails as it would on an evicted object: the background send ends, the attachment unmoved.
		await failNextSend(stub);
		const before = Date.now();
		await produce(topic, [{ value: "b" }]);
		const alarmAtMs = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
		expect(alarmAtMs).not.toBeNull();
		expect(alarmAtMs).toBeLessThanOrEqual(Date.now() + TAIL_RESUME_MS);
		expect(alarmAtMs).toBeGreaterThanOrEqual(before);
		// Due TAIL_RESUME_MS after the tail's first send: a slow step lets workerd run it first. "b" arriving proves a run.
		await runDueAlarm(stub);
		await tail.until(() => tail.values().length === 2);
		expect(tail.values()).toEqual(["a", "b"]);
		tail.ws.close(1000, "done");
	});

	it("keeps the resume alarm through an alarm run while a paid message waits out its debt, so an eviction then does not stall the tail", async () => {
		const { topic, clock, tail, stub } = await tailInDebt();
		// Once paid for, the next send fails as it would on an evicted object: the background send ends, the attachment unmoved.
		let evicted = false;
		await failNextSend(stub, () => {
			evicted = true;
		});
		// The first message left the key ~2000 bytes in debt, and with the clock held it stays so: "b" waits to be paid for.
		await produce(topic, [{ value: "b" }]);
		// The alarm comes during that wait; its run has nothing else due (no retention) and sets the next alarm.
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		const alarmAtMs = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
		expect(alarmAtMs, "the resume alarm outlives the alarm run").not.toBeNull();
		expect(alarmAtMs).toBeLessThanOrEqual(clock.nowMs + TAIL_RESUME_MS);
		// The debt is repaid, the paid send fails, and only the alarm is left to push the tail on.
		clock.advance(5_000);
		await vi.waitFor(() => expect(evicted).toBe(true), { timeout: 10_000 });
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		await tail.until(() => tail.values().length === 2);
		clock.release();
		expect(tail.values()).toEqual(["y".repeat(3000), "b"]);
		tail.ws.close(1000, "done");
	});

	it("has an anonymous tail pay anonymous's fetch quota, as its SSE reads do", async () => {
		closeAnonymousAtTestEnd();
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, [{ value: "y".repeat(3000) }]);
		await grantAnonymous([{ resource: `topic:${topic}`, operations: ["consume"] }], { fetch_bytes_per_sec: 1000 });
		const clock = holdClock(); // no refill between the send and the look at the bucket
		const tail = await openTail(topic, "?offset=0", null);
		await tail.until(() => tail.values().length === 1);
		const debt = bare(await keyAuthority(env, ANONYMOUS_ID).chargeQuotas(ANONYMOUS_ID, [{ quota: "fetch_bytes_per_sec", amount: 0 }]));
		clock.release();
		expect(debt?.waitMs).toBeGreaterThan(1000);
		tail.ws.close(1000, "done");
	});

	it("charges a tail opened before its payer had a fetch quota, once one is set", async () => {
		closeAnonymousAtTestEnd();
		const topic = uniqueTopic();
		await createTopic(topic);
		const acl: AclEntry[] = [{ resource: `topic:${topic}`, operations: ["consume"] }];
		await grantAnonymous(acl);
		const tail = await openTail(topic, "?offset=0", null);
		await produce(topic, [{ value: "a" }]);
		await tail.until(() => tail.values().length === 1);
		await grantAnonymous(acl, { fetch_bytes_per_sec: 1000 });
		const clock = holdClock(); // no refill between the send and the look at the bucket
		clock.advance(TAIL_PAYER_CHECK_MS);
		await produce(topic, [{ value: "y".repeat(3000) }]);
		await tail.until(() => tail.values().length === 2);
		const debt = bare(await keyAuthority(env, ANONYMOUS_ID).chargeQuotas(ANONYMOUS_ID, [{ quota: "fetch_bytes_per_sec", amount: 0 }]));
		clock.release();
		tail.ws.close(1000, "done");
		expect(debt, "the message sent after the quota was set was charged").not.toBeNull();
		expect(debt?.waitMs).toBeGreaterThan(1000);
	});

	it("stops charging a tail (an authority call per message) once its payer's fetch quota is removed", async () => {
		closeAnonymousAtTestEnd();
		const topic = uniqueTopic();
		await createTopic(topic);
		const acl: AclEntry[] = [{ resource: `topic:${topic}`, operations: ["consume"] }];
		const clock = holdClock();
		await grantAnonymous(acl, { fetch_bytes_per_sec: 1_000_000 });
		const tail = await openTail(topic, "?offset=0", null);
		await produce(topic, [{ value: "a" }]);
		await tail.until(() => tail.values().length === 1);
		await grantAnonymous(acl);
		clock.advance(TAIL_PAYER_CHECK_MS);
		const charges = vi.spyOn(KeyStore.prototype, "chargeQuotas");
		await produce(topic, [{ value: "b" }]);
		await tail.until(() => tail.values().length === 2);
		await produce(topic, [{ value: "c" }]);
		await tail.until(() => tail.values().length === 3);
		const tailCharges = charges.mock.calls.filter(([id]) => id === ANONYMOUS_ID).length;
		charges.mockRestore();
		clock.release();
		tail.ws.close(1000, "done");
		expect(tail.values()).toEqual(["a", "b", "c"]);
		expect(tailCharges, "messages sent after the quota was removed are not charged").toBe(0);
	});

	it("does not charge a paying tail for a message it never sent: the client left while the message waited out its debt", async () => {
		const { topic, key, clock, tail, stub } = await tailInDebt();
		// The background send of "b" is kept, to be awaited once it ends.
		const sends: Promise<unknown>[] = [];
		await runInDurableObject(stub, (_, state) => {
			const waitUntil = state.waitUntil.bind(state);
			state.waitUntil = (work) => {
				sends.push(work);
				waitUntil(work);
			};
		});
		// The first message left the key ~2000 bytes in debt, and with the clock held it stays so: "b" waits to be paid for.
		await produce(topic, [{ value: "b" }]);
		expect(sends.length).toBeGreaterThan(0);
		tail.ws.close(1000, "done");
		await tail.until(() => tail.closed() !== null);
		await vi.waitFor(async () => expect(await runInDurableObject(stub, (_, state) => state.getWebSockets().length)).toBe(0), UNTIL_SEEN);
		// The debt is repaid: the send's next look at the key's bucket would let "b" through.
		const charges = vi.spyOn(KeyStore.prototype, "chargeQuotas");
		clock.advance(5_000);
		await runInDurableObject(stub, () => Promise.all(sends));
		const paid = charges.mock.calls.filter(
			([id, [charge]], i) => id === key.id && (charge?.amount ?? 0) > 0 && charges.mock.results[i]?.value === null,
		);
		charges.mockRestore();
		clock.release();
		expect(tail.values()).toEqual(["y".repeat(3000)]);
		expect(paid, "the message not sent is not charged").toEqual([]);
	});

	it.for([1005, 1006, 1015])(
		"answers a close with code %i, which an endpoint may not send, with 1000 instead of throwing",
		async (code) => {
			const topic = uniqueTopic();
			await createTopic(topic);
			const tail = await openTail(topic);
			// The runtime hands the handler what the peer's close said: 1005 no code, 1006 a connection dropped without a
			// close frame, 1015 a failed TLS handshake. `close()` refuses each of them.
			const outcome = await runInDurableObject(await partitionStub(topic), (instance: PartitionLog, state) => {
				const [socket] = state.getWebSockets();
				if (socket === undefined) throw new Error("the tail is not open here");
				try {
					instance.webSocketClose(socket, code);
					// Again on the socket whose close was sent, as when the connection drops before the client answers it.
					expect(socket.readyState).not.toBe(WebSocket.OPEN);
					instance.webSocketClose(socket, code);
					return "answered";
				} catch (cause) {
					return String(cause);
				}
			});
			expect(outcome).toBe("answered");
			await tail.until(() => tail.closed() !== null);
			expect(tail.closed()).toEqual({ code: 1000, reason: "closed" });
		},
	);

	it("echoes a client's close code: the runtime does not answer a hibernatable socket's close by itself", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const tail = await openTail(topic);
		tail.ws.close(4000, "bye");
		await tail.until(() => tail.closed() !== null);
		expect(tail.closed()).toEqual({ code: 4000, reason: "closed" });
	});

	it("closes tails with 4404 when the topic is deleted", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const tail = await openTail(topic);
		expect((await call("DELETE", `/v1/topics/${topic}`)).status).toBe(204);
		await tail.until(() => tail.closed() !== null);
		expect(tail.closed()?.code).toBe(TAIL_CLOSE.topicDeleted);
	});

	it("does not fail an append committed after it closed a tail and before the client answered the close", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		await produce(topic, [{ value: "a" }]);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		const tail = await openTail(topic, "?offset=0", key.secret);
		await tail.until(() => tail.values().length === 1);
		const meta = await topicRegistry(env).getTopic(topic);
		if (!meta.ok) throw new Error(`topic ${topic} missing`);
		const { topicId, configVersion } = meta.value;
		const outcome = await runInDurableObject(await partitionStub(topic), async (instance: PartitionLog, state) => {
			// The revocation closes the tail; the append comes in the same turn, before the client can answer. The runtime
			// still lists the socket then, and a send on it throws.
			instance.revokeTails(key.id);
			expect(state.getWebSockets().map((ws) => ws.readyState)).toEqual([WebSocket.CLOSING]);
			const tailText = `"key":null,"value":"b","headers":[]}`;
			const records = [{ timestampMs: null, tail: tailText, bytes: tailText.length, keyId: null, tombstone: false }];
			return appendOutcome(await instance.append({ topicId, configVersion, records }));
		});
		expect(outcome).toMatchObject({ ok: true, value: { baseOffset: 1, duplicate: false } });
		const page = await fetchRecords(topic, 0, "offset=0");
		expect(page.records.map((r) => r.value)).toEqual(["a", "b"]);
		await tail.until(() => tail.closed() !== null);
		expect(tail.closed()?.code).toBe(TAIL_CLOSE.keyRevoked);
		expect(tail.values(), "nothing is sent after the close").toEqual(["a"]);
	});

	it("answers an append whose push to a tail fails, and sends that tail the records at the next append", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const tail = await openTail(topic, "?offset=0");
		await produce(topic, [{ value: "a" }]);
		await tail.until(() => tail.values().length === 1);
		// A tail without a payer is sent to in the append's own turn; its send fails as on an evicted object.
		await failNextSend(await partitionStub(topic));
		const response = await call("POST", `/v1/topics/${topic}/records`, { body: { records: [{ value: "b" }] } });
		expect(response.status).toBe(200);
		await produce(topic, [{ value: "c" }]);
		await tail.until(() => tail.values().length === 3);
		expect(tail.values()).toEqual(["a", "b", "c"]);
		expect((await fetchRecords(topic, 0, "offset=0")).records.map((r) => r.value)).toEqual(["a", "b", "c"]);
		tail.ws.close(1000, "done");
	});
});
