/**
 * The SDK is its own package and cannot import the broker's limits, so its bounds restate them: these pin the two
 * together, so that raising or lowering a broker limit without the SDK's fails here rather than as refused batches.
 */
import { expect, it } from "vitest";
import { BATCH_BYTES_MAX, BATCH_RECORDS_MAX } from "../../client/producer-options.ts";
import { PRODUCE_RECORDS_MAX, REQUEST_BYTES_MAX } from "../../src/shared/limits.ts";

it("a batch the SDK may build is one the broker takes: records at most the broker's, bytes below its request size", () => {
	expect(BATCH_RECORDS_MAX).toBe(PRODUCE_RECORDS_MAX);
	// Below, not equal: the SDK's bytes are its estimate of the records' JSON; the envelope and the estimate's slack
	// need the rest.
	expect(BATCH_BYTES_MAX).toBeLessThan(REQUEST_BYTES_MAX);
});
