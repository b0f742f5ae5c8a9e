// @ts-check
/**
 * @module
 * Kafka's framing: every request is an int32 size and that many bytes. `FrameBuffer` gathers a socket's chunks
 * and hands out complete frames; `splitFrames` cuts the frames out of bytes already gathered.
 */

import { FRAME_BYTES_MAX } from "./limits.js";
import { ProtocolError } from "./protocol/io.js";

/** Bytes of a frame's size prefix. */
const SIZE_BYTES = 4;

/**
 * Splits `buffered` into complete frames. Returns the frames and the unconsumed rest; throws ProtocolError for
 * a size that is negative or over FRAME_BYTES_MAX.
 * @param {Buffer} buffered
 */
export function splitFrames(buffered) {
	const frames = [];
	let offset = 0;
	while (buffered.length - offset >= SIZE_BYTES) {
		const size = buffered.readInt32BE(offset);
		if (size < 0 || size > FRAME_BYTES_MAX) throw new ProtocolError(`frame size ${size} out of range (0..${FRAME_BYTES_MAX})`);
		if (buffered.length - offset - SIZE_BYTES < size) break;
		frames.push(buffered.subarray(offset + SIZE_BYTES, offset + SIZE_BYTES + size));
		offset += SIZE_BYTES + size;
	}
	return { frames, rest: buffered.subarray(offset) };
}

/**
 * A socket's bytes, gathered until they hold a complete frame. Chunks are kept as they arrive and joined once,
 * when the frame the first of them starts is complete: a 100 KiB Produce arrives in several chunks, and joining
 * at every chunk copied the frame's bytes once per chunk.
 */
export class FrameBuffer {
	/** @type {Buffer[]} */
	chunks = [];
	bytes = 0;
	/** Bytes the chunks must hold before a frame can be complete: a size prefix, then that frame. */
	needed = SIZE_BYTES;

	/**
	 * Adds a chunk; answers the frames it completes, in order. Throws ProtocolError for a size out of range.
	 * @param {Buffer} chunk
	 * @returns {Buffer[]}
	 */
	push(chunk) {
		this.chunks.push(chunk);
		this.bytes += chunk.length;
		if (this.bytes < this.needed) return [];
		const buffered = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.bytes);
		const { frames, rest } = splitFrames(buffered);
		this.chunks = rest.length === 0 ? [] : [rest];
		this.bytes = rest.length;
		this.needed = neededFor(rest);
		return frames;
	}
}

/**
 * The bytes that must be gathered before `rest`, the start of a frame, can hold the whole frame (`splitFrames`
 * has checked its size when `rest` holds one).
 * @param {Buffer} rest
 */
function neededFor(rest) {
	return rest.length < SIZE_BYTES ? SIZE_BYTES : SIZE_BYTES + rest.readInt32BE(0);
}
