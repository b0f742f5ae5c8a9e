// @ts-check
/**
 * Crash check: produce under load against `wrangler dev` with persistence, SIGKILL workerd (and wrangler)
 * mid-load, restart on the same persist dir, and read everything back.
 *
 * - every acknowledged record is present at its acknowledged partition and offset, with its exact key, value
 *   and timestamp;
 * - every partition's offsets are dense from 0 to high_watermark - 1: no gaps, no duplicates;
 * - anything present is a record some producer sent, present once (unacknowledged in-flight records may or may
 *   not have survived; so may those of a produce wrangler dev failed before the crash: its proxy's 503, or a
 *   connection it closed before the answer, see produceUnderLoad);
 * - after the restart, appends continue at the recovered high watermark.
 *
 * A second run does the same with many small producers (one record per request, all to one partition), so the
 * kill lands among group commits: requests answered together in one transaction, others queued behind it. Half of
 * them are idempotent producers, whose state the partition rebuilds at the restart from its last snapshot and the
 * batch rows since. Afterwards each sends again the request it had in flight (written at most once) and its last
 * acknowledged one (answered with its acknowledged offset).
 */

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { generateToken, sleep, startWranglerDev, stopAllWranglerDevs, underLoad } from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
import { produceUnderLoad } from "./lib/crash-produce.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const PRODUCERS = 4;
const BATCH_RECORDS = 50;
const LOAD_MS = 2_500;
const TOPICS = [
	{ name: "crash-one", partitions: 1 },
	{ name: "crash-three", partitions: 3 },
];

/** The many-small-producers run: clients sending one record per request to one partition. */
const SMALL_PRODUCERS = 32;
const SMALL_TOPIC = { name: "crash-small", partitions: 1 };
/** The kill comes once this many single-record requests were acknowledged (or after SMALL_LOAD_MAX_MS). */
const SMALL_ACKED_BEFORE_CRASH = 4 * SMALL_PRODUCERS;
const SMALL_LOAD_MAX_MS = 60_000;
/** Each test's hang bound: 120 s held up to a load of 16 (2 cores), and is stretched above it (`underLoad`). */
const TEST_TIMEOUT_MS = underLoad(120_000, 16);

const state = tempDir("crash");
const smallState = tempDir("crash-small");
after(async () => {
	await stopAllWranglerDevs();
	state.remove();
	smallState.remove();
});

/**
 * @typedef {{ value: string, key?: string, partition?: number }} SentRecord
 * @typedef {{ topic: string, partition: number, offset: number, timestamp: number, key: string | null, value: string }} AckedRecord
 */

/**
 * Batch `batch` of producer `producer`: distinct values; on the 3-partition topic a mix of keys, explicit partitions and neither.
 * @param {number} producer
 * @param {number} batch
 * @param {{ name: string, partitions: number }} topic
 * @returns {SentRecord[]}
 */
function makeBatch(producer, batch, topic) {
	return Array.from({ length: BATCH_RECORDS }, (_, i) => {
		const value = `p${producer}-b${batch}-r${i}`;
		if (topic.partitions === 1) return { value };
		switch ((batch + i) % 3) {
			case 0:
				return { key: `key-${i % 7}`, value };
			case 1:
				return { value, partition: i % topic.partitions };
			default:
				return { value };
		}
	});
}

test("acknowledged records survive SIGKILL of workerd mid-load", { timeout: TEST_TIMEOUT_MS }, async (t) => {
	const token = generateToken();
	const dev = await startWranglerDev({ persistTo: state.path, token });
	let api = client(dev.url, token);
	for (const topic of TOPICS) await api.createTopic(topic.name, topic.partitions);

	/** @type {Map<string, Map<string, SentRecord>>} every record sent, by topic and value, as sent */
	const sent = new Map(TOPICS.map((topic) => [topic.name, new Map()]));
	/** @type {AckedRecord[]} every acknowledged record */
	const acked = [];
	/** @type {string[]} */
	const failuresBeforeCrash = [];
	let crashing = false;
	let stop = false;
	let inFlight = 0;
	let requestsAcked = 0;
	/** requests wrangler dev failed before the crash (see produceUnderLoad) */
	let unknownBeforeCrash = 0;

	/** @param {number} id */
	async function producer(id) {
		for (let batch = 0; !stop; batch++) {
			const topic = TOPICS[(id + batch) % TOPICS.length];
			assert.ok(topic);
			const records = makeBatch(id, batch, topic);
			for (const record of records) sent.get(topic.name)?.set(record.value, record);
			inFlight++;
			const outcome = await produceUnderLoad(api, topic.name, { records }).finally(() => inFlight--);
			if (outcome.kind === "acknowledged") {
				// An answer that arrived is an acknowledgement, even one racing the kill: it must be durable.
				requestsAcked++;
				outcome.offsets.forEach((position, i) => {
					const record = records[i];
					assert.ok(record);
					acked.push({ topic: topic.name, ...position, key: record.key ?? null, value: record.value });
				});
				continue;
			}
			if (outcome.kind === "unknown" && !crashing) {
				unknownBeforeCrash++; // its records may be stored or not, as an in-flight request's at the crash
				continue;
			}
			if (!crashing) failuresBeforeCrash.push(outcome.reason);
			return; // the broker is gone (or failing): this producer is done
		}
	}

	const producers = Array.from({ length: PRODUCERS }, (_, id) => producer(id));
	await sleep(LOAD_MS);
	const inFlightAtCrash = inFlight;
	crashing = true;
	const killed = await dev.crash();
	stop = true;
	await Promise.all(producers);

	t.diagnostic(
		`acknowledged ${acked.length} records in ${requestsAcked} requests; ${inFlightAtCrash} requests in flight at SIGKILL; ${unknownBeforeCrash} failed by wrangler dev before it`,
	);
	t.diagnostic(`killed workerd pids ${killed.join(", ")}`);
	assert.deepEqual(failuresBeforeCrash, [], "no produce failed before the crash");
	assert.ok(killed.length >= 1, "at least one workerd process was killed");
	assert.ok(requestsAcked >= PRODUCERS, `the load ran before the crash (${requestsAcked} requests acknowledged)`);
	assert.ok(inFlightAtCrash > 0, "the crash hit while produce requests were in flight");

	const restarted = await dev.restart();
	api = client(restarted.url, token);

	await verifyRecovered(t, api, TOPICS, sent, acked);
	await restarted.stop();
});

