/**
 * Produced batches in every codec, and the inflated-size cap they all share: per codec, a batch whose records
 * inflate to exactly the cap is accepted and one byte more is refused as `too_large` (Kafka's
 * RECORD_LIST_TOO_LARGE), refused before it is inflated where the frame says its size. lz4 frames from
 * lz4-napi, with checksums and linked blocks; zstd frames as libzstd writes them, and raw and RLE blocks built here;
 * fast-check fuzzing of damaged lz4 and zstd frames.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { compressFrameSync } from "lz4-napi";
import snappy from "snappyjs";
import { BatchError, COMPRESSION, crc32c, decodeBatches, encodeBatch, INFLATED_BYTES_MAX } from "../../gateway/protocol/record-batch.js";

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
console.log(`# fuzz seed ${SEED} (FUZZ_SEED=${SEED} to replay)`);

const BATCH_OVERHEAD_BYTES = 61;
const TIMESTAMP = 1_767_225_600_000;
/** An uncompressed batch of one record whose body (the part a codec compresses) is exactly `bodyBytes` long. */
async function batchOfBody(bodyBytes) {
	let valueBytes = bodyBytes;
	for (let attempt = 0; attempt < 3; attempt++) {
		const value = Buffer.alloc(valueBytes, 0x61);
		const batch = await encodeBatch([{ offset: 0, timestamp: TIMESTAMP, key: null, value, headers: [] }]);
		const missing = bodyBytes - (batch.length - BATCH_OVERHEAD_BYTES);
		if (missing === 0) return batch;
		valueBytes += missing;
	}
	throw new Error(`no one-record body of ${bodyBytes} bytes`);
}

/** `plain`'s header with `body` as its records, under `compression`, its length and CRC made right. */
function withBody(plain, compression, body) {
	const batch = Buffer.concat([plain.subarray(0, BATCH_OVERHEAD_BYTES), body]);
	batch.writeInt32BE(batch.length - 12, 8);
	batch.writeInt16BE(compression, 21);
	batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
	return batch;
}

const bodyOf = (batch) => batch.subarray(BATCH_OVERHEAD_BYTES);
const ZSTD_BLOCK_BYTES = 128 * 1024;

/** A zstd frame built by hand: 128 KiB blocks, RLE where a block is one byte repeated, raw otherwise. */
function zstdFrame(bytes) {
	// Frame header: no content size, a window of 128 KiB (descriptor exponent 7).
	const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3])];
	for (let at = 0; at < bytes.length || at === 0; at += ZSTD_BLOCK_BYTES) {
		const block = bytes.subarray(at, at + ZSTD_BLOCK_BYTES);
		const last = at + ZSTD_BLOCK_BYTES >= bytes.length ? 1 : 0;
		const rle = block.length > 0 && block.every((b) => b === block[0]);
		const header = Buffer.alloc(3);
		header.writeUIntLE((block.length << 3) | ((rle ? 1 : 0) << 1) | last, 0, 3);
		parts.push(header, rle ? block.subarray(0, 1) : block);
	}
	return Buffer.concat(parts);
}

/** 20 records with keys, a header and JSON values, whose body ZSTD_CLI_FRAME holds. */
const ZSTD_CLI_RECORDS = Array.from({ length: 20 }, (_, i) => ({
	offset: i,
	timestamp: TIMESTAMP + i,
	key: Buffer.from(`k${i % 3}`),
	value: Buffer.from(JSON.stringify({ n: i, text: "zstd ".repeat(i) })),
	headers: [{ key: "h", value: Buffer.from("v") }],
}));
/** ZSTD_CLI_RECORDS' body compressed by the zstd CLI at level 19, without a content size. */
const ZSTD_CLI_FRAME = Buffer.from(
	"KLUv/QRobQkA0s0wKlBXOlDELVTjjEs1zrjUzR57yv+PLq4PR2jGlXZ3+/tnW1taWlpak4bIFBchbX48vkULcDY7HF9ixVebpfwOKTza3Gh8gxPdbGYwvj8JrjYvFt9exEabFYrvrtJmcyLxzVFZbUYgvrdJF0abD4dv7dKazQbDd2Yx1eZC4RurjGgzgfB9UT6zeTB4atKpzQLBSZINbQ4EDopkZjMAcE+l1Gbmcxoh1GlFIbR5HK9JjaNxdEmJkSiVCCUhEyNLkiVn839MOaBBXRJJdG5/A0Bjygc+OJHjlv5p8l0pN5Hi+nR08l31hZLiWmp08l2hhJLiOrA0+a7enKS4xvrcouUILcgzQmLhCqgcIcVn5IAEf1wpEtYh8hOsFctLAM5ImfDKKS+hm4xFO1y6ChrlQHY=",
	"base64",
);

/**
 * "ab" repeated to one byte past the cap, as the zstd CLI compresses it (level 19, no content size): 128
 * compressed blocks of 128 KiB (the third repeated 126 times), a raw byte, the content checksum. Its frame states
 * no size, so libzstd itself has to stop at the cap.
 */
