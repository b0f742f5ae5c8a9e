/**
 * @module
 * Key ids and secrets. A secret is self-identifying, `trb_<id>_<random>`, so the edge finds the key by id
 * without scanning; the random part is 32 bytes from the CSPRNG.
 *
 * Only SHA-256 of the secret is stored. A slow password hash (bcrypt, scrypt) protects guessable passwords;
 * a 256-bit random secret cannot be guessed, so one fast hash already makes a leaked table useless, and keeps
 * authentication cheap on every request. Digests are compared with `crypto.subtle.timingSafeEqual`.
 */

import { base64UrlEncode } from "../shared/base64.ts";
import { digestMatches, sha256 } from "./secret-digests.ts";

/** 10 random bytes as 20 hex digits. */
export const KEY_ID_PATTERN = /^[0-9a-f]{20}$/;
/** `trb_`, the key id, `_`, 43 base64url characters (32 bytes). */
export const KEY_SECRET_PATTERN = /^trb_([0-9a-f]{20})_[A-Za-z0-9_-]{43}$/;

function hex(bytes: Uint8Array): string {
	return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function newKeyId(): string {
	return hex(crypto.getRandomValues(new Uint8Array(10)));
}

export function newSecret(id: string): string {
	return `trb_${id}_${base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** The key id a secret names, or null when it is not shaped like one of ours. */
export function keyIdOf(secret: string): string | null {
	return KEY_SECRET_PATTERN.exec(secret)?.[1] ?? null;
}

export async function sha256Hex(value: string): Promise<string> {
	return hex(new Uint8Array(await sha256(value)));
}

function bytesOfHex(digestHex: string): Uint8Array {
	const bytes = new Uint8Array(digestHex.length >> 1);
	for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(digestHex.slice(2 * i, 2 * i + 2), 16);
	return bytes;
}

/** Whether `secret` hashes to `expectedSha256Hex`, in time independent of where they differ. */
export async function secretMatches(secret: string, expectedSha256Hex: string): Promise<boolean> {
	return digestMatches(secret, bytesOfHex(expectedSha256Hex).buffer as ArrayBuffer);
}
