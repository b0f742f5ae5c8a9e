/**
 * A poll's body built from the partitions' UTF-8 parts (`pollBody`) is byte for byte the body the text path built:
 * each record with `"topic"` spliced in front, the reads joined by the record separator, then the envelope's tail.
 * Seeded reads of random parts (some records not ASCII, topics that need escaping, parts of one record or many),
 * with and without the record ends a partition sends with them.
 * Replay a run with `SIM_SEED=<seed> npx vitest run test/group/poll-body.test.ts`.
 */

import { describe, expect, it } from "vitest";
import { pollBody, pollBodyBlob } from "../../src/shared/poll-body.ts";
import { encodeLine, RECORD_SEPARATOR } from "../../src/shared/record-codec.ts";
import { recordEnds } from "../../src/shared/record-scan.ts";
import { seededRandom, seedsToRun } from "../support/seed.ts";

const SEEDS = seedsToRun([21, 22, 23]);
const CASES_PER_SEED = 300;
const encoder = new TextEncoder();

/** The text path's splice, as the poll did it before it read bytes. */
function withTopicText(topic: string, records: string): string {
	const start = '{"partition":';
	const head = `{"topic":${JSON.stringify(topic)},"partition":`;
	return head + records.slice(start.length).replaceAll(`${RECORD_SEPARATOR}${start}`, `${RECORD_SEPARATOR}${head}`);
}

function randomRead(random: () => number, partition: number) {
	const topics = ["orders", 'we"ird\\topic', "tøpic-€", "t"];
	const topic = topics[Math.floor(random() * topics.length)] as string;
	const parts: string[] = [];
	let offset = Math.floor(random() * 1000);
	for (let p = 1 + Math.floor(random() * 4); p > 0; p--) {
		const lines: string[] = [];
		for (let n = 1 + Math.floor(random() * 5); n > 0; n--) {
			const value = random() < 0.3 ? "é€😀,\\n".repeat(1 + Math.floor(random() * 3)) : "v".repeat(Math.floor(random() * 50));
			lines.push(encodeLine(partition, offset++, 1_700_000_000_000, `"key":null,"value":${JSON.stringify(value)},"headers":[]}`));
		}
		parts.push(lines.join(RECORD_SEPARATOR));
	}
	const recordCount = parts.reduce((n, part) => n + part.split(RECORD_SEPARATOR).length, 0);
	return { topic, text: parts.join(RECORD_SEPARATOR), parts, recordCount };
}

/** A poll's reads as `pollBody` takes them, from `randomRead`s. */
function splicedReads(random: () => number, reads: ReturnType<typeof randomRead>[]) {
	return reads.map((r, i) => ({
		plan: { topic: r.topic, topicId: "id", partition: i, offset: 0, expectedPosition: 0 },
		result: {
			records: r.parts.map((part) => encoder.encode(part)),
			// Where each part's records end, as the partition answers them: for some parts, none (scanned).
			...(random() < 0.5 ? { recordEnds: r.parts.map((part) => (random() < 0.7 ? recordEnds(encoder.encode(part)) : null)) } : {}),
			recordCount: r.recordCount,
			nextOffset: 0,
			highWatermark: 0,
			logStartOffset: 0,
		},
	}));
}

describe("pollBody", () => {
	for (const seed of SEEDS) {
		// Each Blob is made before the next body is written into the buffer they share, and read only after all were.
		it(`answers, as a Blob, the same bytes however the bodies before and after it were sized (seed ${seed})`, async () => {
			console.log(`poll-body blob seed ${seed}`);
			const random = seededRandom(seed);
			const made: { blob: Blob; bytes: Uint8Array }[] = [];
			for (let c = 0; c < CASES_PER_SEED; c++) {
				const reads = splicedReads(
					random,
					Array.from({ length: Math.floor(random() * 4) }, (_, i) => randomRead(random, i)),
				);
				const tail = encoder.encode(`],"generation":${c},"assignment":[]}`);
				made.push({ blob: pollBodyBlob(reads, tail), bytes: pollBody(reads, tail) });
			}
			for (const { blob, bytes } of made) expect(new Uint8Array(await blob.arrayBuffer())).toEqual(bytes);
		});

		it(`answers the text path's body byte for byte (seed ${seed})`, () => {
			console.log(`poll-body seed ${seed}`);
			const random = seededRandom(seed);
			for (let c = 0; c < CASES_PER_SEED; c++) {
				const reads = Array.from({ length: Math.floor(random() * 4) }, (_, i) => randomRead(random, i));
				const tail = `],"generation":${c},"assignment":[{"topic":"orders","partition":0}]}`;
				const expected = `{"records":[${reads.map((r) => withTopicText(r.topic, r.text)).join(RECORD_SEPARATOR)}${tail}`;
				const body = pollBody(splicedReads(random, reads), encoder.encode(tail));
				expect(body).toEqual(encoder.encode(expected));
			}
		});
	}
});
