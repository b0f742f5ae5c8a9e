/**
 * @module
 * Reading and comparing credentials for `authenticate`. Tokens are compared in constant time over their SHA-256
 * digests, so neither the content nor the length of the secret leaks through timing.
 */

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
	return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/** Constant-time equality of two strings of any length. */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
	const [da, db] = await Promise.all([digest(a), digest(b)]);
	return crypto.subtle.timingSafeEqual(da, db);
}

export function bearerToken(header: string | undefined): string | null {
	if (header === undefined) return null;
	const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
	return match?.[1] ?? null;
}
