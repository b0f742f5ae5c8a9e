/**
 * The leave of an SDK consumer that closes, against the real Worker (inside workerd), where a rebalance callback is
 * in its way: an `onRevoke` that throws still lets the member leave (one DELETE), its error surfaced as a callback's
 * (close() and `closed` reject with it), whether the leave is a close's or the recovery's from a lost poll answer.
 */

import { describe, expect, it } from "vitest";
import type { ConsumerRecord } from "../../client/index.ts";
import { uniqueTopic } from "../support/names.ts";
import { wiredClient } from "../support/sdk.ts";
import { createTopic, json, produce } from "../support/worker.ts";

interface GroupState {
	members: unknown[];
	offsets: { partition: number; committed: number | null }[];
}

const groupState = (group: string) => json<GroupState>("GET", `/v1/groups/${group}`, 200);

/** A one-partition topic of `count` records and a group name. */
async function filled(name: string, count: number) {
	const topic = uniqueTopic(name);
	await createTopic(topic, 1);
	await produce(
		topic,
		Array.from({ length: count }, (_, i) => ({ value: i })),
	);
	return { topic, group: uniqueTopic("g") };
}

const isLeave = (r: { method: string }) => r.method === "DELETE";

describe("SDK consumer whose leave's onRevoke throws", { timeout: 30_000 }, () => {
	it("close(): the member still leaves (one DELETE); close() and closed reject with that error", async () => {
		const { topic, group } = await filled("revoke-throws", 3);
		const failure = new Error("onRevoke failed");
		const wire = wiredClient();
		const consumer = wire.client.consumer({
			group,
			topics: [topic],
			from: "earliest",
			waitMs: 50,
			onRevoke: () => {
				throw failure;
			},
		});
		await consumer.join();
		await expect(consumer.close()).rejects.toBe(failure);
		await expect(consumer.closed).rejects.toBe(failure);
		expect(wire.sent.filter(isLeave), "the leave was sent").toHaveLength(1);
		expect((await groupState(group)).members, "the member left, not waiting out its session").toEqual([]);
		expect(consumer.memberId).toBeNull();
	});

	it("the recovery's from a lost poll answer: the loop ends with that error, and the member leaves once", async () => {
		const { topic, group } = await filled("recovery-revoke-throws", 3);
		const failure = new Error("onRevoke failed");
		const wire = wiredClient();
		const consumer = wire.client.consumer({
			group,
			topics: [topic],
			from: "earliest",
			waitMs: 50,
			onRevoke: () => {
				throw failure;
			},
		});
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 3; i++) expect(((await it.next()).value as ConsumerRecord).offset).toBe(i);
		// The next poll is served and its answer lost: the recovery runs onRevoke (which throws) before its leave.
		wire.dropAnswer((r) => r.method === "POST" && r.path.endsWith("/poll"));
		await expect(it.next()).rejects.toBe(failure);
		await expect(consumer.closed).rejects.toBe(failure);
		expect(wire.sent.filter(isLeave), "the leave was sent, once").toHaveLength(1);
		expect((await groupState(group)).members).toEqual([]);
	});
});
