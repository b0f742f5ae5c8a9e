/**
 * The SDK consumer against the real Worker (inside workerd) when it misses whole generations: a partition it owned
 * was another member's in a generation it never saw and is its own again. What it processed before must not be
 * committed over what that other member committed meanwhile, or the group reads those records again.
 */

import { describe, expect, it } from "vitest";
import { HEARTBEAT_SOON } from "../support/consumer-fixtures.ts";
import { uniqueTopic } from "../support/names.ts";
import { wiredClient } from "../support/sdk.ts";
import { createTopic, json, produce } from "../support/worker.ts";

interface GroupState {
	generation: number;
	offsets: { partition: number; committed: number | null }[];
}

const groupState = (group: string) => json<GroupState>("GET", `/v1/groups/${group}`, 200);

/**
 * The session of a member whose heartbeats a test holds while other members rebalance the group: it must outlast that
 * hold however slow the machine (a bound on a hung hold, not a measure). Its timer beats soon (`HEARTBEAT_SOON`),
 * so a heartbeat is answered soon after the hold ends.
 */
const SESSION_OUTLASTING_HOLD_MS = 30_000;

/**
 * A member's assignment changes as its callbacks report them ("+1": partition 1 assigned, "-1": revoked), and a wait
 * for them to read `expected`: it ends on the callback that makes them so, however long the heartbeat that brings it
 * takes (the test's timeout bounds a hang), and fails at once on one that parts from `expected`.
 */
function assignmentChanges() {
	const changes: string[] = [];
	const waits: { expected: string[]; settle: (error?: Error) => void }[] = [];
	const check = () => {
		for (const wait of [...waits]) {
			const parted = changes.some((change, i) => change !== wait.expected[i]);
			if (!parted && changes.length < wait.expected.length) continue;
			waits.splice(waits.indexOf(wait), 1);
			wait.settle(
				parted ? new Error(`assignment changes ${JSON.stringify(changes)}, waiting for ${JSON.stringify(wait.expected)}`) : undefined,
			);
		}
	};
	return {
		add(more: string[]): void {
			changes.push(...more);
			check();
		},
		reach(expected: string[]): Promise<void> {
			return new Promise((resolve, reject) => {
				waits.push({ expected, settle: (error) => (error === undefined ? resolve() : reject(error)) });
				check();
			});
		},
	};
}

