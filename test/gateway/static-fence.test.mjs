// @ts-nocheck — the stand-in Tributary answers only what the group calls ask of it.
/**
 * KIP-345's fence on every call that names a static member, against a stand-in for Tributary's coordinator that keeps
 * members as the Worker does: a join naming an instance id some member holds and no member id is the instance's
 * restart (a new member id takes the instance; the old one is gone, `unknown_member`). The replaced process's next
 * Heartbeat, SyncGroup, OffsetCommit or LeaveGroup names its old member id and the instance id: a broker answers
 * FENCED_INSTANCE_ID (isStaticMemberFenced), which clients take as fatal, so two processes with one
 * group.instance.id stop instead of taking it from each other in turn. A dynamic member Tributary does not have,
 * or a key that may not describe the group, is still UNKNOWN_MEMBER_ID; a member Tributary has costs no describe.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { heartbeat, joinGroup, leaveGroup, syncGroup } from "../../gateway/handlers/groups.js";
import { offsetCommit } from "../../gateway/handlers/offsets.js";
import { COMMIT_METADATA_BYTES_MAX } from "../../gateway/limits.js";
import { joinRequest } from "./lib/join-request.mjs";

const GROUP = "billing";
const GENERATION = 1;

/**
 * A coordinator of group GROUP (member id → its instance id, null for a dynamic member), counting its describes.
 * `describable` false: the key may not describe the group (403), as one with only `consume` on it; `describeDown`:
 * the describe fails as a Worker that is busy or down does (503). Its heartbeat and commit take the member's
 * `instance_id` and fence it as the Worker does (`fenced_instance` when another member holds the instance, a member
 * call's `unknown_member` when none does, as Kafka's validateMember), and so
 * does its leave; `olderWorker`: as a Worker from before that field, whose strict bodies refuse it (400), and whose
 * leave ignores it (an unknown query parameter).
 */
function standIn({ describable = true, describeDown = false, olderWorker = false } = {}) {
	/** @type {Map<string, string | null>} */
	const members = new Map();
	const calls = { describes: 0, heartbeats: [], commits: [], leaves: [] };
	const unknown = { status: 409, body: { error: { code: "unknown_member", message: "no such member" } } };
	const refused = { status: 400, body: { error: { code: "invalid_request", message: 'request: unknown field "instance_id"' } } };
	/** The Worker's answer to a member call naming `member` and `instance` before it looks at anything else, or null. */
	const fence = (member, instance) => {
		if (instance === undefined || instance === null) return null;
		if (olderWorker) return refused;
		const holder = [...members].find(([, held]) => held === instance)?.[0];
		// A standalone commit (no member) too: an instance no one holds is unknown_member, as Kafka's validateMember.
		if (holder === undefined) return unknown;
		return holder === member
			? null
			: { status: 409, body: { error: { code: "fenced_instance", message: `member "${member}" does not hold instance "${instance}"` } } };
	};
	const tributary = {
		async describeGroup() {
			calls.describes++;
			if (describeDown) return { status: 503, body: { error: { code: "unavailable", message: "try again", retriable: true } } };
			if (!describable)
				return { status: 403, body: { error: { code: "forbidden", message: "may not describe", resource: `group:${GROUP}` } } };
			if (members.size === 0) return { status: 404, body: { error: { code: "group_not_found", message: "no" } } };
			const described = [...members].map(([member_id, instance_id]) => ({ member_id, instance_id, topics: ["orders"] }));
			return { status: 200, body: { members: described, offsets: [] } };
		},
		async joinGroup(_group, body) {
			// KIP-345's restart: the instance's holder is replaced by a new member id.
			const holder = [...members].find(([, instance]) => instance !== null && instance === body.instance_id)?.[0];
			if (holder !== undefined && body.member_id === undefined) members.delete(holder);
			const memberId = body.member_id ?? `picked-${members.size + 1}-${Math.random().toString(36).slice(2)}`;
			members.set(memberId, body.instance_id ?? null);
			return { status: 200, body: { member_id: memberId, generation: GENERATION, assignment: [] } };
		},
		async heartbeat(_group, member, instance = null) {
			calls.heartbeats.push(instance);
			return fence(member, instance) ?? (members.has(member) ? { status: 200, body: { generation: GENERATION, assignment: [] } } : unknown);
		},
		async commit(_group, body) {
			calls.commits.push(body.instance_id ?? null);
			return fence(body.member_id ?? "", body.instance_id) ?? (members.has(body.member_id) ? { status: 200, body: {} } : unknown);
		},
		async leaveGroup(_group, member, instance = null) {
			calls.leaves.push(instance);
			return (olderWorker ? null : fence(member, instance)) ?? (members.delete(member) ? { status: 204, body: null } : unknown);
		},
	};
	return { members, calls, tributary };
}

