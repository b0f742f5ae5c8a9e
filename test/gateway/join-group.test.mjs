// @ts-nocheck — the stand-in Tributary answers only what JoinGroup asks of it.
/**
 * JoinGroup's KIP-394 handshake against a stand-in for Tributary's coordinator that keeps members as the Worker's
 * join does (a proposed `member_id` already in the group is that member again, an unknown one is added under it):
 * from v4 a join with no member id and no group.instance.id is answered MEMBER_ID_REQUIRED with an id to retry
 * with, the retry joins under that id, and a retry whose answer was lost finds that member instead of adding one.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { issueMemberId, joinedMemberId, joinGroup, leaveGroup } from "../../gateway/handlers/groups.js";
import { joinRequest, JOIN_SESSION_TIMEOUT_MS as SESSION_TIMEOUT_MS } from "./lib/join-request.mjs";

/**
 * A coordinator with one group's members (member id → topics; `instances`: member id → its instance id, null for a
 * dynamic one, which its describe reports), recording the bodies of its joins. `describable`
 * false: the key may not describe the group (403), as one with only `consume` on it, which may still join and heartbeat.
 * `unknownFields`: join fields the Worker is too old for (members that rejoin, their rebalance timeout), which its
 * strict bodies refuse with the Worker's message.
 */
function standIn({ describable = true, unknownFields = [] } = {}) {
	/** @type {Map<string, string[]>} */
	const members = new Map();
	/** @type {Map<string, string | null>} */
	const instances = new Map();
	const joins = [];
	const tributary = {
		async describeGroup() {
			if (!describable)
				return {
					status: 403,
					body: { error: { code: "forbidden", message: 'key "k" may not describe group "billing"', resource: "group:billing" } },
				};
			if (members.size === 0) return { status: 404, body: { error: { code: "group_not_found", message: "no" } } };
			return {
				status: 200,
				body: {
					members: [...members].map(([member_id, topics]) => ({ member_id, topics, instance_id: instances.get(member_id) ?? null })),
				},
			};
		},
		async joinGroup(_group, body) {
			// A Worker from before a field: its strict bodies refuse it (naming its known fields), and nothing joins.
			const unknown = unknownFields.filter((field) => field in body);
			if (unknown.length > 0) {
				const named = unknown.map((field) => `"${field}"`).join(", ");
				const message = `unknown field${unknown.length === 1 ? "" : "s"} ${named}; known fields: topics, session_timeout_ms, instance_id, member_id, strategy, rejoins`;
				return { status: 400, body: { error: { code: "invalid_request", message } } };
			}
			// The Worker's KIP-345 fence: an instance id with a member id other than the one holding it changes nothing.
			const holder = [...instances].find(([, instance]) => instance !== null && instance === body.instance_id)?.[0];
			if (holder !== undefined && body.member_id !== undefined && body.member_id !== holder) {
				const message = `member "${body.member_id}" does not hold instance "${body.instance_id}": another member does`;
				return { status: 409, body: { error: { code: "fenced_instance", message, retriable: false } } };
			}
			joins.push(body);
			const memberId = body.member_id ?? `picked-${joins.length}`;
			members.set(memberId, body.topics);
			instances.set(memberId, body.instance_id ?? null);
			return { status: 200, body: { member_id: memberId, generation: 1, assignment: [] } };
		},
		async heartbeat(_group, member) {
			if (members.has(member)) return { status: 200, body: { generation: 1, assignment: [] } };
			return { status: 409, body: { error: { code: "unknown_member", message: "no" } } };
		},
		async leaveGroup(_group, member) {
			instances.delete(member);
			if (!members.delete(member)) return { status: 409, body: { error: { code: "unknown_member", message: "no" } } };
			return { status: 204, body: null };
		},
	};
	return { members, joins, tributary };
}

/** A JoinGroup request of group "billing" for `memberId`, subscribed to `topics`. */
const request = (memberId, groupInstanceId = null, topics = ["orders"]) => joinRequest("billing", topics, { memberId, groupInstanceId });

function context(tributary, version) {
	return { tributary, version, log: () => {} };
}

