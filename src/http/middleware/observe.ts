/**
 * @module
 * One JSON log line per request (request id, method, route, status, duration, principal id — never a credential),
 * readable with `wrangler tail`, and this isolate's request counters and latency histogram, sent to the metrics
 * hub at most once per `METRICS_REPORT_INTERVAL_MS`, from `waitUntil` so no response waits for it. The line costs
 * ~8 µs of server CPU (bench/profile.mjs), about 1 % of a one-record produce: a cheaper way to write it would save
 * ~1 µs (a template string instead of `JSON.stringify`). Under `wrangler dev` a line costs far more, in wrangler's
 * own process, which reads and prints every line of workerd's output: one-record produces from 32 clients ran at
 * 461–491 requests/s with it and 700–703 without (alternating runs). Measured again with both builds served at once
 * under one load (`npm run bench:ab`, Miniflare, 8 rounds on a busy machine where a one-record produce cost ~1,200 µs):
 * `REQUEST_LOG = "none"` saved 49 µs a request (1 to 85, less in 8 of 8 rounds). On a bare Worker by the same method
 * (~500 µs a request), this line once cost 22 µs (15 to 46) and ten times 77 (53 to 98): a request's first line costs
 * about three times each further one, so most of the cost is logging at all, not the line's text, and a cheaper way to
 * write the same line would not buy it back. What a line costs deployed is unmeasured.
 * So the `REQUEST_LOG` var chooses which requests write one: `errors` (answers of 400 and above; the default, also
 * when unset or empty), `all` or `none`; the counters and the histogram count every request either way. `errors` is
 * the default for the same reasons a Kafka broker's request logger is off unless asked for: a line per record-sized
 * request is costly at streaming rates (Workers Logs bills by line: 1,000 one-record produces a second are 86 million
 * lines a day), and deployed, Cloudflare's invocation logs already record each request's method, URL, status and
 * time (`wrangler dev` prints its own line for each too); what only this line adds, the principal and the route, is
 * kept for every failure.
 *
 * @example
 * {"msg":"request","request_id":"…","method":"POST","route":"/v1/topics/:topic/records","status":404,"duration_ms":12,"principal":"key_…"}
 */

import type { Context, MiddlewareHandler } from "hono";
import { LATENCY_BUCKETS_SECONDS, series } from "../../metrics/catalog.ts";
import { bare, type DomainError, thrownMessage } from "../../shared/errors.ts";
import { METRICS_REPORT_INTERVAL_MS } from "../../shared/limits.ts";
import { metricsHub } from "../../shared/stubs.ts";
import type { AppEnv } from "../app-env.ts";
import { failureOf, statusIn } from "../errors.ts";
import { matchedRoute } from "../route-table.ts";

/**
 * This isolate, as a metrics source: its counters are cumulative for as long as it lives. Named on first use:
 * random values may not be generated at global scope.
 */
let isolate: string | null = null;
let lastSentMs = 0;
let sequence = 0;

/**
 * One route's request counters, with every series key it reports built once, the first time the route is seen:
 * a request adds to numbers, and keys are only spelled out when the counters are sent. Bounded: one per route
 * template (plus `unmatched`), one status entry per status code the route answered.
 */
interface RouteCounters {
	/** Status → [series key, requests]. */
	readonly statuses: Map<number, [string, number]>;
	readonly bucketKeys: readonly string[];
	/** Requests no slower than each bucket's bound, not yet cumulative (see `counterEntries`); the last is +Inf. */
	readonly buckets: number[];
	readonly sumKey: string;
	readonly countKey: string;
	sumSeconds: number;
	requests: number;
}

const routes = new Map<string, RouteCounters>();

function routeCounters(route: string): RouteCounters {
	let counters = routes.get(route);
	if (counters === undefined) {
		const bucketKeys = [...LATENCY_BUCKETS_SECONDS.map(String), "+Inf"].map((le) =>
			series("tributary_http_request_duration_seconds_bucket", { route, le }),
		);
		counters = {
			statuses: new Map(),
			bucketKeys,
			buckets: bucketKeys.map(() => 0),
			sumKey: series("tributary_http_request_duration_seconds_sum", { route }),
			countKey: series("tributary_http_request_duration_seconds_count", { route }),
			sumSeconds: 0,
			requests: 0,
		};
		routes.set(route, counters);
	}
	return counters;
}

/** The route template that answered (bounded label values), or `unmatched` for 404s and 405 fallbacks. */
function routeOf(c: Context<AppEnv>): string {
	return matchedRoute(c)?.path ?? "unmatched";
}

function principalOf(c: Context<AppEnv>): string | null {
	const principal = c.get("principal");
	if (principal === undefined) return null;
	return principal.kind === "admin" ? "admin" : principal.key.id;
}

/** Counts a request by its status, and `seconds`, its time to the answer's headers, in the histogram (none: counted before). */
function count(route: string, status: number, seconds?: number): void {
	const counters = routeCounters(route);
	const byStatus = counters.statuses.get(status);
	if (byStatus === undefined) {
		counters.statuses.set(status, [series("tributary_http_requests_total", { route, status: String(status) }), 1]);
	} else byStatus[1]++;
	if (seconds === undefined) return;
	let bucket = 0;
	while (bucket < LATENCY_BUCKETS_SECONDS.length && seconds > (LATENCY_BUCKETS_SECONDS[bucket] as number)) bucket++;
	counters.buckets[bucket] = (counters.buckets[bucket] as number) + 1;
	counters.sumSeconds += seconds;
	counters.requests++;
}