const context = (tributary, version) => ({ tributary, version, log: () => {} });

/** Each call naming a member, at the first version that carries its group.instance.id, answering its error code. */
const CALLS = {
	Heartbeat: async (ctx, memberId, groupInstanceId) =>
		(await heartbeat({ groupId: GROUP, generationId: GENERATION, memberId, groupInstanceId }, context(ctx, 3))).errorCode,
	SyncGroup: async (ctx, memberId, groupInstanceId) => {
		const request = {
			groupId: GROUP,
			generationId: GENERATION,
			memberId,
			groupInstanceId,
			protocolType: "consumer",
			protocolName: "range",
			assignments: [],
		};
		return (await syncGroup(request, context(ctx, 3))).errorCode;
	},
	OffsetCommit: async (ctx, memberId, groupInstanceId) => {
		const partitions = [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }];
		const request = {
			groupId: GROUP,
			generationIdOrMemberEpoch: GENERATION,
			memberId,
			groupInstanceId,
			topics: [{ name: "orders", partitions }],
		};
		return (await offsetCommit(request, context(ctx, 7))).topics[0].partitions[0].errorCode;
	},
	LeaveGroup: async (ctx, memberId, groupInstanceId) =>
		(await leaveGroup({ groupId: GROUP, members: [{ memberId, groupInstanceId, reason: null }] }, context(ctx, 3))).members[0].errorCode,
};

/** A static member of `instance` that another process with the same instance id then replaced (KIP-345's restart). */
async function replaced(tributary, instance) {
	const first = await joinGroup(joinRequest(GROUP, ["orders"], { groupInstanceId: instance }), context(tributary, 5));
	const second = await joinGroup(joinRequest(GROUP, ["orders"], { groupInstanceId: instance }), context(tributary, 5));
	assert.deepEqual([first.errorCode, second.errorCode], [KAFKA.NONE, KAFKA.NONE]);
	assert.notEqual(first.memberId, second.memberId, "the restart took the instance under a new member id");
	return { old: first.memberId, holder: second.memberId };
}

for (const [name, call] of Object.entries(CALLS)) {
	for (const olderWorker of [false, true])
		test(`${name} from a static member another process with its group.instance.id replaced is FENCED_INSTANCE_ID, and the instance stays the other's${olderWorker ? " (a Worker from before instance_id on member calls: fenced from the describe)" : ""}`, async () => {
			const { members, tributary } = standIn({ olderWorker });
			const { old, holder } = await replaced(tributary, "instance-1");
			assert.equal(await call(tributary, old, "instance-1"), KAFKA.FENCED_INSTANCE_ID);
			assert.deepEqual([...members], [[holder, "instance-1"]]);
		});

	test(`${name} from a dynamic member Tributary does not have is still UNKNOWN_MEMBER_ID`, async () => {
		const { tributary } = standIn();
		await replaced(tributary, "instance-1");
		assert.equal(await call(tributary, "m-gone", null), KAFKA.UNKNOWN_MEMBER_ID);
	});

	// The Worker fences the calls that name the instance id to it (every one, the leave too); a Worker from before
	// that leaves only the describe to say whose the instance is, and the key is refused it.
	for (const olderWorker of [false, true]) {
		const expected = olderWorker ? KAFKA.UNKNOWN_MEMBER_ID : KAFKA.FENCED_INSTANCE_ID;
		test(`${name} from a replaced static member with a key that may not describe the group is ${expected === KAFKA.FENCED_INSTANCE_ID ? "FENCED_INSTANCE_ID (the Worker's answer)" : `UNKNOWN_MEMBER_ID${olderWorker ? " from a Worker from before instance_id on member calls" : ""} (nothing says whose the instance is)`}`, async () => {
			const { members, tributary } = standIn({ describable: false, olderWorker });
			// The describe refused, the join is the Worker's restart all the same (the stand-in replaces the holder).
			await joinGroup(joinRequest(GROUP, ["orders"], { groupInstanceId: "instance-1" }), context(tributary, 5));
			const [old] = members.keys();
			await joinGroup(joinRequest(GROUP, ["orders"], { groupInstanceId: "instance-1" }), context(tributary, 5));
			assert.ok(!members.has(old));
			const code = await call(tributary, old, "instance-1");
			assert.equal(code, expected);
			assert.equal(members.size, 1);
		});
	}
}

