// @ts-check
/**
 * @module
 * Peer brokers run with the same shapes of load, for perspective: Redis streams (in memory, and with an
 * append-only file fsynced every second) and NATS JetStream (file storage), each when installed. To add a peer,
 * write bench/peers/<name>.mjs answering rows whose `scenario` is the Tributary scenario it mirrors, and add it to
 * PEERS.
 */

import { fmt } from "../lib/format.mjs";
import { isInterrupted } from "../lib/session.mjs";
import { natsRuns } from "./nats.mjs";
import { redisRuns } from "./redis.mjs";

/** @typedef {import("../scenarios/types.js").Row} Row */

/** @type {[string, () => Promise<Row[]>][]} */
const PEERS = [
	["redis (no persistence)", () => redisRuns("memory")],
	["redis (AOF everysec)", () => redisRuns("aof")],
	["nats JetStream", natsRuns],
];

/** Every peer's rows (a skipped or failed peer gives one row saying so). */
export async function peerRuns() {
	/** @type {Row[]} */
	const rows = [];
	for (const [name, run] of PEERS) {
		if (isInterrupted()) break;
		console.error(`  peer: ${name}`);
		try {
			const results = await run();
			for (const r of results) {
				if (r.skipped) console.error(`    skipped: ${r.skipped}`);
				else console.error(`    ${r.scenario}: ${fmt(r.recordsPerSec)} records/s, p50 ${r.latencyMs?.p50} ms`);
			}
			rows.push(...results.map((r) => (r.skipped ? { peer: name, ...r } : r)));
		} catch (error) {
			console.error(`    failed: ${error instanceof Error ? error.message : error}`);
			rows.push({ peer: name, failed: String(error instanceof Error ? error.message : error) });
		}
	}
	return rows;
}