function zstdCompressedBomb() {
	const hex = (h) => Buffer.from(h, "hex");
	const repeated = hex("440000000100fdff390002");
	return Buffer.concat([
		hex("28b52ffd0468"),
		hex("5400001061620100fbffe50e0b"),
		hex("440000000100fdfff20b04"),
		...Array.from({ length: 126 }, () => repeated),
		hex("09000061"),
		hex("92cf2e49"),
	]);
}

const COMPRESS = {
	gzip: (body) => gzipSync(body),
	snappy: (body) => Buffer.from(snappy.compress(body)),
	lz4: (body) => compressFrameSync(body),
	zstd: (body) => zstdFrame(body),
};

const isTooLarge = (error) => error instanceof BatchError && error.kind === "too_large";

for (const [codec, compress] of Object.entries(COMPRESS)) {
	test(`${codec}: a batch that inflates to exactly the cap is accepted, one byte more is refused as too large`, async () => {
		const atCap = await batchOfBody(INFLATED_BYTES_MAX);
		const [decoded] = await decodeBatches(withBody(atCap, COMPRESSION[codec], compress(bodyOf(atCap))));
		assert.equal(decoded.records[0].value.length, bodyOf(atCap).length - 13);
		const pastCap = await batchOfBody(INFLATED_BYTES_MAX + 1);
		await assert.rejects(decodeBatches(withBody(pastCap, COMPRESSION[codec], compress(bodyOf(pastCap)))), isTooLarge);
	});
}

test("snappy in xerial framing: chunks that together pass the cap are refused as too large", async () => {
	const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
	const chunk = Buffer.from(snappy.compress(Buffer.alloc(INFLATED_BYTES_MAX / 2 + 1)));
	const size = Buffer.alloc(4);
	size.writeInt32BE(chunk.length);
	const plain = await batchOfBody(1024);
	const batch = withBody(plain, COMPRESSION.snappy, Buffer.concat([header, size, chunk, size, chunk]));
	await assert.rejects(decodeBatches(batch), isTooLarge);
});

test("lz4: frames with block and content checksums, and several frames in a row, inflate as one body", async () => {
	const plain = await encodeBatch(
		Array.from({ length: 200 }, (_, i) => ({
			offset: i,
			timestamp: TIMESTAMP + i,
			key: null,
			value: Buffer.from(`value ${i} `.repeat(i % 40)),
			headers: [],
		})),
	);
	const body = bodyOf(plain);
	const half = Math.floor(body.length / 2);
	const checked = compressFrameSync(body, { contentChecksum: true, blockChecksums: true });
	const twoFrames = Buffer.concat([compressFrameSync(body.subarray(0, half)), compressFrameSync(body.subarray(half))]);
	for (const frames of [checked, twoFrames]) {
		const [decoded] = await decodeBatches(withBody(plain, COMPRESSION.lz4, frames));
		assert.equal(decoded.records.length, 200);
		assert.equal(decoded.records[199].value.toString(), "value 199 ".repeat(199 % 40));
	}
});

test("lz4 and zstd: skippable frames (one format for both) before and between frames are passed over", async () => {
	const plain = await encodeBatch([{ offset: 0, timestamp: TIMESTAMP, key: null, value: Buffer.from("skipped around"), headers: [] }]);
	const body = bodyOf(plain);
	const skippable = (magicLow) => {
		const frame = Buffer.alloc(8 + 5, 0xee);
		frame.writeUInt32LE(0x184d2a50 + magicLow, 0);
		frame.writeUInt32LE(5, 4);
		return frame;
	};
	const half = Math.floor(body.length / 2);
	const lz4 = Buffer.concat([
		skippable(0),
		compressFrameSync(body.subarray(0, half)),
		skippable(15),
		compressFrameSync(body.subarray(half)),
	]);
	const zstd = Buffer.concat([skippable(3), zstdFrame(body.subarray(0, half)), skippable(9), zstdFrame(body.subarray(half))]);
	for (const [compression, frames] of [
		[COMPRESSION.lz4, lz4],
		[COMPRESSION.zstd, zstd],
	]) {
		const [decoded] = await decodeBatches(withBody(plain, compression, frames));
		assert.equal(decoded.records[0].value.toString(), "skipped around", `codec ${compression}`);
	}
});

test("lz4: a dependent block copies from the block before it (linked mode)", async () => {
	const plain = await encodeBatch([{ offset: 0, timestamp: TIMESTAMP, key: null, value: Buffer.alloc(30, 0x61), headers: [] }]);
	const body = bodyOf(plain);
	// Block 1 stored: the body up to its 19th "a". Block 2 compressed: a match of 4 bytes from 4 bytes back (into
	// block 1, so lz4_flex must be handed it as the dictionary), then the rest of the body as literals.
	const head = body.subarray(0, body.indexOf(0x61) + 19);
	const rest = body.subarray(head.length + 4);
	const stored = Buffer.alloc(4);
	stored.writeUInt32LE((0x80000000 | head.length) >>> 0);
	const sequences = Buffer.concat([Buffer.from([0x00, 0x04, 0x00, rest.length << 4]), rest]);
	const compressedSize = Buffer.alloc(4);
	compressedSize.writeUInt32LE(sequences.length);
	// FLG: version 01, blocks linked (independence bit clear); BD: 64 KiB blocks; a header checksum byte, unchecked.
	const frame = Buffer.concat([
		Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x40, 0x40, 0x00]),
		stored,
		head,
		compressedSize,
		sequences,
		Buffer.alloc(4),
	]);
	const [decoded] = await decodeBatches(withBody(plain, COMPRESSION.lz4, frame));
	assert.deepEqual(decoded.records[0].value, Buffer.alloc(30, 0x61));
});

