/**
 * A key authority's `chargeEach`: a run of requests' charges in one call (the produce channel's `?checks=message`
 * charges a run of messages so), answered as the same charges sent one `chargeQuotas` after another would be: in
 * order, so a later, smaller request never takes a bucket an earlier one was refused.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { KeyQuotas, QuotaCharge } from "../../src/auth/types.ts";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { holdClock } from "../support/clock.ts";
import { createKey } from "../support/keys.ts";

afterEach(() => vi.restoreAllMocks());

const request = (bytes: number): QuotaCharge[] => [
	{ quota: "requests_per_sec", amount: 1 },
	{ quota: "produce_bytes_per_sec", amount: bytes },
];

/** What key `id`'s authority answers `each` charged one call after another. */
async function oneAfterAnother(id: string, each: readonly QuotaCharge[][]): Promise<unknown[]> {
	const answers: unknown[] = [];
	for (const charges of each) answers.push(await keyAuthority(env, id).chargeQuotas(id, charges));
	return answers;
}

describe("a key authority's chargeEach", () => {
	it("answers each request's refusal in order, as the same calls one after another: a refused one's bucket is not taken by a later, smaller one", async () => {
		const quotas: KeyQuotas = { requests_per_sec: 3, produce_bytes_per_sec: 100 };
		const [single, batched] = [await createKey([], quotas), await createKey([], quotas)];
		holdClock();
		// A full bucket lets the first through into debt; the next two (the later one smaller) are refused for the bytes,
		// each paying its request; the fourth finds the three requests a second spent.
		const each = [request(150), request(1_000), request(1), request(1)];
		const expected = await oneAfterAnother(single.id, each);
		expect(expected.map((answer) => (answer as { quota?: string } | null)?.quota ?? null)).toEqual([
			null,
			"produce_bytes_per_sec",
			"produce_bytes_per_sec",
			"requests_per_sec",
		]);
		expect(await keyAuthority(env, batched.id).chargeEach(batched.id, each)).toEqual(expected);
	});

	it("charges the requests in the order given: a large one first puts the key in debt for a small one after it", async () => {
		const key = await createKey([], { produce_bytes_per_sec: 100 });
		holdClock();
		const answers = await keyAuthority(env, key.id).chargeEach(key.id, [request(1_000), request(1)]);
		expect(answers).toEqual([null, { quota: "produce_bytes_per_sec", waitMs: 9_010 }]);
	});

	it("lets every request through for a key it does not hold, as chargeQuotas does", async () => {
		expect(await keyAuthority(env, "0123456789abcdef0124").chargeEach("0123456789abcdef0124", [request(1), request(2)])).toEqual([
			null,
			null,
		]);
	});
});
