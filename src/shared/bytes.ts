/**
 * @module
 * Byte arrays joined into one, and the one UTF-8 encoder every module uses. Pure.
 *
 * @example
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]) // Uint8Array [1, 2, 3]
 */

/** `parts`, one after another, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
	const joined = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
	let at = 0;
	for (const part of parts) {
		joined.set(part, at);
		at += part.byteLength;
	}
	return joined;
}

/**
 * Text to UTF-8 bytes. A `TextEncoder` holds no state between calls, so one serves every module: an encoder made in
 * each module that writes bytes was one more module-level constructor call in the Worker's bundle.
 */
export const utf8Encoder = new TextEncoder();
