// @ts-check
/**
 * @module
 * What decoding a produced record batch can refuse it for, and the capped output every codec inflates into.
 */

/**
 * A record batch that cannot be accepted as sent. `too_large`: it inflates past the cap (a decompression bomb, or
 * simply more than the Worker takes in one request).
 */
export class BatchError extends Error {
	/** @param {"corrupt" | "too_large" | "unsupported_compression" | "unsupported_format"} kind @param {string} message */
	constructor(kind, message) {
		super(message);
		this.kind = kind;
	}
}

/** @param {string} codec @param {number} bytesMax */
export function tooLarge(codec, bytesMax) {
	return new BatchError("too_large", `${codec}: the batch inflates past ${bytesMax} bytes`);
}

/**
 * Inflated chunks under a cap: a chunk that would take the total past `bytesMax` is refused before it is kept, and
 * the codecs size what they allocate for the next chunk from `room`.
 */
export class InflatedChunks {
	/** @param {string} codec @param {number} bytesMax */
	constructor(codec, bytesMax) {
		this.codec = codec;
		this.bytesMax = bytesMax;
		/** @type {Buffer[]} */
		this.chunks = [];
		this.total = 0;
	}

	/** Bytes that may still be added. */
	get room() {
		return this.bytesMax - this.total;
	}

	/** @param {Buffer} chunk */
	push(chunk) {
		if (chunk.length > this.room) throw tooLarge(this.codec, this.bytesMax);
		this.chunks.push(chunk);
		this.total += chunk.length;
	}

	/** The last `bytes` bytes inflated so far (fewer when there are fewer). @param {number} bytes */
	tail(bytes) {
		const parts = [];
		let length = 0;
		for (let i = this.chunks.length - 1; i >= 0 && length < bytes; i--) {
			const chunk = this.chunks[i];
			const part = chunk.subarray(Math.max(0, chunk.length - (bytes - length)));
			parts.unshift(part);
			length += part.length;
		}
		return Buffer.concat(parts, length);
	}

	done() {
		if (this.total > this.bytesMax) throw new Error(`inflated ${this.total} bytes past the cap of ${this.bytesMax}`);
		return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.total);
	}
}
