// @ts-check
/**
 * @module
 * What decoding a produced record batch can refuse it for, the capped output every codec inflates into, and the
 * skippable frames the lz4 and zstd formats share.
 */

/** Skippable frames (one format for LZ4 and zstd): magics 0x184D2A50 to 0x184D2A5F, then their length, then that many bytes. */
const SKIPPABLE_MAGIC = 0x184d2a50;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_HEADER_BYTES = 8;

/**
 * The offset past the skippable frame at `at`, or -1 when the frame there is not one.
 * @param {Buffer} data @param {number} at
 */
export function skippableFrameEnd(data, at) {
	if ((data.readUInt32LE(at) & SKIPPABLE_MAGIC_MASK) >>> 0 !== SKIPPABLE_MAGIC) return -1;
	return at + SKIPPABLE_HEADER_BYTES + data.readUInt32LE(at + 4);
}

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
