/**
 * The metrics hub's alarm stays small whatever the history: it shares its isolate with every Durable Object of the
 * Worker, so a flush that grew with the number of changed sources (a burst of isolates, thousands of partitions
 * reporting at once) blocked them all. Regression: a flush wrote every changed source in one transaction, and
 * silent isolates were forgotten only by a scrape. Rows are counted from the SQL cursors' own counters.
 */

import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { series } from "../../src/metrics/catalog.ts";
import { MetricsHub } from "../../src/metrics/metrics-hub.ts";
import type { MetricsReport } from "../../src/metrics/types.ts";
import { bare } from "../../src/shared/errors.ts";
import { METRICS_EDGE_FORGET_MS, METRICS_HUB_FLUSH_ROWS_MAX, METRICS_HUB_FORGET_ROWS_MAX } from "../../src/shared/limits.ts";
import { runDueAlarm } from "../support/alarm.ts";
import { countRows } from "../support/sql-rows.ts";

type HubStub = DurableObjectStub<MetricsHub>;

/** A hub of its own per test: the Worker's `global` hub also takes the reports of every other object. */
function hub(name: string): HubStub {
	return env.METRICS_HUB.getByName(name) as HubStub;
}

const REQUESTS = series("tributary_http_requests_total", { route: "/hub-flush", status: "200" });

function report(source: string, requests: number): MetricsReport {
	return { source, incarnation: source, counters: { [REQUESTS]: requests }, gauges: {} };
}

/** The requests counter's line in a scrape, as a number. */
function requestsIn(exposition: string): number | undefined {
	const line = exposition.split("\n").find((l) => l.startsWith(`${REQUESTS} `));
	return line === undefined ? undefined : Number(line.slice(REQUESTS.length + 1));
}

/** Far enough ahead of the real clock that workerd never runs a flush moved there by itself while the file runs. */
const HELD_FLUSH_AHEAD_MS = 60 * 60 * 1000;

/**
 * Reports `count` sources, one call each. The first arms the flush `METRICS_HUB_FLUSH_MS` ahead, which the rest can
 * outlast on a loaded machine (407 calls took 1.3 s on a busy one): workerd would then flush part of them by itself,
 * and the alarms counted would not be the test's. So the armed flush is moved far ahead first, for `flush` to run.
 */
async function reportMany(stub: HubStub, prefix: string, count: number): Promise<void> {
	for (let i = 0; i < count; i++) {
		await stub.report(report(`${prefix}${i}`, 1));
		if (i > 0) continue;
		await runInDurableObject(stub, async (_hub, state) => {
			const armed = await state.storage.getAlarm();
			expect(armed, "the first report armed the flush").not.toBeNull();
			await state.storage.setAlarm(Date.now() + HELD_FLUSH_AHEAD_MS);
		});
	}
}

/**
 * Rows written by each run of the hub's alarm, however it ran: the alarm a flush sets for the rest is due at once
 * and runs by itself.
 */
async function meterAlarms(stub: HubStub): Promise<number[]> {
	const perAlarm: number[] = [];
	await runInDurableObject(stub, (instance, state) => {
		const alarm = MetricsHub.prototype.alarm.bind(instance);
		instance.alarm = async () => {
			const { rowsWritten } = await countRows(state.storage.sql, alarm, true);
			perAlarm.push(rowsWritten);
		};
	});
	return perAlarm;
}

/**
 * Reports (`reports`, which arm the hub's flush), then runs the flush now; answers the rows its run wrote. A report
 * arms it only `METRICS_HUB_FLUSH_MS` ahead of the real clock, which a stalled machine can outlast: workerd then runs
 * it first, and `runDurableObjectAlarm` answers false though it ran. So what proves the run is a run `meterAlarms`
 * counted since the reports began, however it came.
 */
async function flushAfter(stub: HubStub, perAlarm: number[], reports: () => Promise<unknown>): Promise<number> {
	const runs = perAlarm.length;
	await reports();
	await runDueAlarm(stub);
	await vi.waitFor(() => expect(perAlarm.length, "the reports armed the flush, and it ran").toBeGreaterThan(runs), {
		timeout: 30_000,
		interval: 50,
	});
	return perAlarm.at(-1) as number;
}

