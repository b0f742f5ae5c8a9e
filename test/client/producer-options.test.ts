/**
 * The SDK is its own package and cannot import the broker's limits, so its bounds restate them: these pin the two
 * together, so that raising or lowering a broker limit without the SDK's fails here rather than as refused batches.
 */
import { expect, it } from "vitest";
import { BATCH_BYTES_MAX, BATCH_RECORDS_MAX } from "../../client/producer-options.ts";
import { PRODUCER_SEQUENCE_MAX, sequenceAfter } from "../../client/producer-queue.ts";
import { PRODUCER_SEQUENCE_MAX as BROKER_SEQUENCE_MAX, PRODUCE_RECORDS_MAX, REQUEST_BYTES_MAX } from "../../src/shared/limits.ts";

it("a batch the SDK may build is one the broker takes: records at most the broker's, bytes below its request size", () => {
	expect(BATCH_RECORDS_MAX).toBe(PRODUCE_RECORDS_MAX);
	// Below, not equal: the SDK's bytes are its estimate of the records' JSON; the envelope and the estimate's slack
	// need the rest.
	expect(BATCH_BYTES_MAX).toBeLessThan(REQUEST_BYTES_MAX);
});

it("numbers a partition's records as Kafka's int32 sequence does: after 2147483647 comes 0, also within a batch", () => {
	expect(PRODUCER_SEQUENCE_MAX).toBe(BROKER_SEQUENCE_MAX);
	// A batch of 20 from 2147483640 ends at 11 (its last sequence is taken modulo 2^31): the next starts at 12.
	expect(sequenceAfter(2_147_483_640, 20)).toBe(12);
	expect(sequenceAfter(2_147_483_647, 1)).toBe(0);
	expect(sequenceAfter(2_147_483_646, 1)).toBe(2_147_483_647);
	expect(sequenceAfter(5, 1000)).toBe(1005);
});
