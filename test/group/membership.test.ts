/**
 * Membership and assignment over HTTP: joins and leaves rebalance at once, sessions expire by alarm, static
 * members come back to their partitions, and new partitions and topics are picked up.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { GroupCoordinator } from "../../src/group/group-coordinator.ts";
import type { GroupRules } from "../../src/group/group-rules.ts";
import { GROUP_SCHEMA_VERSION } from "../../src/group/schema.ts";
import { commitStandalone } from "../../src/http/group/group-offsets.ts";
import { ok } from "../../src/shared/errors.ts";
import { SESSION_TIMEOUT_MS_MAX } from "../../src/shared/limits.ts";
import {
	commit,
	describeGroup,
	expectPartitioned,
	expire,
	forceMetadataRefresh,
	heartbeat,
	join,
	lapse,
	partitionsOf,
	poll,
} from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { coordinatorStub, withEarlierCoordinator } from "../support/stubs.ts";
import { throwOnce } from "../support/throw-once.ts";
import { call, createTopic, expectError, json, produce } from "../support/worker.ts";

/** A topic of two partitions holding one record each: "a" in 0, "b" in 1. */
async function twoRecordTopic(): Promise<string> {
	const topic = uniqueTopic();
	await createTopic(topic, 2);
	await produce(topic, [
		{ value: "a", partition: 0 },
		{ value: "b", partition: 1 },
	]);
	return topic;
}