test("JoinGroup v4+ with no member id answers MEMBER_ID_REQUIRED with an id; the retry joins under it, and a retry of that finds the same member", async () => {
	const { members, joins, tributary } = standIn();
	const ctx = context(tributary, 7);
	const first = await joinGroup(request(""), ctx);
	assert.equal(first.errorCode, KAFKA.MEMBER_ID_REQUIRED);
	assert.notEqual(first.memberId, "");
	assert.equal(joins.length, 0, "nothing joins before the retry");

	const retried = await joinGroup(request(first.memberId), ctx);
	const joinedId = joinedMemberId(first.memberId);
	assert.equal(retried.errorCode, KAFKA.NONE);
	assert.equal(retried.memberId, joinedId);
	assert.equal(joins[0].member_id, joinedId);

	// That answer is lost: the client sends the same join again, which must find the member, not add one.
	const again = await joinGroup(request(first.memberId), ctx);
	assert.equal(again.errorCode, KAFKA.NONE);
	assert.equal(again.memberId, joinedId);
	assert.deepEqual([...members.keys()], [joinedId]);
});

test("a v4+ member rejoining with other topics keeps its member id, so a retry of that join whose answer was lost finds it", async () => {
	const { members, tributary } = standIn();
	const ctx = context(tributary, 7);
	const { memberId: issued } = await joinGroup(request(""), ctx);
	// A client goes on with the member id the join answered.
	const { memberId } = await joinGroup(request(issued), ctx);
	const topics = ["orders", "refunds"];
	const widened = await joinGroup(request(memberId, null, topics), ctx);
	// That answer is lost: the client sends the same join again, under the id it still has.
	const again = await joinGroup(request(memberId, null, topics), ctx);
	assert.deepEqual([widened.errorCode, again.errorCode], [KAFKA.NONE, KAFKA.NONE]);
	assert.deepEqual([widened.memberId, again.memberId], [memberId, memberId]);
	assert.deepEqual([...members], [[memberId, topics]]);
});

test("a member id the gateway did not just issue, or issued longer than a session ago, is UNKNOWN_MEMBER_ID and joins nothing", async () => {
	const { members, tributary } = standIn();
	const ctx = context(tributary, 7);
	const stale = issueMemberId(Date.now() - SESSION_TIMEOUT_MS - 1);
	const codes = [];
	for (const memberId of ["m-gone", stale]) codes.push((await joinGroup(request(memberId), ctx)).errorCode);
	assert.deepEqual(codes, [KAFKA.UNKNOWN_MEMBER_ID, KAFKA.UNKNOWN_MEMBER_ID]);
	assert.equal(members.size, 0);
});

test("JoinGroup below v4, and a static member's at any version, joins at once with no member id, as before KIP-394", async () => {
	const { members, joins, tributary } = standIn();
	const old = await joinGroup(request(""), context(tributary, 3));
	const named = await joinGroup(request("", "instance-1"), context(tributary, 7));
	assert.deepEqual([old.errorCode, named.errorCode], [KAFKA.NONE, KAFKA.NONE]);
	assert.deepEqual([old.memberId, named.memberId], ["picked-1", "picked-2"]);
	assert.deepEqual(
		joins.map((j) => j.member_id ?? null),
		[null, null],
	);
	assert.equal(members.size, 2);
});

test("a v4+ member that joined under an issued id, left, and rejoins with its member id within a session of the issue is UNKNOWN_MEMBER_ID", async () => {
	const { members, joins, tributary } = standIn();
	const ctx = context(tributary, 7);
	const { memberId: issued } = await joinGroup(request(""), ctx);
	const joined = await joinGroup(request(issued), ctx);
	assert.equal(joined.errorCode, KAFKA.NONE);
	await tributary.leaveGroup("billing", joined.memberId);
	// Kafka's coordinator forgets a member that left: its id is no longer pending, and a join with it is refused.
	const rejoined = await joinGroup(request(joined.memberId), ctx);
	assert.equal(rejoined.errorCode, KAFKA.UNKNOWN_MEMBER_ID);
	assert.equal(members.size, 0, "nothing joined");
	assert.equal(joins.length, 1);
});

