// @ts-nocheck — the stand-in Tributary answers only what JoinGroup and DescribeGroups ask of it.
/**
 * A Kafka member's client id, carried in the member id as Kafka's coordinator carries it (`<client.id>-<unique>`):
 * the id JoinGroup issues with MEMBER_ID_REQUIRED begins with the request's client id, within Tributary's member id
 * charset and length, and DescribeGroups reads it back as the member's clientId (what `kafka-consumer-groups
 * --describe --members` shows as CLIENT-ID). Members whose id carries none (HTTP members, static members, joins below
 * v4) show an empty one, as before.
 */

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { describeGroups } from "../../gateway/handlers/group-admin.js";
import { isPending, joinGroup } from "../../gateway/handlers/groups.js";
import { MEMBER_ID_LENGTH_MAX } from "../../gateway/limits.js";
import { joinRequest, JOIN_SESSION_TIMEOUT_MS as SESSION_TIMEOUT_MS } from "./lib/join-request.mjs";

/** Tributary's member ids (src/http/schemas.ts KAFKA_NAME_PATTERN, MEMBER_ID_LENGTH_MAX). */
const MEMBER_ID = /^[a-zA-Z0-9._-]+$/;

/** A coordinator with one group whose members the joins add (`member_id` as proposed). */
function standIn() {
	/** @type {string[]} */
	const members = [];
	const tributary = {
		async describeGroup() {
			const described = members.map((member_id) => ({ member_id, instance_id: null, topics: ["orders"], assignment: [] }));
			return { status: 200, body: { state: "stable", strategy: "range", members: described, offsets: [] } };
		},
		async joinGroup(_group, body) {
			const memberId = body.member_id ?? randomUUID();
			members.push(memberId);
			return { status: 200, body: { member_id: memberId, generation: 1, assignment: [] } };
		},
	};
	return { members, tributary };
}

/** A dynamic member's JoinGroup of group "billing" under `memberId` ("" for its first). */
const request = (memberId) => joinRequest("billing", ["orders"], { memberId });

/** Joins as a client with `clientId` (v7: MEMBER_ID_REQUIRED, then the retry), answering the joined member id. */
async function join(tributary, clientId) {
	const ctx = { tributary, version: 7, log: () => {}, clientId };
	const first = await joinGroup(request(""), ctx);
	assert.equal(first.errorCode, KAFKA.MEMBER_ID_REQUIRED);
	assert.ok(first.memberId.length <= MEMBER_ID_LENGTH_MAX && MEMBER_ID.test(first.memberId), first.memberId);
	assert.ok(isPending(first.memberId, Date.now(), SESSION_TIMEOUT_MS), first.memberId);
	const joined = await joinGroup(request(first.memberId), ctx);
	assert.equal(joined.errorCode, KAFKA.NONE);
	assert.ok(joined.memberId.length <= MEMBER_ID_LENGTH_MAX && MEMBER_ID.test(joined.memberId), joined.memberId);
	return { issued: first.memberId, joined: joined.memberId };
}

test("the issued member id begins with the client id, as Kafka's; DescribeGroups shows it as the member's clientId", async () => {
	const { members, tributary } = standIn();
	const { issued } = await join(tributary, "rdkafka");
	assert.match(issued, /^rdkafka-/);
	await join(tributary, "consumer-billing-service-1");
	members.push(randomUUID()); // an HTTP member: Tributary's own id, no client id in it
	const [group] = (await describeGroups({ groups: ["billing"], includeAuthorizedOperations: false }, { tributary, version: 5 })).groups;
	assert.deepEqual(
		group.members.map((m) => m.clientId),
		["rdkafka", "consumer-billing-service-1", ""],
	);
});

test("a client id outside Tributary's member id charset, or too long, is carried as far as it fits: other characters as '_', cut", async () => {
	const { tributary } = standIn();
	const long = `svc ${"x".repeat(80)}`;
	await join(tributary, long);
	await join(tributary, "");
	await join(tributary, null);
	const [group] = (await describeGroups({ groups: ["billing"], includeAuthorizedOperations: false }, { tributary, version: 5 })).groups;
	const [cut, empty, absent] = group.members.map((m) => m.clientId);
	assert.ok(cut.length > 16 && long.replace(" ", "_").startsWith(cut), cut);
	assert.deepEqual([empty, absent], ["", ""]);
});

test("an id issued before client ids were carried (a UUID and its issue time) is still pending", () => {
	assert.ok(isPending(`${randomUUID()}.${Date.now().toString(36)}`, Date.now(), SESSION_TIMEOUT_MS));
});
