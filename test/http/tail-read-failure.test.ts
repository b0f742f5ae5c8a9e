/**
 * A WebSocket tail whose read of the partition throws after the tail opened (its storage failed, or a bug) is closed
 * 1011 with a reason, and the failure logged: not left open and silent until a later append happens to read again.
 * The same for a tail that pays its key's fetch quota, whose every message is read and sent in the background, and for
 * a catch-up from R2 whose read answers a bug's failure (`internal`), which is no deleted topic (4404).
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TAIL_CLOSE, type TailSource } from "../../src/partition/tail.ts";
import { err } from "../../src/shared/errors.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub } from "../support/stubs.ts";
import { openTail } from "../support/tail.ts";
import { throwOnce } from "../support/throw-once.ts";
import { offloadBatches, produceBatches } from "../support/tiering.ts";
import { createTopic, produce } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

/**
 * A tail on a new topic (paying its key's fetch quota when `paying`) whose `tailLog[method]` throws `bug` once, then
 * two records produced: how it closed, what it was sent, and the error lines that name `bug`.
 */
async function tailBrokenOnce(method: "readNow" | "payFetch", bug: Error, paying: boolean) {
	const topic = uniqueTopic();
	await createTopic(topic, 1);
	const quota = { fetch_bytes_per_sec: 1_000_000 };
	const key = paying ? await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }], quota) : undefined;
	const tail = await openTail(topic, "", key?.secret);
	const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
	vi.spyOn(console, "warn").mockImplementation(() => undefined);
	await runInDurableObject(await partitionStub(topic), (instance) =>
		throwOnce((instance as unknown as { followers: { tailLog: Record<typeof method, () => void> } }).followers.tailLog, method, bug),
	);
	await produce(topic, [{ value: "a" }]);
	// The call works again: a tail left open is sent both records with this append.
	await produce(topic, [{ value: "b" }]);
	await tail.until(() => tail.closed() !== null || tail.values().length === 2);
	const logged = error.mock.calls.map(([line]) => String(line)).filter((line) => line.includes(bug.message));
	return { closed: tail.closed(), values: tail.values(), logged };
}

describe.each([
	["", false],
	[" that pays its key's fetch quota", true],
])("a WebSocket tail%s whose read throws", (_, paying) => {
	it("is closed 1011 with a reason, and the failure logged", async () => {
		const bug = new TypeError("Cannot read properties of undefined (reading 'text')");
		const { closed, values, logged } = await tailBrokenOnce("readNow", bug, paying);
		expect([closed?.code, values]).toEqual([1011, []]);
		expect(closed?.reason).toMatch(/read failed/);
		expect(logged).toHaveLength(1);
	});
});

describe("a WebSocket tail that pays its key's fetch quota, whose background send meets a bug", () => {
	it("is closed 1011 and the bug logged as an error, not ended quietly and tried again at the next append", async () => {
		// Paying for the first message throws as a bug in it would (not the key's authority failing, which is retried).
		const bug = new TypeError("Cannot read properties of undefined (reading 'waitMs')");
		const { closed, values, logged } = await tailBrokenOnce("payFetch", bug, true);
		expect([closed?.code, values]).toEqual([1011, []]);
		expect(logged).toHaveLength(1);
	});
});

describe("a WebSocket tail catching up from R2 whose read answers a failure", () => {
	it.each([
		["a bug's", "internal", 1011],
		["the topic deleted's", "topic_not_found", TAIL_CLOSE.topicDeleted],
		["an offset below the log start's", "offset_out_of_range", TAIL_CLOSE.offsetOutOfRange],
	] as const)("is closed by what it is: %s read (%s), %i", async (_, code, closeCode) => {
		const topic = uniqueTopic("tier");
		await createTopic(topic);
		await produceBatches(topic, 12, 4);
		await offloadBatches(topic, 30);
		const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
		vi.spyOn(console, "warn").mockImplementation(() => undefined);
		const message = `the read answered ${code}`;
		await runInDurableObject(await partitionStub(topic), (instance) => {
			const source = (instance as unknown as { followers: { tailLog: { -readonly [K in keyof TailSource]: TailSource[K] } } }).followers
				.tailLog;
			const readAcross = source.readAcross;
			source.readAcross = async () => {
				source.readAcross = readAcross;
				return err(code, message);
			};
		});
		const tail = await openTail(topic, "?offset=0");
		await tail.until(() => tail.closed() !== null);
		expect([tail.closed()?.code, tail.values()]).toEqual([closeCode, []]);
		const logged = error.mock.calls.map(([line]) => String(line)).filter((line) => line.includes(message));
		expect(logged, "logged as an error only when it is a bug").toHaveLength(closeCode === 1011 ? 1 : 0);
	});
});
