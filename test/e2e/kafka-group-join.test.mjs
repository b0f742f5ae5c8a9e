// @ts-nocheck — kafkajs' message shapes would make strict checking here mostly casts; the helpers are checked.
/**
 * A second Kafka consumer (kafkajs, then kcat -G) joining a group whose member is consuming under steady production,
 * against a real `wrangler dev` through the gateway: each record (by partition and offset) must be processed once.
 * Kafka clients keep their read positions themselves, so a partition handed to the newcomer while its owner still
 * reads it is read twice; the coordinator holds such partitions on their owner until it rejoins
 * (docs/consumer-groups.md, "Members that rejoin"); a static member (KIP-345's group.instance.id) rejoins as itself,
 * under its member id, not as the instance's restart; of two processes with one instance id, the one replaced is
 * fenced (FENCED_INSTANCE_ID) and stops. Prints what it measured: records read twice, commits the gateway saw
 * refused, when each kafkajs member got which partitions.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { waitUntil } from "../../scripts/lib/index.mjs";
import { kafkaE2eSetup } from "./lib/kafka.mjs";

const setup = kafkaE2eSetup("kafka-group-join");
const { gateways, track } = setup;

const PARTITIONS = 4;
/** One record per partition every this many ms while the test produces. */
const PRODUCE_EVERY_MS = 40;
/** A's records before B joins, and records produced after, so both the join and the handover happen under load. */
const RECORDS_BEFORE_JOIN = 200;
const RECORDS_AFTER_JOIN = 400;
/** What processing one record takes: a consumer that does some work per record, so a batch takes a while. */
const PROCESS_MS = 5;

/** Sends one record to each partition every PRODUCE_EVERY_MS until stopped; `count()` is how many rounds were sent. */
async function steadyProduction(topic) {
	const producer = track(new Kafka({ clientId: "producer", brokers: [gateways[0].bootstrap], logLevel: logLevel.NOTHING }).producer());
	await producer.connect();
	let rounds = 0;
	let producing = true;
	const done = (async () => {
		while (producing) {
			await producer.send({ topic, messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: `${rounds}` })) });
			rounds++;
			await new Promise((resolve) => setTimeout(resolve, PRODUCE_EVERY_MS));
		}
	})();
	return {
		count: () => rounds,
		async stop() {
			producing = false;
			await done;
			await producer.disconnect();
		},
	};
}

/** Waits until the group has committed every partition's end; returns the ends (partition → high watermark). */
async function committedToEnd(topic, group) {
	const ends = Object.fromEntries((await setup.api.describeTopic(topic)).partitions.map((p) => [p.partition, p.high_watermark]));
	await waitUntil(
		async () => {
			const described = await setup.api.expect(200, "GET", `/v1/groups/${group}`);
			return described.offsets.length === PARTITIONS && described.offsets.every((o) => o.committed === ends[o.partition]);
		},
		{ timeoutMs: 60_000, message: "the group to commit every record" },
	);
	return ends;
}

/** Records (partition/offset) that more than one entry of `reads` names, with who read them. */
function readTwice(reads) {
	const seen = new Map();
	for (const r of reads) seen.set(`${r.partition}/${r.offset}`, [...(seen.get(`${r.partition}/${r.offset}`) ?? []), r.by]);
	return { seen, twice: [...seen].filter(([, by]) => by.length > 1).map(([key, by]) => `${key} by ${by.join(",")}`) };
}

