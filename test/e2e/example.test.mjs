// @ts-check
/**
 * `npm run example` (examples/order-pipeline) against a real `wrangler dev`, twice: the second run starts where
 * the groups' commits left off. Checked from outside too: every group's committed offsets reach the high
 * watermarks, and stock emitted one stock-updated event per order. Under `npm run test:e2e` its `wrangler dev` is the
 * one other files share too (lib/shared-dev.mjs): the example's topics and groups are named in no other sharer.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, test } from "node:test";
import { freePort, HOST, PROJECT_ROOT, stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
import { plainDevToken, plainWranglerDev } from "./lib/shared-dev.mjs";

const ORDERS = 120;
const RUN_TIMEOUT_MS = 120_000;
/** @type {Awaited<ReturnType<typeof plainWranglerDev>> | undefined} */
let dev;
after(async () => {
	await stopAllWranglerDevs();
	dev?.remove();
});

/**
 * @param {Record<string, string>} env
 * @returns {Promise<{ status: number | null, stdout: string, stderr: string }>}
 */
function runExample(env) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [join(PROJECT_ROOT, "examples", "order-pipeline", "run.mjs")], {
			cwd: PROJECT_ROOT,
			env: { ...process.env, ...env, ORDERS: String(ORDERS) },
			stdio: ["ignore", "pipe", "pipe"],
		});
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (c) => {
			stdout += c;
		});
		child.stderr.on("data", (c) => {
			stderr += c;
		});
		const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
		child.on("error", reject);
		child.on("close", (status) => {
			clearTimeout(timer);
			resolve({ status, stdout, stderr });
		});
	});
}

/** @typedef {ReturnType<typeof client>} Api */

/**
 * @param {Api} api
 * @param {string} topic
 * @returns {Promise<number>}
 */
async function totalHighWatermark(api, topic) {
	const described = await api.expect(200, "GET", `/v1/topics/${topic}`);
	return described.partitions.reduce((/** @type {number} */ sum, /** @type {any} */ p) => sum + p.high_watermark, 0);
}

/**
 * @param {Api} api
 * @param {string} group
 * @param {string} topic
 * @returns {Promise<number>}
 */
async function totalCommitted(api, group, topic) {
	const described = await api.expect(200, "GET", `/v1/groups/${group}`);
	assert.deepEqual(described.members, [], `${group} left the group`);
	return described.offsets
		.filter((/** @type {any} */ o) => o.topic === topic)
		.reduce((/** @type {number} */ sum, /** @type {any} */ o) => sum + (o.committed ?? 0), 0);
}

test("the order pipeline runs end to end, twice, and every group commits everything", { timeout: 300_000 }, async () => {
	const token = plainDevToken();
	dev = await plainWranglerDev("example", token);
	const api = client(dev.url, token);
	for (let run = 1; run <= 2; run++) {
		const result = await runExample({ TRIBUTARY_URL: dev.url, TRIBUTARY_TOKEN: token });
		assert.equal(result.status, 0, `run ${run}:\n${result.stdout}\n${result.stderr}`);
		assert.match(result.stdout, new RegExp(`produced ${ORDERS} orders to "orders"`));
		assert.match(result.stdout, new RegExp(`group "stock": ${ORDERS} orders`));
		assert.match(result.stdout, new RegExp(`group "notification": ${ORDERS} confirmations`));
		assert.match(result.stdout, /group "analytics": A1-kettle \$\d+\.\d\d/);
		assert.match(result.stdout, /all three groups consumed and committed everything \(lag 0\)/);
		const orders = await totalHighWatermark(api, "orders");
		assert.equal(orders, ORDERS * run);
		assert.equal(await totalHighWatermark(api, "stock-updated"), ORDERS * run, "one stock-updated event per order");
		for (const group of ["stock", "notification", "analytics"]) assert.equal(await totalCommitted(api, group, "orders"), orders, group);
		assert.equal(await totalCommitted(api, "notification", "stock-updated"), ORDERS * run);
	}
	const topic = await api.expect(200, "GET", "/v1/topics/orders");
	assert.equal(topic.partitions.length, 3);
});

test("with no broker at its URL, the example says where it looked and how to point it at yours", { timeout: RUN_TIMEOUT_MS }, async () => {
	// A port nothing listens on: bound by the kernel, then released.
	const url = `http://${HOST}:${await freePort()}`;
	const result = await runExample({ TRIBUTARY_URL: url, TRIBUTARY_TOKEN: "unused" });
	assert.equal(result.status, 1, result.stdout + result.stderr);
	assert.match(
		result.stderr,
		new RegExp(`no broker answered at ${url.replaceAll(".", "\\.")}: start one with \`npm start\`, or name yours with TRIBUTARY_URL`),
	);
});
