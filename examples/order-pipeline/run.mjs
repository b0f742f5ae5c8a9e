#!/usr/bin/env node
/**
 * `npm run example`: the original brief's order pipeline on Tributary. An order service produces orders to
 * `orders` (3 partitions); stock, notification and analytics are three consumer groups that each see every
 * order; stock emits `stock-updated` events that notification reads too. Prints a report and exits 0 once every
 * group has consumed and committed everything (lag 0), 1 otherwise.
 *
 * Connects to TRIBUTARY_URL / TRIBUTARY_TOKEN, else the local broker `npm start` runs (http://127.0.0.1:8787,
 * ADMIN_TOKEN from .dev.vars). ORDERS (default 300) sets how many orders to place.
 */

import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_URL, Tributary, TributaryError } from "tributary/client";
import { parseDevVars } from "../../scripts/lib/dev-vars.mjs";
import { analyticsService, notificationService, orderService, stockService } from "./services.mjs";

const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ORDERS = Number(process.env.ORDERS ?? 300);
const TOPICS = [
	{ name: "orders", partitions: 3 },
	{ name: "stock-updated", partitions: 3 },
];
/** How long the services may take to catch up before the run counts as failed. */
const CATCH_UP_TIMEOUT_MS = 120_000;
const CHECK_INTERVAL_MS = 100;

function connection() {
	const devVars = join(PROJECT_ROOT, ".dev.vars");
	const token = process.env.TRIBUTARY_TOKEN || (existsSync(devVars) ? parseDevVars(readFileSync(devVars, "utf8")).ADMIN_TOKEN : undefined);
	if (!token) throw new Error("no token: set TRIBUTARY_TOKEN, or run `npm start` once so .dev.vars holds an ADMIN_TOKEN");
	return { url: process.env.TRIBUTARY_URL || LOCAL_URL, token };
}

/** Creates the topics; ones that exist already (an earlier run) are kept with their data. */
async function ensureTopics(client) {
	for (const topic of TOPICS) {
		try {
			await client.topics.create(topic);
		} catch (error) {
			if (!(error instanceof TributaryError && error.code === "topic_exists")) throw error;
		}
	}
}

async function waitFor(condition, what) {
	const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, CHECK_INTERVAL_MS));
	}
}

/** Per group, the partitions whose committed offset is behind the high watermark. */
async function lagging(client, group, topics) {
	const described = await client.groups.describe(group);
	const behind = [];
	for (const topic of topics) {
		const { partitions } = await client.topics.describe(topic);
		for (const p of partitions) {
			const committed = described.offsets.find((o) => o.topic === topic && o.partition === p.partition)?.committed ?? 0;
			if (committed < p.high_watermark) behind.push(`${topic}/${p.partition} at ${committed} of ${p.high_watermark}`);
		}
	}
	return behind;
}

const money = (cents) => `$${(cents / 100).toFixed(2)}`;

/** Where the run connects, once known: an unreachable broker's error names it. */
let target;

async function main() {
	const { url, token } = connection();
	target = url;
	const client = new Tributary({ url, token });
	const runId = randomBytes(4).toString("hex");
	console.log(`order pipeline on ${url}, run ${runId}: ${ORDERS} orders`);
	await ensureTopics(client);

	const stock = stockService(client, { runId });
	const notification = notificationService(client, { runId });
	const analytics = analyticsService(client, { runId });
	const services = [stock, notification, analytics];
	const started = Date.now();
	const perPartition = await orderService(client, { runId, count: ORDERS });
	console.log(`order-service   produced ${ORDERS} orders to "orders" (per partition: ${JSON.stringify(perPartition)})`);

	// A service whose loop ends before the run is over (an error, or the group gone) fails the run.
	const failed = Promise.race(services.map((s) => s.done.then(() => Promise.reject(new Error(`${s.consumer.group} stopped early`)))));
	failed.catch(() => {}); // once the run is over the services stop on purpose
	await Promise.race([
		waitFor(
			() =>
				stock.state.applied.size === ORDERS &&
				analytics.state.orders.size === ORDERS &&
				notification.state.confirmations.size === ORDERS &&
				notification.state.stockEvents.size === ORDERS,
			"every service to see every order",
		),
		failed,
	]);
	// Stopping a consumer lets its loop finish the record in hand, commits what it processed and leaves the group.
	await Promise.all(services.map((s) => s.stop()));
	await Promise.all(services.map((s) => s.done));
	const seconds = ((Date.now() - started) / 1000).toFixed(1);

	const levels = Object.entries(stock.state.levels).map(([sku, n]) => `${sku}=${n}`);
	console.log(
		`stock           group "stock": ${stock.state.applied.size} orders, ${stock.state.outOfStock} out of stock; left ${levels.join(" ")}`,
	);
	console.log(`                emitted ${stock.state.emitted} "stock-updated" events`);
	console.log(
		`notification    group "notification": ${notification.state.confirmations.size} confirmations (${Object.entries(
			notification.state.bySource,
		)
			.map(([s, n]) => `${s} ${n}`)
			.join(", ")}), ${notification.state.alerts} low-stock alerts from ${notification.state.stockEvents.size} stock events`,
	);
	const revenue = Object.entries(analytics.state.revenueCents).sort(([a], [b]) => a.localeCompare(b));
	const total = revenue.reduce((sum, [, cents]) => sum + cents, 0);
	console.log(`analytics       group "analytics": ${revenue.map(([sku, c]) => `${sku} ${money(c)}`).join(", ")}; total ${money(total)}`);
	const skipped = stock.state.skipped + notification.state.skipped + analytics.state.skipped;
	if (skipped > 0)
		console.log(`                (${skipped} records not of this run, an earlier run's or another writer's, committed and skipped)`);

	const behind = [
		...(await lagging(client, "stock", ["orders"])).map((b) => `stock: ${b}`),
		...(await lagging(client, "notification", ["orders", "stock-updated"])).map((b) => `notification: ${b}`),
		...(await lagging(client, "analytics", ["orders"])).map((b) => `analytics: ${b}`),
	];
	if (behind.length > 0) {
		console.log(`NOT committed: ${behind.join("; ")}`);
		return 1;
	}
	console.log(`all three groups consumed and committed everything (lag 0) in ${seconds} s`);
	return 0;
}

main().then(
	(status) => {
		process.exitCode = status;
	},
	(error) => {
		const code = error instanceof TributaryError ? `${error.code}: ` : "";
		// The broker may run, just not where the example looked (npm start on another PORT).
		const advice =
			error instanceof TributaryError && error.code === "network_error"
				? ` (no broker answered at ${target}: start one with \`npm start\`, or name yours with TRIBUTARY_URL)`
				: "";
		console.error(`order pipeline failed: ${code}${error.message}${advice}`);
		process.exitCode = 1;
	},
);
