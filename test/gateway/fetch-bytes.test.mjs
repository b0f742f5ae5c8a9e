/**
 * A Fetch's overall `maxBytes` (KIP-74), alone: partitions in request order fill the response while they fit,
 * the first with records goes whatever its size (so a consumer always progresses), and a page that does not fit
 * is answered empty with its partition's high watermark. The e2e test drives it with kafkajs.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { withinResponseBytes } from "../../gateway/handlers/records.js";

/** A partition read whose Kafka batch is `bytes` long (0: no records). */
function read(partition, bytes) {
	const entry = { partitionIndex: partition, errorCode: 0, highWatermark: 100, records: Buffer.alloc(bytes) };
	return { entry, hasRecords: bytes > 0, nextOffset: bytes > 0 ? 10 : null };
}

const sizes = (results) => results.map((r) => r.entry.records.length);

test("pages fill the response in request order while they fit; the rest are answered empty, high watermark kept", () => {
	const results = [read(0, 0), read(1, 400), read(2, 500), read(3, 200), read(4, 100)];
	const answered = withinResponseBytes(results, 1_000);
	assert.deepEqual(sizes(answered), [0, 400, 500, 0, 100]);
	assert.equal(answered[3].hasRecords, false);
	assert.equal(answered[3].nextOffset, null);
	assert.equal(answered[3].entry.highWatermark, 100);
	// Untouched reads are the same objects: the caller tells kept pages from answered ones by identity.
	assert.equal(answered[1], results[1]);
	assert.notEqual(answered[3], results[3]);
});

test("the first partition with records is answered even past maxBytes; nothing after it then fits", () => {
	const answered = withinResponseBytes([read(0, 0), read(1, 5_000), read(2, 1)], 1_000);
	assert.deepEqual(sizes(answered), [0, 5_000, 0]);
	assert.deepEqual(sizes(withinResponseBytes([read(0, 10), read(1, 10)], 0)), [10, 0]);
});
