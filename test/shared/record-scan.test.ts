/**
 * `recordSeparatorAt` finds exactly the separators a byte-by-byte search for `,\n` finds in stored batches, in order:
 * seeded batches of records whose values hold near misses of the boundary (escaped newlines, `{"partition":` in a
 * string, runs of quotes and of the pattern's letters, multi-byte characters) and records of every short length.
 * `recordEnds` answers the same places as record ends, and `endsAreRecords` believes those and no other claim.
 * Replay a run with `SIM_SEED=<seed> npx vitest run test/shared/record-scan.test.ts`.
 */

import { describe, expect, it } from "vitest";
import { encodeLine, RECORD_SEPARATOR } from "../../src/shared/record-codec.ts";
import { endsAreRecords, recordEndingFrom, recordEnds, recordSeparatorAt } from "../../src/shared/record-scan.ts";
import { seededRandom, seedsToRun } from "../support/seed.ts";

const SEEDS = seedsToRun([31, 32, 33]);
const BATCHES_PER_SEED = 300;
const encoder = new TextEncoder();
const PIECES = ['{"partition":', ",\\n", '"', "partition", ":", "\\n{", "é€😀", "n", ",", "{", "x", '\\",\\n{\\"partition\\":'];

function randomValue(random: () => number): unknown {
	if (random() < 0.2) return { partition: Math.floor(random() * 9), nested: ["a", { partition: "b" }] };
	let value = "";
	for (let n = Math.floor(random() * 12); n > 0; n--) value += PIECES[Math.floor(random() * PIECES.length)];
	return value;
}

/** The separators' positions by the plain search: every `,\n` (the only raw newlines in a batch). */
function separators(bytes: Uint8Array): number[] {
	const found: number[] = [];
	for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) found.push(at - 1);
	return found;
}

/** Claims of a batch's record ends that are not its own: one too few or too many, one moved, two swapped. */
function wrongEnds(ends: Uint32Array, random: () => number): Uint32Array[] {
	const wrong = [ends.slice(1), Uint32Array.from([0, ...ends])];
	const k = Math.floor(random() * ends.length);
	const moved = ends.slice();
	moved[k] = (moved[k] as number) + (random() < 0.5 ? 1 : -1);
	wrong.push(moved);
	if (ends.length > 2) {
		const swapped = ends.slice();
		[swapped[0], swapped[1]] = [swapped[1] as number, swapped[0] as number];
		wrong.push(swapped);
	}
	return wrong;
}

function walk(bytes: Uint8Array): number[] {
	const found: number[] = [];
	for (let at = recordSeparatorAt(bytes, 0); at >= 0; at = recordSeparatorAt(bytes, at + 1)) found.push(at);
	return found;
}

describe("recordSeparatorAt", () => {
	for (const seed of SEEDS) {
		it(`finds every separator of a stored batch and nothing else (seed ${seed})`, () => {
			console.log(`record-scan seed ${seed}`);
			const random = seededRandom(seed);
			for (let b = 0; b < BATCHES_PER_SEED; b++) {
				const lines = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) =>
					encodeLine(
						Math.floor(random() * 3),
						i,
						1_700_000_000_000,
						`"key":null,"value":${JSON.stringify(randomValue(random))},"headers":[]}`,
					),
				);
				const bytes = encoder.encode(lines.join(RECORD_SEPARATOR));
				expect(walk(bytes)).toEqual(separators(bytes));
				expect(separators(bytes)).toHaveLength(lines.length - 1);
				// The same places as record ends, which a claim of them must match to be believed.
				const ends = recordEnds(bytes);
				expect([...ends]).toEqual([...separators(bytes), bytes.length]);
				expect(endsAreRecords(bytes, ends, lines.length)).toBe(true);
				for (const wrong of wrongEnds(ends, random)) expect(endsAreRecords(bytes, wrong, lines.length)).toBe(false);
				// Each record found by a lookup: the first whose end is at or after a byte of it.
				for (let k = 0; k < ends.length; k++) expect(recordEndingFrom(ends, (ends[k] as number) - 1)).toBe(k);
			}
		});
	}

	it("answers -1 for a part holding one record, and finds a separator that starts at `from`", () => {
		const one = encoder.encode(encodeLine(0, 0, 0, '"key":null,"value":",","headers":[]}'));
		expect(recordSeparatorAt(one, 0)).toBe(-1);
		const two = encoder.encode(
			`${encodeLine(0, 0, 0, '"key":null,"value":1,"headers":[]}')}${RECORD_SEPARATOR}${encodeLine(0, 1, 0, "}")}`,
		);
		const at = recordSeparatorAt(two, 0);
		expect(recordSeparatorAt(two, at)).toBe(at);
		expect(recordSeparatorAt(two, at + 1)).toBe(-1);
	});
});
