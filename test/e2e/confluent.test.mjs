// @ts-check
/**
 * Confluent REST v3 streaming produce over the network, against a real `wrangler dev`: a chunked body of
 * concatenated records, sent in rounds, and each round's delivery reports read back before the next round is
 * sent — so the reports really stream while the request is still open, through wrangler's proxy too. Then the
 * log, read through /v1, must hold every record once, in order, with its content.
 */

import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, test } from "node:test";
import { generateToken, startWranglerDev, stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const ROUNDS = 20;
const PER_ROUND = 25;
const ROUND_TIMEOUT_MS = 15_000;

const state = tempDir("confluent");
after(async () => {
	await stopAllWranglerDevs();
	state.remove();
});

/**
 * @typedef {{ error_code: number, topic_name: string, partition_id: number, offset: number }} DeliveryReport
 */

/**
 * Opens a chunked POST; returns a writer for the body and an async reader of whole response lines.
 * @param {string} url
 * @param {string} token
 */
function openStream(url, token) {
	/** @type {DeliveryReport[]} */
	const lines = [];
	/** @type {(value?: unknown) => void} */
	let wake = () => {};
	let ended = false;
	let status = 0;
	const req = httpRequest(url, {
		method: "POST",
		headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Transfer-Encoding": "chunked" },
	});
	const answered = new Promise((/** @type {(value?: unknown) => void} */ resolve, reject) => {
		req.on("response", (res) => {
			status = res.statusCode ?? 0;
			res.setEncoding("utf8");
			let pending = "";
			res.on("data", (chunk) => {
				pending += chunk;
				const parts = pending.split("\n");
				pending = parts.pop() ?? "";
				for (const part of parts) if (part.trim() !== "") lines.push(JSON.parse(part));
				wake();
			});
			res.on("end", () => {
				ended = true;
				wake();
				resolve();
			});
		});
		req.on("error", reject);
	});
	req.flushHeaders();
	return {
		write: (/** @type {string} */ text) => req.write(text),
		end: () => req.end(),
		answered,
		status: () => status,
		/**
		 * Waits until at least `count` report lines have arrived.
		 * @param {number} count
		 */
		async untilLines(count) {
			const deadline = Date.now() + ROUND_TIMEOUT_MS;
			while (lines.length < count) {
				if (ended) throw new Error(`the response ended after ${lines.length} reports, expected ${count}`);
				const left = deadline - Date.now();
				if (left <= 0) throw new Error(`only ${lines.length} of ${count} reports arrived while the body was open`);
				await new Promise((resolve) => {
					wake = resolve;
					setTimeout(resolve, Math.min(left, 200));
				});
			}
			return lines;
		},
	};
}

test("Confluent v3 streaming produce through wrangler dev: reports stream back per round, the log holds every record", {
	timeout: 180_000,
}, async () => {
	const token = generateToken();
	const dev = await startWranglerDev({ persistTo: state.path, token });
	const api = client(dev.url, token);
	await api.createTopic("payments", 1);

	const stream = openStream(`${dev.url}/kafka/v3/clusters/tributary/topics/payments/records`, token);
	for (let round = 0; round < ROUNDS; round++) {
		let body = "";
		for (let i = 0; i < PER_ROUND; i++) {
			const n = round * PER_ROUND + i;
			body += JSON.stringify({ key: { type: "STRING", data: `k-${n}` }, value: { type: "JSON", data: { n } } });
		}
		stream.write(body);
		// Nothing more is sent until this round's reports are back: a buffered proxy would stall here.
		await stream.untilLines((round + 1) * PER_ROUND);
	}
	stream.end();
	await stream.answered;
	assert.equal(stream.status(), 200);
	const reports = await stream.untilLines(ROUNDS * PER_ROUND);
	assert.equal(reports.length, ROUNDS * PER_ROUND);
	reports.forEach((report, n) => {
		assert.equal(report.error_code, 200, JSON.stringify(report));
		assert.equal(report.topic_name, "payments");
		assert.equal(report.partition_id, 0);
		assert.equal(report.offset, n, "reports come back in request order, offsets dense");
	});

	const fetched = await api.request("GET", `/v1/topics/payments/partitions/0/records?offset=0&max_records=${ROUNDS * PER_ROUND}`);
	assert.equal(fetched.status, 200, fetched.text);
	assert.deepEqual(
		fetched.json.records.map((/** @type {import("./lib/client.mjs").FetchedRecord} */ r) => [r.offset, r.key, r.value]),
		reports.map((_, n) => [n, `k-${n}`, { n }]),
	);
	assert.equal(fetched.json.high_watermark, ROUNDS * PER_ROUND);
});