test("JoinGroup naming a replaced static member's id, with a key that may not describe the group, is FENCED_INSTANCE_ID (the Worker's heartbeat answer), and joins nothing", async () => {
	const { members, tributary } = standIn({ describable: false });
	await joinGroup(joinRequest(GROUP, ["orders"], { groupInstanceId: "instance-1" }), context(tributary, 5));
	const [old] = members.keys();
	await joinGroup(joinRequest(GROUP, ["orders"], { groupInstanceId: "instance-1" }), context(tributary, 5));
	const [holder] = members.keys();
	const again = await joinGroup(joinRequest(GROUP, ["orders"], { groupInstanceId: "instance-1", memberId: old }), context(tributary, 5));
	assert.equal(again.errorCode, KAFKA.FENCED_INSTANCE_ID);
	assert.deepEqual([...members], [[holder, "instance-1"]]);
});

test("a static member's Heartbeat, SyncGroup, OffsetCommit and LeaveGroup name its instance id to the Worker; a dynamic member's name none", async () => {
	const { calls, tributary } = standIn();
	const { holder } = await replaced(tributary, "instance-1");
	calls.heartbeats.length = 0;
	for (const name of ["Heartbeat", "SyncGroup", "OffsetCommit", "LeaveGroup"]) await CALLS[name](tributary, holder, "instance-1");
	await CALLS.Heartbeat(tributary, "m-dynamic", null);
	await CALLS.LeaveGroup(tributary, "m-dynamic", null);
	assert.deepEqual(calls.heartbeats, ["instance-1", "instance-1", null]);
	assert.deepEqual(calls.commits, ["instance-1"]);
	assert.deepEqual(calls.leaves, ["instance-1", null]);
});

test("a standalone OffsetCommit (no member, generation -1) naming an instance a member holds is FENCED_INSTANCE_ID, one naming an instance no member holds UNKNOWN_MEMBER_ID, from the Worker", async () => {
	const { calls, tributary } = standIn({ describable: false });
	await joinGroup(joinRequest(GROUP, ["orders"], { groupInstanceId: "instance-1" }), context(tributary, 5));
	const partitions = [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }];
	const request = {
		groupId: GROUP,
		generationIdOrMemberEpoch: -1,
		memberId: "",
		groupInstanceId: "instance-1",
		topics: [{ name: "orders", partitions }],
	};
	const answer = await offsetCommit(request, context(tributary, 7));
	assert.equal(answer.topics[0].partitions[0].errorCode, KAFKA.FENCED_INSTANCE_ID);
	// One no member holds: the Worker's unknown_member, a broker's UNKNOWN_MEMBER_ID (validateMember).
	const unheld = await offsetCommit({ ...request, groupInstanceId: "instance-2" }, context(tributary, 7));
	assert.equal(unheld.topics[0].partitions[0].errorCode, KAFKA.UNKNOWN_MEMBER_ID);
	assert.deepEqual(calls.commits, ["instance-1", "instance-2"]);
});

// With nothing to send (every partition's metadata over the cap), a generation -1 commit's member is checked in the
// group's describe, not by a heartbeat (which would renew its session): the instance's fence comes first there too.
test("a generation -1 OffsetCommit with nothing to send, naming a replaced member and its instance, is FENCED_INSTANCE_ID from the describe, with no heartbeat", async () => {
	const { calls, tributary } = standIn();
	const { old } = await replaced(tributary, "instance-1");
	const heartbeats = calls.heartbeats.length;
	const metadata = "m".repeat(COMMIT_METADATA_BYTES_MAX + 1);
	const partitions = [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: metadata }];
	const request = {
		groupId: GROUP,
		generationIdOrMemberEpoch: -1,
		memberId: old,
		groupInstanceId: "instance-1",
		topics: [{ name: "orders", partitions }],
	};
	const answer = await offsetCommit(request, context(tributary, 7));
	assert.equal(answer.topics[0].partitions[0].errorCode, KAFKA.FENCED_INSTANCE_ID);
	assert.equal(calls.heartbeats.length, heartbeats);
});

test("an OffsetCommit at generation -1 naming the static member that holds its instance is ILLEGAL_GENERATION, as a broker answers, not FENCED_INSTANCE_ID", async () => {
	const { calls, members, tributary } = standIn();
	const joined = await joinGroup(joinRequest(GROUP, ["orders"], { groupInstanceId: "instance-1" }), context(tributary, 5));
	const partitions = [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }];
	const request = {
		groupId: GROUP,
		generationIdOrMemberEpoch: -1,
		memberId: joined.memberId,
		groupInstanceId: "instance-1",
		topics: [{ name: "orders", partitions }],
	};
	const answer = await offsetCommit(request, context(tributary, 7));
	assert.equal(answer.topics[0].partitions[0].errorCode, KAFKA.ILLEGAL_GENERATION);
	// The standalone commit names no instance (it has no member to fence); the member check that follows does.
	assert.deepEqual(calls.commits, [null]);
	assert.deepEqual([...members], [[joined.memberId, "instance-1"]]);
});

