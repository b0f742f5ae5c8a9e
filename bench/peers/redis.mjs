// @ts-check
/**
 * @module
 * Redis streams as a peer: XADD pipelines of 100×1 KiB for produce, XRANGE COUNT 1000 for fetch, with the
 * server in memory or with an append-only file fsynced every second.
 */

import { join } from "node:path";
import { descendantCpuSeconds, freePort } from "../../scripts/lib/index.mjs";
import { runLoad } from "../lib/load.mjs";
import { valueString } from "../lib/records.mjs";
import { connectResp, encodeCommand, RedisError } from "../lib/resp.mjs";
import { holdServer, tempDir } from "../lib/session.mjs";
import { BODIES_PER_CLIENT, DURATION_MS, FETCH_RECORDS, PREFILL_RECORDS, RECORDS_PER_PRODUCE, WARMUP_MS } from "../settings.mjs";
import { startPeer, versionOf, which } from "./server.mjs";

/**
 * @typedef {import("../scenarios/types.js").Row} Row
 * @typedef {Awaited<ReturnType<typeof connectResp>>} Redis
 */

/**
 * XADD 100×1 KiB per pipeline, one client.
 * @param {Redis} redis
 * @returns {Promise<Row>}
 */
async function xadd(redis) {
	const pipelines = Array.from({ length: BODIES_PER_CLIENT }, (_, b) =>
		Buffer.concat(
			Array.from({ length: RECORDS_PER_PRODUCE }, (_, r) =>
				encodeCommand(["XADD", "bench", "*", "v", valueString(7_000_003 + b * RECORDS_PER_PRODUCE + r)]),
			),
		),
	);
	const result = await runLoad({
		clients: 1,
		warmupMs: WARMUP_MS,
		durationMs: DURATION_MS,
		serverCpu: descendantCpuSeconds,
		step: async (_client, i) => {
			const before = redis.receivedBytes;
			const { replies, sentBytes } = await redis.pipelineRaw(/** @type {Buffer} */ (pipelines[i % pipelines.length]), RECORDS_PER_PRODUCE);
			const bad = replies.find((r) => r instanceof RedisError);
			return {
				status: bad ? 500 : 200,
				error: bad?.message,
				sentBytes,
				receivedBytes: redis.receivedBytes - before,
				records: replies.length,
			};
		},
	});
	return { scenario: "produce-1c-1p", label: "XADD 100×1KB per pipeline, 1 client", ...result, payloadMBPerSec: result.sentMBPerSec };
}

/**
 * XRANGE 1,000 entries at a time over a 20,000-entry stream, wrapping at the end.
 * @param {Redis} redis
 * @returns {Promise<Row>}
 */
async function xrange(redis) {
	for (let i = 0; i < PREFILL_RECORDS / RECORDS_PER_PRODUCE; i++) {
		const commands = Array.from({ length: RECORDS_PER_PRODUCE }, (_, r) => [
			"XADD",
			"fetch",
			"*",
			"v",
			valueString(9_000_001 + i * 100 + r),
		]);
		await redis.pipeline(commands);
	}
	let start = "-";
	const result = await runLoad({
		clients: 1,
		warmupMs: WARMUP_MS,
		durationMs: DURATION_MS,
		serverCpu: descendantCpuSeconds,
		step: async () => {
			const before = redis.receivedBytes;
			const { replies, sentBytes } = await redis.pipeline([["XRANGE", "fetch", start, "+", "COUNT", String(FETCH_RECORDS)]]);
			const entries = replies[0];
			if (entries instanceof RedisError || !Array.isArray(entries)) return { status: 500, error: String(entries) };
			// Each entry is [id, fields]: the next page starts after the last id (exclusive range).
			const last = entries.at(-1);
			const id = Array.isArray(last) ? last[0] : undefined;
			start = entries.length < FETCH_RECORDS || !Buffer.isBuffer(id) ? "-" : `(${id.toString("latin1")}`;
			return { status: 200, sentBytes, receivedBytes: redis.receivedBytes - before, records: entries.length };
		},
	});
	return { scenario: "fetch-1c-1p", label: "XRANGE COUNT 1000, 1 client", ...result, payloadMBPerSec: result.receivedMBPerSec };
}

/**
 * Both Redis runs against one redis-server.
 * @param {"memory" | "aof"} mode
 * @returns {Promise<Row[]>}
 */
export async function redisRuns(mode) {
	const bin = which("redis-server");
	if (bin === null) return [{ skipped: "redis-server is not installed (apt-get install -y redis-server)" }];
	const dir = await tempDir(`redis-${mode}`);
	const port = await freePort();
	const persistence = mode === "aof" ? ["--appendonly", "yes", "--appendfsync", "everysec"] : ["--appendonly", "no"];
	const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--protected-mode", "yes", ...persistence];
	const peer = holdServer((await startPeer({ bin, args, port, logPath: join(dir, "redis.log") })).stop);
	const version = versionOf(bin, ["--version"]).match(/v=(\S+)/)?.[1] ?? "";
	const runtime = `redis ${version} (${mode === "aof" ? "AOF, fsync everysec" : "no persistence"})`;
	const redis = await connectResp({ port });
	try {
		const rows = [await xadd(redis), await xrange(redis)];
		return rows.map((row) => ({ ...row, runtime, server: "redis" }));
	} finally {
		redis.close();
		await peer.release();
	}
}