test("lz4: a frame that declares a content size past the cap is refused before a block is read", async () => {
	const plain = await batchOfBody(64);
	const frame = compressFrameSync(bodyOf(plain));
	const declared = Buffer.alloc(8);
	declared.writeBigUInt64LE(BigInt(INFLATED_BYTES_MAX + 1));
	const flg = frame[4] | 0x08;
	const sized = Buffer.concat([frame.subarray(0, 4), Buffer.from([flg, frame[5]]), declared, frame.subarray(6)]);
	await assert.rejects(decodeBatches(withBody(plain, COMPRESSION.lz4, sized)), isTooLarge);
});

test("zstd: libzstd's own frame (compressed blocks, content checksum) inflates; a flipped byte in it is corrupt", async () => {
	const plain = await encodeBatch(ZSTD_CLI_RECORDS);
	const [decoded] = await decodeBatches(withBody(plain, COMPRESSION.zstd, ZSTD_CLI_FRAME));
	assert.deepEqual(
		decoded.records.map((r) => [r.offsetDelta, r.timestamp, r.key, r.value, r.headers]),
		ZSTD_CLI_RECORDS.map((r) => [r.offset, r.timestamp, r.key, r.value, r.headers]),
	);
	const flipped = Buffer.from(ZSTD_CLI_FRAME);
	flipped[40] ^= 0xff;
	await assert.rejects(
		decodeBatches(withBody(plain, COMPRESSION.zstd, flipped)),
		(error) => error instanceof BatchError && error.kind === "corrupt",
	);
});

test("zstd: compressed blocks that inflate one byte past the cap are refused by libzstd at the cap", async () => {
	const plain = await batchOfBody(64);
	await assert.rejects(decodeBatches(withBody(plain, COMPRESSION.zstd, zstdCompressedBomb())), isTooLarge);
});

test("zstd: a frame that needs a dictionary is refused as unsupported, a reserved block type as corrupt", async () => {
	const plain = await batchOfBody(64);
	const frame = zstdFrame(bodyOf(plain));
	// Dictionary_ID_flag 1: one byte of dictionary id after the window descriptor.
	const withDictionary = Buffer.concat([frame.subarray(0, 4), Buffer.from([0x01, frame[5], 0x07]), frame.subarray(6)]);
	await assert.rejects(
		decodeBatches(withBody(plain, COMPRESSION.zstd, withDictionary)),
		(error) => error instanceof BatchError && error.kind === "unsupported_compression",
	);
	const reserved = Buffer.from(frame);
	reserved[6] |= 0b110;
	await assert.rejects(
		decodeBatches(withBody(plain, COMPRESSION.zstd, reserved)),
		(error) => error instanceof BatchError && error.kind === "corrupt",
	);
});

test("codecs 5 to 7 are refused as unsupported, not misread", async () => {
	const plain = await batchOfBody(64);
	for (const codec of [5, 6, 7]) {
		await assert.rejects(
			decodeBatches(withBody(plain, codec, bodyOf(plain))),
			(error) => error instanceof BatchError && error.kind === "unsupported_compression",
		);
	}
});

test("fuzz: lz4 and zstd bodies cut short, with bytes flipped, or random are refused as a BatchError, or decode", async () => {
	const plain = await encodeBatch(ZSTD_CLI_RECORDS);
	const lz4Frame = compressFrameSync(bodyOf(plain), { contentChecksum: true, blockChecksums: true });
	const frames = { [COMPRESSION.lz4]: lz4Frame, [COMPRESSION.zstd]: ZSTD_CLI_FRAME };
	const damaged = fc.record({
		codec: fc.constantFrom(COMPRESSION.lz4, COMPRESSION.zstd),
		cut: fc.nat(),
		flips: fc.array(fc.record({ at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }), { maxLength: 4 }),
		random: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }),
	});
	await fc.assert(
		fc.asyncProperty(damaged, async ({ codec, cut, flips, random }) => {
			const body = random === null ? Buffer.from(frames[codec]) : Buffer.from(random);
			for (const { at, mask } of flips) if (body.length > 0) body[at % body.length] ^= mask;
			const batch = withBody(plain, codec, body.subarray(0, body.length - (cut % 8)));
			try {
				await decodeBatches(batch);
			} catch (error) {
				if (!(error instanceof BatchError)) throw error;
			}
		}),
		{ seed: SEED, numRuns: 300 },
	);
});
