/**
 * CreatePartitions and DeleteGroups as a Kafka broker answers them, against a stand-in for Tributary that keeps
 * topics and groups and records every call: both are advertised and decoded in every served version (flexible ones
 * too); CreatePartitions grows a topic through the Confluent mount's partition-count update and refuses as Kafka does
 * (a count that does not grow, a name twice, a replica assignment off node 0 or not one per new partition, a topic
 * unknown or not the caller's), and its
 * validateOnly checks without changing; DeleteGroups deletes an empty group and answers NON_EMPTY_GROUP,
 * GROUP_ID_NOT_FOUND and GROUP_AUTHORIZATION_FAILED where Kafka's coordinator does.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRequest } from "../../gateway/connection.js";
import { KAFKA } from "../../gateway/errors.js";
import { createPartitions } from "../../gateway/handlers/cluster.js";
import { deleteGroups } from "../../gateway/handlers/group-admin.js";
import { APIS, advertisedApis, codecs } from "../../gateway/protocol/apis.js";
import { Writer } from "../../gateway/protocol/io.js";

const TOPIC_PATH = /^\/kafka\/v3\/clusters\/tributary\/topics\/([^/]+)$/;
const GROUP_PATH = /^\/v1\/groups\/([^/]+)$/;

/**
 * A Tributary with `topics` (name → partitions) and `groups` (id → members); `denied` names the topics and groups
 * the caller has no right to. Answers as the Worker does: the right first, then the topic or group, then the change.
 * @param {{ topics?: Record<string, number>, groups?: Record<string, number>, denied?: string[] }} state
 */
function standIn({ topics = {}, groups = {}, denied = [] }) {
	const partitions = new Map(Object.entries(topics));
	const members = new Map(Object.entries(groups));
	/** @type {string[]} */
	const calls = [];
	const refuse = (/** @type {number} */ status, /** @type {string} */ code, extra = {}) => ({
		status,
		body: { error: { code, message: code, ...extra } },
	});
	const tributary = {
		/** @param {string} method @param {string} path @param {any} body */
		async call(method, path, body) {
			const topic = TOPIC_PATH.exec(path);
			if (method === "PATCH" && topic) {
				const name = decodeURIComponent(topic[1]);
				calls.push(`patch ${name} ${body.partitions_count}`);
				if (denied.includes(name)) return refuse(403, "forbidden");
				const now = partitions.get(name);
				if (now === undefined) return refuse(404, "topic_not_found");
				if (body.partitions_count <= now) return refuse(400, "invalid_partitions", { partitions: now });
				partitions.set(name, body.partitions_count);
				return { status: 200, body: { topic_name: name, partitions_count: body.partitions_count } };
			}
			const group = GROUP_PATH.exec(path);
			if (method === "DELETE" && group) {
				const id = decodeURIComponent(group[1]);
				calls.push(`delete group ${id}`);
				if (denied.includes(id)) return refuse(403, "forbidden");
				const count = members.get(id);
				if (count === undefined) return refuse(404, "group_not_found");
				if (count > 0) return refuse(409, "group_not_empty", { members: count });
				members.delete(id);
				return { status: 204, body: null };
			}
			throw new Error(`unexpected ${method} ${path}`);
		},
	};
	return { tributary, calls, partitions, members };
}

/** A stand-in for the gateway's topic lists that counts how often they are marked stale. */
const topicLists = () => ({
	forgotten: 0,
	forget() {
		this.forgotten += 1;
	},
});

/** A request context on `tributary`, with the gateway's topic lists `topicList`. */
function context(tributary, topicList = topicLists()) {
	const session = { topicList };
	return /** @type {any} */ ({ tributary, session, version: 2, advertised: { host: "h", port: 1 }, log: () => {} });
}