/**
 * After the restart: every acknowledged record at its offset, offsets dense, nothing stored twice or never sent,
 * appends continuing at the recovered high watermark.
 * @param {import("node:test").TestContext} t
 * @param {ReturnType<typeof client>} api
 * @param {{ name: string, partitions: number }[]} topics
 * @param {Map<string, Map<string, SentRecord>>} sent
 * @param {AckedRecord[]} acked
 */
async function verifyRecovered(t, api, topics, sent, acked) {
	const ackedAt = new Map(acked.map((record) => [`${record.topic}/${record.partition}/${record.offset}`, record]));
	assert.equal(ackedAt.size, acked.length, "no offset was acknowledged twice");
	/** @type {Map<string, number>} the recovered high watermark of each partition, by "topic/partition" */
	const recovered = new Map();
	let present = 0;
	for (const topic of topics) {
		const seen = new Set();
		for (let partition = 0; partition < topic.partitions; partition++) {
			const { records, highWatermark, logStartOffset } = await api.fetchAll(topic.name, partition);
			const where = `${topic.name}/${partition}`;
			assert.equal(logStartOffset, 0, `${where}: log start`);
			assert.equal(records.length, highWatermark, `${where}: one record per offset below the high watermark`);
			records.forEach((record, i) => {
				assert.equal(record.offset, i, `${where}: offsets are dense (record ${i} has offset ${record.offset})`);
				assert.equal(record.partition, partition, `${where}: record ${i} names its partition`);
				const original = sent.get(topic.name)?.get(String(record.value));
				assert.ok(original !== undefined, `${where}@${i}: ${JSON.stringify(record.value)} was never sent`);
				assert.ok(!seen.has(record.value), `${where}@${i}: ${JSON.stringify(record.value)} is stored twice`);
				seen.add(record.value);
				assert.equal(record.key, original.key ?? null, `${where}@${i}: key`);
				if (original.partition !== undefined) assert.equal(partition, original.partition, `${where}@${i}: explicit partition`);
			});
			for (let offset = 0; offset < records.length; offset++) {
				const ack = ackedAt.get(`${where}/${offset}`);
				if (ack === undefined) continue;
				const record = records[offset];
				assert.ok(record);
				assert.deepEqual(
					{ value: record.value, key: record.key, timestamp: record.timestamp },
					{ value: ack.value, key: ack.key, timestamp: ack.timestamp },
					`${where}@${offset}: the acknowledged record`,
				);
			}
			present += records.length;
			recovered.set(where, highWatermark);

			// Appends continue at the recovered high watermark.
			const [next] = await api.produce(topic.name, [{ value: `after-restart-${partition}`, partition }]);
			assert.equal(next?.offset, highWatermark, `${where}: the first append after the restart`);
		}
	}
	const beyond = acked.filter((record) => record.offset >= (recovered.get(`${record.topic}/${record.partition}`) ?? 0));
	assert.deepEqual(beyond, [], "every acknowledged offset is below its partition's recovered high watermark");
	t.diagnostic(`${present} records present after restart (${present - acked.length} unacknowledged survivors)`);
}

