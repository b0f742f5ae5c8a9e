// @ts-check
/**
 * @module
 * Record batches' compression codecs (the attributes' low three bits): a produced batch's records are inflated
 * under one cap whatever the codec, and a batch past it is refused as `too_large` without allocating past it.
 * How each codec holds the cap:
 * - gzip (node:zlib): `maxOutputLength` stops inflating there.
 * - snappy (snappyjs), raw or in the Java client's xerial framing: each block states its length up front, checked
 *   against the room left before snappyjs allocates it.
 * - lz4 (lz4-napi): frames walked here, each block inflated into at most the room left (lz4-frame.js).
 * - zstd (zstddec): the output sized from the frame and block headers, libzstd never writes past it (zstd-frame.js).
 * Compressing is only for tests (fetched batches go out uncompressed): gzip, snappy and lz4.
 */

import { promisify } from "node:util";
import { gunzip as gunzipCallback, gzip as gzipCallback } from "node:zlib";
import snappy from "snappyjs";
import { BatchError, InflatedChunks, tooLarge } from "./inflated.js";
import { Reader } from "./io.js";
import { loadLz4, unlz4 } from "./lz4-frame.js";
import { unzstd } from "./zstd-frame.js";

const gunzip = promisify(gunzipCallback);
const gzip = promisify(gzipCallback);

/** A decompressed batch may hold at most this much: the Worker refuses larger requests anyway. */
export const INFLATED_BYTES_MAX = 16 * 1024 * 1024;

export const COMPRESSION = /** @type {const} */ ({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });

/**
 * A batch's records as they were before compression, at most `bytesMax` of them.
 * @param {number} compression @param {Buffer} data
 */
export async function inflate(compression, data, bytesMax = INFLATED_BYTES_MAX) {
	switch (compression) {
		case COMPRESSION.none:
			return data;
		case COMPRESSION.gzip:
			return gunzipCapped(data, bytesMax);
		case COMPRESSION.snappy:
			return attempt("snappy", () => unsnappy(data, bytesMax));
		case COMPRESSION.lz4:
			return attempt("lz4", () => unlz4(data, bytesMax));
		case COMPRESSION.zstd:
			return attempt("zstd", () => unzstd(data, bytesMax));
		default:
			throw new BatchError(
				"unsupported_compression",
				`compression codec ${compression} is not supported (none, gzip, snappy, lz4 and zstd are)`,
			);
	}
}

/** @param {Buffer} data @param {number} bytesMax */
async function gunzipCapped(data, bytesMax) {
	try {
		return await gunzip(data, { maxOutputLength: bytesMax });
	} catch (error) {
		if (/** @type {any} */ (error).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge("gzip", bytesMax);
		throw new BatchError("corrupt", `gzip: ${/** @type {Error} */ (error).message}`);
	}
}

/** @param {string} codec @param {() => Buffer | Promise<Buffer>} inflateNow */
async function attempt(codec, inflateNow) {
	try {
		return await inflateNow();
	} catch (error) {
		if (error instanceof BatchError) throw error;
		throw new BatchError("corrupt", `${codec}: ${/** @type {Error} */ (error).message}`);
	}
}

/** The Java client's snappy framing (snappy-java's "xerial" stream): magic, version, compat, then sized chunks. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

/** @param {Buffer} data @param {number} bytesMax */
function unsnappy(data, bytesMax) {
	const out = new InflatedChunks("snappy", bytesMax);
	if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
		out.push(unsnappyBlock(data, out));
		return out.done();
	}
	const reader = new Reader(data, XERIAL_HEADER_BYTES);
	while (reader.remaining > 0) out.push(unsnappyBlock(reader.raw(reader.int32()), out));
	return out.done();
}

/** One raw snappy block, its stated length checked against the room left first. @param {Buffer} block @param {InflatedChunks} out */
function unsnappyBlock(block, out) {
	if (snappyLength(block) > out.room) throw tooLarge("snappy", out.bytesMax);
	return Buffer.from(snappy.uncompress(block, out.room));
}

/** A raw snappy block's uncompressed length: its leading varint (at most 32 bits), or -1 when it has none. @param {Buffer} block */
function snappyLength(block) {
	let length = 0;
	for (let i = 0, shift = 0; i < block.length && shift < 32; i++, shift += 7) {
		length += (block[i] & 0x7f) * 2 ** shift;
		if (block[i] < 0x80) return length;
	}
	return -1;
}

/**
 * Compresses a batch's records (tests only: the gateway answers Fetch uncompressed).
 * @param {number} compression @param {Buffer} bytes
 */
export async function deflate(compression, bytes) {
	if (compression === COMPRESSION.gzip) return gzip(bytes);
	if (compression === COMPRESSION.snappy) return Buffer.from(snappy.compress(bytes));
	if (compression === COMPRESSION.lz4) return (await loadLz4()).compressFrameSync(bytes);
	if (compression !== COMPRESSION.none) throw new Error(`cannot compress with codec ${compression}`);
	return bytes;
}
