/**
 * @module
 * SHA-256 digests of secrets (the admin token, key secrets) that already matched once in this isolate, so a client
 * that sends the same token with every request is hashed once per isolate rather than once per request.
 *
 * A digest is kept, never a verdict: every request still compares it, in constant time, with the expected digest as
 * of that request (the admin token's from the Worker's env, a key's from its authority, asked every time), so a
 * changed `ADMIN_TOKEN` or a deleted key is refused by the very next request, exactly as without the cache. Only a
 * secret that matched is kept, so guesses never enter; a lookup compares whole strings only when their hashes agree,
 * so its time tells a guess nothing about how close it came. At most `VERIFIED_SECRETS_MAX`, the oldest dropped.
 */

import { utf8Encoder } from "../shared/bytes.ts";
import { VERIFIED_SECRETS_MAX } from "../shared/limits.ts";

const verified = new Map<string, ArrayBuffer>();

/** The SHA-256 of `value`'s UTF-8 bytes. */
export function sha256(value: string): Promise<ArrayBuffer> {
	return crypto.subtle.digest("SHA-256", utf8Encoder.encode(value));
}

/** The SHA-256 of `secret`: from memory when it matched before, else hashed now. */
export function secretDigest(secret: string): ArrayBuffer | Promise<ArrayBuffer> {
	return verified.get(secret) ?? sha256(secret);
}

/** Keeps `digest` for `secret`, which has just matched what it was checked against. */
export function rememberVerified(secret: string, digest: ArrayBuffer): void {
	if (verified.has(secret)) return;
	if (verified.size >= VERIFIED_SECRETS_MAX) verified.delete(verified.keys().next().value as string);
	verified.set(secret, digest);
}

/** Whether `offered` hashes to `expected`, in time independent of where they differ; a match is remembered. */
export async function digestMatches(offered: string, expected: ArrayBuffer): Promise<boolean> {
	const known = secretDigest(offered);
	const digest = known instanceof Promise ? await known : known;
	const matches = digest.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(digest, expected);
	if (matches) rememberVerified(offered, digest);
	return matches;
}
