/**
 * The Fetch read-ahead (gateway/read-ahead.js), alone: it hands a page only to exactly the read that would have
 * fetched it (same credentials, partition, offset and byte cap), drops the partition's pages on any other read,
 * reads at most READ_AHEAD_PAGES_MAX pages ahead, each from where the one before ended, and cancels on close.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { READ_AHEAD_BYTES_MAX, READ_AHEAD_PAGES_MAX } from "../../gateway/limits.js";
import { ReadAhead } from "../../gateway/read-ahead.js";

const alice = {};
const bob = {};

/** Pages of 10 offsets that end at `end` (null past it); `reads` lists every offset read. */
function pages(end = 1_000) {
	const reads = [];
	const signals = [];
	const ahead = new ReadAhead((page) => page.next);
	/** @param {number} offset @param {AbortSignal} signal */
	const read = async (offset, signal) => {
		reads.push(offset);
		signals.push(signal);
		return { offset, next: offset + 10 < end ? offset + 10 : null };
	};
	return { ahead, read, reads, signals };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("pages are read ahead from where the last one ended, at most READ_AHEAD_PAGES_MAX, each handed once", async () => {
	const { ahead, read, reads } = pages();
	ahead.start(alice, "t", 0, 100, 1024, read);
	await settle();
	assert.deepEqual(
		reads,
		Array.from({ length: READ_AHEAD_PAGES_MAX }, (_, i) => 100 + 10 * i),
	);
	assert.equal(ahead.take(alice, "t", 1, 100, 1024), null, "another partition");
	assert.equal(ahead.take(alice, "u", 0, 100, 1024), null, "another topic");
	assert.deepEqual(await ahead.take(alice, "t", 0, 100, 1024), { offset: 100, next: 110 });
	// The Fetch that took page 100 asks for 110 next: it is under way already, so nothing is read twice.
	ahead.start(alice, "t", 0, 110, 1024, read);
	assert.deepEqual(await ahead.take(alice, "t", 0, 110, 1024), { offset: 110, next: 120 });
	assert.equal(new Set(reads).size, reads.length, "no offset read twice");
});

test("the read-ahead stops at the end of the log", async () => {
	const { ahead, read, reads } = pages(100);
	ahead.start(alice, "t", 0, 90, 1024, read);
	await settle();
	assert.deepEqual(reads, [90]);
});

test("a read for another offset, byte cap or credentials drops the partition's read-ahead", async () => {
	for (const [who, offset, maxBytes] of [
		[alice, 50, 1024],
		[alice, 100, 2048],
		[bob, 100, 1024],
	]) {
		const { ahead, read } = pages();
		ahead.start(alice, "t", 0, 100, 1024, read);
		await settle();
		assert.equal(ahead.take(who, "t", 0, offset, maxBytes), null);
		assert.equal(ahead.take(alice, "t", 0, 100, 1024), null, "dropped, not kept for later");
		assert.equal(ahead.take(alice, "t", 0, 110, 1024), null, "the pages after it too");
	}
});

test("a failed read resolves to null, so the Fetch reads afresh", async () => {
	const ahead = new ReadAhead(() => null);
	ahead.start(alice, "t", 0, 7, 1024, async () => {
		throw new Error("Worker unreachable");
	});
	assert.equal(await ahead.take(alice, "t", 0, 7, 1024), null);
});

test("read-aheads stop at READ_AHEAD_BYTES_MAX, and close cancels them and starts no more", async () => {
	const { ahead, read, reads, signals } = pages();
	const half = READ_AHEAD_BYTES_MAX / 2;
	ahead.start(alice, "t", 0, 0, half, read);
	ahead.start(alice, "t", 1, 0, half, read);
	await settle();
	ahead.start(alice, "t", 2, 0, half, read);
	await settle();
	assert.equal(reads.length, 2, "two half-cap pages fill the cap: no page after them, no third partition");
	ahead.close();
	assert.ok(signals.every((s) => s.aborted));
	ahead.start(alice, "t", 3, 0, 1, read);
	assert.equal(reads.length, 2, "nothing starts after close");
	assert.equal(ahead.take(alice, "t", 1, 0, half), null);
});
