// @ts-check
/**
 * @module
 * Kafka's zstd codec (KIP-110): zstd frames (RFC 8878), one or more, inflated by zstddec, the reference libzstd
 * compiled to WebAssembly.
 *
 * How the cap holds: libzstd's one-shot ZSTD_decompress writes into the destination it is given, uses it as its
 * window (nothing else grows with the frame's declared window) and fails rather than write past its end. The
 * destination is sized before anything is inflated, by a walk over the frame and block headers alone: raw and
 * RLE blocks state what they produce and a compressed block produces at most Block_Maximum_Size, so the walk
 * bounds the output from below and above. A batch whose lower bound passes the cap is refused without inflating;
 * otherwise the destination is the upper bound or the room under the cap, whichever is smaller. The WebAssembly
 * memory holds the compressed bytes and that destination, and keeps the size of the largest batch seen (at most
 * the cap plus a frame's bytes).
 */

import { BatchError, skippableFrameEnd, tooLarge } from "./inflated.js";

const FRAME_MAGIC = 0xfd2fb528;
/** Frame_Header_Descriptor bits. */
const FHD_SINGLE_SEGMENT = 0x20;
const FHD_RESERVED = 0x08;
const FHD_CONTENT_CHECKSUM = 0x04;
/** Bytes of Dictionary_ID by its flag, and of Frame_Content_Size by its flag (single-segment frames: 1 for flag 0). */
const DICTIONARY_ID_BYTES = [0, 1, 2, 4];
const CONTENT_SIZE_BYTES = [0, 2, 4, 8];
/** A 2-byte Frame_Content_Size is stored less 256. */
const CONTENT_SIZE_2_OFFSET = 256;
/** Block_Maximum_Size's ceiling: no block produces more (and a smaller window lowers it). */
const BLOCK_BYTES_MAX = 128 * 1024;
const BLOCK_HEADER_BYTES = 3;
const BLOCK_RAW = 0;
const BLOCK_RLE = 1;
const BLOCK_COMPRESSED = 2;
const CHECKSUM_BYTES = 4;

/**
 * zstddec, loaded and its WebAssembly compiled with the first zstd batch rather than at start-up (it loads Node's
 * fetch to read its module, ~0.1 s).
 * @type {Promise<import("zstddec").ZSTDDecoder> | null}
 */
let zstdDecoder = null;

function loadDecoder() {
	zstdDecoder ??= import("zstddec").then(async ({ ZSTDDecoder }) => {
		const decoder = new ZSTDDecoder();
		await decoder.init();
		return decoder;
	});
	return zstdDecoder;
}

/**
 * The bytes of every frame in `data`, refused with a BatchError past `bytesMax`.
 * @param {Buffer} data @param {number} bytesMax
 */
export async function unzstd(data, bytesMax) {
	const { least, most } = outputBounds(data);
	if (least > bytesMax) throw tooLarge("zstd", bytesMax);
	if (most === 0) return Buffer.alloc(0);
	const capacity = Math.min(most, bytesMax);
	const inflated = (await loadDecoder()).decode(data, capacity);
	// zstddec hands back an empty array for any libzstd error. Below the upper bound, that error is corruption;
	// at the cap it is most likely the cap (a frame is refused either way, and neither is worth a retry).
	if (inflated.length === 0) {
		if (capacity < most) throw new BatchError("too_large", `zstd: the batch inflates past ${bytesMax} bytes, or is corrupt`);
		throw new BatchError("corrupt", "zstd: libzstd refused the frame");
	}
	return Buffer.from(inflated.buffer, inflated.byteOffset, inflated.length);
}

/**
 * The least and most that the frames in `data` can inflate to, from their headers alone; throws a BatchError
 * when a frame's structure is broken or needs a dictionary.
 * @param {Buffer} data
 */
export function outputBounds(data) {
	let least = 0;
	let most = 0;
	let at = 0;
	while (at < data.length) {
		const skipped = skippableFrameEnd(data, at);
		if (skipped >= 0) {
			at = skipped;
			continue;
		}
		if (data.readUInt32LE(at) !== FRAME_MAGIC) throw new BatchError("corrupt", `zstd: no frame magic at byte ${at}`);
		const frame = frameBounds(data, at + 4);
		least += frame.least;
		most += frame.most;
		at = frame.end;
	}
	if (at !== data.length) throw new BatchError("corrupt", "zstd: the last frame runs past the batch");
	return { least, most };
}

/** One frame's bounds, from its header at `at` (past the magic). @param {Buffer} data @param {number} at */
function frameBounds(data, at) {
	const fhd = data[at];
	if ((fhd & FHD_RESERVED) !== 0) throw new BatchError("corrupt", "zstd: reserved frame header bit set");
	const singleSegment = (fhd & FHD_SINGLE_SEGMENT) !== 0;
	let p = at + 1;
	let windowBytes = 0;
	if (!singleSegment) {
		const descriptor = data[p++];
		const base = 2 ** (10 + (descriptor >> 3));
		windowBytes = base + (base / 8) * (descriptor & 0x07);
	}
	const dictionaryIdBytes = DICTIONARY_ID_BYTES[fhd & 0x03];
	if (dictionaryIdBytes > 0 && data.readUIntLE(p, dictionaryIdBytes) !== 0)
		throw new BatchError("unsupported_compression", "zstd: frames that need a dictionary are not supported");
	p += dictionaryIdBytes;
	const contentSizeBytes = singleSegment && fhd >> 6 === 0 ? 1 : CONTENT_SIZE_BYTES[fhd >> 6];
	let contentBytes = -1;
	if (contentSizeBytes === 8) contentBytes = Number(data.readBigUInt64LE(p));
	else if (contentSizeBytes > 0) contentBytes = data.readUIntLE(p, contentSizeBytes) + (contentSizeBytes === 2 ? CONTENT_SIZE_2_OFFSET : 0);
	p += contentSizeBytes;
	if (singleSegment) windowBytes = contentBytes;
	const blockBytesMax = Math.min(windowBytes, BLOCK_BYTES_MAX);
	let least = 0;
	let most = 0;
	for (let last = false; !last; ) {
		const header = data.readUIntLE(p, BLOCK_HEADER_BYTES);
		p += BLOCK_HEADER_BYTES;
		last = (header & 1) === 1;
		const type = (header >> 1) & 0x03;
		const size = header >>> 3;
		if (size > blockBytesMax) throw new BatchError("corrupt", `zstd: block of ${size} bytes past Block_Maximum_Size`);
		if (type === BLOCK_RAW || type === BLOCK_RLE) {
			least += size;
			most += size;
			p += type === BLOCK_RAW ? size : 1;
		} else if (type === BLOCK_COMPRESSED) {
			most += blockBytesMax;
			p += size;
		} else throw new BatchError("corrupt", "zstd: reserved block type");
	}
	p += (fhd & FHD_CONTENT_CHECKSUM) !== 0 ? CHECKSUM_BYTES : 0;
	if (contentBytes < 0) return { least, most, end: p };
	if (contentBytes < least || contentBytes > most)
		throw new BatchError("corrupt", `zstd: frame declares ${contentBytes} bytes, its blocks disagree`);
	return { least: contentBytes, most: contentBytes, end: p };
}
