// @ts-check
/**
 * @module
 * Kafka's lz4 codec: LZ4 frames (the LZ4 Frame Format Description, v1.6), one or more, as librdkafka, the Java
 * client and kafkajs' codecs write them (KIP-57: magic v1+ batches carry a correct header checksum).
 *
 * How the cap holds: the frame is walked here and each block is inflated on its own by lz4-napi (lz4_flex) into a
 * buffer of at most the block's declared maximum or the room left under the cap, whichever is smaller; lz4_flex
 * refuses to write past the buffer it is given, so no block allocates beyond the cap, and a frame that declares
 * a larger content size is refused before any block is read. A dependent block (linked mode) gets the 64 KiB
 * inflated before it as its dictionary. Checksums (header, block, content: xxHash32) are not verified: the
 * batch's CRC-32C already covers every one of these bytes.
 */

import { BatchError, InflatedChunks, skippableFrameEnd, tooLarge } from "./inflated.js";

/** @typedef {typeof import("lz4-napi")} Lz4Napi */

const FRAME_MAGIC = 0x184d2204;
const FRAME_VERSION = 0b01;
/** FLG bits. */
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICTIONARY_ID = 0x01;
/** BD's block maximum size, by its code (4 to 7). */
const BLOCK_BYTES_MAX = new Map([
	[4, 64 * 1024],
	[5, 256 * 1024],
	[6, 1024 * 1024],
	[7, 4 * 1024 * 1024],
]);
/** A block's size word: the high bit says it is stored uncompressed. */
const UNCOMPRESSED_BIT = 0x80000000;
const CHECKSUM_BYTES = 4;
/** How far back a dependent block may copy from. */
const DICTIONARY_BYTES = 64 * 1024;

/**
 * lz4-napi, loaded with the first lz4 batch rather than at start-up: loading it takes ~80 ms (its loader asks Node
 * for a diagnostic report to tell glibc from musl).
 * @type {Promise<Lz4Napi> | null}
 */
let lz4Napi = null;

/** lz4-napi, loaded once. */
export function loadLz4() {
	lz4Napi ??= import("lz4-napi");
	return lz4Napi;
}

/**
 * The bytes of every frame in `data`, refused with a BatchError past `bytesMax`.
 * @param {Buffer} data @param {number} bytesMax
 */
export async function unlz4(data, bytesMax) {
	const { uncompressSync } = await loadLz4();
	const out = new InflatedChunks("lz4", bytesMax);
	let at = 0;
	while (at < data.length) at = readFrame(data, at, out, uncompressSync);
	if (at !== data.length) throw new BatchError("corrupt", "lz4: the last frame runs past the batch");
	return out.done();
}

/**
 * Inflates the frame at `at` into `out`; returns the offset past it (past the end of `data` when it is cut short).
 * @param {Buffer} data @param {number} at @param {InflatedChunks} out @param {Lz4Napi["uncompressSync"]} uncompress
 */
function readFrame(data, at, out, uncompress) {
	const skipped = skippableFrameEnd(data, at);
	if (skipped >= 0) return skipped;
	if (data.readUInt32LE(at) !== FRAME_MAGIC) throw new BatchError("corrupt", `lz4: no frame magic at byte ${at}`);
	const flg = data[at + 4];
	const blockBytesMax = BLOCK_BYTES_MAX.get((data[at + 5] >> 4) & 0x07);
	if (flg >> 6 !== FRAME_VERSION || blockBytesMax === undefined)
		throw new BatchError("corrupt", "lz4: unknown frame version or block size");
	if ((flg & FLG_DICTIONARY_ID) !== 0)
		throw new BatchError("unsupported_compression", "lz4: frames with a dictionary id are not supported");
	let p = at + 6;
	let contentBytes = -1;
	if ((flg & FLG_CONTENT_SIZE) !== 0) {
		const declared = data.readBigUInt64LE(p);
		if (declared > BigInt(out.room)) throw tooLarge("lz4", out.bytesMax);
		contentBytes = Number(declared);
		p += 8;
	}
	p += 1; // header checksum
	const start = out.total;
	const independent = (flg & FLG_BLOCK_INDEPENDENCE) !== 0;
	for (let word = data.readUInt32LE(p); word !== 0; word = data.readUInt32LE(p)) {
		const size = (word & ~UNCOMPRESSED_BIT) >>> 0;
		p += 4;
		if (size > blockBytesMax || p + size > data.length) throw new BatchError("corrupt", `lz4: block of ${size} bytes out of range`);
		const block = data.subarray(p, p + size);
		p += size + ((flg & FLG_BLOCK_CHECKSUM) !== 0 ? CHECKSUM_BYTES : 0);
		if ((word & UNCOMPRESSED_BIT) !== 0) out.push(block);
		else out.push(inflateBlock(block, blockBytesMax, out, independent ? null : out.tail(DICTIONARY_BYTES), uncompress));
	}
	p += 4 + ((flg & FLG_CONTENT_CHECKSUM) !== 0 ? CHECKSUM_BYTES : 0);
	if (contentBytes >= 0 && out.total - start !== contentBytes)
		throw new BatchError("corrupt", `lz4: frame declares ${contentBytes} bytes, inflated ${out.total - start}`);
	return p;
}

/**
 * One compressed block, inflated into at most `min(blockBytesMax, out.room)` bytes.
 * @param {Buffer} block @param {number} blockBytesMax @param {InflatedChunks} out @param {Buffer | null} dictionary
 * @param {Lz4Napi["uncompressSync"]} uncompress
 */
function inflateBlock(block, blockBytesMax, out, dictionary, uncompress) {
	const capacity = Math.min(blockBytesMax, out.room);
	// lz4-napi's block format is lz4_flex's "size prepended": a little-endian u32 that lz4_flex takes as the
	// output buffer's capacity, and refuses to write past.
	const sized = Buffer.allocUnsafe(4 + block.length);
	sized.writeUInt32LE(capacity, 0);
	block.copy(sized, 4);
	try {
		return uncompress(sized, dictionary);
	} catch (error) {
		const message = /** @type {Error} */ (error).message;
		// The room, not the block's own maximum, was too small: the batch inflates past the cap.
		if (capacity < blockBytesMax && /output is too small/.test(message)) throw tooLarge("lz4", out.bytesMax);
		throw new BatchError("corrupt", `lz4: ${message}`);
	}
}
