/**
 * The Durable Streams conformance suite (`@durable-streams/server-conformance-tests`, pinned) against a real
 * `wrangler dev` serving `/ds`, with credential-less requests acting as `anonymous`, granted every right on the
 * streams' namespace (`topic:ds.*`) the way a public deployment would. Long-polls wait `DS_LONG_POLL_MS` (short
 * here, so the suite's timed-out polls finish quickly; 20 s by default).
 *
 * The suite sends its requests with the global fetch, which is made `durableStreamsFetch` for the run: a request
 * wrangler dev failed (not the Worker) is sent again when that is safe (test/e2e/lib/durable-streams-fetch.mjs).
 *
 * The suite's tests that time expiry with sub-second margins are run again when they fail (`EXPIRY_TIMED`), and so is
 * a test that failed where wrangler dev failed a request the fetch could not send again (`WRANGLER_FAILED_RETRIES`).
 *
 * `DS_CONFORMANCE_URL=http://127.0.0.1:PORT` runs it against a broker already running instead.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runConformanceTests } from "@durable-streams/server-conformance-tests";
import { afterAll, aroundEach, beforeAll, beforeEach } from "vitest";
import { startWranglerDev } from "../../scripts/lib/index.mjs";
import { durableStreamsFetch } from "../e2e/lib/durable-streams-fetch.mjs";
import { tempDir } from "../e2e/lib/temp-dir.mjs";
import { wranglerFailures } from "../e2e/lib/wrangler-failures.mjs";

const TOKEN = "conformance-admin-token";
const LONG_POLL_MS = 1_500;
const config = { baseUrl: "", longPollTimeoutMs: 20_000 };
let dev = null;
let persist = null;
/** wrangler dev's whole output, kept for a failed test's look (its in-memory lines cover only the last seconds). */
let logs = null;
/** The broker's 5xx answers (wrangler's request lines) and the failures the Worker logged (its `REQUEST_LOG`). */
const BROKER_FAILURE = /\] (?:GET|HEAD|POST|PUT|DELETE) \S+ 5\d\d |"status":5\d\d|failed:/;
/** How many of them a failed test prints, the latest. */
const BROKER_FAILURES_SHOWN = 40;
const globalFetch = globalThis.fetch;

async function grantAnonymous(base, token) {
	const response = await fetch(`${base}/v1/anonymous`, {
		method: "PUT",
		headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
		body: JSON.stringify({ acl: [{ resource: "topic:ds.*", operations: ["produce", "consume", "admin"] }] }),
	});
	if (response.status !== 200) throw new Error(`granting anonymous failed: ${response.status} ${await response.text()}`);
}

/** The broker's URL: the one named, or a `wrangler dev` started for the run. */
async function broker() {
	const external = process.env.DS_CONFORMANCE_URL;
	if (external !== undefined && external !== "") {
		await grantAnonymous(external, process.env.DS_CONFORMANCE_TOKEN ?? TOKEN);
		return external;
	}
	persist = tempDir("durable-streams");
	logs = tempDir("durable-streams-log");
	dev = await startWranglerDev({
		logPath: join(logs.path, "wrangler.log"),
		persistTo: persist.path,
		token: TOKEN,
		vars: { DS_LONG_POLL_MS: String(LONG_POLL_MS) },
	});
	await grantAnonymous(dev.url, TOKEN);
	return dev.url;
}

/**
 * The suite's describes that time a stream's expiry against the server's clock with fixed, sub-second margins: a
 * `Stream-TTL: 2` stream is touched 1.5 s after its create was answered and must still be there 1.5 s after that
 * touch was answered, so the create's answer, the client's timer and the next request together must take under 0.5 s.
 * The values are the suite's own (not options of `runConformanceTests`) and the clock is the Worker's.
 */
const EXPIRY_TIMED = new Set(["TTL Expiration Behavior", "Fork - TTL and Expiry"]);
/**
 * Runs of such a test before it fails. A broker that does not expire, or does not renew, fails every run of it (a
 * renewed stream left unrenewed is gone at the second look each time; an expired one is there each time), so a run
 * again tells a machine too loaded to keep a 0.5 s margin from a broker that breaks the rule. Each run makes streams
 * of its own (unique paths).
 */
const EXPIRY_TIMED_RETRIES = 2;

/**
 * Runs of any other test that failed while wrangler dev failed a request the fetch could not send again (an append
 * naming no place: its proxy's 503 or a closed connection, which the Worker may or may not have served): that run
 * says nothing of the Worker. Once, not more: a broker that breaks a rule fails the run again too.
 */
const WRANGLER_FAILED_RETRIES = 1;
/**
 * The requests wrangler dev failed, each its test's (test/e2e/lib/wrangler-failures.mjs): a test runs again only for a
 * request of its own try, so one test's proxy 503 cannot re-run, and hide, another's failure.
 */
const wranglerFailed = wranglerFailures();

/** Whether `test`, which failed with `error`, runs again for a request wrangler dev failed in its try (taking it). */
function wranglerFailedIt(test, error) {
	if (!wranglerFailed.take(test)) return false;
	process.stderr.write(
		`conformance: a test failed (${error.message}) after wrangler dev failed a request of its own that could not be sent again: run again\n`,
	);
	return true;
}

/**
 * Gives the tests of `EXPIRY_TIMED` describes their retries, and every other test `WRANGLER_FAILED_RETRIES` when
 * `wranglerFailedIt` (set on the collected tasks: the suite takes no option); returns how many of the first it found.
 */
function giveRetries(suite, expiryTimed = false) {
	let found = 0;
	for (const task of suite.tasks ?? []) {
		if (task.type === "suite") found += giveRetries(task, expiryTimed || EXPIRY_TIMED.has(task.name));
		else if (task.type !== "test") continue;
		else if (expiryTimed) {
			task.retry = EXPIRY_TIMED_RETRIES;
			found++;
		} else task.retry = { count: WRANGLER_FAILED_RETRIES, condition: (error) => wranglerFailedIt(task, error) };
	}
	return found;
}

// biome-ignore lint/correctness/noEmptyPattern: vitest reads a hook's first parameter as fixtures, which must be a pattern
beforeAll(async ({}, file) => {
	// A version of the suite that renamed these describes would run its timed tests without their retries.
	if (giveRetries(file) === 0) throw new Error(`no expiry-timed tests found (describes ${[...EXPIRY_TIMED].join(", ")})`);
	const url = await broker();
	config.baseUrl = `${url}/ds`;
	globalThis.fetch = durableStreamsFetch(globalFetch, config.baseUrl, () => wranglerFailed.seen());
});

// A failed test names what the broker failed, if anything: the suite's assertions say only "expected 503 to be 204".
beforeEach(({ task, onTestFailed }) => {
	onTestFailed(() => {
		if (logs === null) return;
		const failures = readFileSync(join(logs.path, "wrangler.log"), "utf8")
			.split("\n")
			.filter((line) => BROKER_FAILURE.test(line));
		const shown = failures.slice(-BROKER_FAILURES_SHOWN).join("\n") || "(none)";
		process.stderr.write(`conformance: "${task.name}" failed; the broker's 5xx answers and logged failures, latest last:\n${shown}\n`);
	});
});

// Each try of each test in a context of its own, so a failed request is known to be that try's.
aroundEach((runTest, context) => wranglerFailed.during(context.task, runTest));

afterAll(async () => {
	globalThis.fetch = globalFetch;
	await dev?.stop();
	persist?.remove();
	logs?.remove();
});

runConformanceTests(config);
