/**
 * The metrics hub answers its storage failing, or a bug, inside its methods as a failure Result
 * (test/support/rpc-failure.ts), not a rejection crossing RPC; `/metrics` answers it 503, as it did the rejection.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MetricsHub } from "../../src/metrics/metrics-hub.ts";
import { metricsHub } from "../../src/shared/stubs.ts";
import { answersWhenBroken, failureResults } from "../support/rpc-failure.ts";
import { throwOnce } from "../support/throw-once.ts";
import { call, expectError } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

type HubStub = DurableObjectStub<MetricsHub>;

/**
 * The hub's next step throws `thrown`: its next SQL statement, or for `scrape` (which runs none) its reading of its
 * own database's size, which storage answers.
 */
function hubFailsOnce(stub: HubStub, name: string, thrown: string | Error = "SQLITE_IOERR: disk I/O error"): Promise<void> {
	return runInDurableObject(stub, (_, state) => {
		const sql = state.storage.sql;
		if (name !== "scrape") return throwOnce(sql, "exec", thrown);
		Object.defineProperty(sql, "databaseSize", {
			configurable: true,
			get() {
				delete (sql as { databaseSize?: number }).databaseSize;
				throw typeof thrown === "string" ? new Error(thrown) : thrown;
			},
		});
	});
}

describe("the metrics hub's methods", () => {
	it("answer a storage failure or a bug as a failure Result", async () => {
		// A hub of its own: the Worker's takes every other object's reports.
		const stub = env.METRICS_HUB.getByName(crypto.randomUUID()) as HubStub;
		const held = { source: "held", incarnation: "i1", counters: {}, gauges: {} };
		await stub.report(held);
		const calls: [string, () => Promise<unknown>][] = [
			// An isolate's first report asks whether it was forgotten: a statement.
			["report", () => stub.report({ source: "edge:new", incarnation: "e1", counters: {}, gauges: {} })],
			["retire", () => stub.retire("held", "i1")],
			["scrape", () => stub.scrape()],
		];
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = await answersWhenBroken(
			calls,
			(name, thrown) => hubFailsOnce(stub, name, thrown),
			new TypeError("x is not a function"),
		);
		expect(answers).toEqual(failureResults(calls.map(([name]) => name)));
	});

	it("answer a scrape 503 service_unavailable, and the repeat is served", async () => {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await hubFailsOnce(metricsHub(env) as HubStub, "scrape");
		await expectError("GET", "/metrics", 503, "service_unavailable");
		expect((await call("GET", "/metrics")).status).toBe(200);
	});
});