test("LeaveGroup naming a member id and its instance id is judged by the Worker's leave, with no describe: the holder leaves, a replaced member is FENCED_INSTANCE_ID, even while the describe fails", async () => {
	const { calls, members, tributary } = standIn({ describeDown: true });
	const { old, holder } = await replaced(tributary, "instance-1");
	assert.equal(await CALLS.LeaveGroup(tributary, old, "instance-1"), KAFKA.FENCED_INSTANCE_ID);
	assert.deepEqual([...members], [[holder, "instance-1"]]);
	assert.equal(await CALLS.LeaveGroup(tributary, holder, "instance-1"), KAFKA.NONE);
	assert.deepEqual([...members], []);
	assert.equal(calls.describes, 0);
});

// A Worker that took the instance id has judged it: its unknown_member says no other member holds the instance, and
// the describe, which would say the same, is not asked. The leave's refusal is the exception: a Worker from before
// instance_id on the leave ignores the parameter, and nothing tells it apart from one that judged it.
test("a static member Tributary no longer has, whose instance no one holds (its session ran out), is UNKNOWN_MEMBER_ID on Heartbeat, SyncGroup and OffsetCommit with no describe", async () => {
	const { calls, members, tributary } = standIn();
	const joined = await joinGroup(joinRequest(GROUP, ["orders"], { groupInstanceId: "instance-1" }), context(tributary, 5));
	members.delete(joined.memberId);
	const before = calls.describes;
	for (const name of ["Heartbeat", "SyncGroup", "OffsetCommit"])
		assert.equal(await CALLS[name](tributary, joined.memberId, "instance-1"), KAFKA.UNKNOWN_MEMBER_ID, name);
	assert.equal(calls.describes, before);
});

test("Heartbeat, SyncGroup and OffsetCommit of the static member holding its instance describe nothing: the fence is asked only on a refusal", async () => {
	const { calls, tributary } = standIn();
	const { holder } = await replaced(tributary, "instance-1");
	const before = calls.describes;
	for (const name of ["Heartbeat", "SyncGroup", "OffsetCommit"])
		assert.equal(await CALLS[name](tributary, holder, "instance-1"), KAFKA.NONE, name);
	assert.equal(calls.describes, before);
});

// Kafka's ClassicGroup.validateMember asks the instance first: one no member holds is UNKNOWN_MEMBER_ID even from a
// member the group has. The Worker answers it `unknown_member`, which the gateway passes on, not as a fence.
test("Heartbeat, SyncGroup, OffsetCommit and LeaveGroup from a member Tributary has, naming a group.instance.id no member holds, are UNKNOWN_MEMBER_ID, and the member stays", async () => {
	const { members, tributary } = standIn();
	const { holder } = await replaced(tributary, "instance-1");
	const dynamic = (await joinGroup(joinRequest(GROUP, ["orders"]), context(tributary, 3))).memberId;
	const answers = [];
	for (const member of [holder, dynamic])
		for (const [name, call] of Object.entries(CALLS)) answers.push(`${name}: ${await call(tributary, member, "instance-2")}`);
	assert.deepEqual(
		answers,
		[...Object.keys(CALLS), ...Object.keys(CALLS)].map((name) => `${name}: ${KAFKA.UNKNOWN_MEMBER_ID}`),
	);
	assert.deepEqual(
		[...members],
		[
			[holder, "instance-1"],
			[dynamic, null],
		],
	);
});

// A gateway may run ahead of the Worker (deployed first, or the Worker rolled back): a Worker from before instance_id on
// member calls refuses the field, and the gateway asks again without it, so static members keep working there. That
// Worker cannot judge an instance no member holds, so a member Tributary has naming one is served, where a current
// Worker answers UNKNOWN_MEMBER_ID (docs/kafka-gateway.md, Deviations); the leave ignores the parameter, and leaves.
test("against a Worker from before instance_id on member calls, a member Tributary has naming an instance no member holds is served: each call asked again without the instance, with no describe", async () => {
	const { calls, members, tributary } = standIn({ olderWorker: true });
	const { holder } = await replaced(tributary, "instance-1");
	calls.heartbeats.length = 0;
	const before = calls.describes;
	const answers = [];
	for (const [name, call] of Object.entries(CALLS)) answers.push(`${name}: ${await call(tributary, holder, "instance-2")}`);
	assert.deepEqual(
		answers,
		Object.keys(CALLS).map((name) => `${name}: ${KAFKA.NONE}`),
	);
	assert.deepEqual(calls.heartbeats, ["instance-2", null, "instance-2", null]);
	assert.deepEqual(calls.commits, ["instance-2", null]);
	assert.deepEqual(calls.leaves, ["instance-2"]);
	assert.equal(calls.describes, before);
	assert.deepEqual([...members], []);
});
