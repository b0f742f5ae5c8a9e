/**
 * @module
 * The order pipeline's services, each a plain async function on the SDK:
 *
 * - `orderService` produces orders to `orders`, keyed by order id (so one order's events stay in order on one
 *   partition), with a `source` header saying where the order came from.
 * - `stockService` (group `stock`) keeps stock levels and emits a `stock-updated` event per order to a second
 *   topic: services chained through the log.
 * - `notificationService` (group `notification`) confirms every order and alerts on low stock, reading both
 *   `orders` and `stock-updated`.
 * - `analyticsService` (group `analytics`) keeps revenue per SKU.
 *
 * Delivery is at least once, so every service is idempotent: it remembers the order ids it has applied and
 * skips a redelivered one. Orders of other runs (the topic outlives a run) are committed and otherwise ignored.
 */

export const CATALOG = {
	"A1-kettle": { priceCents: 3999, stock: 300 },
	"B2-teapot": { priceCents: 2450, stock: 200 },
	"C3-mug": { priceCents: 899, stock: 900 },
	"D4-grinder": { priceCents: 12900, stock: 60 },
};
const SOURCES = ["web", "mobile", "store"];
export const LOW_STOCK = 10;

/** A small seeded generator (mulberry32), so a run's orders are the same every time for a given seed. */
function random(seed) {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Produces `count` orders; resolves with how many landed on each partition, once all are written. */
export async function orderService(client, { runId, count, seed = 1 }) {
	const next = random(seed);
	const skus = Object.keys(CATALOG);
	const producer = client.producer();
	const sends = [];
	for (let i = 0; i < count; i++) {
		const orderId = `${runId}-${String(i).padStart(5, "0")}`;
		const sku = skus[Math.floor(next() * skus.length)];
		const order = {
			order_id: orderId,
			run_id: runId,
			sku,
			qty: 1 + Math.floor(next() * 3),
			customer: `customer-${Math.floor(next() * 50)}`,
		};
		// Not awaited one by one: the producer batches them (linger) and numbers them, so retries never duplicate.
		sends.push(producer.send("orders", { key: orderId, value: order, headers: { source: SOURCES[i % SOURCES.length] } }));
	}
	const written = await Promise.all(sends);
	await producer.close();
	const perPartition = {};
	for (const w of written) perPartition[w.partition] = (perPartition[w.partition] ?? 0) + 1;
	return perPartition;
}

/** The common shape of a service: a group consumer, a loop, and state it keeps. */
function service(client, { group, topics, onRecord, beforeCommit }) {
	const consumer = client.consumer({ group, topics, from: "earliest", waitMs: 300, beforeCommit });
	const done = (async () => {
		for await (const record of consumer) await onRecord(record);
	})();
	return { consumer, done, stop: () => consumer.stop() };
}

export function stockService(client, { runId }) {
	const levels = Object.fromEntries(Object.entries(CATALOG).map(([sku, item]) => [sku, item.stock]));
	const applied = new Set();
	const state = { levels, applied, outOfStock: 0, emitted: 0, skipped: 0 };
	// Events are sent without waiting, and the producer is flushed before the consumer commits: an order is
	// committed only once its stock-updated event is written, and a poll's worth of events share requests.
	const producer = client.producer();
	const running = service(client, {
		group: "stock",
		topics: ["orders"],
		beforeCommit: () => producer.flush(),
		onRecord: async ({ value: order }) => {
			if (order.run_id !== runId || applied.has(order.order_id)) {
				state.skipped++;
				return;
			}
			const available = levels[order.sku] >= order.qty;
			if (available) levels[order.sku] -= order.qty;
			else state.outOfStock++;
			const event = {
				run_id: runId,
				order_id: order.order_id,
				sku: order.sku,
				stock: levels[order.sku],
				reserved: available ? order.qty : 0,
			};
			producer.send("stock-updated", { key: order.sku, value: event });
			state.emitted++;
			applied.add(order.order_id);
		},
	});
	return {
		...running,
		state,
		stop: async () => {
			await running.stop();
			await producer.close();
		},
	};
}

export function notificationService(client, { runId }) {
	const state = { confirmations: new Set(), alerts: 0, stockEvents: new Set(), skipped: 0, bySource: {} };
	const running = service(client, {
		group: "notification",
		topics: ["orders", "stock-updated"],
		onRecord: async ({ topic, value, headers }) => {
			if (value.run_id !== runId) {
				state.skipped++;
				return;
			}
			if (topic === "orders") {
				if (state.confirmations.has(value.order_id)) return;
				state.confirmations.add(value.order_id);
				const source = headers.find((h) => h.key === "source")?.value ?? "unknown";
				state.bySource[source] = (state.bySource[source] ?? 0) + 1;
			} else {
				if (state.stockEvents.has(value.order_id)) return;
				state.stockEvents.add(value.order_id);
				if (value.stock < LOW_STOCK) state.alerts++;
			}
		},
	});
	return { ...running, state };
}

export function analyticsService(client, { runId }) {
	const state = { revenueCents: {}, orders: new Set(), skipped: 0 };
	const running = service(client, {
		group: "analytics",
		topics: ["orders"],
		onRecord: async ({ value: order }) => {
			if (order.run_id !== runId || state.orders.has(order.order_id)) {
				state.skipped++;
				return;
			}
			state.orders.add(order.order_id);
			state.revenueCents[order.sku] = (state.revenueCents[order.sku] ?? 0) + CATALOG[order.sku].priceCents * order.qty;
		},
	});
	return { ...running, state };
}
