/**
 * A poll of one partition whose read the partition answers with its body (`PartitionLog.readRecordsPollBody`) and
 * that fails is answered that failure: a bug 500 `internal`, a storage failure 503 `service_unavailable`. Not read
 * again by the general path, which answered 200 over a bug and, after a long poll's wait, waited a second time.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { partitionStub } from "../support/stubs.ts";
import { throwOnce } from "../support/throw-once.ts";
import { call, createTopic, produce } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

interface Reads {
	parts(request: unknown, withEnds: boolean, views?: boolean): Promise<unknown>;
	recordsPollBody(request: unknown, topic: string, tail: string): Promise<unknown>;
}

/** A one-partition topic and a member of a new group that owns its partition, reading from its start. */
async function lonePartitionMember(records: number): Promise<{ topic: string; path: string }> {
	const topic = uniqueTopic();
	await createTopic(topic, 1);
	if (records > 0)
		await produce(
			topic,
			Array.from({ length: records }, (_, i) => ({ value: `v${i}` })),
		);
	const group = uniqueGroup();
	const m = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
	return { topic, path: `/v1/groups/${group}/members/${m.member_id}/poll` };
}

async function answer(path: string, body: Record<string, unknown>): Promise<[number, string]> {
	const response = await call("POST", path, { body });
	const json = await response.json<{ error?: { code: string } }>();
	return [response.status, json.error?.code ?? "records"];
}

describe("a one-partition poll whose partition's read fails", () => {
	it("answers a bug 500 internal, not the records the general path reads again", async () => {
		const { topic, path } = await lonePartitionMember(2);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await runInDurableObject(await partitionStub(topic), (instance) =>
			throwOnce((instance as unknown as { reads: Reads }).reads, "recordsPollBody", new RangeError("offset")),
		);
		expect(await answer(path, {})).toEqual([500, "internal"]);
	});

	it("answers a storage failure after a long poll's wait 503 service_unavailable, without waiting again", async () => {
		const { topic, path } = await lonePartitionMember(0);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		let reads = 0;
		await runInDurableObject(await partitionStub(topic), (instance) => {
			const own = (instance as unknown as { reads: Reads }).reads;
			const { parts, recordsPollBody } = own;
			// Every read of the partition's records counted; the poll's own read waits at the tail, then its storage fails.
			own.parts = (...args) => {
				reads++;
				return parts.apply(own, args);
			};
			own.recordsPollBody = async (request) => {
				own.recordsPollBody = recordsPollBody;
				await own.parts(request, true, true);
				throw new Error("SQLITE_IOERR: disk I/O error");
			};
		});
		expect([...(await answer(path, { wait_ms: 200 })), reads]).toEqual([503, "service_unavailable", 1]);
	});
});
