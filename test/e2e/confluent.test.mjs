// @ts-check
/**
 * Confluent REST v3 streaming produce over the network, against a real `wrangler dev`: a chunked body of
 * concatenated records, sent in rounds, and each round's delivery reports read back before the next round is
 * sent — so the reports really stream while the request is still open, through wrangler's proxy too. Then the
 * log, read through /v1, must hold every record once, in order, with its content. And the admin surface a
 * Confluent user drives (create a topic with configs, alter them, read partitions and a group's lag, delete),
 * each step checked against what /v1 says. Both tests share one `wrangler dev` (under `npm run test:e2e`, the one
 * other files share too: lib/shared-dev.mjs).
 */

import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, test } from "node:test";
import { stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
import { plainDevToken, plainWranglerDev } from "./lib/shared-dev.mjs";

const ROUNDS = 20;
const PER_ROUND = 25;
const ROUND_TIMEOUT_MS = 15_000;

const token = plainDevToken();
/** @type {ReturnType<typeof plainWranglerDev> | undefined} */
let started;
/** The one `wrangler dev` of this file, started (or the shared one waited for) by the first test that needs it. */
function dev() {
	started ??= plainWranglerDev("confluent", token);
	return started;
}
after(async () => {
	await stopAllWranglerDevs();
	(await started)?.remove();
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
	const { url } = await dev();
	const api = client(url, token);
	await api.createTopic("payments", 1);

	const stream = openStream(`${url}/kafka/v3/clusters/tributary/topics/payments/records`, token);
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

test("Confluent v3 admin through wrangler dev: create with configs, alter, partitions, group lag, delete", {
	timeout: 180_000,
}, async () => {
	const { url } = await dev();
	const api = client(url, token);
	const v3 = "/kafka/v3/clusters/tributary";
	const created = await api.expect(201, "POST", `${v3}/topics`, {
		body: { topic_name: "ledger", partitions_count: 2, replication_factor: 3, configs: [{ name: "retention.ms", value: "3600000" }] },
	});
	assert.equal(created.kind, "KafkaTopic");
	assert.equal(created.metadata.self, `${url}${v3}/topics/ledger`);
	assert.equal(created.partitions_count, 2);
	assert.equal((await api.describeTopic("ledger")).config["retention.ms"], 3_600_000);

	const existing = await api.request("POST", `${v3}/topics`, { body: { topic_name: "ledger" } });
	assert.equal(existing.status, 400, existing.text);
	assert.equal(existing.json.error_code, 40002);

	const altered = await api.request("POST", `${v3}/topics/ledger/configs:alter`, {
		body: {
			data: [
				{ name: "cleanup.policy", value: "compact" },
				{ name: "retention.ms", operation: "DELETE" },
			],
		},
	});
	assert.equal(altered.status, 204, altered.text);
	const configs = await api.expect(200, "GET", `${v3}/topics/ledger/configs`);
	const byName = Object.fromEntries(configs.data.map((/** @type {{ name: string, value: string, source: string }} */ c) => [c.name, c]));
	assert.equal(byName["cleanup.policy"].value, "compact");
	assert.equal(byName["cleanup.policy"].source, "DYNAMIC_TOPIC_CONFIG");
	assert.equal(byName["retention.ms"].value, "604800000");
	assert.equal(byName["retention.ms"].source, "DEFAULT_CONFIG");
	const unknown = await api.request("GET", `${v3}/topics/ledger/configs/flush.ms`);
	assert.equal(unknown.status, 404, unknown.text);

	const partitions = await api.expect(200, "GET", `${v3}/topics/ledger/partitions`);
	assert.deepEqual(
		partitions.data.map((/** @type {{ partition_id: number }} */ p) => p.partition_id),
		[0, 1],
	);

	// A group with a commit behind the log: its lag is what /v1 says.
	await api.produce("ledger", [
		{ key: "a", value: 1, partition: 0 },
		{ key: "b", value: 2, partition: 0 },
		{ key: "c", value: 3, partition: 0 },
	]);
	const joined = await api.expect(200, "POST", "/v1/groups/auditors/members", { body: { topics: ["ledger"] } });
	await api.expect(200, "POST", "/v1/groups/auditors/offsets", {
		body: { member_id: joined.member_id, generation: joined.generation, offsets: [{ topic: "ledger", partition: 0, offset: 1 }] },
	});
	const group = await api.expect(200, "GET", `${v3}/consumer-groups/auditors`);
	assert.equal(group.state, "STABLE");
	const lags = await api.expect(200, "GET", `${v3}/consumer-groups/auditors/lags`);
	assert.deepEqual(
		lags.data.map((/** @type {Record<string, unknown>} */ l) => [
			l.topic_name,
			l.partition_id,
			l.current_offset,
			l.log_end_offset,
			l.lag,
			l.consumer_id,
		]),
		[["ledger", 0, 1, 3, 2, joined.member_id]],
	);

	const deleted = await api.request("DELETE", `${v3}/topics/ledger`);
	assert.equal(deleted.status, 204, deleted.text);
	const gone = await api.request("GET", `${v3}/topics/ledger`);
	assert.equal(gone.status, 404, gone.text);
	assert.equal(gone.json.error_code, 40403);
});
