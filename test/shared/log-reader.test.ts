/**
 * `utf8Blob` (src/shared/log-reader.ts): a fetch's body is its head, its records' parts joined by the record
 * separator, and its tail, byte for byte, for any number of parts (none, one, several, non-ASCII); `fetchBodyBlob`
 * is the fetch route's body, a JSON document of the records and the read's positions.
 */

import { describe, expect, it } from "vitest";
import { fetchBodyBlob, utf8Blob } from "../../src/shared/log-reader.ts";
import { RECORD_SEPARATOR } from "../../src/shared/record-codec.ts";

const encoder = new TextEncoder();

async function text(blob: Blob): Promise<string> {
	return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(await blob.arrayBuffer());
}

describe("utf8Blob", () => {
	const head = encoder.encode('{"records":[');
	const tail = '],"next_offset":3}';

	it("joins the parts with the record separator between the head and the tail", async () => {
		const parts = ['{"offset":0}', `{"offset":1,"value":"é€"}${RECORD_SEPARATOR}{"offset":2}`, '{"offset":3}'];
		const blob = utf8Blob(
			head,
			parts.map((p) => encoder.encode(p)),
			tail,
		);
		const expected = `{"records":[${parts.join(RECORD_SEPARATOR)}${tail}`;
		expect(await text(blob)).toBe(expected);
		expect(blob.size).toBe(encoder.encode(expected).byteLength);
	});

	it("answers the envelope alone when there are no records, and one part as it is", async () => {
		expect(await text(utf8Blob(head, [], tail))).toBe(`{"records":[${tail}`);
		expect(await text(utf8Blob(head, [encoder.encode('{"offset":0}')], tail))).toBe(`{"records":[{"offset":0}${tail}`);
	});
});

describe("fetchBodyBlob", () => {
	it("is the records and the read's positions as one JSON document", async () => {
		const parts = ['{"offset":4,"value":"é"}', '{"offset":5}'];
		const body = fetchBodyBlob({
			records: parts.map((p) => encoder.encode(p)),
			recordCount: 2,
			nextOffset: 6,
			highWatermark: 9,
			logStartOffset: 1,
		});
		expect(JSON.parse(await text(body))).toEqual({
			records: [{ offset: 4, value: "é" }, { offset: 5 }],
			high_watermark: 9,
			log_start_offset: 1,
			next_offset: 6,
		});
		expect(await text(fetchBodyBlob({ records: [], recordCount: 0, nextOffset: 9, highWatermark: 9, logStartOffset: 0 }))).toBe(
			'{"records":[],"high_watermark":9,"log_start_offset":0,"next_offset":9}',
		);
	});
});