describe("SDK consumer across generations it did not see", { timeout: 30_000 }, () => {
	/** A consumer that read offsets 0..9 of a 20-record partition; another member then read all 20, and left. */
	async function overtaken(name: string, autoCommit: boolean) {
		const topic = uniqueTopic(name);
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		await produce(
			topic,
			Array.from({ length: 20 }, (_, i) => ({ value: i })),
		);
		// `range` hands the one partition to the first member by sort key: a member's uuid sorts before "z…", so the
		// member joining second takes it, and gives it back when it leaves.
		const options = { group, topics: [topic], from: "earliest" as const, maxRecords: 10, waitMs: 50, strategy: "range" as const };
		const consumer = wiredClient().client.consumer({ ...options, autoCommit, instanceId: `z-${group}`, stopWhenIdle: true });
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 10; i++) await it.next();
		const { generation } = await groupState(group);
		const other: number[] = [];
		for await (const record of wiredClient().client.consumer({ ...options, stopWhenIdle: true })) other.push(record.offset);
		expect(other, "the other member read the partition while it had it").toEqual(Array.from({ length: 20 }, (_, i) => i));
		const back = await groupState(group);
		expect(back.generation, "taken and given back: two generations the first consumer did not see").toBe(generation + 2);
		expect(back.offsets[0]?.committed).toBe(20);
		return { group, consumer, it };
	}

	/**
	 * A two-partition topic whose partition 1 holds 20 records, and the member "m…", joined. Under `range` in sort-key
	 * order (a uuid, then "m…", then "z…") partition 1 is "m…"'s while three members share the group, "z…"'s when two.
	 */
	async function withMiddleMember(name: string) {
		const topic = uniqueTopic(name);
		const group = uniqueTopic("g");
		await createTopic(topic, 2);
		await produce(
			topic,
			Array.from({ length: 20 }, (_, i) => ({ value: i, partition: 1 })),
		);
		const options = { group, topics: [topic], from: "earliest" as const, maxRecords: 10, waitMs: 50, strategy: "range" as const };
		const middle = wiredClient().client.consumer({ ...options, instanceId: `m-${group}`, stopWhenIdle: true });
		await middle.join();
		return { group, options, middle };
	}

	it("a refused commit retried after its partition left and came back does not move back the other member's commit", async () => {
		const { group, it } = await overtaken("gen-skip", true);
		// Its next poll carries the commit of offsets 0..9 in its old generation: refused, sent on its own, retried.
		const after = await it.next();
		expect(after.done ? null : after.value?.offset, "nothing is read again").toBeNull();
		expect((await groupState(group)).offsets[0]?.committed).toBe(20);
	});

	it("commit() of the record in hand, refused and retried so, does not move back the other member's commit either", async () => {
		const { group, consumer, it } = await overtaken("gen-skip-manual", false);
		await consumer.commit(); // offsets 0..9, the last one in hand: refused in its old generation, retried
		expect((await groupState(group)).offsets[0]?.committed).toBe(20);
		await it.return?.();
		expect((await groupState(group)).offsets[0]?.committed).toBe(20);
	});

	it("commit() whose beforeCommit outlasts a partition's leaving and coming back does not move back the commit made meanwhile", {
		timeout: 2 * SESSION_OUTLASTING_HOLD_MS,
	}, async () => {
		// Partition 1 goes z → m (which reads it all) → z.
		const { group, options, middle } = await withMiddleMember("gen-before-commit");
		const assigned: number[] = [];
		let others = async () => {};
		const wire = wiredClient();
		const consumer = wire.client.consumer({
			...options,
			autoCommit: false,
			sessionTimeoutMs: SESSION_OUTLASTING_HOLD_MS,
			...HEARTBEAT_SOON,
			instanceId: `z-${group}`,
			onAssign: (tps) => void assigned.push(...tps.map((tp) => tp.partition)),
			beforeCommit: () => others(),
		});
		await consumer.join();
		expect(assigned).toEqual([1]);
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 10; i++) await it.next();
		others = async () => {
			others = async () => {};
			// "z…" sees none of the generations in between (its heartbeats wait unserved, however long "m…" takes): the
			// partition was "m…"'s in a generation "z…" skipped, which a heartbeat there would have shown it.
			const releaseHeartbeats = wire.hold((r) => r.path.endsWith("/heartbeat"));
			const first = wiredClient().client.consumer(options);
			await first.join(); // takes partition 0; "m…" takes partition 1, and reads it all
			const read: number[] = [];
			for await (const record of middle) read.push(record.offset);
			expect(read).toEqual(Array.from({ length: 20 }, (_, i) => i));
			await first.close(); // both partitions are "z…"'s again: partition 1 left it and came back
			expect((await groupState(group)).offsets.find((o) => o.partition === 1)?.committed).toBe(20);
			releaseHeartbeats();
			// Its timer's heartbeat follows the last generation while this commit still waits here.
			await expect.poll(() => assigned, { timeout: SESSION_OUTLASTING_HOLD_MS, interval: 10 }).toEqual([1, 0]);
		};
		await consumer.commit();
		expect((await groupState(group)).offsets.find((o) => o.partition === 1)?.committed).toBe(20);
		await consumer.close();
	});

	it("the record in hand of a partition seen taken and given back is not committed by commit() either", {
		timeout: 2 * SESSION_OUTLASTING_HOLD_MS,
	}, async () => {
		const { group, options, middle } = await withMiddleMember("gen-in-hand");
		const changes = assignmentChanges();
		let others = async () => {};
		const consumer = wiredClient().client.consumer({
			...options,
			autoCommit: false,
			...HEARTBEAT_SOON, // its timer's heartbeats follow each generation
			instanceId: `z-${group}`,
			onAssign: (tps) => changes.add(tps.map((tp) => `+${tp.partition}`)),
			onRevoke: (tps) => changes.add(tps.map((tp) => `-${tp.partition}`)),
			beforeCommit: () => others(),
		});
		await consumer.join();
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 10; i++) await it.next(); // offset 9 in hand
		others = async () => {
			others = async () => {};
			await wiredClient().client.consumer(options).join(); // "m…" takes partition 1
			// This member's heartbeats follow each generation: partition 1 taken, then given back once "m…" read it all.
			await changes.reach(["+1", "-1"]);
			for await (const _ of middle);
			expect((await groupState(group)).offsets.find((o) => o.partition === 1)?.committed).toBe(20);
			await changes.reach(["+1", "-1", "+1"]);
		};
		await consumer.commit();
		expect((await groupState(group)).offsets.find((o) => o.partition === 1)?.committed).toBe(20);
		await consumer.close();
	});
});