describe("membership", () => {
	it("splits a 4-partition topic between two members, then three, then two again after a leave and a timeout", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const all = partitionsOf(topic, 4);
		const a = await join(group, { topics: [topic] });
		expect(a.generation).toBe(1);
		expect(a.assignment).toEqual(all);
		const b = await join(group, { topics: [topic] });
		expect(b.generation).toBe(2);
		const aView = await heartbeat(group, a.member_id);
		expect(aView.generation).toBe(2);
		expectPartitioned([aView.assignment, b.assignment], all);
		expect(aView.assignment).toHaveLength(2);

		const c = await join(group, { topics: [topic] });
		expect(c.generation).toBe(3);
		const views3 = await Promise.all([a, b, c].map((m) => heartbeat(group, m.member_id)));
		expect(views3.map((v) => v.generation)).toEqual([3, 3, 3]);
		expectPartitioned(
			views3.map((v) => v.assignment),
			all,
		);
		expect(views3.map((v) => v.assignment.length).sort()).toEqual([1, 1, 2]);

		expect((await call("DELETE", `/v1/groups/${group}/members/${b.member_id}`)).status).toBe(204);
		const views4 = await Promise.all([a, c].map((m) => heartbeat(group, m.member_id)));
		expect(views4.map((v) => v.generation)).toEqual([4, 4]);
		expectPartitioned(
			views4.map((v) => v.assignment),
			all,
		);

		await expire(group, [c.member_id]);
		const last = await heartbeat(group, a.member_id);
		expect(last).toEqual({ generation: 5, assignment: all });
		const gone = await expectError("POST", `/v1/groups/${group}/members/${c.member_id}/heartbeat`, 409, "unknown_member");
		expect(gone).toMatchObject({ generation: 5, member_id: c.member_id, retriable: false });
		await expectError("DELETE", `/v1/groups/${group}/members/${b.member_id}`, 409, "unknown_member");
	});

	it("answers a join with a usable assignment: the first poll returns records", async () => {
		const topic = await twoRecordTopic();
		const group = uniqueGroup();
		const member = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const polled = await poll(group, member.member_id);
		expect(polled.records.map((r) => r.value).sort()).toEqual(["a", "b"]);
	});

	it("keeps only the alarm's earliest deadline: an early alarm re-arms itself and expires no one alive", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], session_timeout_ms: 6_000 });
		const b = await join(group, { topics: [topic], session_timeout_ms: 60_000 });
		await expire(group, []);
		expect((await heartbeat(group, a.member_id)).generation).toBe(b.generation);
		expect((await heartbeat(group, b.member_id)).generation).toBe(b.generation);
	});

	it("a join retried with the member_id it proposed finds the member it made (KIP-394): no ghost member", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const other = await join(group, { topics: [topic] });
		const proposed = crypto.randomUUID();
		const first = await join(group, { topics: [topic], member_id: proposed });
		expect(first.member_id).toBe(proposed);
		// The first answer was lost: the client sends the same join again.
		const again = await join(group, { topics: [topic], member_id: proposed });
		expect(again).toEqual(first);
		const described = await describeGroup(group);
		expect(described.members.map((m) => m.member_id).sort()).toEqual([other.member_id, proposed].sort());
		expect(described.generation).toBe(first.generation);
		await expectError("POST", `/v1/groups/${group}/members`, 400, "invalid_request", {
			body: { topics: [topic], member_id: "no spaces" },
		});
	});

	it("gives a static member its partitions back without a rebalance, under a new member id", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], instance_id: "consumer-a" });
		const b = await join(group, { topics: [topic], instance_id: "consumer-b" });
		const before = await heartbeat(group, a.member_id);
		const back = await join(group, { topics: [topic], instance_id: "consumer-a" });
		expect(back.member_id).not.toBe(a.member_id);
		expect(back.generation).toBe(b.generation);
		expect(back.assignment).toEqual(before.assignment);
		await expectError("POST", `/v1/groups/${group}/members/${a.member_id}/poll`, 409, "unknown_member");
		expect((await heartbeat(group, b.member_id)).generation).toBe(b.generation);
		// Past its session timeout it is gone, and coming back is an ordinary join.
		await expire(group, [back.member_id]);
		const again = await join(group, { topics: [topic], instance_id: "consumer-a" });
		expect(again.generation).toBe(b.generation + 2);
	});

	it("fences a static join naming a member id that does not hold the instance: the holder keeps it (KIP-345's FENCED_INSTANCE_ID)", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], instance_id: "consumer-a" });
		const b = await join(group, { topics: [topic], instance_id: "consumer-b" });
		// A second process using consumer-a's instance id, with the member id it was given before (another instance's,
		// and one the group never had): fenced, nothing joins, and consumer-a keeps its member id and partitions.
		for (const stale of [b.member_id, "gone-member"]) {
			const error = await expectError("POST", `/v1/groups/${group}/members`, 409, "fenced_instance", {
				body: { topics: [topic], instance_id: "consumer-a", member_id: stale },
			});
			expect(error).toMatchObject({ retriable: false, instance_id: "consumer-a", member_id: stale });
		}
		const described = await describeGroup(group);
		expect(described.generation).toBe(b.generation);
		expect(described.members.map((m) => [m.instance_id, m.member_id]).sort()).toEqual([
			["consumer-a", a.member_id],
			["consumer-b", b.member_id],
		]);
		expect((await heartbeat(group, a.member_id)).generation).toBe(b.generation);
		// Its own member id is its rejoin; no member id is the instance's restart, which replaces the holder.
		expect((await join(group, { topics: [topic], instance_id: "consumer-a", member_id: a.member_id })).member_id).toBe(a.member_id);
		const restarted = await join(group, { topics: [topic], instance_id: "consumer-a" });
		expect(restarted.member_id).not.toBe(a.member_id);
		await expectError("POST", `/v1/groups/${group}/members/${a.member_id}/heartbeat`, 409, "unknown_member");
	});

	it("fences a replaced static member's heartbeat, poll and commit naming its instance id (KIP-345's FENCED_INSTANCE_ID), and changes nothing", async () => {
		const topic = await twoRecordTopic();
		const group = uniqueGroup();
		const old = await join(group, { topics: [topic], instance_id: "consumer-a", auto_offset_reset: "earliest" });
		const other = await join(group, { topics: [topic], instance_id: "consumer-b" });
		// Another process with consumer-a's instance id and no member id: the instance's restart, under a new member id.
		const holder = await join(group, { topics: [topic], instance_id: "consumer-a", auto_offset_reset: "earliest" });
		const before = await describeGroup(group);
		const offsets = holder.assignment.map((tp) => ({ ...tp, offset: 1 }));
		expect(offsets).toHaveLength(1);
		const member = `/v1/groups/${group}/members/${old.member_id}`;
		const fenced = { instance_id: "consumer-a", member_id: old.member_id, retriable: false };
		const instance = { instance_id: "consumer-a" };
		const heartbeatError = await expectError("POST", `${member}/heartbeat`, 409, "fenced_instance", { body: instance });
		expect(heartbeatError).toMatchObject(fenced);
		expect(heartbeatError.message).toContain('"consumer-a"');
		expect(await expectError("POST", `${member}/poll`, 409, "fenced_instance", { body: instance })).toMatchObject(fenced);
		// A poll carrying a commit is fenced before the commit is looked at.
		const carried = { ...instance, commit: { generation: holder.generation, offsets } };
		await expectError("POST", `${member}/poll`, 409, "fenced_instance", { body: carried });
		// Its offsets are not judged either: one past the partition's end is fenced, not out of range (Kafka's order).
		const carriedPast = { ...instance, commit: { generation: holder.generation, offsets: offsets.map((o) => ({ ...o, offset: 99 })) } };
		await expectError("POST", `${member}/poll`, 409, "fenced_instance", { body: carriedPast });
		const commitBody = { member_id: old.member_id, generation: holder.generation, offsets, ...instance };
		expect(await expectError("POST", `/v1/groups/${group}/offsets`, 409, "fenced_instance", { body: commitBody })).toMatchObject(fenced);
		// The fence comes before the commit's bounds check: an offset past the partition's end is fenced, not out of range.
		const past = { ...commitBody, offsets: offsets.map((o) => ({ ...o, offset: 99 })) };
		expect(await expectError("POST", `/v1/groups/${group}/offsets`, 409, "fenced_instance", { body: past })).toMatchObject(fenced);
		// A member the group has, naming an instance another member holds, is fenced too (Kafka asks the instance first).
		await expectError("POST", `/v1/groups/${group}/members/${other.member_id}/heartbeat`, 409, "fenced_instance", { body: instance });
		await expectError("POST", `/v1/groups/${group}/offsets`, 409, "fenced_instance", {
			body: { ...commitBody, member_id: other.member_id },
		});
		const after = await describeGroup(group);
		expect(after.generation).toBe(before.generation);
		expect(after.members).toEqual(before.members);
		expect(after.offsets.every((o) => o.committed === null)).toBe(true);
		// Without its instance id the old member is just unknown, as before.
		await expectError("POST", `${member}/heartbeat`, 409, "unknown_member");
		await expectError("POST", `${member}/poll`, 409, "unknown_member");
		await expectError("POST", `/v1/groups/${group}/offsets`, 409, "unknown_member", {
			body: { member_id: old.member_id, generation: holder.generation, offsets },
		});
		// The holder, naming its instance, is served.
		const held = `/v1/groups/${group}/members/${holder.member_id}`;
		expect((await json("POST", `${held}/heartbeat`, 200, { body: instance })).generation).toBe(before.generation);
		const polled = await json<{ records: unknown[] }>("POST", `${held}/poll`, 200, { body: { ...instance, auto_commit: false } });
		expect(polled.records).toHaveLength(1);
		await json("POST", `/v1/groups/${group}/offsets`, 200, { body: { ...commitBody, member_id: holder.member_id } });
		expect((await describeGroup(group)).offsets.filter((o) => o.committed !== null)).toMatchObject(
			holder.assignment.map((tp) => ({ ...tp, committed: 1 })),
		);
	});

	it("judges a call naming the instance of a holder whose session ran out after expiring it: unknown_member, not fenced_instance", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const instance = { instance_id: "consumer-a" };
		const offsets = [{ topic, partition: 0, offset: 0 }];
		const calls: [string, (group: string, old: string) => string, (old: string, generation: number) => object][] = [
			["commit", (group) => `/v1/groups/${group}/offsets`, (old, generation) => ({ member_id: old, generation, offsets })],
			["heartbeat", (group, old) => `/v1/groups/${group}/members/${old}/heartbeat`, () => ({})],
			["poll", (group, old) => `/v1/groups/${group}/members/${old}/poll`, () => ({})],
		];
		const answers: string[] = [];
		for (const [name, path, body] of calls) {
			const group = uniqueGroup();
			const old = await join(group, { topics: [topic], ...instance });
			await join(group, { topics: [topic], instance_id: "consumer-b", session_timeout_ms: SESSION_TIMEOUT_MS_MAX });
			const holder = await join(group, { topics: [topic], ...instance });
			// The holder's session ran out and no alarm has run yet: a broker would have expired it before this call, so
			// the replaced member is judged against a group where no one holds its instance.
			await lapse(group, [holder.member_id]);
			const error = await call("POST", path(group, old.member_id), { body: { ...body(old.member_id, holder.generation), ...instance } });
			answers.push(`${name}: ${error.status} ${(await error.json<{ error: { code: string } }>()).error.code}`);
			expect((await describeGroup(group)).members.map((m) => m.instance_id)).toEqual(["consumer-b"]);
		}
		expect(answers).toEqual(calls.map(([name]) => `${name}: 409 unknown_member`));
	});

	it("fences a replaced static member's leave naming its instance id (a broker's LeaveGroup v3+ FENCED_INSTANCE_ID), and the member stays", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const old = await join(group, { topics: [topic], instance_id: "consumer-a" });
		const other = await join(group, { topics: [topic], instance_id: "consumer-b" });
		const holder = await join(group, { topics: [topic], instance_id: "consumer-a" });
		const before = await describeGroup(group);
		const leave = (member: string, query: string) => `/v1/groups/${group}/members/${member}?${query}`;
		const error = await expectError("DELETE", leave(old.member_id, "instance_id=consumer-a"), 409, "fenced_instance");
		expect(error).toMatchObject({ retriable: false, instance_id: "consumer-a", member_id: old.member_id });
		// A member the group has, naming an instance another member holds, is fenced and stays, as its heartbeat is.
		await expectError("DELETE", leave(other.member_id, "instance_id=consumer-a&auto_commit=false"), 409, "fenced_instance");
		expect(await describeGroup(group)).toEqual(before);
		// Without its instance id the old member is just unknown, as before; the holder naming its instance leaves.
		await expectError("DELETE", leave(old.member_id, ""), 409, "unknown_member");
		expect((await call("DELETE", leave(holder.member_id, "instance_id=consumer-a"))).status).toBe(204);
		expect((await describeGroup(group)).members.map((m) => m.member_id)).toEqual([other.member_id]);
	});

	// Kafka's ClassicGroup.validateMember (the Scala coordinator's validateCurrentMember) asks the instance first: one
	// no member holds is UNKNOWN_MEMBER_ID, whether or not the group has the member id; another's is FENCED_INSTANCE_ID.
	it("refuses a member's heartbeat, poll, commit and leave naming an instance no member holds: unknown_member (Kafka's validateMember), and changes nothing", async () => {
		const topic = await twoRecordTopic();
		const group = uniqueGroup();
		const dynamic = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const held = await join(group, { topics: [topic], instance_id: "consumer-a", auto_offset_reset: "earliest" });
		const before = await describeGroup(group);
		const unheld = { instance_id: "consumer-z" };
		const answers: string[] = [];
		const expected: string[] = [];
		for (const [who, m] of [
			["dynamic", dynamic],
			["static", held],
		] as const) {
			const member = `/v1/groups/${group}/members/${m.member_id}`;
			const assignment = before.members.find((d) => d.member_id === m.member_id)?.assignment ?? [];
			expect(assignment).toHaveLength(1);
			const offsets = assignment.map((tp) => ({ ...tp, offset: 1 }));
			const past = offsets.map((o) => ({ ...o, offset: 99 }));
			const commitBody = { member_id: m.member_id, generation: before.generation, offsets, ...unheld };
			const calls: [string, string, string, object | undefined][] = [
				["heartbeat", "POST", `${member}/heartbeat`, unheld],
				["poll", "POST", `${member}/poll`, unheld],
				// The member first, as Kafka asks: a carried commit past the partition's end is not judged.
				["poll carrying a commit", "POST", `${member}/poll`, { ...unheld, commit: { generation: before.generation, offsets: past } }],
				["commit", "POST", `/v1/groups/${group}/offsets`, commitBody],
				["commit past the end", "POST", `/v1/groups/${group}/offsets`, { ...commitBody, offsets: past }],
				["leave", "DELETE", `${member}?instance_id=consumer-z&auto_commit=false`, undefined],
			];
			for (const [name, method, path, body] of calls) {
				const answer = await call(method, path, body === undefined ? {} : { body });
				const text = await answer.text();
				const code = answer.status >= 400 ? (JSON.parse(text) as { error: { code: string } }).error.code : "served";
				answers.push(`${who} ${name}: ${answer.status} ${code}`);
				expected.push(`${who} ${name}: 409 unknown_member`);
			}
		}
		expect(answers).toEqual(expected);
		const after = await describeGroup(group);
		expect(after.generation).toBe(before.generation);
		expect(after.members).toEqual(before.members);
		expect(after.offsets.every((o) => o.committed === null)).toBe(true);
		// Naming no instance, or its own, each is served as before.
		await json("POST", `/v1/groups/${group}/members/${dynamic.member_id}/heartbeat`, 200);
		await json("POST", `/v1/groups/${group}/members/${held.member_id}/heartbeat`, 200, { body: { instance_id: "consumer-a" } });
	});

	// Kafka validates the member before it looks at a commit's offsets (OffsetMetadataManager.commitOffset calls
	// validateOffsetCommit first), so an unknown member's commit costs it no write: here, no commit turn either.
	it("answers an unknown member's heartbeat, poll, poll settlement, commit, positions commit and leave, naming no instance or one no member holds, with no metadata refresh, no commit turn and no transaction", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		await join(group, { topics: [topic], instance_id: "consumer-a" });
		// Two members: a member's commit would wait for the turn the others' commits share.
		const { generation } = await join(group, { topics: [topic] });
		const seen = await runInDurableObject(coordinatorStub(group), async (instance: GroupCoordinator, state) => {
			const coordinator = instance as unknown as { refreshedAtMs: number; commitTurn: { wait: (n: number) => Promise<void> } };
			coordinator.refreshedAtMs = 0;
			let transactions = 0;
			let turns = 0;
			const transactionSync = state.storage.transactionSync.bind(state.storage);
			state.storage.transactionSync = <T>(work: () => T): T => {
				transactions++;
				return transactionSync(work);
			};
			const wait = coordinator.commitTurn.wait.bind(coordinator.commitTurn);
			coordinator.commitTurn.wait = (n) => {
				turns++;
				return wait(n);
			};
			try {
				const codeOf = (answer: unknown) => (answer as { error?: { code: string } }).error?.code;
				const answers: Record<string, string | undefined> = {};
				for (const instanceId of [null, "consumer-z"]) {
					const offsets = [{ topic, partition: 0, offset: 99, metadata: null }];
					answers[`heartbeat ${instanceId}`] = codeOf(await instance.heartbeat(group, "gone", instanceId));
					answers[`poll ${instanceId}`] = codeOf(await instance.beginPoll(group, "gone", 64, null, true, false, 0, null, instanceId));
					answers[`commit ${instanceId}`] = codeOf(
						await instance.commit(group, { memberId: "gone", generation, offsets, instanceId }, false, true),
					);
					const read = [{ topic, partition: 0, expectedPosition: null, nextOffset: 1, recordCount: 1 }];
					answers[`settle ${instanceId}`] = codeOf(
						await instance.completePoll(group, "gone", generation, read, true, false, true, instanceId),
					);
					answers[`leave ${instanceId}`] = codeOf(await instance.leave(group, "gone", true, instanceId));
				}
				answers["commit positions"] = codeOf(await instance.commitPositions(group, "gone"));
				return { answers, transactions, turns, refreshed: coordinator.refreshedAtMs !== 0 };
			} finally {
				state.storage.transactionSync = transactionSync;
				coordinator.commitTurn.wait = wait;
			}
		});
		const unknown = Object.fromEntries([
			...["null", "consumer-z"].flatMap((i) =>
				["heartbeat", "poll", "commit", "settle", "leave"].map((name) => [`${name} ${i}`, "unknown_member"]),
			),
			["commit positions", "unknown_member"],
		]);
		expect(seen).toEqual({ answers: unknown, transactions: 0, turns: 0, refreshed: false });
	});

	// A member whose session ran out is still in the group until it is expired, so its leave is not refused early: it is
	// expired first, as a broker's timer would have, which drops its last poll's pending auto-commit (a clean leave would
	// commit it, for records it may not have processed), and then answered unknown_member in the generation after it.
	it("expires a member whose session ran out before its leave: unknown_member, its last poll's auto-commit dropped", async () => {
		const topic = await twoRecordTopic();
		const group = uniqueGroup();
		const m = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const polled = await json<{ records: unknown[] }>("POST", `/v1/groups/${group}/members/${m.member_id}/poll`, 200);
		expect(polled.records).toHaveLength(2);
		await lapse(group, [m.member_id]);
		const error = await expectError("DELETE", `/v1/groups/${group}/members/${m.member_id}`, 409, "unknown_member");
		const after = await describeGroup(group);
		// Committed, its offsets would be listed (a group lists the topics it has commits on).
		expect({ generation: error.generation, members: after.members, offsets: after.offsets }).toEqual({
			generation: m.generation + 1,
			members: [],
			offsets: [],
		});
	});

	// A member the group does not have is refused before any transaction; but with a session run out and not yet expired,
	// that refusal waits for the expiry, as a broker's timer would have expired it: the generation it names is then the
	// one every later call sees, not the one before it.
	it("tells an unknown member, while another's session has run out, the generation after that member's expiry", async () => {
		const topic = await twoRecordTopic();
		const answers: { generation: unknown; members: string[] }[] = [];
		const expected: typeof answers = [];
		for (const [method, path, body] of [
			["POST", "heartbeat", undefined],
			["POST", "poll", undefined],
			["DELETE", "", undefined],
			["POST", "commit", { offsets: [{ topic, partition: 0, offset: 1 }] }],
		] as const) {
			const group = uniqueGroup();
			const a = await join(group, { topics: [topic] });
			const b = await join(group, { topics: [topic] });
			await lapse(group, [b.member_id]);
			const refused =
				path === "commit"
					? await expectError("POST", `/v1/groups/${group}/offsets`, 409, "unknown_member", {
							body: { member_id: "gone", generation: b.generation, ...body },
						})
					: await expectError(method, `/v1/groups/${group}/members/gone${path === "" ? "" : `/${path}`}`, 409, "unknown_member");
			const after = await describeGroup(group);
			answers.push({ generation: refused.generation, members: after.members.map((m) => m.member_id) });
			expected.push({ generation: b.generation + 1, members: [a.member_id] });
		}
		expect(answers).toEqual(expected);
	});

	// The member before the offsets, as Kafka orders a commit: one the group does not have is unknown_member, not told
	// where the partition's log ends.
	it("refuses an unknown member's commit past the log end unknown_member, not offset_out_of_range", async () => {
		const topic = await twoRecordTopic();
		const group = uniqueGroup();
		const { generation } = await join(group, { topics: [topic] });
		const answers: string[] = [];
		for (const unheld of [{}, { instance_id: "consumer-z" }])
			for (const offset of [1, 99]) {
				const body = { member_id: "gone", generation, offsets: [{ topic, partition: 0, offset }], ...unheld };
				const answer = await call("POST", `/v1/groups/${group}/offsets`, { body });
				answers.push(
					`${JSON.stringify(unheld)} at ${offset}: ${answer.status} ${((await answer.json()) as { error?: { code: string } }).error?.code}`,
				);
			}
		expect(answers).toEqual(
			[{}, { instance_id: "consumer-z" }].flatMap((u) => [1, 99].map((o) => `${JSON.stringify(u)} at ${o}: 409 unknown_member`)),
		);
		expect((await describeGroup(group)).offsets.every((o) => o.committed === null)).toBe(true);
	});

	it("fences a standalone commit naming an instance some member holds, and refuses one naming an instance no member holds unknown_member, while the group has members (Kafka's validateOffsetCommit at generation -1)", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(topic, [{ value: "a" }]);
		const group = uniqueGroup();
		await join(group, { topics: [topic], instance_id: "consumer-a" });
		const offsets = [{ topic, partition: 0, offset: 1 }];
		const error = await expectError("POST", `/v1/groups/${group}/offsets`, 409, "fenced_instance", {
			body: { offsets, instance_id: "consumer-a" },
		});
		expect(error).toMatchObject({ instance_id: "consumer-a" });
		// One no member holds names a member the group does not have: unknown_member, as Kafka's validateMember answers a
		// generation -1 commit naming an instance; none, a commit the group takes only while empty.
		await expectError("POST", `/v1/groups/${group}/offsets`, 409, "unknown_member", { body: { offsets, instance_id: "consumer-z" } });
		await expectError("POST", `/v1/groups/${group}/offsets`, 409, "group_not_empty", { body: { offsets } });
		expect((await describeGroup(group)).offsets[0]?.committed).toBeNull();
	});

	// Kafka's validateOffsetCommit judges the group before the offsets: a standalone commit the group would refuse is
	// refused so, not told where a log ends; one it would take is checked against the log ends, and creates no group.
	it("refuses a standalone commit past the log end 409 while the group has members, 416 when it has none, and creates no group", async () => {
		const topic = await twoRecordTopic();
		const [group, empty] = [uniqueGroup(), uniqueGroup()];
		await join(group, { topics: [topic], instance_id: "consumer-a" });
		const offsets = [{ topic, partition: 0, offset: 99 }];
		const answers: string[] = [];
		for (const [g, unheld] of [
			[group, {}],
			[group, { instance_id: "consumer-z" }],
			[group, { instance_id: "consumer-a" }],
			[empty, {}],
		] as const) {
			const answer = await call("POST", `/v1/groups/${g}/offsets`, { body: { offsets, ...unheld } });
			answers.push(`${JSON.stringify(unheld)}: ${answer.status} ${(await answer.json<{ error: { code: string } }>()).error.code}`);
		}
		expect(answers).toEqual([
			"{}: 409 group_not_empty",
			'{"instance_id":"consumer-z"}: 409 unknown_member',
			'{"instance_id":"consumer-a"}: 409 fenced_instance',
			"{}: 416 offset_out_of_range",
		]);
		await expectError("GET", `/v1/groups/${empty}`, 404, "group_not_found");
		expect((await describeGroup(group)).offsets.every((o) => o.committed === null)).toBe(true);
	});

	// During a deploy the edge may reach a coordinator of the earlier version, whose resetOffsets takes no bounds refusal
	// and would commit the offsets: the edge must not hand it an out-of-range commit, nor call twice on the common path.
	it("commits nothing past the log end through a coordinator of the earlier version, and asks it once for a commit within bounds", async () => {
		const topic = await twoRecordTopic();
		const [group, absent] = [uniqueGroup(), uniqueGroup()];
		const calls: string[] = [];
		const earlier = withEarlierCoordinator(calls);
		expect(await commitStandalone(earlier, group, [{ topic, partition: 0, offset: 1, metadata: null }])).toEqual(ok(undefined));
		expect(calls).toEqual(["resetOffsets"]);
		const answers: string[] = [];
		for (const g of [group, absent]) {
			const answer = await commitStandalone(earlier, g, [{ topic, partition: 0, offset: 99, metadata: null }]);
			answers.push(answer.ok ? "committed" : answer.error.code);
		}
		expect(answers).toEqual(["offset_out_of_range", "offset_out_of_range"]);
		expect(calls).toEqual(["resetOffsets", "refuseOffsets", "refuseOffsets"]);
		expect((await describeGroup(group)).offsets.map((o) => o.committed)).toEqual([1, null]);
		await expectError("GET", `/v1/groups/${absent}`, 404, "group_not_found");
	});

	// The edge keeps the bounds refusal only for a coordinator that lacks refuseOffsets (workerd refuses the call before
	// anything runs): a coordinator that has it and failed may be one that would refuse the group, so it says retry.
	it("answers a standalone commit past the log end 503 unavailable when the coordinator fails, then 409 as the group's members make it", async () => {
		const topic = await twoRecordTopic();
		const group = uniqueGroup();
		await join(group, { topics: [topic] });
		await runInDurableObject(coordinatorStub(group), (instance: GroupCoordinator) =>
			throwOnce((instance as unknown as { rules: GroupRules }).rules, "resetCommits"),
		);
		const body = { offsets: [{ topic, partition: 0, offset: 99 }] };
		const error = await expectError("POST", `/v1/groups/${group}/offsets`, 503, "unavailable", { body });
		expect(error.retriable).toBe(true);
		await expectError("POST", `/v1/groups/${group}/offsets`, 409, "group_not_empty", { body });
		expect((await describeGroup(group)).offsets.every((o) => o.committed === null)).toBe(true);
	});

	it("says in an unknown_member what is wrong: the member the group does not have, or the instance no member holds, with the same details", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const group = uniqueGroup();
		const m = await join(group, { topics: [topic] });
		const heartbeat = (member: string, body: object) => call("POST", `/v1/groups/${group}/members/${member}/heartbeat`, { body });
		const offsets = [{ topic, partition: 0, offset: 0 }];
		const answers = [
			await heartbeat("gone", {}),
			await heartbeat(m.member_id, { instance_id: "consumer-z" }),
			await heartbeat("gone", { instance_id: "consumer-z" }),
			await call("POST", `/v1/groups/${group}/offsets`, { body: { offsets, instance_id: "consumer-z" } }),
		];
		const seen = await Promise.all(answers.map(async (a) => ({ status: a.status, ...(await a.json<{ error: object }>()).error })));
		const refusal = (member_id: string, message: string) => ({
			status: 409,
			code: "unknown_member",
			message,
			retriable: false,
			member_id,
			generation: m.generation,
		});
		const unheld = 'instance "consumer-z" is held by no member: join with it first';
		expect(seen).toEqual([
			refusal("gone", 'member "gone" is not in the group: it left, its session timed out, or it was replaced; join again'),
			refusal(m.member_id, unheld),
			refusal("gone", unheld),
			refusal("", unheld),
		]);
	});

	it("takes a static member's proposed member id when no member holds its instance, so the join's retry after a lost answer is its rejoin, not fenced", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const proposed = crypto.randomUUID();
		const first = await join(group, { topics: [topic], instance_id: "consumer-a", member_id: proposed });
		expect(first.member_id).toBe(proposed);
		const again = await join(group, { topics: [topic], instance_id: "consumer-a", member_id: proposed });
		expect(again).toEqual(first);
		// Another member's id is not taken: that join is the instance's own, under a new id.
		const other = await join(group, { topics: [topic] });
		const b = await join(group, { topics: [topic], instance_id: "consumer-b", member_id: other.member_id });
		expect(b.member_id).not.toBe(other.member_id);
		expect((await describeGroup(group)).members.map((m) => m.member_id).sort()).toEqual([proposed, other.member_id, b.member_id].sort());
	});

	it("rebalances a static member that comes back with a different subscription", async () => {
		const [t1, t2] = [uniqueTopic(), uniqueTopic()];
		await createTopic(t1, 2);
		await createTopic(t2, 2);
		const group = uniqueGroup();
		const a = await join(group, { topics: [t1], instance_id: "x" });
		const back = await join(group, { topics: [t1, t2], instance_id: "x" });
		expect(back.generation).toBe(a.generation + 1);
		expect(back.assignment).toHaveLength(4);
	});

	it("assigns with the strategy the first member chose, and refuses a member that asks for another", async () => {
		const [t1, t2] = [uniqueTopic("a"), uniqueTopic("b")];
		await createTopic(t1, 3);
		await createTopic(t2, 3);
		const group = uniqueGroup();
		const a = await join(group, { topics: [t1, t2], strategy: "range" });
		const b = await join(group, { topics: [t1, t2], strategy: "range" });
		const views = await Promise.all([a, b].map((m) => heartbeat(group, m.member_id)));
		const first = [...views].sort((x, y) => (x.assignment[0]?.partition ?? 9) - (y.assignment[0]?.partition ?? 9));
		expect(first[0]?.assignment.map((p) => p.partition)).toEqual([0, 1, 0, 1]);
		expect(first[1]?.assignment.map((p) => p.partition)).toEqual([2, 2]);
		const error = await expectError("POST", `/v1/groups/${group}/members`, 409, "inconsistent_strategy", {
			body: { topics: [t1], strategy: "round-robin" },
		});
		expect(error.strategy).toBe("range");
		expect((await describeGroup(group)).strategy).toBe("range");
		await join(group, { topics: [t1] });
	});

	it("picks up partitions added to a topic: the next heartbeat is a new generation that covers them", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic] });
		const b = await join(group, { topics: [topic] });
		await json("PATCH", `/v1/topics/${topic}`, 200, { body: { partitions: 6 } });
		await forceMetadataRefresh(group);
		const views = [await heartbeat(group, a.member_id), await heartbeat(group, b.member_id)];
		expect(views.map((v) => v.generation)).toEqual([b.generation + 1, b.generation + 1]);
		expectPartitioned(
			views.map((v) => v.assignment),
			partitionsOf(topic, 6),
		);
	});

	it("subscribes by pattern and picks up topics created later", async () => {
		const prefix = `orders-${crypto.randomUUID().slice(0, 6)}`;
		await createTopic(`${prefix}-eu`, 2);
		await createTopic(uniqueTopic("other"), 2);
		const group = uniqueGroup();
		const a = await join(group, { topic_pattern: `${prefix}-.*` });
		expect(a.assignment).toEqual(partitionsOf(`${prefix}-eu`, 2));
		await createTopic(`${prefix}-us`, 1);
		await forceMetadataRefresh(group);
		const view = await heartbeat(group, a.member_id);
		expect(view.generation).toBe(a.generation + 1);
		expect(view.assignment).toEqual([...partitionsOf(`${prefix}-eu`, 2), ...partitionsOf(`${prefix}-us`, 1)]);
		const described = await describeGroup(group);
		expect(described.members[0]).toMatchObject({ topic_pattern: `${prefix}-.*` });
	});

	it("drops a deleted topic's partitions from the assignment", async () => {
		const [t1, t2] = [uniqueTopic(), uniqueTopic()];
		await createTopic(t1, 1);
		await createTopic(t2, 1);
		const group = uniqueGroup();
		const a = await join(group, { topics: [t1, t2] });
		expect(a.assignment).toHaveLength(2);
		expect((await call("DELETE", `/v1/topics/${t2}`)).status).toBe(204);
		await forceMetadataRefresh(group);
		const view = await heartbeat(group, a.member_id);
		expect(view).toEqual({ generation: a.generation + 1, assignment: [{ topic: t1, partition: 0 }] });
	});

	describe("a topic deleted and created again under its name is read from its start, not from the old topic's offsets", () => {
		const records = (count: number) => Array.from({ length: count }, (_, i) => ({ value: i, partition: 0 }));
		const offsetsOf = async (group: string, member: string, body: Record<string, unknown> = {}) =>
			(await poll(group, member, body)).records.map((r) => r.offset);
		async function recreate(topic: string, group: string, seenDeleted: boolean): Promise<void> {
			expect((await call("DELETE", `/v1/topics/${topic}`)).status).toBe(204);
			if (seenDeleted) {
				// The group sees the topic gone (its partition leaves the assignment) before it is created again.
				await forceMetadataRefresh(group);
				await heartbeat(group, (await describeGroup(group)).members[0]?.member_id as string);
			}
			await createTopic(topic);
			await produce(topic, records(8));
			await forceMetadataRefresh(group);
		}

		it.each([false, true])("offsets committed at every poll (the group saw the topic gone: %s)", async (seenDeleted) => {
			const topic = uniqueTopic();
			await createTopic(topic);
			await produce(topic, records(5));
			const group = uniqueGroup();
			const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
			expect(await offsetsOf(group, a.member_id)).toEqual([0, 1, 2, 3, 4]);
			expect(await offsetsOf(group, a.member_id)).toEqual([]); // commits 5 on the old topic
			await recreate(topic, group, seenDeleted);
			expect(await offsetsOf(group, a.member_id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
		});

		it("offsets stored before commits named their topic's incarnation are taken to be of the topic subscribed to", async () => {
			const topic = uniqueTopic();
			await createTopic(topic);
			await produce(topic, records(5));
			const group = uniqueGroup();
			const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
			await offsetsOf(group, a.member_id);
			await offsetsOf(group, a.member_id); // commits 5
			await runInDurableObject(coordinatorStub(group), (_, state) => {
				const sql = state.storage.sql;
				const subscribed = sql.exec<{ topic_id: string }>("SELECT topic_id FROM subscribed_topics").one().topic_id;
				// Back to schema v1: commits without their topic's incarnation, members without auto-commit settings.
				sql.exec("ALTER TABLE commits DROP COLUMN topic_id");
				sql.exec("ALTER TABLE members DROP COLUMN auto_commit");
				sql.exec("ALTER TABLE group_state DROP COLUMN empty_since_ms");
				sql.exec("ALTER TABLE members DROP COLUMN rejoined_generation");
				sql.exec("ALTER TABLE members DROP COLUMN rebalance_timeout_ms");
				sql.exec("ALTER TABLE members DROP COLUMN rejoin_deadline_ms");
				sql.exec("UPDATE schema_version SET version = 1");
				new GroupCoordinator(state, env);
				expect(sql.exec("SELECT version FROM schema_version").one().version).toBe(GROUP_SCHEMA_VERSION);
				expect(sql.exec("SELECT topic, topic_id, committed_offset FROM commits").toArray()).toEqual([
					{ topic, topic_id: subscribed, committed_offset: 5 },
				]);
			});
			await recreate(topic, group, false);
			expect(await offsetsOf(group, a.member_id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
		});

		it("what a member on an interval confirmed of the deleted topic is committed on it, and not read from on the new one", async () => {
			const topic = uniqueTopic();
			await createTopic(topic);
			await produce(topic, records(5));
			const group = uniqueGroup();
			const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
			const onInterval = { max_records: 2, auto_commit_interval_ms: 60_000 };
			expect(await offsetsOf(group, a.member_id, onInterval)).toEqual([0, 1]);
			expect(await offsetsOf(group, a.member_id, onInterval)).toEqual([2, 3]); // the first auto-commit: 2
			expect(await offsetsOf(group, a.member_id, onInterval)).toEqual([4]); // confirms 4, within the interval
			await recreate(topic, group, true);
			expect(await offsetsOf(group, a.member_id, onInterval)).toEqual([0, 1]);
		});
	});

	it("refuses a join naming a topic that does not exist", async () => {
		const error = await expectError("POST", `/v1/groups/${uniqueGroup()}/members`, 404, "topic_not_found", {
			body: { topics: ["no-such-topic"] },
		});
		expect(error.topic).toBe("no-such-topic");
	});

	it("gives members beyond the partition count an empty assignment", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const group = uniqueGroup();
		await join(group, { topics: [topic] });
		const idle = await join(group, { topics: [topic] });
		expect(idle.assignment).toEqual([]);
		const polled = await poll(group, idle.member_id, { wait_ms: 5 });
		expect(polled).toEqual({ records: [], generation: idle.generation, assignment: [] });
	});

	it("rebuilds members, generation, assignment and commits from SQLite after the objects are evicted", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		await produce(topic, [
			{ value: 1, partition: 0 },
			{ value: 2, partition: 1 },
		]);
		const group = uniqueGroup();
		const a = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const b = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const aView = await heartbeat(group, a.member_id);
		await commit(group, a.member_id, aView.generation, [{ ...(aView.assignment[0] as { topic: string; partition: number }), offset: 1 }]);
		const before = await describeGroup(group);
		await abortAllDurableObjects();
		expect(await describeGroup(group)).toEqual(before);
		expect(await heartbeat(group, b.member_id)).toEqual({ generation: b.generation, assignment: b.assignment });
		const polled = await poll(group, b.member_id);
		expect(polled.records.map((r) => r.value)).toEqual([b.assignment[0]?.partition === 0 ? 1 : 2]);
	});
});
