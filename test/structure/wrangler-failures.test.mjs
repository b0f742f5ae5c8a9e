// @ts-check
/**
 * The conformance suite runs a test again for a request wrangler dev failed only when that request was the test's own
 * (test/e2e/lib/wrangler-failures.mjs): a count shared by the tests running at once let one test's proxy 503 re-run,
 * and hide, another's real failure.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { wranglerFailures } from "../e2e/lib/wrangler-failures.mjs";

test("a request wrangler dev failed re-runs the test that sent it, once, and no other", async () => {
	const failures = wranglerFailures();
	const hit = { name: "hit" };
	const other = { name: "other" };
	await Promise.all([
		failures.during(hit, async () => {
			await Promise.resolve();
			failures.seen();
		}),
		failures.during(other, async () => undefined),
	]);
	assert.equal(failures.take(other), false, "another test's own 503 is not excused by it");
	// Whatever its failure says: the suite's assertions often name no status (a fast-check property over appends
	// failed "expected false to be true" on `response.ok` after its own append met the proxy's 503).
	assert.equal(failures.take(hit), true, "its own try's failure, worded as it is");
	assert.equal(failures.take(hit), false, "taken once");
});

test("a request failed in a try that passed does not excuse a later try's failure", async () => {
	const failures = wranglerFailures();
	const flaky = { name: "flaky" };
	await failures.during(flaky, async () => failures.seen());
	// That try passed; the next one fails with a 503 of the Worker's own.
	await failures.during(flaky, async () => undefined);
	assert.equal(failures.take(flaky), false);
});
