/**
 * @module
 * Base64 (RFC 4648) for keys, values, signatures and cursors: `btoa`/`atob` work on binary strings, these on bytes.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Whether `s` is padded base64 (RFC 4648 §4), the only form accepted for binary keys and values. The unused bits
 * of a last group are not checked (`/x==` is the byte 0xff, as `/w==` is), as `atob` does not check them.
 */
export function isBase64(s: string): boolean {
	return BASE64.test(s);
}

/** Padded base64 of `bytes`, canonical (unused bits zero). */
export function base64Encode(bytes: Uint8Array): string {
	let binary = "";
	for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i] as number);
	return btoa(binary);
}

/** URL-safe base64 without padding (RFC 4648 §5), for tokens and cursors. */
export function base64UrlEncode(bytes: Uint8Array): string {
	return base64Encode(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function base64Decode(s: string): Uint8Array {
	const binary = atob(s);
	const bytes = new Uint8Array(binary.length);
	for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
	return bytes;
}