test("LeaveGroup with the issued member id, the join's answer lost (a client closing mid-join), removes the member that join made", async () => {
	const { members, tributary } = standIn();
	const { memberId: issued } = await joinGroup(request(""), context(tributary, 7));
	await joinGroup(request(issued), context(tributary, 7));
	assert.deepEqual([...members.keys()], [joinedMemberId(issued)]);
	// The client never learnt the joined id: it leaves under the one it has, as it would from a broker's pending member.
	const left = await leaveGroup({ groupId: "billing", members: [{ memberId: issued, groupInstanceId: null }] }, context(tributary, 4));
	assert.deepEqual(
		left.members.map((m) => [m.memberId, m.errorCode]),
		[[issued, KAFKA.NONE]],
	);
	assert.equal(members.size, 0, "the member the lost join made left, not held its partitions for a session");
	const old = await leaveGroup({ groupId: "billing", memberId: issued }, context(tributary, 2));
	assert.equal(old.errorCode, KAFKA.UNKNOWN_MEMBER_ID, "gone: a second leave finds no member");
});

test("a dynamic member joins as one that rejoins, and its rejoin is a join again under its id (Kafka's barrier)", async () => {
	const { members, joins, tributary } = standIn();
	const ctx = context(tributary, 7);
	const { memberId: issued } = await joinGroup(request(""), ctx);
	const { memberId } = await joinGroup(request(issued), ctx);
	const rejoined = await joinGroup(request(memberId), ctx);
	assert.equal(rejoined.errorCode, KAFKA.NONE);
	assert.equal(rejoined.memberId, memberId);
	assert.deepEqual(
		joins.map((j) => [j.member_id, j.rejoins]),
		[
			[memberId, true],
			[memberId, true],
		],
	);
	assert.deepEqual([...members.keys()], [memberId]);
});

test("a static member joins as one that rejoins too, and its rejoin is a join naming its instance id and its own member id (not KIP-345's restart)", async () => {
	const { members, joins, tributary } = standIn();
	const ctx = context(tributary, 7);
	const fixed = await joinGroup(request("", "instance-1"), ctx);
	assert.equal(fixed.errorCode, KAFKA.NONE, "a static member needs no id first (KIP-394 is for dynamic ones)");
	const rejoined = await joinGroup(request(fixed.memberId, "instance-1"), ctx);
	assert.deepEqual([rejoined.errorCode, rejoined.memberId], [KAFKA.NONE, fixed.memberId]);
	assert.deepEqual(
		joins.map((j) => [j.instance_id, j.member_id, j.rejoins]),
		[
			["instance-1", undefined, true],
			["instance-1", fixed.memberId, true],
		],
	);
	assert.deepEqual([...members.keys()], [fixed.memberId]);
	// A member id Tributary does not have with an instance id another member id holds: the caller is fenced, as a
	// broker's doCurrentMemberJoinGroup answers (isStaticMemberFenced, asked before whether the member id is known).
	const fenced = await joinGroup(request("m-gone", "instance-1"), ctx);
	assert.equal(fenced.errorCode, KAFKA.FENCED_INSTANCE_ID);
	// Neither known (its session ran out and no member took the instance): UNKNOWN_MEMBER_ID, as on a broker.
	const gone = await joinGroup(request("m-gone", "instance-2"), ctx);
	assert.equal(gone.errorCode, KAFKA.UNKNOWN_MEMBER_ID);
	assert.equal(joins.length, 2, "nothing joins under either");
});

test("a join naming a member id the group has under another instance id (or none) is not that member's rejoin", async () => {
	const { members, joins, tributary } = standIn();
	const ctx = context(tributary, 7);
	const one = await joinGroup(request("", "instance-1"), ctx);
	const two = await joinGroup(request("", "instance-2"), ctx);
	const { memberId: issued } = await joinGroup(request(""), ctx);
	const dynamic = await joinGroup(request(issued), ctx);
	const before = [...members];
	// instance-1 is one's: two's member id with it is fenced, as on a broker (and does not take instance-1's place).
	assert.equal((await joinGroup(request(two.memberId, "instance-1"), ctx)).errorCode, KAFKA.FENCED_INSTANCE_ID);
	// An instance id nobody holds with a dynamic member's id, and a static member's id with none: a broker finds no
	// such static member (UNKNOWN_MEMBER_ID), and the gateway does not make a member of another's id either.
	assert.equal((await joinGroup(request(dynamic.memberId, "instance-3"), ctx)).errorCode, KAFKA.UNKNOWN_MEMBER_ID);
	assert.equal((await joinGroup(request(one.memberId), ctx)).errorCode, KAFKA.UNKNOWN_MEMBER_ID);
	assert.equal(joins.length, 3, "nothing joins after the three members");
	assert.deepEqual([...members], before);
});

