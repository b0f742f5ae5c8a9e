import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AppendOutcome } from "../../src/partition/types.ts";
import { appendAnswer, appendOutcome } from "../../src/shared/append-answer.ts";
import { err, ok } from "../../src/shared/errors.ts";

describe("an append's answer over RPC", () => {
	it("sends a fresh append as text when asked, and reads back the same outcome", () => {
		fc.assert(
			fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (baseOffset, appendTimeMs) => {
				const outcome: AppendOutcome = ok({ baseOffset, appendTimeMs, duplicate: false });
				expect(appendAnswer(outcome)).toBe(outcome);
				const answer = appendAnswer(outcome, true);
				expect(typeof answer).toBe("string");
				expect(appendOutcome(answer)).toEqual(outcome);
			}),
		);
	});

	it("sends every other outcome as it is", () => {
		const others: AppendOutcome[] = [
			ok({ baseOffset: 7, appendTimeMs: 1_700_000_000_000, duplicate: true }),
			err("out_of_order_sequence", "sequence 3 was expected"),
			{ needsConfig: true },
		];
		for (const outcome of others) {
			expect(appendAnswer(outcome, true)).toBe(outcome);
			expect(appendOutcome(outcome)).toBe(outcome);
		}
	});

	it("says the partition stamped its append time, fresh or replayed, as the object (an earlier edge reads it too)", () => {
		for (const duplicate of [false, true]) {
			const outcome: AppendOutcome = ok({ baseOffset: 3, appendTimeMs: 1_700_000_000_000, duplicate });
			const answer = appendAnswer(outcome, true, true);
			expect(answer).toEqual(ok({ baseOffset: 3, appendTimeMs: 1_700_000_000_000, duplicate, stamped: true }));
			expect(appendOutcome(answer)).toBe(answer);
		}
		const refused = err("fenced", "epoch 2 is older than 3");
		expect(appendAnswer(refused, true, true)).toBe(refused);
		expect(appendAnswer({ needsConfig: true }, true, true)).toEqual({ needsConfig: true });
	});

	it("refuses text that is not two integers", () => {
		for (const text of ["", "12", "12 x", " 12", "1.5 3"]) expect(() => appendOutcome(text)).toThrow();
	});
});
