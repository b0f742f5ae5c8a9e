/**
 * The SDK's live stream (client.stream) when the Worker's read fails after the stream started: the stream's last event
 * is `error` with the failure's JSON body, and the SDK reads it as the same answer given before the start would read,
 * status included. A retriable one (503 `service_unavailable`: the partition's call failed) reconnects from the last
 * record seen, as a dropped connection does; a bug's 500 `internal` is thrown.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { STREAM_ERROR_STATUS } from "../../client/errors.ts";
import { Tributary } from "../../client/index.ts";
import { ERRORS } from "../../src/http/errors.ts";
import { wiredClient } from "../support/sdk.ts";
import { partitionWithOneRecord } from "../support/stubs.ts";
import { throwOnce } from "../support/throw-once.ts";
import { ADMIN_TOKEN, BASE, produce } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

type Stub = Awaited<ReturnType<typeof partitionWithOneRecord>>["stub"];

/**
 * Makes the partition's next read from `offset` or past it throw `thrown` inside the object (test/http/late-failure's
 * way). Reads before it are served: the stream's read waiting at the tail for the record before `offset` may end (a
 * keep-alive) and start again before the test produces that record, as a loaded machine's slow produce lets it, and
 * must not be the one that fails.
 */
async function breakReadFrom(stub: Stub, offset: number, thrown: string | Error): Promise<void> {
	await runInDurableObject(stub, (instance) => {
		const reads = (instance as unknown as { reads: { read(request: { offset?: number }): void } }).reads;
		throwOnce(reads, "read", thrown, (request) => (request.offset ?? 0) >= offset);
	});
}

/** What a stream's loop (`run`) ended with: "ended", or what it threw. */
const endOf = (run: () => Promise<void>) =>
	run().then(
		() => "ended",
		(cause: unknown) => cause,
	);

/** How many times the stream was opened (each start and reconnection GETs the partition's records). */
const opens = (sent: readonly { path: string }[]) => sent.filter((r) => r.path.endsWith("/partitions/0/records")).length;

describe("SDK stream whose read fails after it started", { timeout: 30_000 }, () => {
	it("reconnects from the last record on a late 503, missing and repeating nothing", async () => {
		const { topic, stub } = await partitionWithOneRecord("sse-late");
		const { client, sent } = wiredClient();
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const seen: unknown[] = [];
		for await (const record of client.stream(topic, 0, { offset: 0 })) {
			seen.push(record.value);
			if (record.offset === 0) {
				await breakReadFrom(stub, 2, "SQLITE_IOERR: disk I/O error"); // the read past "b"
				await produce(topic, [{ value: "b" }]);
			}
			if (record.offset === 1) await produce(topic, [{ value: "c" }]);
			if (record.offset === 2) break;
		}
		expect(seen).toEqual(["a", "b", "c"]);
		expect(opens(sent), "opened twice").toBe(2);
	});

	it("gives up after its retries when every start succeeds and every later read fails", async () => {
		const { topic, stub } = await partitionWithOneRecord("sse-late");
		// A read at the start (no wait) is served; one waiting at the tail fails: each stream starts, then ends in error.
		await runInDurableObject(stub, (instance) => {
			const reads = (instance as unknown as { reads: { read(request: { waitMs: number }): unknown } }).reads;
			const read = reads.read.bind(reads);
			reads.read = (request) => {
				if (request.waitMs > 0) throw new Error("SQLITE_IOERR: disk I/O error");
				return read(request);
			};
		});
		const { client, sent } = wiredClient({ retries: 2 });
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const seen: unknown[] = [];
		const thrown = await endOf(async () => {
			for await (const record of client.stream(topic, 0, { offset: 0 })) seen.push(record.value);
		});
		expect(thrown).toMatchObject({ code: "service_unavailable", status: 503 });
		expect(seen).toEqual(["a"]);
		expect(opens(sent), "opened once, then once a retry").toBe(3);
	});

	it("throws a late bug's 500 internal, with its status", async () => {
		const { topic, stub } = await partitionWithOneRecord("sse-late");
		const { client, sent } = wiredClient();
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const seen: unknown[] = [];
		const thrown = await endOf(async () => {
			for await (const record of client.stream(topic, 0, { offset: 0 })) {
				seen.push(record.value);
				if (record.offset === 0) {
					await breakReadFrom(stub, 2, new TypeError("a bug")); // the read past "b"
					await produce(topic, [{ value: "b" }]);
				}
			}
		});
		expect(thrown).toMatchObject({ code: "internal", status: 500, retriable: false });
		expect(seen).toEqual(["a", "b"]);
		expect(opens(sent), "opened once").toBe(1);
	});
});

// Its own bound, well short of the 30 s wait it must not sit through: a stream that waits it out fails by it.
it("aborted while it waits to reconnect (Retry-After: 30) ends at once, opening no more", { timeout: 10_000 }, async () => {
	const stopped = new AbortController();
	let opened = 0;
	const fetcher = async (): Promise<Response> => {
		opened++;
		// Once this answer is read and the wait before the next open begun.
		setTimeout(() => stopped.abort());
		const error = { code: "unavailable", message: "overloaded", retriable: true };
		return Response.json({ error }, { status: 503, headers: { "Retry-After": "30" } });
	};
	const client = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch: fetcher });
	const seen: unknown[] = [];
	for await (const record of client.stream("orders", 0, { offset: 0, signal: stopped.signal })) seen.push(record);
	expect(seen).toEqual([]);
	expect(opened, "no open after the abort").toBe(1);
});

it("reads each code a stream's error event may carry with the status the Worker answers it", () => {
	const worker = Object.fromEntries(Object.keys(STREAM_ERROR_STATUS).map((code) => [code, ERRORS[code as keyof typeof ERRORS]?.status]));
	expect(STREAM_ERROR_STATUS).toEqual(worker);
});
