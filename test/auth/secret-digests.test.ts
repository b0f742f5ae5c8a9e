/**
 * The per-isolate digests of secrets that matched: a guess never enters, a match does (and is answered from memory
 * after), the oldest goes first once `VERIFIED_SECRETS_MAX` are kept, and a kept digest is still compared with the
 * expected one of the moment, so a changed expectation refuses it.
 */
import { describe, expect, it } from "vitest";
import { digestMatches, secretDigest } from "../../src/auth/secret-digests.ts";
import { VERIFIED_SECRETS_MAX } from "../../src/shared/limits.ts";

async function sha256(text: string): Promise<ArrayBuffer> {
	return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

describe("secret digests", () => {
	it("keeps the digest of a secret that matched, never of one that did not", async () => {
		const secret = `right-${crypto.randomUUID()}`;
		const guess = `wrong-${crypto.randomUUID()}`;
		const expected = await sha256(secret);
		expect(await digestMatches(guess, expected)).toBe(false);
		expect(secretDigest(guess)).toBeInstanceOf(Promise);
		expect(secretDigest(secret)).toBeInstanceOf(Promise);
		expect(await digestMatches(secret, expected)).toBe(true);
		const kept = secretDigest(secret);
		expect(kept).toBeInstanceOf(ArrayBuffer);
		expect(new Uint8Array(kept as ArrayBuffer)).toEqual(new Uint8Array(expected));
	});

	it("compares a kept digest with the expected one of the moment: a changed secret refuses it", async () => {
		const old = `old-${crypto.randomUUID()}`;
		expect(await digestMatches(old, await sha256(old))).toBe(true);
		expect(secretDigest(old)).toBeInstanceOf(ArrayBuffer);
		expect(await digestMatches(old, await sha256(`new-${crypto.randomUUID()}`))).toBe(false);
	});

	it(`keeps at most ${VERIFIED_SECRETS_MAX}, dropping the oldest first`, async () => {
		const secrets = Array.from({ length: VERIFIED_SECRETS_MAX + 1 }, (_, i) => `bound-${i}-${crypto.randomUUID()}`);
		for (const secret of secrets) expect(await digestMatches(secret, await sha256(secret))).toBe(true);
		expect(secretDigest(secrets[0] as string)).toBeInstanceOf(Promise);
		expect(secretDigest(secrets[1] as string)).toBeInstanceOf(ArrayBuffer);
		expect(secretDigest(secrets[VERIFIED_SECRETS_MAX] as string)).toBeInstanceOf(ArrayBuffer);
	});
});
