/**
 * The producer's bounded buffer on its own: room taken and given back, the FIFO of what waits for room, `whenRoom()`
 * waiting in it without taking room, and refusals at the deadline (on fake timers: no test waits for real time).
 */

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TributaryError } from "../../client/errors.ts";
import { ProducerBuffer } from "../../client/producer-buffer.ts";

const MAX_BLOCK_MS = 1_000;

/** A buffer of `bytesMax` whose owner records what it was told, in order. */
function bufferOf(bytesMax: number, maxBlockMs = MAX_BLOCK_MS) {
	const told: string[] = [];
	const errors: TributaryError[] = [];
	const buffer = new ProducerBuffer<string>(bytesMax, maxBlockMs, {
		admitted: (item) => told.push(`admitted ${item}`),
		refused: (item, error) => {
			told.push(`refused ${item}: ${error.code}`);
			errors.push(error);
		},
	});
	return { buffer, told, errors };
}

/** Lets the buffer's admission (queued as a microtask) run. */
const microtasks = () => Promise.resolve();

describe("producer buffer", () => {
	beforeEach(() => {
		vi.useFakeTimers();
	});
	afterEach(() => {
		vi.useRealTimers();
	});

	it("takes room at once while it fits and nothing waits; a send behind a waiting one waits even if it fits", async () => {
		const { buffer, told } = bufferOf(100);
		expect(buffer.take("a", 60, 0)).toBe(true);
		expect(buffer.take("b", 50, 0)).toBe(false);
		expect(buffer.take("c", 10, 0)).toBe(false);
		expect(buffer.bytes).toBe(60);
		expect(told).toEqual([]);
		buffer.release(60);
		expect(told).toEqual([]);
		await microtasks();
		expect(told).toEqual(["admitted b", "admitted c"]);
		expect(buffer.bytes).toBe(60);
	});

	it("lets waiting sends in oldest first, only as far as they fit", async () => {
		const { buffer, told } = bufferOf(100);
		buffer.take("a", 100, 0);
		for (const item of ["b", "c", "d"]) buffer.take(item, 40, 0);
		buffer.release(100);
		await microtasks();
		expect(told).toEqual(["admitted b", "admitted c"]);
		expect(buffer.bytes).toBe(80);
		buffer.release(40);
		await microtasks();
		expect(told).toEqual(["admitted b", "admitted c", "admitted d"]);
		expect(buffer.bytes).toBe(80);
	});

	it("refuses what waited maxBlockMs with buffer_full, in order; what waits behind it with a later deadline stays", async () => {
		const { buffer, told, errors } = bufferOf(100);
		buffer.take("a", 100, 0);
		buffer.take("b", 10, 0);
		vi.advanceTimersByTime(MAX_BLOCK_MS / 2);
		buffer.take("c", 10, 0);
		vi.advanceTimersByTime(MAX_BLOCK_MS / 2);
		expect(told).toEqual(["refused b: buffer_full"]);
		expect(errors[0]).toMatchObject({ retriable: true, status: 0, details: { buffer_bytes: 100, max_block_ms: MAX_BLOCK_MS } });
		buffer.release(100);
		await microtasks();
		expect(told).toEqual(["refused b: buffer_full", "admitted c"]);
	});

	it("a deadline set earlier (a send that waited for its topic first) counts from then", () => {
		const { buffer, told } = bufferOf(100);
		const deadlineMs = buffer.deadlineFromNow();
		buffer.take("a", 100, 0);
		vi.advanceTimersByTime(MAX_BLOCK_MS);
		expect(buffer.take("late", 10, deadlineMs)).toBe(false);
		expect(told).toEqual(["refused late: buffer_full"]);
		buffer.take("b", 10, Date.now() + 10);
		vi.advanceTimersByTime(10);
		expect(told).toEqual(["refused late: buffer_full", "refused b: buffer_full"]);
	});

	it("refuses a send larger than the whole buffer at once, with record_too_large", () => {
		const { buffer, told, errors } = bufferOf(100);
		expect(buffer.take("big", 101, 0)).toBe(false);
		expect(told).toEqual(["refused big: record_too_large"]);
		expect(errors[0]?.details).toEqual({ record_bytes: 101, buffer_bytes: 100 });
		expect(buffer.bytes).toBe(0);
	});

	it("with maxBlockMs 0, a send that finds no room is refused at once", () => {
		const { buffer, told } = bufferOf(100, 0);
		buffer.take("a", 100, 0);
		expect(buffer.take("b", 1, 0)).toBe(false);
		expect(told).toEqual(["refused b: buffer_full"]);
	});

	it("whenRoom() resolves at once with room, else waits its turn behind earlier sends without taking room", async () => {
		const { buffer, told } = bufferOf(100);
		await buffer.whenRoom(buffer.deadlineFromNow());
		buffer.take("a", 100, 0);
		buffer.take("b", 30, 0);
		let ready = false;
		const waiting = buffer.whenRoom(buffer.deadlineFromNow()).then(() => {
			ready = true;
		});
		buffer.take("c", 30, 0);
		buffer.release(100);
		await waiting;
		expect(ready).toBe(true);
		expect(told).toEqual(["admitted b", "admitted c"]);
		expect(buffer.bytes).toBe(60);
	});

	it("whenRoom() is refused with buffer_full at its deadline, and at once past it", async () => {
		const { buffer } = bufferOf(100);
		buffer.take("a", 100, 0);
		const waiting = buffer.whenRoom(buffer.deadlineFromNow());
		const refused = expect(waiting).rejects.toMatchObject({ code: "buffer_full" });
		vi.advanceTimersByTime(MAX_BLOCK_MS);
		await refused;
		await expect(buffer.whenRoom(Date.now())).rejects.toMatchObject({ code: "buffer_full" });
	});

	it("never holds negative bytes: giving back more than was taken is a bug, and throws", () => {
		const { buffer } = bufferOf(100);
		buffer.take("a", 10, 0);
		expect(() => buffer.release(11)).toThrow(/invariant/);
	});
});