async function storedSources(stub: HubStub, like = "%"): Promise<number> {
	return runInDurableObject(
		stub,
		(_hub, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sources WHERE source LIKE ?", like).one().n,
	);
}

describe("MetricsHub flush", () => {
	it("writes at most METRICS_HUB_FLUSH_ROWS_MAX sources per alarm and sets the next at once for the rest", async () => {
		const stub = hub("flush-bound");
		const perAlarm = await meterAlarms(stub);
		const perSource = await flushAfter(stub, perAlarm, () => reportMany(stub, "one:", 1));
		expect(perSource).toBeGreaterThan(0);
		const perUpdate = await flushAfter(stub, perAlarm, () => stub.report(report("one:0", 2)));
		expect(perUpdate).toBeGreaterThan(0);

		const burst = 2 * METRICS_HUB_FLUSH_ROWS_MAX + 7;
		await flushAfter(stub, perAlarm, () => reportMany(stub, "burst:", burst));
		await vi.waitFor(async () => expect(await storedSources(stub)).toBe(1 + burst), { timeout: 30_000, interval: 50 });
		const burstAlarms = perAlarm.slice(2);
		expect(burstAlarms.length, `alarms for ${burst} changed sources`).toBe(3);
		for (const written of burstAlarms) expect(written).toBeLessThanOrEqual(METRICS_HUB_FLUSH_ROWS_MAX * perSource);
		expect(burstAlarms.reduce((sum, written) => sum + written, 0)).toBe(burst * perSource);

		// With that history stored, one changed source costs what it cost on an empty table.
		expect(await flushAfter(stub, perAlarm, () => stub.report(report("one:0", 3)))).toBe(perUpdate);
	});

	it("forgets silent isolates from its alarm, at most METRICS_HUB_FORGET_ROWS_MAX per alarm, keeping their counts", async () => {
		const stub = hub("forget-bound");
		const perAlarm = await meterAlarms(stub);
		const silent = METRICS_HUB_FORGET_ROWS_MAX + 5;
		await flushAfter(stub, perAlarm, () => reportMany(stub, "edge:", silent));
		// The few past METRICS_HUB_FLUSH_ROWS_MAX are written by an alarm of their own, due at once.
		await vi.waitFor(async () => expect(await storedSources(stub, "edge:%")).toBe(silent), { timeout: 30_000, interval: 50 });
		const before = bare(await stub.scrape());
		expect(requestsIn(before)).toBe(silent);
		// As if they had been silent for a day: their reports are dated back.
		await runInDurableObject(stub, (instance) => {
			const held = (instance as unknown as { sources: Map<string, { edge: boolean; updatedAtMs: number }> }).sources;
			for (const source of held.values()) if (source.edge) source.updatedAtMs -= METRICS_EDGE_FORGET_MS + 1;
		});

		await flushAfter(stub, perAlarm, () => stub.report(report("partition:1", 1))); // any report arms the alarm
		expect(await storedSources(stub, "edge:%")).toBe(silent - METRICS_HUB_FORGET_ROWS_MAX);
		await flushAfter(stub, perAlarm, () => stub.report(report("partition:1", 2)));
		expect(await storedSources(stub, "edge:%")).toBe(0);
		expect(requestsIn(bare(await stub.scrape()))).toBe(silent + 2);
	});
});

describe("an isolate forgotten while idle and heard from again", () => {
	/** Dates an isolate's last report back past METRICS_EDGE_FORGET_MS, as if it had been idle for a day. */
	async function silence(stub: HubStub, source: string): Promise<void> {
		await runInDurableObject(stub, (instance) => {
			const held = (instance as unknown as { sources: Map<string, { updatedAtMs: number }> }).sources.get(source);
			if (held === undefined) throw new Error(`${source} is not held`);
			held.updatedAtMs -= METRICS_EDGE_FORGET_MS + 60_000;
		});
	}

	it("is counted once: its cumulative counters replace what forgetting it moved into the totals", async () => {
		const stub = hub("forget-revive");
		const isolate = "edge:revived";
		await stub.report({ ...report(isolate, 10), sequence: 1 });
		await silence(stub, isolate);
		expect(requestsIn(bare(await stub.scrape()))).toBe(10); // forgotten: its 10 moved into the totals
		await stub.report({ ...report(isolate, 11), sequence: 2 }); // one more request on the same isolate
		expect(requestsIn(bare(await stub.scrape()))).toBe(11);
		// Forgotten a second time and back again: still exact, and never lower than before.
		await silence(stub, isolate);
		expect(requestsIn(bare(await stub.scrape()))).toBe(11);
		await stub.report({ ...report(isolate, 12), sequence: 3 });
		expect(requestsIn(bare(await stub.scrape()))).toBe(12);
		// Another isolate that was never forgotten adds its own.
		await stub.report(report("edge:other", 5));
		expect(requestsIn(bare(await stub.scrape()))).toBe(17);
	});

	it("keeps a late report older than what was forgotten from lowering the totals", async () => {
		const stub = hub("forget-stale");
		const isolate = "edge:stale";
		await stub.report({ ...report(isolate, 10), sequence: 2 });
		await silence(stub, isolate);
		expect(requestsIn(bare(await stub.scrape()))).toBe(10);
		await stub.report({ ...report(isolate, 9), sequence: 1 });
		expect(requestsIn(bare(await stub.scrape()))).toBe(10);
	});
});