/** A kafkajs consumer that logs every record it processes (partition, offset, time) and each assignment it gets. */
async function startMember(groupId, topic, name) {
	const kafka = new Kafka({
		clientId: name,
		brokers: [gateways[0].bootstrap],
		logLevel: logLevel.NOTHING,
		retry: { retries: 5, initialRetryTime: 100 },
	});
	const consumer = track(kafka.consumer({ groupId, heartbeatInterval: 3_000, sessionTimeout: 30_000 }));
	const member = { name, consumer, processed: [], joins: [] };
	consumer.on(consumer.events.GROUP_JOIN, (e) =>
		member.joins.push({ atMs: Date.now(), partitions: (e.payload.memberAssignment[topic] ?? []).slice().sort((x, y) => x - y) }),
	);
	await consumer.connect();
	await consumer.subscribe({ topic, fromBeginning: true });
	await consumer.run({
		eachMessage: async ({ partition, message }) => {
			await new Promise((resolve) => setTimeout(resolve, PROCESS_MS));
			member.processed.push({ partition, offset: Number(message.offset), atMs: Date.now() });
		},
	});
	return member;
}

/** Refusals of `group`'s commits the gateway logged (a commit of a generation that was over). */
const refusedCommits = (group) =>
	gateways[0]
		.output()
		.split("\n")
		.filter((line) => line.includes(`commit ${group}: 409`)).length;

test("a kafkajs consumer joining a group whose member is consuming under steady production: no record is processed twice", {
	timeout: 240_000,
}, async () => {
	const topic = "join-under-load";
	const group = "join-readers";
	await setup.api.createTopic(topic, PARTITIONS);
	const production = await steadyProduction(topic);
	const a = await startMember(group, topic, "a");
	await waitUntil(() => a.processed.length >= RECORDS_BEFORE_JOIN, { timeoutMs: 60_000, message: "a to process records" });
	const joinedAtMs = Date.now();
	const roundsAtJoin = production.count();
	const b = await startMember(group, topic, "b");
	await waitUntil(
		() => b.joins.some((j) => j.partitions.length > 0) && (production.count() - roundsAtJoin) * PARTITIONS >= RECORDS_AFTER_JOIN,
		{
			timeoutMs: 90_000,
			message: "b to get partitions while records are produced",
		},
	);
	await production.stop();
	const ends = await committedToEnd(topic, group);

	const { seen, twice } = readTwice([a, b].flatMap((m) => m.processed.map((r) => ({ ...r, by: m.name }))));
	const total = Object.values(ends).reduce((x, y) => x + y, 0);
	const since = (atMs) => atMs - joinedAtMs;
	// What happened, for the record: when each member got which partitions, when b first processed one, what was refused.
	console.log(
		JSON.stringify({
			records: total,
			processedTwice: twice.length,
			refusedCommits: refusedCommits(group),
			bFirstRecordMs: b.processed.length === 0 ? null : since(Math.min(...b.processed.map((r) => r.atMs))),
			aJoins: a.joins.map((j) => ({ atMs: since(j.atMs), partitions: j.partitions })),
			bJoins: b.joins.map((j) => ({ atMs: since(j.atMs), partitions: j.partitions })),
		}),
	);
	assert.equal(seen.size, total, "every record was processed");
	assert.deepEqual(twice, [], "no record was processed twice");
	assert.equal(refusedCommits(group), 0, "no commit of a's was refused");
	await a.consumer.disconnect();
	await b.consumer.disconnect();
});

/**
 * A `kcat -G` consumer (librdkafka's balanced consumer) printing partition/offset of each record it reads; `settings`
 * are more `-X` pairs.
 */
function startKcat(group, topic, name, settings = []) {
	const child = spawn("kcat", [
		"-b",
		gateways[0].bootstrap,
		"-G",
		group,
		topic,
		"-X",
		"auto.offset.reset=earliest",
		"-f",
		"%p/%o\n",
		"-q",
		"-u",
		...settings,
	]);
	const member = { name, reads: [], stderr: "", exited: new Promise((resolve) => child.once("close", resolve)) };
	let rest = "";
	child.stdout.on("data", (chunk) => {
		const lines = (rest + chunk).split("\n");
		rest = lines.pop();
		for (const line of lines) member.reads.push({ partition: Number(line.split("/")[0]), offset: Number(line.split("/")[1]), by: name });
	});
	child.stderr.on("data", (chunk) => {
		member.stderr += chunk;
	});
	member.stop = async () => {
		child.kill("SIGTERM");
		await member.exited;
	};
	return member;
}