test("a key that may not describe the group: a member Tributary removed rejoins to UNKNOWN_MEMBER_ID, not made again; one it has rejoins", async () => {
	const { members, joins, tributary } = standIn({ describable: false });
	const ctx = context(tributary, 7);
	const { memberId: issued } = await joinGroup(request(""), ctx);
	const joined = await joinGroup(request(issued), ctx);
	assert.equal(joined.errorCode, KAFKA.NONE, "a pending member joins");
	const rejoined = await joinGroup(request(joined.memberId), ctx);
	assert.deepEqual([rejoined.errorCode, rejoined.memberId], [KAFKA.NONE, joined.memberId]);
	assert.equal(joins.length, 2);
	// Tributary removed it (its session ran out): a broker answers its rejoin UNKNOWN_MEMBER_ID, and it joins afresh.
	members.delete(joined.memberId);
	const removed = await joinGroup(request(joined.memberId), ctx);
	assert.equal(removed.errorCode, KAFKA.UNKNOWN_MEMBER_ID);
	assert.equal(members.size, 0, "nothing joined");
	assert.equal(joins.length, 2);
});

test("a key that may not describe the group: a static join naming another member's id is fenced by the Worker (FENCED_INSTANCE_ID), and takes nothing", async () => {
	const { members, joins, tributary } = standIn({ describable: false });
	const ctx = context(tributary, 7);
	const one = await joinGroup(request("", "instance-1"), ctx);
	const two = await joinGroup(request("", "instance-2"), ctx);
	const before = [...members];
	// The heartbeat says two's member id is in the group, not whose instance it holds: the gateway joins, and the
	// Worker, which holds instance-1 for one, answers fenced_instance.
	const fenced = await joinGroup(request(two.memberId, "instance-1"), ctx);
	assert.equal(fenced.errorCode, KAFKA.FENCED_INSTANCE_ID);
	assert.deepEqual([...members], before);
	assert.equal(joins.length, 2, "nothing joined");
	assert.equal((await joinGroup(request(one.memberId, "instance-1"), ctx)).errorCode, KAFKA.NONE, "its holder rejoins");
});

test("a Worker from before members that rejoin (it refuses the fields): the member joins and rejoins without them, as before", async () => {
	const { members, joins, tributary } = standIn({ unknownFields: ["rejoins", "rebalance_timeout_ms"] });
	const ctx = context(tributary, 7);
	const { memberId: issued } = await joinGroup(request(""), ctx);
	const joined = await joinGroup(request(issued), ctx);
	assert.equal(joined.errorCode, KAFKA.NONE);
	const rejoined = await joinGroup(request(joined.memberId), ctx);
	assert.deepEqual([rejoined.errorCode, rejoined.memberId], [KAFKA.NONE, joined.memberId]);
	assert.deepEqual(
		joins.map((j) => [j.member_id, "rejoins" in j || "rebalance_timeout_ms" in j]),
		[
			[joined.memberId, false],
			[joined.memberId, false],
		],
	);
	assert.deepEqual([...members.keys()], [joined.memberId]);
});

test("a dynamic member's join carries its rebalance timeout: JoinGroup's from v1, the session timeout at v0 (as a broker uses)", async () => {
	const { joins, tributary } = standIn();
	await joinGroup({ ...request("", null, ["orders"]), rebalanceTimeoutMs: 300_000 }, context(tributary, 3));
	await joinGroup({ ...request("", null, ["orders"]), rebalanceTimeoutMs: -1 }, context(tributary, 0));
	assert.deepEqual(
		joins.map((j) => [j.rejoins, j.rebalance_timeout_ms]),
		[
			[true, 300_000],
			[true, SESSION_TIMEOUT_MS],
		],
	);
});

test("a Worker with members that rejoin but before their rebalance timeout: the member still joins as one that rejoins", async () => {
	const { joins, tributary } = standIn({ unknownFields: ["rebalance_timeout_ms"] });
	const joined = await joinGroup(request("", null, ["orders"]), context(tributary, 3));
	assert.equal(joined.errorCode, KAFKA.NONE);
	assert.deepEqual(joins, [
		{ topics: ["orders"], session_timeout_ms: SESSION_TIMEOUT_MS, instance_id: null, strategy: "range", rejoins: true },
	]);
});
