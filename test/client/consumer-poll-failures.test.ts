/**
 * What the SDK consumer does with a poll that failed once its retries ran out (the client's `retries: 0` here, so the
 * first failure is the poll's), against the real Worker (inside workerd). A failure that proves the poll was not served
 * (the poll route's unsent codes, `mayHaveLanded`: a 503 `partition_unavailable`, whose read was undone; a 429) keeps
 * the membership: the consumer backs off and polls again as the same member, with no `onRevoke`, leave or join (a
 * rebalance for every member of the group). One that may have been served (a lost answer, wrangler dev's `not_forwarded`,
 * whose proxy may have read the Worker's answer before failing) moved the member's positions on the broker: the
 * consumer runs `onRevoke`, leaves and joins again, reading from the last commit (at least once).
 */

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type ConsumerRecord, type TopicPartition, Tributary } from "../../client/index.ts";
import { app } from "../../src/http/app.ts";
import { cutPollBodies, join } from "../support/group.ts";
import { untilWaiting } from "../support/long-poll.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { type Sent, type Wire, wiredClient } from "../support/sdk.ts";
import { ADMIN_TOKEN, BASE, createTopic, produce, workerFetch } from "../support/worker.ts";

const isPoll = (r: Sent) => r.path.endsWith("/poll");
/** The member's leaves and joins, in order: `DELETE` and `POST …/members`. */
const membership = (wire: Wire) =>
	wire.sent
		.filter((r) => r.method === "DELETE" || r.path.endsWith("/members"))
		.map((r) => `${r.method} ${r.path.replace(/.*\/groups\/[^/]+/, "")}`);

/** A consumer (no retries) of a one-partition topic that was handed its first record, "before"; and what `onRevoke` got. */
async function handedFirst(name: string) {
	const topic = uniqueTopic(name);
	await createTopic(topic, 1);
	const group = uniqueGroup();
	const wire = wiredClient({ retries: 0 });
	const revoked: TopicPartition[][] = [];
	// Without a commit to carry, each poll is the same request.
	const consumer = wire.client.consumer({
		group,
		topics: [topic],
		from: "earliest",
		waitMs: 20_000,
		autoCommit: false,
		onRevoke: (partitions) => {
			revoked.push(partitions);
		},
	});
	await produce(topic, [{ value: "before" }]);
	const records = consumer[Symbol.asyncIterator]();
	expect((await records.next()).value).toMatchObject({ offset: 0, value: "before" });
	return { topic, group, wire, consumer, records, revoked, memberId: consumer.memberId };
}

describe("SDK consumer: a poll that failed", { timeout: 60_000 }, () => {
	afterEach(() => vi.restoreAllMocks());

	it("answered 503 partition_unavailable (its read cut short and undone): polls again as the same member, no rejoin", async () => {
		const { topic, group, wire, consumer, records, revoked, memberId } = await handedFirst("poll-unsent-503");
		const theirs = uniqueTopic("poll-unsent-other");
		await createTopic(theirs, 1);
		const cut = await cutPollBodies(topic);
		// The repeat finds the partition's pipe whole again.
		wire.beforeServing(
			(r) => isPoll(r) && wire.sent.filter(isPoll).length > 2,
			async () => cut.stop(),
		);
		let next: ConsumerRecord | undefined;
		try {
			const pending = records.next();
			await untilWaiting(topic);
			// A new generation in which the consumer keeps its partition: the waiting read's body is read again to rewrite
			// its tail, and comes cut short: the Worker undoes the read and answers 503 partition_unavailable.
			await join(group, { topics: [theirs], auto_offset_reset: "earliest" });
			await produce(topic, [{ value: "after the rebalance" }]);
			next = (await pending).value as ConsumerRecord;
		} finally {
			cut.stop();
		}
		// Not read again from the last commit (none: "before" again), as a new member would.
		expect(next).toMatchObject({ offset: 1, value: "after the rebalance" });
		expect(membership(wire), "one join, no leave").toEqual(["POST /members"]);
		expect(consumer.memberId).toBe(memberId);
		expect(revoked).toEqual([]);
		expect(wire.sent.filter(isPoll)).toHaveLength(3);
		await consumer.close();
	});

	it("refused 429 (a quota refuses before the poll runs): polls again as the same member, no rejoin, the loop goes on", async () => {
		const { topic, wire, consumer, records, revoked, memberId } = await handedFirst("poll-unsent-429");
		wire.quotaRefuses(isPoll);
		const pending = records.next();
		await produce(topic, [{ value: "after the refusal" }]);
		expect((await pending).value).toMatchObject({ offset: 1, value: "after the refusal" });
		expect(membership(wire)).toEqual(["POST /members"]);
		expect(consumer.memberId).toBe(memberId);
		expect(revoked).toEqual([]);
		await consumer.close();
	});

	it("whose answer was lost (served: its positions moved): onRevoke, leave, join again, and read from the last commit", async () => {
		const { topic, wire, consumer, records, revoked, memberId } = await handedFirst("poll-lost");
		await produce(topic, [{ value: "served, its answer lost" }]);
		wire.dropAnswer(isPoll);
		// Read again from the last commit (none: the log's start), so nothing the lost answer held is skipped.
		expect((await records.next()).value).toMatchObject({ offset: 0, value: "before" });
		expect(membership(wire)).toEqual(["POST /members", `DELETE /members/${memberId}`, "POST /members"]);
		expect(consumer.memberId).not.toBe(memberId);
		expect(revoked).toEqual([[{ topic, partition: 0 }]]);
		await consumer.close();
	});

	it("served, then answered wrangler dev's proxy's 503 (not_forwarded: no proof it was not served): leaves and joins again", async () => {
		const { topic, wire, consumer, records, revoked, memberId } = await handedFirst("poll-not-forwarded");
		await produce(topic, [{ value: "served, its answer lost" }]);
		wire.servedNotForwarded(isPoll);
		expect((await records.next()).value).toMatchObject({ offset: 0, value: "before" });
		expect(membership(wire)).toEqual(["POST /members", `DELETE /members/${memberId}`, "POST /members"]);
		expect(revoked).toEqual([[{ topic, partition: 0 }]]);
		await consumer.close();
	});

	it("answered 503 not_configured (a Worker without its admin token: nothing done, but every poll meets it again): the loop ends with it, no rejoin", async () => {
		const topic = uniqueTopic("poll-unconfigured");
		await createTopic(topic, 1);
		await produce(topic, [{ value: "before" }]);
		let unconfigured = false;
		const sent: string[] = [];
		const client = new Tributary({
			url: BASE,
			token: ADMIN_TOKEN,
			retries: 0,
			fetch: async (request) => {
				sent.push(`${request.method} ${new URL(request.url).pathname.replace(/.*\/groups\/[^/]+/, "")}`);
				if (!unconfigured) return workerFetch(request);
				const ctx = createExecutionContext();
				const response = await app.fetch(request, { ...env, ADMIN_TOKEN: "" }, ctx);
				await waitOnExecutionContext(ctx);
				return response;
			},
		});
		const consumer = client.consumer({ group: uniqueGroup(), topics: [topic], from: "earliest", autoCommit: false });
		const records = consumer[Symbol.asyncIterator]();
		expect((await records.next()).value).toMatchObject({ offset: 0 });
		unconfigured = true;
		const failure = await records.next().catch((error: unknown) => error);
		expect(failure).toMatchObject({ code: "not_configured", status: 503 });
		expect(
			sent.filter((r) => r.endsWith("/members")),
			"one join",
		).toHaveLength(1);
	});
});