test("acknowledged single-record produces survive SIGKILL among group commits", { timeout: TEST_TIMEOUT_MS }, async (t) => {
	const token = generateToken();
	const dev = await startWranglerDev({ persistTo: smallState.path, token });
	let api = client(dev.url, token);
	await api.createTopic(SMALL_TOPIC.name, SMALL_TOPIC.partitions);
	/** @type {Map<string, SentRecord>} */
	const sent = new Map();
	/** @type {AckedRecord[]} */
	const acked = [];
	/** @type {string[]} */
	const failuresBeforeCrash = [];
	let crashing = false;
	let stop = false;
	let inFlight = 0;
	/** requests wrangler dev failed before the crash (see produceUnderLoad) */
	let unknownBeforeCrash = 0;

	/**
	 * @typedef {{ body: object, record: SentRecord, position: { partition: number, offset: number } | null }} LastRequest
	 *   an idempotent producer's request: its body, its record, and its position once acknowledged
	 */
	/** @type {Map<number, LastRequest>} each idempotent producer's last request sent, by producer number */
	const lastSent = new Map();
	/** @type {Map<number, LastRequest>} each idempotent producer's last request acknowledged */
	const lastAcked = new Map();
	/** @type {Map<number, { producer_id: number, epoch: number }>} */
	const identities = new Map();
	for (let id = 0; id < SMALL_PRODUCERS; id += 2) identities.set(id, await api.expect(200, "POST", "/v1/producers", { body: {} }));

	/** @param {number} id */
	async function producer(id) {
		const identity = identities.get(id);
		for (let n = 0; !stop; n++) {
			const record = { value: `s${id}-${n}` };
			sent.set(record.value, record);
			const body = identity === undefined ? { records: [record] } : { ...identity, sequence: n, records: [record] };
			/** @type {LastRequest} */
			const last = { body, record, position: null };
			if (identity !== undefined) lastSent.set(id, last);
			inFlight++;
			const outcome = await produceUnderLoad(api, SMALL_TOPIC.name, body).finally(() => inFlight--);
			if (outcome.kind === "acknowledged") {
				const position = outcome.offsets[0];
				assert.ok(position !== undefined, `${record.value}: acknowledged with an offset`);
				acked.push({ topic: SMALL_TOPIC.name, ...position, key: null, value: record.value });
				last.position = position;
				if (identity !== undefined) lastAcked.set(id, last);
				continue;
			}
			if (outcome.kind === "unknown" && !crashing) {
				unknownBeforeCrash++;
				// Unkeyed, its records may be stored or not, as an in-flight request's at the crash. An idempotent
				// producer's stays its last sent (the client sent it twice already), sent again after the restart.
				if (identity === undefined) continue;
				return;
			}
			if (!crashing) failuresBeforeCrash.push(outcome.reason);
			return;
		}
	}

	const producers = Array.from({ length: SMALL_PRODUCERS }, (_, id) => producer(id));
	// Crash once the load is well under way (groups forming), however slow the machine.
	const started = Date.now();
	while (acked.length < SMALL_ACKED_BEFORE_CRASH && failuresBeforeCrash.length === 0 && Date.now() - started < SMALL_LOAD_MAX_MS)
		await sleep(50);
	const inFlightAtCrash = inFlight;
	crashing = true;
	const killed = await dev.crash();
	stop = true;
	await Promise.all(producers);

	t.diagnostic(
		`acknowledged ${acked.length} single-record requests; ${inFlightAtCrash} in flight at SIGKILL; ${unknownBeforeCrash} failed by wrangler dev before it`,
	);
	assert.deepEqual(failuresBeforeCrash, [], "no produce failed before the crash");
	assert.ok(killed.length >= 1, "at least one workerd process was killed");
	assert.ok(acked.length >= SMALL_ACKED_BEFORE_CRASH, `the load ran before the crash (${acked.length} acknowledged)`);
	assert.ok(inFlightAtCrash > 0, "the crash hit while produce requests were in flight");

	const restarted = await dev.restart();
	api = client(restarted.url, token);
	// Each idempotent producer sends again what it had in flight and what was acknowledged last, as a client does
	// after a lost answer.
	/** @param {LastRequest} request */
	const sendAgain = async (request) => {
		const again = await api.expect(200, "POST", `/v1/topics/${SMALL_TOPIC.name}/records`, { body: request.body });
		const position = again.offsets?.[0];
		assert.ok(position !== undefined, `${request.record.value}: the retry is answered with an offset`);
		return position;
	};
	const inFlightOffsets = [];
	for (const last of lastSent.values()) {
		if (last.position !== null) continue;
		const position = await sendAgain(last);
		acked.push({ topic: SMALL_TOPIC.name, ...position, key: null, value: last.record.value });
		inFlightOffsets.push(position.offset);
	}
	t.diagnostic(`idempotent requests in flight at the crash, sent again: at offsets ${inFlightOffsets.join(", ")}`);
	for (const last of lastAcked.values()) {
		const position = await sendAgain(last);
		assert.deepEqual(
			{ partition: position.partition, offset: position.offset },
			{ partition: last.position?.partition, offset: last.position?.offset },
			`${last.record.value}: a retry of an acknowledged request is answered with its offset`,
		);
	}
	t.diagnostic(`${lastAcked.size} acknowledged idempotent requests sent again after the restart`);
	assert.ok(lastAcked.size > 0, "some idempotent producer had a request acknowledged before the crash");
	// No retry wrote its record a second time: every value is present once.
	await verifyRecovered(t, api, [SMALL_TOPIC], new Map([[SMALL_TOPIC.name, sent]]), acked);
	await restarted.stop();
});
