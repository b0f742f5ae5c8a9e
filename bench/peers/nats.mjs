// @ts-check
/**
 * @module
 * NATS JetStream (file storage) as a peer: publish 100×1 KiB per batch, awaiting every +ACK.
 */

import { join } from "node:path";
import { descendantCpuSeconds, freePort } from "../../scripts/lib/index.mjs";
import { runLoad } from "../lib/load.mjs";
import { connectNats } from "../lib/nats.mjs";
import { valueString } from "../lib/records.mjs";
import { holdServer, tempDir } from "../lib/session.mjs";
import { BODIES_PER_CLIENT, DURATION_MS, RECORDS_PER_PRODUCE, WARMUP_MS } from "../settings.mjs";
import { startPeer, versionOf, which } from "./server.mjs";

const STREAM = { name: "BENCH", subjects: ["bench.s"], storage: "file", retention: "limits", discard: "old", num_replicas: 1 };

/**
 * @param {Awaited<ReturnType<typeof connectNats>>} nats
 */
async function createStream(nats) {
	const created = await nats.request("$JS.API.STREAM.CREATE.BENCH", [JSON.stringify(STREAM)]);
	const answer = created.answers[0];
	if (answer === undefined || answer.error !== undefined || JSON.parse(answer.payload ?? "{}").error !== undefined) {
		throw new Error(`JetStream stream create failed: ${answer?.error ?? answer?.payload}`);
	}
}

/** @returns {Promise<import("../scenarios/types.js").Row[]>} */
export async function natsRuns() {
	const bin = which("nats-server");
	if (bin === null) return [{ skipped: "nats-server is not installed (apt-get install -y nats-server)" }];
	const dir = await tempDir("nats");
	const port = await freePort();
	const args = ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir];
	const peer = holdServer((await startPeer({ bin, args, port, logPath: join(dir, "nats.log") })).stop);
	const runtime = `nats-server ${versionOf(bin, ["--version"]).replace(/^nats-server:\s*/, "")} (JetStream, file storage)`;
	const nats = await connectNats({ port });
	try {
		await createStream(nats);
		const batches = Array.from({ length: BODIES_PER_CLIENT }, (_, b) =>
			Array.from({ length: RECORDS_PER_PRODUCE }, (_, r) => Buffer.from(valueString(5_000_011 + b * RECORDS_PER_PRODUCE + r))),
		);
		const publish = await runLoad({
			clients: 1,
			warmupMs: WARMUP_MS,
			durationMs: DURATION_MS,
			serverCpu: descendantCpuSeconds,
			step: async (_client, i) => {
				const before = nats.receivedBytes;
				const { answers, sentBytes } = await nats.request("bench.s", /** @type {Buffer[]} */ (batches[i % batches.length]));
				const bad = answers.find((a) => a.error !== undefined || a.headers.includes(" 503") || !a.payload.includes('"seq"'));
				const error = bad ? String(bad.error ?? (bad.headers || bad.payload)) : undefined;
				return { status: bad ? 500 : 200, error, sentBytes, receivedBytes: nats.receivedBytes - before, records: answers.length };
			},
		});
		const label = "JetStream publish 100×1KB awaiting +ACKs, 1 client";
		return [{ scenario: "produce-1c-1p", label, runtime, server: "nats", ...publish, payloadMBPerSec: publish.sentMBPerSec }];
	} finally {
		nats.close();
		await peer.release();
	}
}
