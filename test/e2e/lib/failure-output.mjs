// @ts-check
/**
 * @module
 * What a failed e2e test prints to explain itself. The processes a test drives (wrangler dev, the Kafka gateway,
 * in its own process or in this one) and the Kafka clients it opens keep what they said in memory; when a test
 * fails, each one's last FAILURE_LINES_SHOWN lines are printed after it, and a passing run prints nothing. A flake
 * seen once in CI is then explained by its own run: a kafkajs consumer that crashed in its join (which it does
 * silently at `logLevel.NOTHING`) looks, from the test, just like one that is waiting.
 *
 * Importing this module registers the `afterEach` hook for the importing file's tests.
 *
 * @example
 * showOnFailure("wrangler dev", () => dev.output());
 * const gateway = await startGateway({ ..., log: keptLog("gateway") });
 * watchKafkaClient("consumer paged-reader", consumer);
 */

import { afterEach } from "node:test";

/** Per source: enough for a join, its rebalances and a few fetches, short of drowning the failure in a CI log. */
const FAILURE_LINES_SHOWN = 200;
/** What a kafkajs client remembers: more than is shown, so the lines shown are always the last ones. */
const CLIENT_EVENTS_KEPT = 1_000;

/** @type {Map<string, () => string>} each source's output by label, in the order they were registered */
const sources = new Map();

afterEach((context) => {
	// Only a test's context says whether it passed; the hook runs for tests alone.
	if (!("passed" in context) || context.passed) return;
	for (const [label, output] of sources) {
		const lines = output().split("\n");
		const shown = lines.slice(-FAILURE_LINES_SHOWN);
		const cut = lines.length > shown.length ? ` (its last ${shown.length} of ${lines.length} lines)` : "";
		process.stderr.write(`--- ${label}, after "${context.name}" failed${cut} ---\n${shown.join("\n")}\n`);
	}
});

/**
 * Prints `output()` after every test of this file that fails (the file's later tests too: what a process said
 * before a test may explain it).
 * @param {string} label names the source in what is printed; a second source with the same label replaces the first
 * @param {() => string} output
 */
export function showOnFailure(label, output) {
	sources.set(label, output);
}

/**
 * A `log` for an in-process gateway (`startGateway({ log })` in gateway/server.js): keeps its lines, shown when a test fails.
 * @param {string} label
 * @returns {(message: string) => void}
 */
export function keptLog(label) {
	/** @type {string[]} */
	const lines = [];
	showOnFailure(label, () => lines.join("\n"));
	return (message) => {
		lines.push(`${new Date().toISOString()} ${message}`);
	};
}

/**
 * The kafkajs events that tell where a client stood, as one line each. Instrumentation events are emitted whatever
 * the client's log level: a crash (a consumer does not restart after a non-retriable error), a join and its
 * assignment, a rebalance, a request timeout, each fetch and each batch of records it brought.
 * @type {Record<string, (payload: any) => string>}
 */
const DESCRIBED_EVENTS = {
	CRASH: (p) =>
		`crash: ${p.error?.name}: ${p.error?.message}${p.error?.cause ? ` (cause: ${p.error.cause.name}: ${p.error.cause.message})` : ""}; restart ${p.restart}`,
	GROUP_JOIN: (p) => `joined ${p.groupId} as ${p.memberId}${p.isLeader ? " (leader)" : ""}: assigned ${JSON.stringify(p.memberAssignment)}`,
	REBALANCING: (p) => `rebalancing ${p.groupId} (member ${p.memberId})`,
	REQUEST_TIMEOUT: (p) =>
		`request timed out: ${p.apiName} v${p.apiVersion} to ${p.broker} after ${p.createdAt ? Date.now() - p.createdAt : "?"} ms`,
	// kafkajs 2 reports 0 batches on every FETCH (its records come through a generator): the batches are their own event.
	FETCH: (p) => `fetch answered in ${p.duration} ms`,
	START_BATCH_PROCESS: (p) =>
		`batch of ${p.batchSize} from ${p.topic}/${p.partition}: offsets ${p.firstOffset}–${p.lastOffset}, high watermark ${p.highWatermark}`,
	CONNECT: () => "connected",
	DISCONNECT: () => "disconnected",
	STOP: () => "stopped",
};

/**
 * Keeps what a kafkajs client (consumer, producer or admin) went through, shown when a test fails.
 * @param {string} label
 * @param {object} client
 */
export function watchKafkaClient(label, client) {
	const { events, on } =
		/** @type {{ events?: Record<string, string>, on?: (event: string, listener: (event: any) => void) => unknown }} */ (client);
	if (events === undefined || on === undefined) return;
	/** @type {string[]} */
	const lines = [];
	for (const [name, describe] of Object.entries(DESCRIBED_EVENTS)) {
		if (events[name] === undefined) continue;
		on.call(client, events[name], (event) => {
			lines.push(`${new Date(event.timestamp ?? Date.now()).toISOString()} ${describe(event.payload ?? {})}`);
			if (lines.length > CLIENT_EVENTS_KEPT) lines.splice(0, lines.length - CLIENT_EVENTS_KEPT);
		});
	}
	showOnFailure(label, () => lines.join("\n"));
}
