// @ts-check
/**
 * Crash check for tiered storage: a topic with remote storage and `local.retention.bytes` far below what it holds,
 * under produce load against `wrangler dev` with persistence, while its partitions offload to the simulated R2.
 * workerd (and wrangler) is SIGKILLed several times mid-load — offload runs every few seconds, so kills land before,
 * during and after uploads and manifest commits — and restarted on the same persist dir. Afterwards:
 *
 * - every acknowledged record is read back (through R2 below the local log start) at its acknowledged offset, once,
 *   with its exact value and timestamp; offsets are dense from 0; nothing present was never sent;
 * - most of the log is in R2 (the local log start moved past most of it) and the partition keeps accepting appends.
 */

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { generateToken, sleep, startWranglerDev, stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
import { produceUnderLoad } from "./lib/crash-produce.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const TOPIC = "tiered-crash";
const PRODUCERS = 3;
const BATCH_RECORDS = 40;
/** ~300 bytes a record: a few MB per round, enough for several segments. */
const VALUE_PAD = "x".repeat(240);
const KILLS = 3;
const LOAD_MS = 4_000;
/** How long to wait after the last restart for the offload to catch up. */
const SETTLE_MS = 60_000;

const state = tempDir("tiered-crash");
after(async () => {
	await stopAllWranglerDevs();
	state.remove();
});

test("acknowledged records survive SIGKILL of workerd during offload to R2", { timeout: 300_000 }, async (t) => {
	const token = generateToken();
	let dev = await startWranglerDev({ persistTo: state.path, token });
	let api = client(dev.url, token);
	await api.expect(201, "POST", "/v1/topics", {
		body: { name: TOPIC, partitions: 1, config: { "remote.storage.enable": true, "local.retention.bytes": 1 } },
	});
	/** @type {Set<string>} */
	const sent = new Set();
	/** @type {Map<number, { value: string, timestamp: number }>} */
	const acked = new Map();
	let offloadedDuringLoad = 0;

	for (let round = 0; round < KILLS; round++) {
		let stop = false;
		/** @param {number} id */
		const producer = async (id) => {
			for (let batch = 0; !stop; batch++) {
				const records = Array.from({ length: BATCH_RECORDS }, (_, i) => ({ value: `r${round}-p${id}-b${batch}-${i}-${VALUE_PAD}` }));
				for (const r of records) sent.add(r.value);
				const outcome = await produceUnderLoad(api, TOPIC, { records });
				// A produce wrangler dev failed (see produceUnderLoad) may be stored or not, as one in flight at a kill; the next goes on.
				if (outcome.kind === "unknown") continue;
				if (outcome.kind !== "acknowledged") return;
				outcome.offsets.forEach((position, i) => {
					assert.ok(!acked.has(position.offset), `offset ${position.offset} acknowledged twice`);
					acked.set(position.offset, { value: String(records[i]?.value), timestamp: position.timestamp });
				});
			}
		};
		const producers = Array.from({ length: PRODUCERS }, (_, id) => producer(id));
		await sleep(LOAD_MS);
		const described = await api.describeTopic(TOPIC);
		offloadedDuringLoad = Math.max(offloadedDuringLoad, described.partitions[0].local_log_start_offset);
		await dev.crash();
		stop = true;
		await Promise.all(producers);
		dev = await dev.restart();
		api = client(dev.url, token);
	}
	t.diagnostic(`acknowledged ${acked.size} records over ${KILLS} kills; local log start reached ${offloadedDuringLoad} under load`);
	assert.ok(acked.size > 0, "the load ran");

	// Let the offload catch up after the last restart (its alarm is persisted, or re-armed by the next append).
	await api.produce(TOPIC, [{ value: "after the last restart" }]);
	const deadline = Date.now() + SETTLE_MS;
	let partition = (await api.describeTopic(TOPIC)).partitions[0];
	while (partition.local_log_start_offset < partition.high_watermark * 0.5 && Date.now() < deadline) {
		await sleep(1_000);
		partition = (await api.describeTopic(TOPIC)).partitions[0];
	}
	t.diagnostic(
		`after settling: local log start ${partition.local_log_start_offset}, high watermark ${partition.high_watermark}, ${partition.remote_bytes} bytes in R2`,
	);
	assert.ok(partition.local_log_start_offset > 0 && partition.remote_bytes > 0, "records were offloaded to R2");

	const { records, highWatermark, logStartOffset } = await api.fetchAll(TOPIC, 0);
	assert.equal(logStartOffset, 0, "nothing was deleted");
	assert.equal(records.length, highWatermark, "one record per offset below the high watermark");
	const seen = new Set();
	records.forEach((record, i) => {
		assert.equal(record.offset, i, `offsets are dense (record ${i} has offset ${record.offset})`);
		const value = String(record.value);
		assert.ok(!seen.has(value), `${value.slice(0, 20)} is stored twice`);
		seen.add(value);
		if (i === records.length - 1) return; // the record written after the last restart
		assert.ok(sent.has(value), `offset ${i}: ${value.slice(0, 20)} was never sent`);
		const ack = acked.get(i);
		if (ack !== undefined) assert.deepEqual({ value, timestamp: record.timestamp }, ack, `offset ${i}: the acknowledged record`);
	});
	for (const offset of acked.keys()) assert.ok(offset < highWatermark, `acknowledged offset ${offset} is below the high watermark`);
	await dev.stop();
});
