/**
 * @module
 * Reading and comparing credentials for `authenticate`. Tokens are compared in constant time over their SHA-256
 * digests, so neither the content nor the length of the secret leaks through timing.
 */

import { digestMatches, sha256 } from "../../auth/secret-digests.ts";

/**
 * The expected token's digest, computed once per isolate (and again if the token changes). The bytes are kept,
 * not the promise: a promise made for one request must not be awaited by another.
 */
let expectedDigest: { readonly token: string; readonly digest: ArrayBuffer } | null = null;

/**
 * Whether `offered` is the `expected` secret (the admin token), in constant time whatever their lengths: their
 * SHA-256 digests are compared with `timingSafeEqual`. The expected side's digest is kept, and so is the offered
 * side's once it matched (secret-digests.ts), so a client repeating its token is not hashed again.
 */
export async function matchesSecret(offered: string, expected: string): Promise<boolean> {
	if (expectedDigest?.token !== expected) expectedDigest = { token: expected, digest: await sha256(expected) };
	return digestMatches(offered, expectedDigest.digest);
}

export function bearerToken(header: string | undefined): string | null {
	if (header === undefined) return null;
	const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
	return match?.[1] ?? null;
}
