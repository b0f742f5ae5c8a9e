/**
 * A partition's reads answer a storage failure or a bug inside them as a failure Result (test/support/rpc-failure.ts), not a
 * rejection; the edge's answers for them are test/http/platform-failure's.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { answersWhenBroken, failureResults } from "../support/rpc-failure.ts";
import { partitionWithOneRecord } from "../support/stubs.ts";
import { throwOnce } from "../support/throw-once.ts";

afterEach(() => vi.restoreAllMocks());

describe("a partition's reads", () => {
	it("answer a storage failure or a bug as a failure Result", async () => {
		const { topic, topicId, stub } = await partitionWithOneRecord();
		const request = { topicId, offset: 0, maxRecords: 10, maxBytes: 65_536, waitMs: 0 };
		const calls: [string, string, () => Promise<unknown>][] = [
			["read", "read", () => stub.read(request)],
			["readUtf8", "parts", () => stub.readUtf8(request)],
			["readFetchBody", "fetchBody", () => stub.readFetchBody(request)],
			["readPollBody", "pollBody", () => stub.readPollBody(request, "[", "]")],
			["readRecordsPollBody", "recordsPollBody", () => stub.readRecordsPollBody(request, topic, "]")],
		];
		const method = new Map(calls.map(([name, inReads]) => [name, inReads]));
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = await answersWhenBroken(
			calls.map(([name, , call]) => [name, call] as const),
			(name, thrown) =>
				runInDurableObject(stub, (instance) =>
					throwOnce((instance as unknown as { reads: Record<string, () => void> }).reads, method.get(name) as string, thrown),
				),
			new RangeError("offset"),
		);
		expect(answers).toEqual(failureResults(calls.map(([name]) => name)));
	});
});
