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
	const ahead = new ReadAhead();
	/** @param {number} offset @param {AbortSignal} signal @param {(offset: number) => void} next */
	const read = async (offset, signal, next) => {
		reads.push(offset);
		signals.push(signal);
		const page = { offset, next: offset + 10 < end ? offset + 10 : null };
		if (page.next !== null) next(page.next);
		return page;
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
	const ahead = new ReadAhead();
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

/**
 * Pages read in two steps, as the gateway reads them, each when the test says: `arrive(offset)` (the page's
 * envelope is in: the reader says where the next page starts) and `finish(offset)` (the page is built).
 * @param {number} end
 */
function slowPages(end = 1_000) {
	/** @type {number[]} */
	const reads = [];
	/** @type {Map<number, { arrive: () => void, finish: () => void }>} */
	const steps = new Map();
	const ahead = new ReadAhead();
	/** @param {number} offset @param {AbortSignal} _signal @param {(offset: number) => void} next */
	const read = (offset, _signal, next) => {
		reads.push(offset);
		return new Promise((resolve) =>
			steps.set(offset, {
				arrive: () => offset + 10 < end && next(offset + 10),
				finish: () => resolve({ offset }),
			}),
		);
	};
	const arrive = (/** @type {number} */ offset) => steps.get(offset)?.arrive();
	const finish = (/** @type {number} */ offset) => steps.get(offset)?.finish();
	return { ahead, read, reads, arrive, finish };
}

test("the next page starts as soon as the one before it says where, before that one is built", () => {
	const { ahead, read, reads, arrive } = slowPages();
	ahead.start(alice, "t", 0, 100, 1024, read);
	assert.deepEqual(reads, [100]);
	arrive(100);
	assert.deepEqual(reads, [100, 110]);
	arrive(110);
	assert.deepEqual(
		reads,
		Array.from({ length: READ_AHEAD_PAGES_MAX }, (_, i) => 100 + 10 * i),
		"no more pages under way than the read-ahead holds",
	);
});

test("a page the client took while it was still being read is followed all the same", async () => {
	const { ahead, read, reads, arrive, finish } = slowPages();
	// The client asks for each page before it has arrived, as a consumer faster than the Worker does.
	ahead.start(alice, "t", 0, 100, 1024, read);
	for (let offset = 100; offset < 200; offset += 10) {
		const page = ahead.take(alice, "t", 0, offset, 1024);
		assert.ok(page !== null, `page ${offset} was read ahead`);
		arrive(offset);
		assert.equal(reads.at(-1), offset + 10, `page ${offset + 10} starts once ${offset} says where`);
		finish(offset);
		assert.deepEqual(await page, { offset });
		ahead.start(alice, "t", 0, offset + 10, 1024, read);
	}
	assert.equal(new Set(reads).size, reads.length, "no offset read twice");
});

test("a take makes room for the page after the last one under way", () => {
	const { ahead, read, reads, arrive } = slowPages();
	ahead.start(alice, "t", 0, 100, 1024, read);
	for (let i = 0; i < READ_AHEAD_PAGES_MAX; i++) arrive(100 + 10 * i);
	const full = reads.length;
	assert.ok(ahead.take(alice, "t", 0, 100, 1024) !== null);
	assert.equal(reads.length, full + 1);
	assert.equal(reads.at(-1), 100 + 10 * READ_AHEAD_PAGES_MAX);
});

test("a page with no page after it ends the chain, taken or not", async () => {
	const { ahead, read, reads, arrive, finish } = slowPages(110);
	ahead.start(alice, "t", 0, 100, 1024, read);
	const page = ahead.take(alice, "t", 0, 100, 1024);
	arrive(100);
	finish(100);
	await page;
	await settle();
	assert.deepEqual(reads, [100]);
	assert.equal(ahead.take(alice, "t", 0, 110, 1024), null);
});
