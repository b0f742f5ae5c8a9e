/**
 * The Fetch read-ahead (gateway/read-ahead.js), alone: it hands a page only to exactly the read that would have
 * fetched it (same credentials, partition, offset and byte cap), drops it on any other, and cancels on close.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { READ_AHEAD_BYTES_MAX } from "../../gateway/limits.js";
import { ReadAhead } from "../../gateway/read-ahead.js";

const alice = {};
const bob = {};

test("a read-ahead is handed to exactly its read, once", async () => {
	const ahead = new ReadAhead();
	ahead.start(alice, "t", 0, 100, 1024, async () => "page 100");
	assert.equal(ahead.take(alice, "t", 1, 100, 1024), null, "another partition");
	assert.equal(ahead.take(alice, "u", 0, 100, 1024), null, "another topic");
	assert.equal(await ahead.take(alice, "t", 0, 100, 1024), "page 100");
	assert.equal(ahead.take(alice, "t", 0, 100, 1024), null, "taken already");
});

test("a read for another offset, byte cap or credentials drops the read-ahead", async () => {
	for (const [who, offset, maxBytes] of [
		[alice, 50, 1024],
		[alice, 100, 2048],
		[bob, 100, 1024],
	]) {
		const ahead = new ReadAhead();
		ahead.start(alice, "t", 0, 100, 1024, async () => "page 100");
		assert.equal(ahead.take(who, "t", 0, offset, maxBytes), null);
		assert.equal(ahead.take(alice, "t", 0, 100, 1024), null, "dropped, not kept for later");
	}
});

test("a failed read-ahead resolves to null, so the Fetch reads afresh", async () => {
	const ahead = new ReadAhead();
	ahead.start(alice, "t", 0, 7, 1024, async () => {
		throw new Error("Worker unreachable");
	});
	assert.equal(await ahead.take(alice, "t", 0, 7, 1024), null);
});

test("read-aheads stop at READ_AHEAD_BYTES_MAX, one per partition, and close cancels them", async () => {
	const ahead = new ReadAhead();
	const signals = [];
	const half = READ_AHEAD_BYTES_MAX / 2;
	let started = 0;
	const read = async (signal) => {
		started++;
		signals.push(signal);
		return "page";
	};
	ahead.start(alice, "t", 0, 1, half, read);
	ahead.start(alice, "t", 0, 1, half, read);
	ahead.start(alice, "t", 1, 1, half, read);
	ahead.start(alice, "t", 2, 1, half, read);
	assert.equal(started, 2, "a second for partition 0 and a third past the cap are not started");
	ahead.close();
	assert.ok(signals.every((s) => s.aborted));
	ahead.start(alice, "t", 3, 1, 1, read);
	assert.equal(started, 2, "nothing starts after close");
	assert.equal(ahead.take(alice, "t", 1, 1, half), null);
});
