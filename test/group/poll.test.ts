/**
 * Polls: the record format, paging with max_records, long-polls, and the guarantee that a member only receives
 * records of partitions it owns in the generation the response names.
 */
import { describe, expect, it } from "vitest";
import { FETCH_WAIT_MS_MAX, SESSION_TIMEOUT_MS_MAX, SESSION_TIMEOUT_MS_MIN } from "../../src/shared/limits.ts";
import { commit, cutPollBodies, heartbeat, join, type PolledRecord, poll, pollPartitions, recordPollBodies } from "../support/group.ts";
import { recordWaits, untilWaiting, waitingReads } from "../support/long-poll.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { call, createTopic, expectError, produce } from "../support/worker.ts";

/**
 * A group whose one member, `a`, owns `mine` (an empty partition it has polled once), and a topic `theirs` for a
 * second member: its join makes a new generation in which `a` keeps `mine`, while a poll of `a`'s is waiting.
 */
async function loneMemberBeforeRebalance() {
	const [mine, theirs] = [uniqueTopic(), uniqueTopic()];
	await createTopic(mine, 1);
	await createTopic(theirs, 1);
	const group = uniqueGroup();
	const a = await join(group, { topics: [mine], auto_offset_reset: "earliest" });
	expect((await pollPartitions(group, a.member_id)).partitions).toEqual([]);
	return { mine, theirs, group, a };
}

