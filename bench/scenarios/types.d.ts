/**
 * The shapes the bench passes around: a scenario, the context its runner gets, the row it produces, and the
 * module that runs one kind of scenario (see bench/scenarios/index.mjs for how to add one).
 */

import type { HttpClient } from "../lib/http.mjs";
import type { LoadResult } from "../lib/load.mjs";
import type { TargetName } from "../targets.mjs";

export interface Scenario {
	id: string;
	label: string;
	kind: string;
	clients?: number;
	partitions: number;
	/** The servers it runs on, when fewer than its kind's. */
	targets?: TargetName[];
	/** Kind-specific settings (an idempotence variant, a latency path, a target p99, …). */
	[setting: string]: unknown;
}

export interface LatencySummary {
	p50: number;
	p90: number;
	p99: number;
	max: number;
	mean: number;
}

export interface CpuShare {
	clientPercent: number;
	serverPercent: number | null;
	otherPercent: number | null;
	/** A write + fsync's median just before the measurement (bench/lib/disk.mjs), ms; absent in older results. */
	fsyncMs?: number | null;
	/** Share of the measurement in which some task stalled on I/O (the bench's own commits included), %. */
	ioStallPercent?: number | null;
}

/** What a runner answers for one scenario on one target; the bench adds the row's identity around it. */
export interface Result {
	clients?: number;
	seconds?: number;
	requests?: number;
	records?: number;
	sentBytes?: number;
	receivedBytes?: number;
	recordsPerSec?: number;
	requestsPerSec?: number;
	sentMBPerSec?: number;
	receivedMBPerSec?: number;
	/** The MB/s column: bytes sent for produce-like loads, received for reads. */
	payloadMBPerSec?: number;
	latencyMs?: LatencySummary;
	cpu?: CpuShare | null;
	quietWaitMs?: number;
	errors?: number;
	errorSamples?: { status: number; error: string }[];
	aborted?: boolean;
	failed?: string;
	/** "ok", or what the checks after the load found wrong. */
	verification?: "ok" | string[];
	/** Kind-specific figures (see each kind's module). */
	[figure: string]: unknown;
}

/** One line of the results: a scenario on one runtime and server (or a peer's run, or a skipped peer). */
export interface Row extends Result {
	scenario?: string;
	label?: string;
	kind?: string;
	runtime?: string;
	server?: string;
	peer?: string;
	skipped?: string;
	percentOfCeiling?: number | null;
	/** Tributary's records/s as a percentage of ceiling+sqlite's, same scenario and runtime. */
	percentOfCeilingSqlite?: number | null;
}

export interface RunContext {
	runtime: string;
	target: TargetName;
	url: string;
	token: string;
	http: HttpClient;
	/** Where this server keeps its data (its SQLite files). */
	persistTo: string;
	/** The scenarios this run was asked for, in table order. */
	active: Scenario[];
	/** The next seed for generated payloads (`count` seeds reserved at once). */
	nextSeed(count?: number): number;
	/** Runs `make` once per target and key; later calls get the same promise (a kind measuring its rows together). */
	once<T>(key: string, make: () => Promise<T>): Promise<T>;
	/** Whether Ctrl-C asked the run to stop. */
	interrupted(): boolean;
	/** Starts another server of this target and runtime on `persistTo` (for a kind that restarts its own). */
	startServer(persistTo: string): Promise<{ url: string; stop(): Promise<void> }>;
}

/** A report section of its own, after the main table. */
export interface Section {
	/** Empty when `table` renders the whole section, heading and intro included. */
	title: string;
	/** The paragraph under the title. */
	intro: string;
	/** The section's markdown table, from its kind's rows (runtime first, then scenario order). */
	table(rows: Row[]): string;
}

/**
 * A scenario opened on one target, to be measured in rounds (bench/lib/rounds.mjs): warmed up once, then measured
 * in several windows with the other targets' windows between them, then closed. Its state carries from window to
 * window (the same topic, the same cursor), so each window must find the target as the previous one left it.
 */
export interface Measurement {
	/** Load that is not measured, once before the first window; throws when the load fails. */
	warmUp(ms: number): Promise<void>;
	/** One measured window, started at once (the rounds wait for quiet before the first). */
	measure(ms: number): Promise<LoadResult>;
	/** After the last window: the row's other figures (checks, counters), given what the windows add up to. */
	close(merged: Result): Promise<Result>;
}

/** One kind of scenario: its scenarios, where they run, how, and how they are reported. */
export interface ScenarioKind {
	kind: string;
	scenarios: Scenario[];
	/** The servers it runs on. */
	targets: TargetName[];
	/** The runtimes it runs on (default: every one the run has). */
	runtimes?: string[];
	/** Measures the scenario on one target, in one go (a kind without `open`). */
	run?(ctx: RunContext, scenario: Scenario): Promise<Result>;
	/**
	 * Sets the scenario up on one target for measurement in rounds: a kind with `open` has all of a scenario's
	 * targets measured together, in BENCH_ROUNDS rounds (bench/lib/rounds.mjs), and its ratios taken round by round.
	 */
	open?(ctx: RunContext, scenario: Scenario): Promise<Measurement>;
	/** Whether its rows go in the main throughput table (default true). */
	inMainTable?: boolean;
	/** Whether its rows go in the details table (default true). */
	inDetails?: boolean;
	/** A console line for a finished result (default: records/s and p50). */
	summary?(result: Result): string;
	/** Figures computed from other rows once every row is in (percent of a baseline, say). */
	derive?(row: Row, all: Row[]): void;
	section?: Section;
	/** Settings written to latest.json. */
	settings?: Record<string, unknown>;
}