const grow = (/** @type {string} */ name, /** @type {number} */ count, assignments = null) => ({ name, count, assignments });
const results = (/** @type {any} */ answer) =>
	answer.results.map((/** @type {any} */ r) => [r.name ?? r.groupId, r.errorCode]).sort((a, b) => a[0].localeCompare(b[0]));

/** A request frame as a client sends it: header v1 (v2 when flexible) and body, from Kafka's definitions. */
function requestFrame(name, version, body) {
	const api = [...APIS.values()].find((a) => a.name === name);
	assert.ok(api, `${name} is served`);
	const flexible = version >= api.request.flexible.min;
	const writer = new Writer();
	codecs
		.get("RequestHeader")
		.encode(writer, { requestApiKey: api.key, requestApiVersion: version, correlationId: 7, clientId: "test" }, flexible ? 2 : 1);
	api.request.encode(writer, body, version);
	return Buffer.from(writer.done());
}

test("ApiVersions advertises CreatePartitions (37) and DeleteGroups (42) in v0-3, and every version decodes, flexible ones too", () => {
	const advertised = new Map(advertisedApis().map((a) => [a.apiKey, [a.minVersion, a.maxVersion]]));
	assert.deepEqual(advertised.get(37), [0, 3]);
	assert.deepEqual(advertised.get(42), [0, 3]);
	for (let version = 0; version <= 3; version++) {
		const partitions = { topics: [grow("t", 4, [{ brokerIds: [0] }])], timeoutMs: 1_000, validateOnly: true };
		const parsed = /** @type {any} */ (parseRequest(requestFrame("CreatePartitions", version, partitions)));
		assert.deepEqual(parsed.body, partitions, `CreatePartitions v${version}`);
		const groups = { groupsNames: ["g1", "g2"] };
		assert.deepEqual(
			/** @type {any} */ (parseRequest(requestFrame("DeleteGroups", version, groups))).body,
			groups,
			`DeleteGroups v${version}`,
		);
	}
});

test("CreatePartitions grows a topic and marks the topic lists stale; a count that does not grow is INVALID_PARTITIONS", async () => {
	const { tributary, partitions } = standIn({ topics: { a: 1, b: 3 } });
	const lists = topicLists();
	const answer = await createPartitions(
		{ topics: [grow("a", 4), grow("b", 3)], timeoutMs: 1_000, validateOnly: false },
		context(tributary, lists),
	);
	assert.deepEqual(results(answer), [
		["a", KAFKA.NONE],
		["b", KAFKA.INVALID_PARTITIONS],
	]);
	assert.equal(partitions.get("a"), 4);
	assert.equal(partitions.get("b"), 3);
	assert.equal(lists.forgotten, 1, "a grown topic makes every connection list again");
});

test("CreatePartitions: an unknown topic is UNKNOWN_TOPIC_OR_PARTITION, one without the right TOPIC_AUTHORIZATION_FAILED", async () => {
	const { tributary } = standIn({ topics: { secret: 1 }, denied: ["secret"] });
	const lists = topicLists();
	const answer = await createPartitions(
		{ topics: [grow("missing", 2), grow("secret", 2)], timeoutMs: 1_000, validateOnly: false },
		context(tributary, lists),
	);
	assert.deepEqual(results(answer), [
		["missing", KAFKA.UNKNOWN_TOPIC_OR_PARTITION],
		["secret", KAFKA.TOPIC_AUTHORIZATION_FAILED],
	]);
	assert.equal(lists.forgotten, 0, "nothing changed, so the lists stay");
});

test("CreatePartitions refuses before asking Tributary: a name twice (INVALID_REQUEST, once), too many partitions", async () => {
	const { tributary, calls, partitions } = standIn({ topics: { dup: 1, huge: 1 } });
	const request = {
		topics: [grow("dup", 2), grow("dup", 3), grow("huge", 257)],
		timeoutMs: 1_000,
		validateOnly: false,
	};
	const answer = await createPartitions(request, context(tributary));
	assert.deepEqual(results(answer), [
		["dup", KAFKA.INVALID_REQUEST],
		["huge", KAFKA.INVALID_PARTITIONS],
	]);
	assert.deepEqual(calls, []);
	assert.deepEqual([...partitions.values()], [1, 1]);
});

