// @ts-check
/**
 * The conformance suite runs a test again for a request wrangler dev failed only when that request was the test's own
 * (test/e2e/lib/wrangler-failures.mjs): a count shared by the tests running at once let one test's proxy 503 re-run,
 * and hide, another's real failure.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { wranglerFailures } from "../e2e/lib/wrangler-failures.mjs";

const proxy503 = { message: "expected 200, got 503" };

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
	assert.equal(failures.take(other, proxy503), false, "another test's own 503 is not excused by it");
	assert.equal(failures.take(hit, { message: "expected 3 records, got 2" }), false, "a failure that does not say so");
	assert.equal(failures.take(hit, proxy503), true);
	assert.equal(failures.take(hit, proxy503), false, "taken once");
});

test("a request failed in a try that passed does not excuse a later try's failure", async () => {
	const failures = wranglerFailures();
	const flaky = { name: "flaky" };
	await failures.during(flaky, async () => failures.seen());
	// That try passed; the next one fails with a 503 of the Worker's own.
	await failures.during(flaky, async () => undefined);
	assert.equal(failures.take(flaky, proxy503), false);
});