/**
 * Every counter as a series key and its total. A route's buckets are cumulative, as Prometheus histograms are,
 * and listed in `le` order, each one present (0 where no request was that fast).
 */
export function counterEntries(): Record<string, number> {
	const entries: Record<string, number> = {};
	for (const counters of routes.values()) {
		for (const [key, requests] of counters.statuses.values()) entries[key] = requests;
		let cumulative = 0;
		counters.bucketKeys.forEach((key, i) => {
			cumulative += counters.buckets[i] as number;
			entries[key] = cumulative;
		});
		entries[counters.sumKey] = counters.sumSeconds;
		entries[counters.countKey] = counters.requests;
	}
	return entries;
}

/** Sends this isolate's counters to the hub (totals, so a lost send is made up by the next); never throws. */
export async function sendRequestCounters(env: Env): Promise<void> {
	isolate ??= `edge:${crypto.randomUUID()}`;
	lastSentMs = Date.now();
	sequence++;
	const report = { source: isolate, incarnation: isolate, sequence, counters: counterEntries(), gauges: {} };
	try {
		bare(await metricsHub(env).report(report));
	} catch (error) {
		console.error(`metrics: report failed: ${thrownMessage(error)}`);
	}
}

/**
 * Sends when the last send is an interval old, from the request's `waitUntil`. Nothing waits for the end of an
 * interval (an isolate cannot keep a timer past its requests, and a test harness awaiting `waitUntil` would wait
 * with it): counts of an isolate's last second reach the hub with its next request, or with the next scrape it
 * serves (`/metrics` sends first). `sequence` lets the hub drop a send overtaken by a newer one.
 */
function flush(c: Context<AppEnv>): void {
	if (Date.now() - lastSentMs < METRICS_REPORT_INTERVAL_MS) return;
	const sending = sendRequestCounters(c.env);
	try {
		c.executionCtx.waitUntil(sending);
	} catch {
		// No execution context (a test calling app.request directly): the send still runs, unawaited.
	}
}

/** Which requests write a log line (the `REQUEST_LOG` var). */
export type RequestLogSetting = "all" | "errors" | "none";

const REQUEST_LOG_SETTINGS: readonly RequestLogSetting[] = ["all", "errors", "none"];

/** What an unset or empty `REQUEST_LOG` means (why: the module's comment). */
export const REQUEST_LOG_DEFAULT: RequestLogSetting = "errors";

/** The last `REQUEST_LOG` read and what it means: the var only changes with a deployment, yet every request reads it. */
let requestLog: { readonly raw: string | undefined; readonly setting: RequestLogSetting } | null = null;

/**
 * What `REQUEST_LOG` says; unset or empty is `errors`. A value it cannot mean is `all`, so a typo never hides
 * requests, and it is said once per isolate (an error line, which no setting silences).
 */
export function requestLogSetting(env: Env): RequestLogSetting {
	// Declared in wrangler.toml, but a deployment may still remove it.
	const raw: string | undefined = env.REQUEST_LOG;
	if (requestLog === null || requestLog.raw !== raw) {
		const value = (raw ?? "").trim().toLowerCase();
		const known = value === "" ? REQUEST_LOG_DEFAULT : REQUEST_LOG_SETTINGS.find((setting) => setting === value);
		if (known === undefined) {
			console.error(`REQUEST_LOG=${JSON.stringify(raw)} is not one of ${REQUEST_LOG_SETTINGS.join(", ")}: logging all requests`);
		}
		requestLog = { raw, setting: known ?? "all" };
	}
	return requestLog.setting;
}

function logs(setting: RequestLogSetting, status: number): boolean {
	return setting === "all" || (setting === "errors" && status >= 400);
}

/** When the request came: `observe` sets it first. */
export type ObserveVariables = { startMs: number };

export function observe(): MiddlewareHandler<AppEnv> {
	return async function observe(c, next) {
		c.set("startMs", Date.now());
		await next();
		observed(c, c.res.status, true);
		flush(c);
	};
}

/** Writes the request's log line, as `REQUEST_LOG` says, and counts it by `status`; `timed`: its time too. */
function observed(c: Context<AppEnv>, status: number, timed: boolean): void {
	const durationMs = Date.now() - c.var.startMs;
	const route = routeOf(c);
	if (logs(requestLogSetting(c.env), status)) {
		console.log(
			JSON.stringify({
				msg: "request",
				request_id: c.get("requestId"),
				method: c.req.method,
				route,
				status,
				duration_ms: durationMs,
				principal: principalOf(c),
			}),
		);
	}
	count(route, status, timed ? durationMs / 1000 : undefined);
}

/**
 * A failure after the answer started (a stream's read that threw or was refused), which `onError` cannot answer:
 * logged as it logs one (`failureOf`), then the request's line again with the status the failure would have
 * answered on the request's mount (`statusIn`: a dialect's own where it has one), and counted by that status (its start was counted with its own, and its time to it). The error is the
 * stream's to tell its client.
 */
export function failedAfterStart(c: Context<AppEnv>, thrown: unknown): DomainError {
	const error = failureOf(c, thrown);
	observed(c, statusIn(c, error.code), false);
	return error;
}
