// @ts-nocheck — kafkajs' message shapes and the loosely typed JSON of the HTTP client would make strict checking here
// mostly casts; the gateway itself (gateway/tsconfig.json) and the helpers (test/e2e/lib/kafka.mjs) are checked.
/**
 * Kafka consumer groups and idempotent producers through the gateway, against a real `wrangler dev`, with
 * kafkajs: two members split the partitions and commit into Tributary's coordinator (where an HTTP describe
 * sees them), a member that comes back resumes from the committed offsets even through a restarted gateway,
 * and an idempotent producer's ids come from Tributary, which drops a replayed batch.
 */

import assert from "node:assert/strict";
import { createServer, request } from "node:http";
import { test } from "node:test";
import { AssignerProtocol, Kafka, logLevel } from "kafkajs";
import { COMMIT_METADATA_BYTES_MAX } from "../../gateway/limits.js";
import { waitUntil } from "../../scripts/lib/index.mjs";
import { exchange, kafkaE2eSetup, REQUEST_CORRELATION_ID, rawRequest, requestFrame } from "./lib/kafka.mjs";
import { listenLocal } from "./lib/local-server.mjs";

const setup = kafkaE2eSetup("kafka-groups", { gateways: 2 });
const { gateways, track } = setup;

/** A kafkajs client on one gateway. */
function kafka(gateway, clientId) {
	return new Kafka({ clientId, brokers: [gateway.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
}

/** A consumer that records what it receives and the partitions of its latest assignment. */
async function startMember(gateway, groupId, topic, name) {
	const consumer = track(kafka(gateway, name).consumer({ groupId, heartbeatInterval: 300, sessionTimeout: 10_000 }));
	const member = { consumer, name, received: [], assignment: [], memberId: null };
	consumer.on(consumer.events.GROUP_JOIN, (event) => {
		member.assignment = (event.payload.memberAssignment[topic] ?? []).slice().sort((a, b) => a - b);
		member.memberId = event.payload.memberId;
	});
	await consumer.connect();
	await consumer.subscribe({ topic, fromBeginning: true });
	await consumer.run({
		eachMessage: async ({ partition, message }) => {
			member.received.push({ partition, offset: Number(message.offset), key: message.key?.toString() });
		},
	});
	return member;
}

/**
 * A stand-in between a gateway and the Worker: forwards every request, except that `fault` may answer one itself
 * (`{ status, body }`; null forwards it).
 * @param {string} target the Worker's URL @param {(method: string, path: string) => { status: number, body: object } | null} fault
 */
async function workerProxy(target, fault) {
	const server = createServer((req, res) => {
		const answer = fault(req.method, req.url);
		if (answer !== null) {
			req.resume();
			res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
			return;
		}
		const forwarded = request(new URL(req.url, target), { method: req.method, headers: req.headers }, (upstream) => {
			res.writeHead(upstream.statusCode, upstream.headers);
			upstream.pipe(res);
		});
		forwarded.on("error", () => res.destroy());
		req.pipe(forwarded);
	});
	return listenLocal(server);
}

function keyed(prefix, count) {
	return Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${i}`, value: `${prefix} ${i}` }));
}

/** The group's committed offset per partition of `topic`, from Tributary's HTTP describe. */
async function committed(groupId, topic) {
	const group = await setup.api.expect(200, "GET", `/v1/groups/${groupId}`);
	return Object.fromEntries(group.offsets.filter((o) => o.topic === topic).map((o) => [o.partition, o.committed]));
}

test("two kafkajs members on two gateways split the partitions, commit, and a returning member resumes", { timeout: 180_000 }, async () => {
	const topic = "group-orders";
	await setup.api.createTopic(topic, 4);
	const producer = track(kafka(gateways[0], "producer").producer());
	await producer.connect();
	await producer.send({ topic, messages: keyed("first", 40) });

	const a = await startMember(gateways[0], "billing", topic, "a");
	const b = await startMember(gateways[1], "billing", topic, "b");
	await waitUntil(
		() => {
			const all = [...a.assignment, ...b.assignment].sort((x, y) => x - y);
			return a.assignment.length > 0 && b.assignment.length > 0 && JSON.stringify(all) === "[0,1,2,3]";
		},
		{ timeoutMs: 60_000, message: "both members to hold disjoint halves" },
	);
	// Tributary's coordinator holds the same split.
	const described = await setup.api.expect(200, "GET", "/v1/groups/billing");
	assert.equal(described.members.length, 2);
	const fromHttp = described.members.map((m) => m.assignment.map((tp) => tp.partition).sort((x, y) => x - y)).sort();
	assert.deepEqual(fromHttp, [a.assignment, b.assignment].sort());

	const highWatermarks = Object.fromEntries((await setup.api.describeTopic(topic)).partitions.map((p) => [p.partition, p.high_watermark]));
	await waitUntil(async () => JSON.stringify(await committed("billing", topic)) === JSON.stringify(highWatermarks), {
		timeoutMs: 60_000,
		message: "the group to commit every partition's high watermark",
	});
	const keys = new Set([...a.received, ...b.received].map((r) => r.key));
	assert.equal(keys.size, 40, "every record reached one of the members");

	// b leaves; records produced while it is away go to a (the group rebalances), then b's replacement resumes.
	await b.consumer.disconnect();
	await waitUntil(() => a.assignment.length === 4, { timeoutMs: 60_000, message: "a to take every partition" });
	await a.consumer.disconnect();
	await producer.send({ topic, messages: keyed("second", 20) });
	const before = await committed("billing", topic);

	// The gateway that served b restarts on the same port: it held nothing, so nothing is lost.
	const restarted = gateways[1];
	await restarted.stop();
	gateways[1] = await setup.startGateway({ port: restarted.port });
	const c = await startMember(gateways[1], "billing", topic, "c");
	await waitUntil(() => c.received.length >= 20, { timeoutMs: 60_000, message: "c to read the 20 new records" });
	await c.consumer.disconnect();
	await producer.disconnect();
	for (const r of c.received) assert.ok(r.offset >= before[r.partition], `${r.partition}/${r.offset} was read again after its commit`);
	assert.deepEqual(new Set(c.received.map((r) => r.key)), new Set(keyed("second", 20).map((m) => m.key)));
});

test("a Worker's 500 in a consumer's JoinGroup is one kafkajs retries: the consumer joins again and reads, it does not stop for good", {
	timeout: 60_000,
}, async () => {
	const topic = "flaky-join";
	await setup.api.createTopic(topic, 1);
	await setup.api.produce(topic, [{ key: "k", value: "v" }]);
	// What the Worker answers for a bug: 500 `internal`, final by its word, yet a code kafkajs retries (gateway/errors.js).
	const failed = [];
	const proxy = await workerProxy(setup.dev.url, (method, path) => {
		if (failed.length > 0 || method !== "POST" || path !== "/v1/groups/flaky-join-readers/members") return null;
		failed.push(path);
		return { status: 500, body: { error: { code: "internal", message: "internal error", retriable: false } } };
	});
	try {
		const gateway = await setup.startGateway({ url: proxy.url });
		const member = await startMember(gateway, "flaky-join-readers", topic, "flaky");
		await waitUntil(() => member.received.length === 1, { timeoutMs: 20_000, message: "the consumer to read the record" });
		assert.equal(failed.length, 1, "the join failed once");
		await member.consumer.disconnect();
	} finally {
		await proxy.close();
	}
});

test("an HTTP member and a kafkajs member share one group and one assignment", { timeout: 120_000 }, async () => {
	const topic = "mixed";
	await setup.api.createTopic(topic, 2);
	const http = await setup.api.expect(200, "POST", "/v1/groups/mixed-group/members", {
		body: { topics: [topic], session_timeout_ms: 60_000 },
	});
	const k = await startMember(gateways[0], "mixed-group", topic, "k");
	await waitUntil(() => k.assignment.length === 1, { timeoutMs: 30_000, message: "the kafkajs member to get one partition" });
	const heartbeat = await setup.api.expect(200, "POST", `/v1/groups/mixed-group/members/${http.member_id}/heartbeat`, { body: {} });
	assert.deepEqual(
		heartbeat.assignment.map((tp) => tp.partition),
		[1 - k.assignment[0]],
	);
	// kafkajs' admin sees both members through DescribeGroups, each with its partition in Kafka's encoding.
	const admin = track(kafka(gateways[1], "admin").admin());
	await admin.connect();
	const { groups } = await admin.listGroups();
	assert.ok(groups.some((g) => g.groupId === "mixed-group" && g.protocolType === "consumer"));
	const [described] = (await admin.describeGroups(["mixed-group"])).groups;
	assert.equal(described.state, "Stable");
	const owned = described.members
		.map((m) => [m.memberId, AssignerProtocol.MemberAssignment.decode(m.memberAssignment).assignment[topic]])
		.sort(([a], [b]) => a.localeCompare(b));
	const expected = [
		[http.member_id, heartbeat.assignment.map((tp) => tp.partition)],
		[k.memberId, k.assignment],
	].sort(([a], [b]) => a.localeCompare(b));
	assert.deepEqual(owned, expected);
	await admin.disconnect();
	await k.consumer.disconnect();
});

test("an idempotent kafkajs producer gets its id from Tributary; its records are written once, densely", { timeout: 60_000 }, async () => {
	const topic = "exactly-once";
	await setup.api.createTopic(topic, 2);
	const before = await setup.api.expect(200, "POST", "/v1/producers", { body: {} });
	const producer = track(kafka(gateways[0], "idempotent").producer({ idempotent: true, maxInFlightRequests: 1 }));
	await producer.connect();
	for (let round = 0; round < 5; round++) await producer.send({ topic, messages: keyed(`r${round}`, 10) });
	await producer.disconnect();
	const after = await setup.api.expect(200, "POST", "/v1/producers", { body: {} });
	assert.equal(after.producer_id, before.producer_id + 2, "kafkajs took exactly one producer id from Tributary");
	const records = [...(await setup.api.fetchAll(topic, 0)).records, ...(await setup.api.fetchAll(topic, 1)).records];
	assert.equal(records.length, 50);
	assert.equal(new Set(records.map((r) => r.key)).size, 50);
	// A retry of the first batch (sequence 0, same records) with the kafkajs producer's id answers the original
	// offsets and writes nothing: the sequence state kafkajs built through the gateway is Tributary's.
	const partition = records[0].partition;
	const firstBatch = records.filter((r) => r.partition === partition && r.key.startsWith("r0-"));
	const replay = await setup.api.expect(200, "POST", `/v1/topics/${topic}/records`, {
		body: {
			producer_id: before.producer_id + 1,
			epoch: 0,
			sequence: 0,
			records: firstBatch.map((r) => ({ key: r.key, value: r.value, partition })),
		},
	});
	assert.deepEqual(
		replay.offsets.map((o) => o.offset),
		firstBatch.map((r) => r.offset),
	);
	const again = [...(await setup.api.fetchAll(topic, 0)).records, ...(await setup.api.fetchAll(topic, 1)).records];
	assert.equal(again.length, 50);
});

test("kafkajs admin setOffsets and resetOffsets (which commits -1 or -2) set an empty group's offsets; a member resumes there", {
	timeout: 90_000,
}, async () => {
	const topic = "set-offsets";
	const groupId = "set-offsets-group";
	await setup.api.createTopic(topic, 2);
	await setup.api.expect(200, "POST", `/v1/topics/${topic}/records`, {
		body: { records: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: i, partition: i % 2 })) },
	});
	const admin = track(kafka(gateways[0], "offsets-admin").admin());
	await admin.connect();
	await admin.setOffsets({
		groupId,
		topic,
		partitions: [
			{ partition: 0, offset: "3" },
			{ partition: 1, offset: "4" },
		],
	});
	assert.deepEqual(await committed(groupId, topic), { 0: 3, 1: 4 });
	// resetOffsets commits Kafka's -2 (earliest) and -1 (latest); they are resolved to the partitions' offsets.
	await admin.resetOffsets({ groupId, topic, earliest: true });
	assert.deepEqual(await committed(groupId, topic), { 0: 0, 1: 0 });
	await admin.resetOffsets({ groupId, topic });
	assert.deepEqual(await committed(groupId, topic), { 0: 5, 1: 5 });
	const [fetched] = await admin.fetchOffsets({ groupId, topics: [topic] });
	assert.deepEqual(fetched.partitions.map((p) => [p.partition, p.offset]).sort(), [
		[0, "5"],
		[1, "5"],
	]);
	await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: "4" }] });
	await admin.disconnect();
	const member = await startMember(gateways[1], groupId, topic, "after-set");
	await waitUntil(() => member.received.length === 1, { timeoutMs: 30_000, message: "the member to read from the offsets set" });
	assert.deepEqual(
		member.received.map((r) => [r.partition, r.offset]),
		[[0, 4]],
	);
	await member.consumer.disconnect();
});

/** Kafka's error codes this file reads from raw answers (gateway/errors.js has them all). */
const NONE = 0;
const UNKNOWN_MEMBER_ID = 25;
const FENCED_INSTANCE_ID = 82;
const ILLEGAL_GENERATION = 22;
const INVALID_GROUP_ID = 24;
const INVALID_SESSION_TIMEOUT = 26;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const MEMBER_ID_REQUIRED = 79;
const OFFSET_METADATA_TOO_LARGE = 12;

/**
 * One OffsetCommit v2 over a raw connection to `gateway`, of one partition, with no member id and generation -1 (a
 * standalone commit: what Java's `assign()` + `commitSync()` sends; neither kcat nor kafkajs sends one); answers the
 * partition's error code.
 */
async function standaloneCommit(gateway, groupId, topic, partition, offset) {
	const str = (text) => {
		const bytes = Buffer.from(text);
		return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
	};
	const int32 = (n) => {
		const b = Buffer.alloc(4);
		b.writeInt32BE(n);
		return b;
	};
	const int64 = (n) => {
		const b = Buffer.alloc(8);
		b.writeBigInt64BE(BigInt(n));
		return b;
	};
	const body = Buffer.concat([
		str(groupId),
		int32(-1), // generation
		str(""), // member id
		int64(-1), // retention: the broker's
		int32(1),
		str(topic),
		int32(1),
		int32(partition),
		int64(offset),
		str(""),
	]);
	const frame = await rawRequest(gateway.port, requestFrame(8, 2, body)); // OffsetCommit v2
	// correlation id, topics [name, partitions [index, error]]: the error code is the frame's last two bytes.
	assert.equal(frame.readInt32BE(0), REQUEST_CORRELATION_ID);
	return frame.readInt16BE(frame.length - 2);
}

test("a standalone OffsetCommit (no member, generation -1: Java's assign() and commitSync()) is stored while the group is empty", {
	timeout: 60_000,
}, async () => {
	const topic = "standalone";
	const groupId = "standalone-group";
	await setup.api.createTopic(topic, 1);
	await setup.api.produce(topic, [{ value: 0 }, { value: 1 }, { value: 2 }]);
	assert.equal(await standaloneCommit(gateways[0], groupId, topic, 0, 2), NONE);
	assert.deepEqual(await committed(groupId, topic), { 0: 2 });
	assert.equal(await standaloneCommit(gateways[0], groupId, topic, 0, -2), NONE); // earliest
	assert.deepEqual(await committed(groupId, topic), { 0: 0 });
	// With a member in the group, a Kafka broker answers UNKNOWN_MEMBER_ID, and nothing is stored.
	await setup.api.expect(200, "POST", `/v1/groups/${groupId}/members`, { body: { topics: [topic] } });
	assert.equal(await standaloneCommit(gateways[0], groupId, topic, 0, 3), UNKNOWN_MEMBER_ID);
	assert.deepEqual(await committed(groupId, topic), { 0: 0 });
});

test("LeaveGroup by group.instance.id alone (Java admin's removeMembersFromConsumerGroup) removes that static member (KIP-345)", {
	timeout: 60_000,
}, async () => {
	const topic = "static-leave";
	const groupId = "static-leave-group";
	await setup.api.createTopic(topic, 1);
	for (const instance_id of ["worker-1", "worker-2"]) {
		await setup.api.expect(200, "POST", `/v1/groups/${groupId}/members`, { body: { topics: [topic], instance_id } });
	}
	const answer = await exchange(gateways[0].port, "LeaveGroup", 4, {
		groupId,
		members: [
			{ memberId: "", groupInstanceId: "worker-1" },
			{ memberId: "not-its-member-id", groupInstanceId: "worker-2" },
			{ memberId: "", groupInstanceId: "nobody" },
		],
	});
	assert.equal(answer.errorCode, NONE);
	assert.deepEqual(
		answer.members.map((m) => [m.groupInstanceId, m.errorCode]),
		[
			["worker-1", NONE],
			["worker-2", FENCED_INSTANCE_ID], // named with another member's id: a broker fences the caller, and keeps the member
			["nobody", UNKNOWN_MEMBER_ID],
		],
	);
	const group = await setup.api.expect(200, "GET", `/v1/groups/${groupId}`);
	assert.deepEqual(
		group.members.map((m) => m.instance_id),
		["worker-2"],
	);
});

test("LeaveGroup naming a member id and its group.instance.id is judged by the Worker's leave, not the group's describe: a replaced member is FENCED_INSTANCE_ID and the holder leaves while every describe fails", {
	timeout: 60_000,
}, async () => {
	const topic = "static-leave-busy";
	const groupId = "static-leave-busy-group";
	await setup.api.createTopic(topic, 1);
	const join = () => setup.api.expect(200, "POST", `/v1/groups/${groupId}/members`, { body: { topics: [topic], instance_id: "worker-1" } });
	const old = await join();
	// KIP-345's restart: the instance's holder is now another member id; the old one's leave names both.
	const holder = await join();
	// What the Worker answers a describe when busy: the leave's fence does not wait on it.
	const describes = [];
	const proxy = await workerProxy(setup.dev.url, (method, path) => {
		if (method !== "GET" || path !== `/v1/groups/${groupId}`) return null;
		describes.push(path);
		return { status: 503, body: { error: { code: "unavailable", message: "try again", retriable: true } } };
	});
	try {
		const gateway = await setup.startGateway({ url: proxy.url });
		const leave = async (memberId) =>
			(await exchange(gateway.port, "LeaveGroup", 4, { groupId, members: [{ memberId, groupInstanceId: "worker-1" }] })).members[0]
				.errorCode;
		assert.equal(await leave(old.member_id), FENCED_INSTANCE_ID);
		const group = await setup.api.expect(200, "GET", `/v1/groups/${groupId}`);
		assert.deepEqual(
			group.members.map((m) => m.member_id),
			[holder.member_id],
		);
		assert.equal(await leave(holder.member_id), NONE);
		assert.deepEqual((await setup.api.expect(200, "GET", `/v1/groups/${groupId}`)).members, []);
		assert.deepEqual(describes, []);
	} finally {
		await proxy.close();
	}
});

test("calls naming a member of a group Tributary does not know answer as Kafka's coordinator: UNKNOWN_MEMBER_ID (clients rejoin), ILLEGAL_GENERATION for a commit", {
	timeout: 60_000,
}, async () => {
	const topic = "no-group-topic";
	const groupId = "never-joined";
	await setup.api.createTopic(topic, 1);
	const port = gateways[0].port;
	const member = { groupId, generationId: 1, memberId: "m-gone", groupInstanceId: null };
	const subscription = AssignerProtocol.MemberMetadata.encode({ version: 0, topics: [topic], userData: Buffer.alloc(0) });
	const joined = await exchange(port, "JoinGroup", 7, {
		groupId,
		sessionTimeoutMs: 10_000,
		rebalanceTimeoutMs: 10_000,
		memberId: "m-gone",
		groupInstanceId: null,
		protocolType: "consumer",
		protocols: [{ name: "range", metadata: subscription }],
		reason: null,
	});
	const synced = await exchange(port, "SyncGroup", 5, { ...member, protocolType: "consumer", protocolName: "range", assignments: [] });
	const beat = await exchange(port, "Heartbeat", 4, member);
	const left = await exchange(port, "LeaveGroup", 4, { groupId, members: [{ memberId: "m-gone", groupInstanceId: null }] });
	const committed = await exchange(port, "OffsetCommit", 8, {
		groupId,
		generationIdOrMemberEpoch: 1,
		memberId: "m-gone",
		groupInstanceId: null,
		topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: "" }] }],
	});
	assert.deepEqual(
		[joined.errorCode, synced.errorCode, beat.errorCode, left.members[0].errorCode, committed.topics[0].partitions[0].errorCode],
		[UNKNOWN_MEMBER_ID, UNKNOWN_MEMBER_ID, UNKNOWN_MEMBER_ID, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION],
	);
});

// A broker takes a member's commit of its generation while a rebalance it has not rejoined yet is under way (the
// generation moves on only as the round ends); Tributary's generation moves at the other's join, and its commit rule
// takes the member's commits since it last joined. Too much metadata is refused per partition after that judgment.
test("OffsetCommit of too much metadata only, from a member whose generation a second member's join has passed, is OFFSET_METADATA_TOO_LARGE, as when it commits another partition too", {
	timeout: 60_000,
}, async () => {
	const topic = "too-much-metadata";
	const groupId = "too-much-metadata-group";
	await setup.api.createTopic(topic, 2);
	const join = () => setup.api.expect(200, "POST", `/v1/groups/${groupId}/members`, { body: { topics: [topic], rejoins: true } });
	const a = await join();
	assert.ok((await join()).generation > a.generation);
	const long = "m".repeat(COMMIT_METADATA_BYTES_MAX + 1);
	const partition = (partitionIndex, committedMetadata) => ({
		partitionIndex,
		committedOffset: 0n,
		committedLeaderEpoch: -1,
		committedMetadata,
	});
	const commit = async (partitions) => {
		const answer = await exchange(gateways[0].port, "OffsetCommit", 8, {
			groupId,
			generationIdOrMemberEpoch: a.generation,
			memberId: a.member_id,
			groupInstanceId: null,
			topics: [{ name: topic, partitions }],
		});
		return answer.topics[0].partitions.map((p) => [p.partitionIndex, p.errorCode]);
	};
	assert.deepEqual(await commit([partition(0, ""), partition(1, long)]), [
		[0, NONE],
		[1, OFFSET_METADATA_TOO_LARGE],
	]);
	assert.deepEqual(await commit([partition(1, long)]), [[1, OFFSET_METADATA_TOO_LARGE]]);
	assert.deepEqual(await committed(groupId, topic), { 0: 0, 1: null });
});

test("JoinGroup refuses what a broker refuses: a session timeout outside 6 s–30 min (INVALID_SESSION_TIMEOUT), an empty or unusable group id (INVALID_GROUP_ID)", {
	timeout: 60_000,
}, async () => {
	const topic = "join-refusals";
	await setup.api.createTopic(topic, 1);
	const metadata = AssignerProtocol.MemberMetadata.encode({ version: 0, topics: [topic], userData: Buffer.alloc(0) });
	/** A join as a client sends it: from v4 (KIP-394) a first answer MEMBER_ID_REQUIRED is retried with the id it gives. */
	const join = async (groupId, sessionTimeoutMs) => {
		const request = (memberId) =>
			exchange(gateways[0].port, "JoinGroup", 7, {
				groupId,
				sessionTimeoutMs,
				rebalanceTimeoutMs: 10_000,
				memberId,
				groupInstanceId: null,
				protocolType: "consumer",
				protocols: [{ name: "range", metadata }],
				reason: null,
			});
		const first = await request("");
		return first.errorCode === MEMBER_ID_REQUIRED ? request(first.memberId) : first;
	};
	const codes = [];
	for (const [groupId, sessionTimeoutMs] of [
		["short-session", 5_999],
		["long-session", 1_800_001],
		["", 10_000],
		["has a space", 10_000],
	]) {
		codes.push((await join(groupId, sessionTimeoutMs)).errorCode);
	}
	assert.deepEqual(codes, [INVALID_SESSION_TIMEOUT, INVALID_SESSION_TIMEOUT, INVALID_GROUP_ID, INVALID_GROUP_ID]);
	for (const groupId of ["short-session", "long-session"])
		assert.equal((await setup.api.request("GET", `/v1/groups/${groupId}`)).status, 404);
	assert.equal((await join("fine-session", 6_000)).errorCode, NONE);
});

test("KIP-394: JoinGroup v7 with no member id is MEMBER_ID_REQUIRED; the retry under that id joins, and a retry of it whose answer was lost leaves one member, not two", {
	timeout: 60_000,
}, async () => {
	const topic = "kip-394";
	const groupId = "kip-394-group";
	await setup.api.createTopic(topic, 2);
	const metadata = AssignerProtocol.MemberMetadata.encode({ version: 0, topics: [topic], userData: Buffer.alloc(0) });
	const join = (gateway, memberId) =>
		exchange(gateway.port, "JoinGroup", 7, {
			groupId,
			sessionTimeoutMs: 10_000,
			rebalanceTimeoutMs: 10_000,
			memberId,
			groupInstanceId: null,
			protocolType: "consumer",
			protocols: [{ name: "range", metadata }],
			reason: null,
		});
	const first = await join(gateways[0], "");
	assert.equal(first.errorCode, MEMBER_ID_REQUIRED);
	assert.notEqual(first.memberId, "");
	assert.equal((await setup.api.request("GET", `/v1/groups/${groupId}`)).status, 404, "nothing joined before the retry");
	// The retry joins; its answer is taken as lost and the same join is sent again, through the other gateway.
	const joined = await join(gateways[0], first.memberId);
	const again = await join(gateways[1], first.memberId);
	assert.deepEqual([joined.errorCode, again.errorCode], [NONE, NONE]);
	assert.equal(again.memberId, joined.memberId);
	const described = await setup.api.expect(200, "GET", `/v1/groups/${groupId}`);
	assert.deepEqual(
		described.members.map((m) => m.member_id),
		[joined.memberId],
	);
	// An id never handed out is still unknown, as before.
	assert.equal((await join(gateways[0], "m-never-issued")).errorCode, UNKNOWN_MEMBER_ID);
	assert.equal((await setup.api.expect(200, "GET", `/v1/groups/${groupId}`)).members.length, 1);
	// Once it has left, the member's id is unknown, as to Kafka's coordinator, though a session has not passed since it was issued.
	const left = await exchange(gateways[1].port, "LeaveGroup", 4, {
		groupId,
		members: [{ memberId: joined.memberId, groupInstanceId: null }],
	});
	assert.equal(left.members[0].errorCode, NONE);
	assert.equal((await join(gateways[0], joined.memberId)).errorCode, UNKNOWN_MEMBER_ID);
	const after = await setup.api.request("GET", `/v1/groups/${groupId}`);
	assert.deepEqual(after.status === 404 ? [] : after.json.members, [], "nothing joined");
});

test("OffsetCommit of an unknown topic or partition refuses those alone (UNKNOWN_TOPIC_OR_PARTITION); the other partitions are committed, as by a broker", {
	timeout: 60_000,
}, async () => {
	const topic = "partly-known";
	const groupId = "partly-known-group";
	await setup.api.createTopic(topic, 2);
	const partition = (partitionIndex, committedOffset) => ({
		partitionIndex,
		committedOffset,
		committedLeaderEpoch: -1,
		committedMetadata: "",
	});
	const answer = await exchange(gateways[0].port, "OffsetCommit", 8, {
		groupId,
		generationIdOrMemberEpoch: -1,
		memberId: "",
		groupInstanceId: null,
		topics: [
			{ name: topic, partitions: [partition(0, 0n), partition(1, 0n), partition(7, 0n)] },
			{ name: "never-made-topic", partitions: [partition(0, 0n)] },
		],
	});
	assert.deepEqual(
		answer.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.errorCode])),
		[
			[topic, 0, NONE],
			[topic, 1, NONE],
			[topic, 7, UNKNOWN_TOPIC_OR_PARTITION],
			["never-made-topic", 0, UNKNOWN_TOPIC_OR_PARTITION],
		],
	);
	assert.deepEqual(await committed(groupId, topic), { 0: 0, 1: 0 });
});