test("kcat -G (librdkafka) joining a group whose kcat member is reading under steady production: no record is read twice", {
	timeout: 240_000,
}, async () => {
	const topic = "kcat-join-under-load";
	const group = "kcat-join-readers";
	await setup.api.createTopic(topic, PARTITIONS);
	const production = await steadyProduction(topic);
	const a = startKcat(group, topic, "a");
	const b = { reads: [] };
	try {
		await waitUntil(() => a.reads.length >= RECORDS_BEFORE_JOIN, { timeoutMs: 60_000, message: "kcat a to read records" });
		const roundsAtJoin = production.count();
		Object.assign(b, startKcat(group, topic, "b"));
		await waitUntil(() => b.reads.length > 0 && (production.count() - roundsAtJoin) * PARTITIONS >= RECORDS_AFTER_JOIN, {
			timeoutMs: 90_000,
			message: "kcat b to read while records are produced",
		});
		await production.stop();
		const ends = await committedToEnd(topic, group);
		const { seen, twice } = readTwice([...a.reads, ...b.reads]);
		console.log(
			JSON.stringify({
				records: Object.values(ends).reduce((x, y) => x + y, 0),
				readTwice: twice.length,
				refusedCommits: refusedCommits(group),
			}),
		);
		assert.equal(
			seen.size,
			Object.values(ends).reduce((x, y) => x + y, 0),
			"every record was read",
		);
		assert.deepEqual(twice, [], "no record was read twice");
	} finally {
		await production.stop();
		await a.stop();
		await b.stop?.();
	}
});

/** A static kcat member's records before the second joins, and records produced after: enough to read twice, quickly. */
const STATIC_RECORDS_BEFORE_JOIN = 40;
const STATIC_RECORDS_AFTER_JOIN = 40;

/**
 * librdkafka settings for a static member (KIP-345) that rebalances quickly: Tributary's shortest session (6 s, which
 * max.poll.interval.ms may not be under) and heartbeats that see a new generation within 0.3 s. Its commits come every
 * 5 s (librdkafka's default auto.commit.interval.ms), and cannot come sooner: kcat sets a `-X` name that is both a
 * topic and a global property on the topic's, and the topic's auto.commit.interval.ms is the legacy simple consumer's,
 * which -G does not read (docs/kafka-gateway.md, "kcat -G commits every 5 s"). So `committedToEnd` waits up to 5 s
 * after the last record is read, and a partition moved too early would have up to 5 s of reads past its last commit.
 * @param {string} instance
 */
const staticMember = (instance) =>
	Object.entries({
		"group.instance.id": instance,
		"session.timeout.ms": 6_000,
		"max.poll.interval.ms": 6_000,
		"heartbeat.interval.ms": 300,
	}).flatMap(([name, value]) => ["-X", `${name}=${value}`]);

/** The member id of `group`'s static member `instance`, or undefined. */
async function memberOfInstance(group, instance) {
	const described = await setup.api.expect(200, "GET", `/v1/groups/${group}`);
	return described.members.find((m) => m.instance_id === instance)?.member_id;
}

