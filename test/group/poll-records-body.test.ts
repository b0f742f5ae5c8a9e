/**
 * A poll in the default layout of a member that owns one partition is answered with the body the partition built
 * (`PartitionLog.readRecordsPollBody`): byte for byte the body the edge splices from the same read's parts
 * (`pollBody`), for reads that start or stop inside a stored batch, span batches, hold records that are not ASCII,
 *; and it is what the route answers. A poll of several partitions, spliced at the edge, is pinned against the body
 * built from the fetch route's text, a larger poll's body then a smaller one's (both written into the buffer the
 * isolate keeps for them, `pollBodyBlob`).
 */
import { describe, expect, it } from "vitest";
import { pollBody } from "../../src/shared/poll-body.ts";
import { RECORD_SEPARATOR, STORED_RECORD_START } from "../../src/shared/record-codec.ts";
import { join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { call, createTopic, produce } from "../support/worker.ts";

const encoder = new TextEncoder();
const TAIL = '],"generation":3,"assignment":[]}';

describe("a one-partition poll's body, built by the partition", () => {
	it("is the body the edge splices from the same read, byte for byte", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		for (const round of [0, 1, 2]) {
			await produce(
				topic,
				Array.from({ length: 7 }, (_, i) => ({ key: `k${i}`, value: round === 1 ? `v€😀"${i}` : { round, i }, partition: 0 })),
			);
		}
		const topicId = await topicIdOf(topic);
		const partition = await partitionStub(topic, 0);
		const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
		// From inside the first batch to inside the last, a whole batch in between; one record; all of them.
		for (const [offset, maxRecords] of [
			[3, 12],
			[0, 1],
			[0, 21],
			[20, 5],
		] as const) {
			const request = { topicId, offset, maxRecords, maxBytes: 1 << 20, waitMs: 0 };
			const parts = await partition.readUtf8(request, true);
			const built = await partition.readRecordsPollBody(request, topic, TAIL);
			if (!parts.ok || "remote" in parts.value || !built.ok || "remote" in built.value) throw new Error("a local read");
			expect(built.value.recordCount).toBe(parts.value.recordCount);
			expect(built.value.nextOffset).toBe(parts.value.nextOffset);
			const body = new Uint8Array(await new Response(built.value.body).arrayBuffer());
			expect(body.byteLength).toBe(built.value.bytes);
			const spliced = pollBody([{ plan: { topic }, result: parts.value }], encoder.encode(TAIL));
			expect(decoder.decode(body)).toBe(decoder.decode(spliced));
			const records = (JSON.parse(decoder.decode(body)) as { records: { topic: string; offset: number }[] }).records;
			expect(records.map((r) => [r.topic, r.offset])).toEqual(
				Array.from({ length: Math.min(maxRecords, 21 - offset) }, (_, i) => [topic, offset + i]),
			);
		}
	});

	it("is what the poll route answers a member that owns one partition", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		await produce(
			topic,
			Array.from({ length: 5 }, (_, i) => ({ value: `v${i}`, partition: 0 })),
		);
		const group = uniqueGroup();
		const m = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const response = await call("POST", `/v1/groups/${group}/members/${m.member_id}/poll`, { body: { max_records: 3 } });
		expect(response.status).toBe(200);
		const text = await response.text();
		const partition = await partitionStub(topic, 0);
		const parts = await partition.readUtf8(
			{ topicId: await topicIdOf(topic), offset: 0, maxRecords: 3, maxBytes: 1 << 20, waitMs: 0 },
			true,
		);
		if (!parts.ok || "remote" in parts.value) throw new Error("a local read");
		const tail = `],"generation":${m.generation},"assignment":${JSON.stringify(m.assignment)}}`;
		expect(text).toBe(new TextDecoder().decode(pollBody([{ plan: { topic }, result: parts.value }], encoder.encode(tail))));
	});

	it("is, for a poll of several partitions, the fetch route's records with their topic, byte for byte", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const m = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		expect(m.assignment.length).toBe(2);
		/** The body the text path builds from each partition's fetch answer, from `offsets` on, for `m`'s generation. */
		const expected = async (offsets: readonly number[]) => {
			const reads: string[] = [];
			for (const [partition, offset] of offsets.entries()) {
				const text = await (await call("GET", `/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}`)).text();
				const records = text.slice('{"records":['.length, text.indexOf('],"high_watermark":'));
				if (records === "") continue;
				const head = `{"topic":${JSON.stringify(topic)},"partition":`;
				reads.push(
					head +
						records.slice(STORED_RECORD_START.length).replaceAll(`${RECORD_SEPARATOR}${STORED_RECORD_START}`, `${RECORD_SEPARATOR}${head}`),
				);
			}
			return `{"records":[${reads.join(RECORD_SEPARATOR)}],"generation":${m.generation},"assignment":${JSON.stringify(m.assignment)}}`;
		};
		const poll = async () => {
			const response = await call("POST", `/v1/groups/${group}/members/${m.member_id}/poll`, {
				body: { max_records: 100, auto_commit: true },
			});
			expect(response.status).toBe(200);
			return response.text();
		};
		// Three stored batches in each partition, some records not ASCII; then a poll of fewer, shorter records.
		for (const round of [0, 1, 2]) {
			await produce(
				topic,
				Array.from({ length: 8 }, (_, i) => ({
					key: `k${i}`,
					value: round === 1 ? `v€😀"${i}`.repeat(20) : { round, i },
					partition: i % 2,
				})),
			);
		}
		const first = await expected([0, 0]);
		expect(await poll()).toBe(first);
		await produce(topic, [
			{ value: "a", partition: 0 },
			{ value: "b", partition: 1 },
		]);
		const second = await expected([12, 12]);
		expect(second.length).toBeLessThan(first.length);
		expect(await poll()).toBe(second);
	});
});