/** A 429 with its `Retry-After`, as a key's quota answers a poll. */
function refusal(retryAfterSeconds: number): Response {
	const error = { code: "quota_exceeded", message: "the key's request quota is spent", retriable: true };
	return Response.json({ error }, { status: 429, headers: { "Retry-After": String(retryAfterSeconds) } });
}

describe("SDK consumer: the wait after a poll that was not served", { timeout: 60_000 }, () => {
	it("a close() during a poll that is then refused 429 (Retry-After: 20) returns without sitting the wait out", async () => {
		const topic = uniqueTopic("close-wait");
		await createTopic(topic, 1);
		await produce(topic, [{ value: "before" }]);
		let polls = 0;
		let entered!: () => void;
		const pollHeld = new Promise<void>((resolve) => (entered = resolve));
		let release!: () => void;
		const released = new Promise<void>((resolve) => (release = resolve));
		const client = new Tributary({
			url: BASE,
			token: ADMIN_TOKEN,
			retries: 0,
			fetch: async (request) => {
				if (new URL(request.url).pathname.endsWith("/poll") && ++polls === 2) {
					entered();
					await released;
					return refusal(20);
				}
				return workerFetch(request);
			},
		});
		const consumer = client.consumer({ group: uniqueGroup(), topics: [topic], from: "earliest", waitMs: 1_000, autoCommit: false });
		const records = consumer[Symbol.asyncIterator]();
		expect((await records.next()).value).toMatchObject({ offset: 0 });
		const pending = records.next().catch(() => null);
		await pollHeld;
		const startedMs = Date.now();
		const closed = consumer.close();
		release();
		await closed;
		await pending;
		expect(Date.now() - startedMs).toBeLessThan(5_000);
	});

	it("refused 429 (Retry-After: 3) three times, with retries: 3, for longer than the session: the heartbeat goes on", async () => {
		const topic = uniqueTopic("refused-heartbeat");
		await createTopic(topic, 1);
		await produce(topic, [{ value: "before" }]);
		let polls = 0;
		const sent: string[] = [];
		const client = new Tributary({
			url: BASE,
			token: ADMIN_TOKEN,
			retries: 3,
			fetch: async (request) => {
				const path = new URL(request.url).pathname;
				sent.push(path.replace(/.*\/members\/[^/]+/, ""));
				// The loop's second poll is refused three times in a row, each asking 3 s: 9 s unserved.
				if (path.endsWith("/poll") && ++polls >= 2 && polls <= 4) return refusal(3);
				return workerFetch(request);
			},
		});
		// The least session the Worker takes: a heartbeat every 2 s.
		const consumer = client.consumer({
			group: uniqueGroup(),
			topics: [topic],
			from: "earliest",
			waitMs: 500,
			autoCommit: false,
			sessionTimeoutMs: 6_000,
		});
		const records = consumer[Symbol.asyncIterator]();
		expect((await records.next()).value).toMatchObject({ offset: 0 });
		await produce(topic, [{ value: "after the refusals" }]);
		const next = (await records.next()).value;
		// One join: the session did not run out while the poll was refused.
		expect(
			sent.filter((p) => p.endsWith("/members")),
			sent.join(" "),
		).toHaveLength(1);
		expect(next).toMatchObject({ offset: 1 });
		const refusedAt = sent.indexOf("/poll", sent.indexOf("/poll") + 1);
		const servedAt = sent.lastIndexOf("/poll");
		expect(sent.slice(refusedAt, servedAt)).toContain("/heartbeat");
		await consumer.close();
	});
});