describe("poll", () => {
	it("returns a flat list of records with their topic, in offset order per partition", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const produced = await produce(topic, [
			{ key: "k", value: { n: 1 }, headers: [{ key: "h", value: "v" }], partition: 0 },
			{ value: "two", partition: 1 },
			{ value: 3, partition: 0 },
		]);
		const group = uniqueGroup();
		const m = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const polled = await poll(group, m.member_id);
		expect(polled.generation).toBe(m.generation);
		expect(polled.assignment).toEqual(m.assignment);
		const byPartition = (p: number) => polled.records.filter((r) => r.partition === p);
		expect(byPartition(0)).toEqual([
			{
				topic,
				partition: 0,
				offset: 0,
				timestamp: produced.offsets[0]?.timestamp,
				key: "k",
				value: { n: 1 },
				headers: [{ key: "h", value: "v" }],
			},
			{ topic, partition: 0, offset: 1, timestamp: produced.offsets[2]?.timestamp, key: null, value: 3, headers: [] },
		]);
		expect(byPartition(1).map((r) => r.value)).toEqual(["two"]);
		expect((await poll(group, m.member_id)).records).toEqual([]);
	});

	it("pages through every record with max_records, across partitions, without gaps or repeats", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 3);
		await produce(
			topic,
			Array.from({ length: 50 }, (_, i) => ({ value: i, partition: i % 5 === 0 ? 0 : i % 2 === 0 ? 1 : 2 })),
		);
		const group = uniqueGroup();
		const m = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const seen: PolledRecord[] = [];
		for (let i = 0; i < 20; i++) {
			const polled = await poll(group, m.member_id, { max_records: 6 });
			expect(polled.records.length).toBeLessThanOrEqual(6);
			if (polled.records.length === 0) break;
			seen.push(...polled.records);
		}
		expect(seen.map((r) => r.value).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 50 }, (_, i) => i));
		for (const p of [0, 1, 2]) {
			const offsets = seen.filter((r) => r.partition === p).map((r) => r.offset);
			expect(offsets).toEqual(offsets.map((_, i) => i));
		}
	});

	it('with layout "partitions" answers the same records, grouped under their topic and partition', async () => {
		const topics = [uniqueTopic(), uniqueTopic()];
		for (const topic of topics) {
			await createTopic(topic, 2);
			// Two produces a partition, so a page's records come from more than one stored batch.
			for (const round of [0, 1]) {
				await produce(
					topic,
					Array.from({ length: 9 }, (_, i) => ({
						key: `k${i}`,
						value: { topic, round, i },
						partition: i % 2,
						headers: [{ key: "h", value: "v" }],
					})),
				);
			}
		}
		const drain = async (layout: "records" | "partitions") => {
			const group = uniqueGroup();
			const m = await join(group, { topics, auto_offset_reset: "earliest" });
			const seen: PolledRecord[] = [];
			for (let i = 0; i < 20; i++) {
				const response = await call("POST", `/v1/groups/${group}/members/${m.member_id}/poll`, { body: { max_records: 7, layout } });
				expect(response.status).toBe(200);
				const polled = (await response.json()) as Record<string, unknown>;
				expect(polled.generation).toBe(m.generation);
				expect(polled.assignment).toEqual(m.assignment);
				if (layout === "records") {
					expect(polled).not.toHaveProperty("partitions");
					seen.push(...(polled.records as PolledRecord[]));
					if ((polled.records as unknown[]).length === 0) return seen;
					continue;
				}
				expect(polled).not.toHaveProperty("records");
				const entries = polled.partitions as { topic: string; partition: number; records: Omit<PolledRecord, "topic">[] }[];
				if (entries.length === 0) return seen;
				// One entry a partition, each holding records: a fetch's records, the partition's own.
				expect(new Set(entries.map((e) => `${e.topic}/${e.partition}`)).size).toBe(entries.length);
				for (const entry of entries) {
					expect(entry.records.length).toBeGreaterThan(0);
					for (const record of entry.records) {
						expect(record).not.toHaveProperty("topic");
						expect(record.partition).toBe(entry.partition);
						seen.push({ topic: entry.topic, ...record });
					}
				}
			}
			throw new Error("the backlog did not drain in 20 polls");
		};
		const flat = await drain("records");
		const grouped = await drain("partitions");
		expect(flat).toHaveLength(36);
		const order = (records: PolledRecord[]) =>
			[...records].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || a.offset - b.offset);
		expect(order(grouped)).toEqual(order(flat));
	});

	it("refuses a layout it does not know", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const group = uniqueGroup();
		const m = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		await expectError("POST", `/v1/groups/${group}/members/${m.member_id}/poll`, 400, "invalid_request", { body: { layout: "flat" } });
	});

	it("long-polls: a waiting poll is answered by the first produce to any owned partition", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 3);
		const group = uniqueGroup();
		const m = await join(group, { topics: [topic] });
		await poll(group, m.member_id);
		const waiting = poll(group, m.member_id, { wait_ms: 25_000 });
		for (const partition of [0, 1, 2]) await untilWaiting(topic, partition);
		await produce(topic, [{ value: "wake", partition: 2 }]);
		expect(await waitingReads(topic, 2), "the append woke the read waiting on partition 2").toBe(0);
		const polled = await waiting;
		expect(polled.records.map((r) => [r.partition, r.value])).toEqual([[2, "wake"]]);
	});

	it("accepts a wait_ms over 30 s, capped at FETCH_WAIT_MS_MAX (and at half the session), and answers an empty long-poll after the wait", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const waits = await recordWaits(topic, 0);
		const group = uniqueGroup();
		const m = await join(group, { topics: [topic], session_timeout_ms: SESSION_TIMEOUT_MS_MAX });
		const polled = await poll(group, m.member_id, { wait_ms: 30 });
		expect(polled.records).toEqual([]);
		expect(waits, "a short wait is taken as asked").toEqual([30]);
		const capped = poll(group, m.member_id, { wait_ms: 10_000_000 });
		await untilWaiting(topic, 0);
		expect(waits.at(-1), "a long session: the fetch limit caps the wait").toBe(FETCH_WAIT_MS_MAX);
		await produce(topic, [{ value: 1 }]);
		expect((await capped).records).toHaveLength(1);

		const shortGroup = uniqueGroup();
		const short = await join(shortGroup, { topics: [topic], session_timeout_ms: SESSION_TIMEOUT_MS_MIN });
		const halfSession = poll(shortGroup, short.member_id, { wait_ms: 10_000_000 });
		await untilWaiting(topic, 0);
		expect(waits.at(-1), "a short session: half of it caps the wait, so the member outlives its poll").toBe(SESSION_TIMEOUT_MS_MIN / 2);
		await produce(topic, [{ value: 2 }]);
		expect((await halfSession).records.map((r) => r.value)).toEqual([2]);
	});

	it("after a rebalance returns the new assignment and records only of partitions owned in it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		await produce(
			topic,
			Array.from({ length: 40 }, (_, i) => ({ value: i, partition: i % 4 })),
		);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const first = await poll(group, a.member_id, { max_records: 8 });
		expect(new Set(first.records.map((r) => r.partition)).size).toBe(4);
		const b = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const after = await poll(group, a.member_id, { max_records: 100 });
		expect(after.generation).toBe(b.generation);
		expect(after.assignment).toHaveLength(2);
		const owned = new Set(after.assignment.map((p) => p.partition));
		expect(after.records.every((r) => owned.has(r.partition))).toBe(true);
		const bPolled = await poll(group, b.member_id, { max_records: 100 });
		expect(bPolled.records.every((r) => !owned.has(r.partition))).toBe(true);
		// b starts from the committed offset (none: earliest), so what a read but never committed is read again.
		expect(bPolled.records.filter((r) => r.offset === 0)).toHaveLength(2);
	});

	it("never hands the same records to two concurrent polls of one member", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		await produce(
			topic,
			Array.from({ length: 30 }, (_, i) => ({ value: i, partition: i % 2 })),
		);
		const group = uniqueGroup();
		const m = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const seen: number[] = [];
		for (let round = 0; round < 10; round++) {
			const polls = await Promise.all([1, 2, 3].map(() => poll(group, m.member_id, { max_records: 4 })));
			seen.push(...polls.flatMap((p) => p.records.map((r) => r.value as number)));
		}
		expect(new Set(seen).size).toBe(seen.length);
		expect(seen.length).toBeGreaterThan(0);
	});

	it("keeps a member alive: every poll, heartbeat and commit counts as a heartbeat", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const group = uniqueGroup();
		const m = await join(group, { topics: [topic], session_timeout_ms: 6_000 });
		for (let i = 0; i < 3; i++) {
			await poll(group, m.member_id);
			await heartbeat(group, m.member_id);
			await commit(group, m.member_id, m.generation, [{ topic, partition: 0, offset: 0 }]);
		}
		expect((await heartbeat(group, m.member_id)).generation).toBe(m.generation);
		expect((await call("DELETE", `/v1/groups/${group}/members/${m.member_id}`)).status).toBe(204);
		await expectError("POST", `/v1/groups/${group}/members/${m.member_id}/poll`, 409, "unknown_member", { body: {} });
	});

	describe("laid out by partition, a member that owns one partition (answered with the body its partition built)", () => {
		it("hands every record out once, in offset order, under its partition, with the envelope of the generation", async () => {
			const topic = uniqueTopic();
			await createTopic(topic, 2);
			// Two produces a partition, so pages cross stored batches.
			for (const round of [0, 1]) {
				await produce(
					topic,
					Array.from({ length: 10 }, (_, i) => ({
						key: `k${i}`,
						value: { round, i },
						partition: i % 2,
						headers: [{ key: "h", value: "v" }],
					})),
				);
			}
			const group = uniqueGroup();
			const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
			const b = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
			const bodies = await recordPollBodies(topic);
			try {
				const seen: Record<number, Omit<PolledRecord, "topic">[]> = { 0: [], 1: [] };
				for (const member of [a, b]) {
					for (let i = 0; i < 10; i++) {
						const polled = await pollPartitions(group, member.member_id, { max_records: 3 });
						expect(polled.generation).toBe(b.generation);
						expect(polled.assignment).toHaveLength(1);
						const owned = polled.assignment[0]?.partition as number;
						if (polled.partitions.length === 0) break;
						expect(polled.partitions.map((p) => [p.topic, p.partition])).toEqual([[topic, owned]]);
						const records = polled.partitions[0]?.records ?? [];
						expect(records.length).toBeGreaterThan(0);
						expect(records.length).toBeLessThanOrEqual(3);
						seen[owned]?.push(...records);
					}
				}
				for (const partition of [0, 1]) {
					const records = seen[partition] ?? [];
					expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => i));
					expect(records.every((r) => r.partition === partition && r.key !== null && r.headers[0]?.value === "v")).toBe(true);
					expect(records.map((r) => r.value)).toEqual(
						[0, 1].flatMap((round) => Array.from({ length: 5 }, (_, i) => ({ round, i: 2 * i + partition }))),
					);
				}
				// Each member's polls of its one partition were built by the partition, the first (no position yet,
				// "earliest") included.
				expect(new Set(bodies.built)).toEqual(new Set([`${topic}/0`, `${topic}/1`]));
				expect(bodies.built.length).toBeGreaterThanOrEqual(10);
			} finally {
				bodies.stop();
			}
		});

		it("never hands the same records to two concurrent polls of the member, and loses none", async () => {
			const topic = uniqueTopic();
			await createTopic(topic, 1);
			await produce(
				topic,
				Array.from({ length: 30 }, (_, i) => ({ value: i })),
			);
			const group = uniqueGroup();
			const m = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
			const bodies = await recordPollBodies(topic);
			const seen: number[] = [];
			try {
				for (let round = 0; round < 12 && seen.length < 30; round++) {
					const polls = await Promise.all([1, 2, 3].map(() => pollPartitions(group, m.member_id, { max_records: 4 })));
					for (const polled of polls) {
						expect(polled.partitions.length).toBeLessThanOrEqual(1);
						seen.push(...(polled.partitions[0]?.records.map((r) => r.value as number) ?? []));
					}
				}
				expect(bodies.built.length).toBeGreaterThanOrEqual(3);
			} finally {
				bodies.stop();
			}
			expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
		});

		it("keeps a read that outlives a rebalance the member keeps its partition through, answered in the new generation", async () => {
			const { mine, theirs, group, a } = await loneMemberBeforeRebalance();
			const bodies = await recordPollBodies(mine);
			try {
				const waiting = pollPartitions(group, a.member_id, { wait_ms: 25_000 });
				await untilWaiting(mine, 0);
				// The poll was planned in a's generation; b's join makes a new one, in which a still owns its partition.
				const b = await join(group, { topics: [theirs], auto_offset_reset: "earliest" });
				expect(b.generation).toBeGreaterThan(a.generation);
				expect(b.assignment).toEqual([{ topic: theirs, partition: 0 }]);
				const produced = await produce(mine, [{ value: "after the rebalance" }]);
				const polled = await waiting;
				expect(polled).toEqual({
					partitions: [
						{
							topic: mine,
							partition: 0,
							records: [
								{
									partition: 0,
									offset: 0,
									timestamp: produced.offsets[0]?.timestamp,
									key: null,
									value: "after the rebalance",
									headers: [],
								},
							],
						},
					],
					generation: b.generation,
					assignment: [{ topic: mine, partition: 0 }],
				});
				expect(bodies.built).toEqual([`${mine}/0`]);
			} finally {
				bodies.stop();
			}
			expect((await pollPartitions(group, a.member_id)).partitions, "the record was handed out once").toEqual([]);
		});

		it("a read cut short after a rebalance is answered 503 and read again by the next poll: nothing is skipped", async () => {
			const { mine, theirs, group, a } = await loneMemberBeforeRebalance();
			const cut = await cutPollBodies(mine);
			try {
				const path = `/v1/groups/${group}/members/${a.member_id}/poll`;
				const waiting = expectError("POST", path, 503, "partition_unavailable", {
					body: { layout: "partitions", wait_ms: 25_000, auto_commit: true },
				});
				await untilWaiting(mine, 0);
				// A new generation in which a keeps its partition: the settled read's body is read again to rewrite its tail.
				await join(group, { topics: [theirs], auto_offset_reset: "earliest" });
				await produce(mine, [{ value: "after the rebalance" }]);
				await waiting;
			} finally {
				cut.stop();
			}
			const again = await pollPartitions(group, a.member_id);
			expect(
				again.partitions.map((p) => p.records.map((r) => [r.offset, r.value])),
				"a 503 changed nothing",
			).toEqual([[[0, "after the rebalance"]]]);
		});

		it("answers no records when the member lost its partition while it waited, and the new owner reads them", async () => {
			const topic = uniqueTopic();
			await createTopic(topic, 1);
			const group = uniqueGroup();
			// Range orders members by instance id: "b-…" before "z-…", so the partition moves to b when it joins.
			const a = await join(group, { topics: [topic], auto_offset_reset: "earliest", strategy: "range", instance_id: "z-last" });
			expect((await pollPartitions(group, a.member_id)).partitions).toEqual([]);
			const bodies = await recordPollBodies(topic);
			let b: Awaited<ReturnType<typeof join>>;
			try {
				const waiting = pollPartitions(group, a.member_id, { wait_ms: 25_000 });
				await untilWaiting(topic, 0);
				b = await join(group, { topics: [topic], auto_offset_reset: "earliest", strategy: "range", instance_id: "b-first" });
				expect(b.assignment).toEqual([{ topic, partition: 0 }]);
				await produce(topic, [{ value: "for b" }]);
				expect(await waiting).toEqual({ partitions: [], generation: b.generation, assignment: [] });
				expect(bodies.built).toEqual([`${topic}/0`]);
			} finally {
				bodies.stop();
			}
			const taken = await pollPartitions(group, b.member_id);
			expect(taken.partitions.map((p) => p.records.map((r) => [r.offset, r.value]))).toEqual([[[0, "for b"]]]);
		});
	});
});