test("CreatePartitions with a manual assignment: every new partition on node 0 grows the topic, as on a one-broker cluster; another is refused as Kafka's controller refuses it", async () => {
	const { tributary, partitions } = standIn({ topics: { placed: 1, short: 1, elsewhere: 1, empty: 1, dry: 1 } });
	const onNode0 = { brokerIds: [0] };
	const request = {
		topics: [
			grow("placed", 3, [onNode0, onNode0]),
			grow("short", 3, [onNode0]),
			grow("elsewhere", 2, [{ brokerIds: [0, 1] }]),
			grow("empty", 2, [{ brokerIds: [] }]),
			grow("missing", 2, [onNode0]),
		],
		timeoutMs: 1_000,
		validateOnly: false,
	};
	const answer = /** @type {any} */ (await createPartitions(request, context(tributary)));
	assert.deepEqual(
		answer.results.map((/** @type {any} */ r) => [r.name, r.errorCode, r.errorMessage]),
		[
			["placed", KAFKA.NONE, null],
			["short", KAFKA.INVALID_REPLICA_ASSIGNMENT, "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified."],
			[
				"elsewhere",
				KAFKA.INVALID_REPLICA_ASSIGNMENT,
				"The manual partition assignment includes broker 1, but no such broker is registered.",
			],
			["empty", KAFKA.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes an empty replica list."],
			["missing", KAFKA.UNKNOWN_TOPIC_OR_PARTITION, "topic_not_found"],
		],
	);
	const dry = await createPartitions({ topics: [grow("dry", 2, [onNode0])], timeoutMs: 1_000, validateOnly: true }, context(tributary));
	assert.deepEqual(results(dry), [["dry", KAFKA.NONE]]);
	assert.deepEqual(Object.fromEntries(partitions), { placed: 3, short: 1, elsewhere: 1, empty: 1, dry: 1 });
});

test("CreatePartitions validateOnly answers what growing would, and changes nothing", async () => {
	const { tributary, partitions } = standIn({ topics: { a: 2, b: 3, secret: 1 }, denied: ["secret"] });
	const lists = topicLists();
	const request = {
		topics: [grow("a", 5), grow("b", 2), grow("missing", 2), grow("secret", 2)],
		timeoutMs: 1_000,
		validateOnly: true,
	};
	const answer = await createPartitions(request, context(tributary, lists));
	assert.deepEqual(results(answer), [
		["a", KAFKA.NONE],
		["b", KAFKA.INVALID_PARTITIONS],
		["missing", KAFKA.UNKNOWN_TOPIC_OR_PARTITION],
		["secret", KAFKA.TOPIC_AUTHORIZATION_FAILED],
	]);
	assert.deepEqual(Object.fromEntries(partitions), { a: 2, b: 3, secret: 1 });
	assert.equal(lists.forgotten, 0);
});

test("DeleteGroups deletes an empty group; one with members is NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND, a forbidden one GROUP_AUTHORIZATION_FAILED", async () => {
	const { tributary, members } = standIn({ groups: { idle: 0, busy: 2, hidden: 0 }, denied: ["hidden"] });
	const answer = await deleteGroups({ groupsNames: ["idle", "busy", "gone", "hidden"] }, context(tributary));
	assert.deepEqual(results(answer), [
		["busy", KAFKA.NON_EMPTY_GROUP],
		["gone", KAFKA.GROUP_ID_NOT_FOUND],
		["hidden", KAFKA.GROUP_AUTHORIZATION_FAILED],
		["idle", KAFKA.NONE],
	]);
	assert.deepEqual([...members.keys()].sort(), ["busy", "hidden"]);
});
