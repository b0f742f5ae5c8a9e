/**
 * A WebSocket tail whose read of the partition throws after the tail opened (its storage failed, or a bug) is closed
 * 1011 with a reason, and the failure logged: not left open and silent until a later append happens to read again.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub } from "../support/stubs.ts";
import { openTail } from "../support/tail.ts";
import { throwOnce } from "../support/throw-once.ts";
import { createTopic, produce } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

describe("a WebSocket tail whose read throws", () => {
	it("is closed 1011 with a reason, and the failure logged", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const tail = await openTail(topic);
		const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
		await runInDurableObject(await partitionStub(topic), (instance) =>
			throwOnce(
				(instance as unknown as { followers: { tailLog: { readNow(): void } } }).followers.tailLog,
				"readNow",
				new TypeError("Cannot read properties of undefined (reading 'text')"),
			),
		);
		await produce(topic, [{ value: "a" }]);
		// The read works again: a tail left open is sent both records with this append.
		await produce(topic, [{ value: "b" }]);
		await tail.until(() => tail.closed() !== null || tail.values().length === 2);
		expect([tail.closed()?.code, tail.values()]).toEqual([1011, []]);
		expect(tail.closed()?.reason).toMatch(/read failed/);
		expect(error.mock.calls.map(([line]) => String(line)).filter((line) => line.includes("(reading 'text')"))).toHaveLength(1);
	});
});