test("a static kcat -G member (group.instance.id) keeps its partitions through its rejoin when a second joins under steady production: same member, no record read twice, no commit refused", {
	// Its waits add up to 90 s (15 + 15 + committedToEnd's 60) under load; the bound above them lets each say what it
	// waited for.
	timeout: 120_000,
}, async () => {
	const topic = "static-rejoin";
	const group = "static-readers";
	const startedMs = Date.now();
	/** When each step ended, in ms since the test began: where its time goes. */
	const stepsMs = {};
	const stepped = (step) => {
		stepsMs[step] = Date.now() - startedMs;
	};
	await setup.api.createTopic(topic, PARTITIONS);
	const production = await steadyProduction(topic);
	const a = startKcat(group, topic, "a", staticMember("a"));
	const b = { reads: [] };
	try {
		await waitUntil(() => a.reads.length >= STATIC_RECORDS_BEFORE_JOIN, { timeoutMs: 15_000, message: "static kcat a to read records" });
		stepped("aRead");
		const aMember = await memberOfInstance(group, "a");
		const roundsAtJoin = production.count();
		Object.assign(b, startKcat(group, topic, "b", staticMember("b")));
		await waitUntil(() => b.reads.length > 0 && (production.count() - roundsAtJoin) * PARTITIONS >= STATIC_RECORDS_AFTER_JOIN, {
			timeoutMs: 15_000,
			message: "static kcat b to read while records are produced",
		});
		stepped("bRead");
		await production.stop();
		stepped("produced");
		const ends = await committedToEnd(topic, group);
		stepped("committed");
		const { seen, twice } = readTwice([...a.reads, ...b.reads]);
		const total = Object.values(ends).reduce((x, y) => x + y, 0);
		console.log(JSON.stringify({ records: total, readTwice: twice.length, refusedCommits: refusedCommits(group), stepsMs }));
		assert.equal(seen.size, total, "every record was read");
		assert.deepEqual(twice, [], "no record was read twice");
		assert.equal(refusedCommits(group), 0, "no commit was refused");
		assert.equal(await memberOfInstance(group, "a"), aMember, "a's rejoin was a's, not KIP-345's restart under a new member id");
	} finally {
		await production.stop();
		await a.stop();
		await b.stop?.();
	}
});

test("two kcat -G processes with one group.instance.id: the one replaced is fenced (FENCED_INSTANCE_ID, librdkafka's fatal error) and kcat exits, instead of the two taking the instance in turn", {
	// Its waits add up to 18 s (8 + 5 + 5): two joins and a few 0.3 s heartbeats.
	timeout: 30_000,
}, async () => {
	const topic = "static-twice";
	const group = "static-twice-readers";
	const startedMs = Date.now();
	/** When each step ended, in ms since the test began. */
	const stepsMs = {};
	const stepped = (step) => {
		stepsMs[step] = Date.now() - startedMs;
	};
	await setup.api.createTopic(topic, PARTITIONS);
	const a = startKcat(group, topic, "a", staticMember("same"));
	/** kcat a's exit code once it exited. */
	let aExit = null;
	a.exited.then((code) => {
		aExit = code;
	});
	const b = { stderr: "" };
	try {
		await waitUntil(async () => (await setup.api.request("GET", `/v1/groups/${group}`)).status === 200, {
			timeoutMs: 8_000,
			message: "kcat a to join",
		});
		stepped("aJoined");
		const aMember = await memberOfInstance(group, "same");
		Object.assign(b, startKcat(group, topic, "b", staticMember("same")));
		/** @type {string | undefined} */
		let bMember;
		await waitUntil(
			async () => {
				bMember = await memberOfInstance(group, "same");
				return bMember !== undefined && bMember !== aMember;
			},
			{ timeoutMs: 5_000, message: "kcat b to take the instance (KIP-345's restart)" },
		);
		stepped("bTook");
		// librdkafka's fatal error: "Fatal consumer error: Broker: Static consumer fenced by other consumer with same
		// group.instance.id". Before the fence, a was told UNKNOWN_MEMBER_ID, joined again without a member id and took
		// the instance back, and so on in turn.
		await waitUntil(() => /fenced/i.test(a.stderr) && aExit !== null, { timeoutMs: 5_000, message: "kcat a to be fenced and exit" });
		stepped("aFenced");
		console.log(JSON.stringify({ stepsMs, aExit, aStderr: a.stderr.trim().split("\n").slice(-3) }));
		assert.equal(aExit, 1, "kcat a exits with an error");
		assert.equal(await memberOfInstance(group, "same"), bMember, "the instance stays b's");
		assert.doesNotMatch(b.stderr, /fenced/i, "b, which holds the instance, is not fenced");
	} finally {
		await a.stop();
		await b.stop?.();
	}
});
