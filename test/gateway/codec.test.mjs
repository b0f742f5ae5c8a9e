/**
 * The gateway's generated codec and record batches, in Node: round trips through Kafka's definitions for
 * every served version (flexible and not), the CRC-32C check value, batches encoded and decoded (compressed too),
 * and fast-check fuzzing of the frame decoder: any bytes either decode or raise ProtocolError, never anything
 * else, and never read outside the frame.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import snappy from "snappyjs";
import { parseRequest } from "../../gateway/connection.js";
import { toKafkaRecord } from "../../gateway/convert.js";
import { splitFrames } from "../../gateway/frames.js";
import { encodeAssignment, subscribedTopics } from "../../gateway/handlers/groups.js";
import { APIS, codecs, encodeResponse, encodeResponseParts } from "../../gateway/protocol/apis.js";
import { ProtocolError, Reader, SPLICE_BYTES_MIN, Writer } from "../../gateway/protocol/io.js";
import { BatchError, COMPRESSION, crc32c, decodeBatches, encodeBatch } from "../../gateway/protocol/record-batch.js";

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
console.log(`# fuzz seed ${SEED} (FUZZ_SEED=${SEED} to replay)`);

const api = (name) => [...APIS.values()].find((a) => a.name === name);

/** A request frame as a client sends it: header v1 (v2 when flexible) and body, from Kafka's definitions. */
function requestFrame(name, version, body, correlationId = 42) {
	const a = api(name);
	const flexible = version >= a.request.flexible.min;
	const writer = new Writer();
	codecs
		.get("RequestHeader")
		.encode(writer, { requestApiKey: a.key, requestApiVersion: version, correlationId, clientId: "test" }, flexible ? 2 : 1);
	a.request.encode(writer, body, version);
	return Buffer.from(writer.done());
}

test("CRC-32C matches the standard check value", () => {
	assert.equal(crc32c(Buffer.from("123456789")), 0xe3069283);
});

test("fuzz: varlongs round-trip whether they take the Number path (up to 4 bytes) or the BigInt one", () => {
	const edges = [0, -1, 1, 2 ** 27 - 1, -(2 ** 27), 2 ** 27, -(2 ** 27) - 1, 2 ** 30, -(2 ** 40), Number.MAX_SAFE_INTEGER];
	const value = fc.oneof(fc.constantFrom(...edges), fc.integer({ min: -(2 ** 29), max: 2 ** 29 }), fc.maxSafeInteger());
	fc.assert(
		fc.property(fc.array(value, { minLength: 1, maxLength: 8 }), (values) => {
			const writer = new Writer(4);
			for (const v of values) writer.varlong(v);
			const bytes = writer.done();
			const reader = new Reader(bytes);
			assert.deepEqual(
				values.map(() => reader.varlong()),
				values,
			);
			assert.equal(reader.remaining, 0);
			// Cut short by a byte, a varlong is refused, never read past its end.
			const one = new Writer(10).varlong(values[0]).done();
			assert.throws(() => new Reader(one, 0, one.length - 1).varlong(), ProtocolError);
		}),
		{ seed: SEED, numRuns: 2_000 },
	);
});

test("Metadata requests round-trip in every served version, compact and classic", () => {
	const a = api("Metadata");
	for (let v = a.minVersion; v <= a.maxVersion; v++) {
		const frame = requestFrame("Metadata", v, { topics: [{ name: "orders" }, { name: "ünï" }], allowAutoTopicCreation: false });
		const parsed = parseRequest(frame);
		assert.equal(parsed.api.name, "Metadata");
		assert.equal(parsed.correlationId, 42);
		assert.deepEqual(
			parsed.body.topics.map((t) => t.name),
			["orders", "ünï"],
		);
	}
});

test("a flexible request keeps unknown tagged fields out of the way (KIP-482)", () => {
	const frame = requestFrame("Metadata", 12, { topics: null, allowAutoTopicCreation: true });
	// Replace the body's empty tag section (its last byte) with one unknown tag (99) of 3 bytes.
	const tagged = Buffer.concat([frame.subarray(0, frame.length - 1), Buffer.from([1, 99, 3, 0xaa, 0xbb, 0xcc])]);
	const parsed = parseRequest(tagged);
	assert.equal(parsed.body.topics, null);
	assert.equal(parsed.body.allowAutoTopicCreation, true);
});

test("responses encode their version's fields only; flexible ones carry header tags, ApiVersions never", () => {
	const metadata = api("Metadata");
	const body = { brokers: [{ nodeId: 0, host: "h", port: 9092, rack: null }], clusterId: "c", controllerId: 0, topics: [] };
	const v1 = encodeResponse(metadata, 1, 5, body);
	const v9 = encodeResponse(metadata, 9, 5, body);
	assert.equal(v1.readInt32BE(0), v1.length - 4);
	assert.equal(v1.readInt32BE(4), 5);
	const decodedV9 = codecs.get("MetadataResponse").decode(new Reader(v9, 9), 9);
	assert.equal(v9[8], 0, "an empty header tag section follows the correlation id");
	assert.deepEqual(decodedV9.brokers, body.brokers);
	const versions = encodeResponse(api("ApiVersions"), 3, 6, { errorCode: 0, apiKeys: [], throttleTimeMs: 0 });
	assert.equal(versions.readInt16BE(8), 0, "ApiVersions' response header is v0: the error code follows the correlation id");
});

test("a Fetch response's long record batches are sent as they are, after the frame's bytes before them", () => {
	const fetchApi = api("Fetch");
	const long = Buffer.alloc(SPLICE_BYTES_MIN + 1_000, 0x61);
	const short = Buffer.from("short");
	const partition = (partitionIndex, records) => ({
		partitionIndex,
		errorCode: 0,
		highWatermark: 9,
		lastStableOffset: 9,
		logStartOffset: 0,
		abortedTransactions: [],
		preferredReadReplica: -1,
		records,
	});
	const body = {
		throttleTimeMs: 0,
		errorCode: 0,
		sessionId: 0,
		responses: [{ topic: "t", partitions: [partition(0, long), partition(1, short), partition(2, long)] }],
	};
	for (const version of [4, 12]) {
		const parts = encodeResponseParts(fetchApi, version, 7, body);
		assert.equal(parts.filter((part) => part === long).length, 2, "each long batch is a part of its own, not copied");
		const frame = Buffer.concat(parts);
		assert.deepEqual(encodeResponse(fetchApi, version, 7, body), frame);
		assert.equal(frame.readInt32BE(0), frame.length - 4);
		const headerBytes = version >= 12 ? 9 : 8;
		const decoded = codecs.get("FetchResponse").decode(new Reader(frame, headerBytes), version);
		assert.deepEqual(
			decoded.responses[0].partitions.map((p) => Buffer.from(p.records)),
			[long, short, long],
		);
	}
});

test("consumer protocol: a subscription's topics are read, an assignment is written in Kafka's format", () => {
	const writer = new Writer().int16(1);
	codecs.get("ConsumerProtocolSubscription").encode(writer, { topics: ["a", "b"], userData: null, ownedPartitions: [] }, 1);
	assert.deepEqual(subscribedTopics(Buffer.from(writer.done())), ["a", "b"]);
	const bytes = encodeAssignment([
		{ topic: "a", partition: 2 },
		{ topic: "a", partition: 0 },
		{ topic: "b", partition: 1 },
	]);
	const reader = new Reader(bytes);
	assert.equal(reader.int16(), 0);
	const decoded = codecs.get("ConsumerProtocolAssignment").decode(reader, 0);
	assert.deepEqual(decoded.assignedPartitions, [
		{ topic: "a", partitions: [0, 2] },
		{ topic: "b", partitions: [1] },
	]);
});

const recordArb = fc.record({
	key: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
	value: fc.option(fc.uint8Array({ maxLength: 100 }), { nil: null }),
	headers: fc.array(fc.record({ key: fc.string({ maxLength: 10 }), value: fc.option(fc.uint8Array({ maxLength: 10 }), { nil: null }) }), {
		maxLength: 3,
	}),
	timestampDelta: fc.integer({ min: 0, max: 10_000 }),
});

test("record batches round-trip (none, gzip, snappy, lz4), with gaps in offsets and the CRC checked", async () => {
	const codecs = [COMPRESSION.none, COMPRESSION.gzip, COMPRESSION.snappy, COMPRESSION.lz4];
	await fc.assert(
		fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 20 }), fc.constantFrom(...codecs), async (records, compression) => {
			const base = 1_767_225_600_000;
			const input = records.map((r, i) => ({
				offset: 100 + i * 2,
				timestamp: base + r.timestampDelta,
				key: r.key && Buffer.from(r.key),
				value: r.value && Buffer.from(r.value),
				headers: r.headers.map((h) => ({ key: h.key, value: h.value && Buffer.from(h.value) })),
			}));
			const batch = await encodeBatch(input, { compression });
			const [decoded] = await decodeBatches(batch);
			assert.equal(decoded.baseOffset, 100);
			assert.equal(decoded.lastOffsetDelta, (records.length - 1) * 2);
			assert.deepEqual(
				decoded.records.map((r) => [r.offsetDelta, r.timestamp, r.key, r.value, r.headers]),
				input.map((r) => [r.offset - 100, r.timestamp, r.key, r.value, r.headers]),
			);
			const flipped = Buffer.from(batch);
			flipped[flipped.length - 1] ^= 0x01;
			await assert.rejects(decodeBatches(flipped), BatchError);
		}),
		{ seed: SEED, numRuns: 200 },
	);
});

test("a fetched page's text fields are written as their UTF-8 bytes, next to base64 and JSON values", async () => {
	const base = 1_767_225_600_000;
	const page = [
		{
			offset: 7,
			timestamp: base,
			key: "ünï 😀",
			value: "plain",
			headers: [
				{ key: "h-ü", value: "wert 😀" },
				{ key: "n", value: null },
			],
		},
		{ offset: 9, timestamp: base + 2 ** 40, key: null, value: { n: 1, s: "ß" }, headers: [] },
		{ offset: 10, timestamp: base - 5, key: "AAEC/w==", key_encoding: "base64", value: null },
	];
	const batch = await encodeBatch(page.map(toKafkaRecord), { lastOffset: 12 });
	const [decoded] = await decodeBatches(batch);
	assert.equal(decoded.baseOffset, 7);
	assert.equal(decoded.lastOffsetDelta, 5);
	assert.equal(decoded.maxTimestamp, base + 2 ** 40);
	assert.deepEqual(
		decoded.records.map((r) => [r.offsetDelta, r.timestamp, r.key, r.value, r.headers]),
		[
			[
				0,
				base,
				Buffer.from("ünï 😀"),
				Buffer.from("plain"),
				[
					{ key: "h-ü", value: Buffer.from("wert 😀") },
					{ key: "n", value: null },
				],
			],
			[2, base + 2 ** 40, null, Buffer.from('{"n":1,"s":"ß"}'), []],
			[3, base - 5, Buffer.from([0, 1, 2, 255]), null, []],
		],
	);
});

test("snappy in the Java client's xerial framing is inflated chunk by chunk", async () => {
	const records = Array.from({ length: 30 }, (_, i) => ({
		offset: i,
		timestamp: 1_767_225_600_000,
		key: null,
		value: Buffer.from(`v${i}`.repeat(50)),
		headers: [],
	}));
	const raw = await encodeBatch(records, { compression: COMPRESSION.snappy });
	// Re-frame the raw snappy payload (after the 61-byte batch header) as xerial, split into two chunks.
	const plain = snappy.uncompress(raw.subarray(61));
	const half = Math.floor(plain.length / 2);
	const chunks = [plain.subarray(0, half), plain.subarray(half)].map((c) => {
		const compressed = Buffer.from(snappy.compress(c));
		const size = Buffer.alloc(4);
		size.writeInt32BE(compressed.length);
		return Buffer.concat([size, compressed]);
	});
	const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
	const batch = Buffer.concat([raw.subarray(0, 61), header, ...chunks]);
	batch.writeInt32BE(batch.length - 12, 8);
	batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
	const [decoded] = await decodeBatches(batch);
	assert.deepEqual(
		decoded.records.map((r) => r.value.toString()),
		records.map((r) => r.value.toString()),
	);
});

test("fuzz: any bytes after the size prefix either decode or raise ProtocolError", () => {
	fc.assert(
		fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
			try {
				parseRequest(Buffer.from(bytes));
			} catch (error) {
				if (!(error instanceof ProtocolError)) throw error;
			}
		}),
		{ seed: SEED, numRuns: 5_000 },
	);
});

test("fuzz: valid requests of every served API, with bytes flipped or cut, decode or raise ProtocolError", () => {
	const samples = [
		requestFrame("Metadata", 12, { topics: [{ name: "t" }] }),
		requestFrame("Produce", 9, {
			acks: -1,
			timeoutMs: 1000,
			topicData: [{ name: "t", partitionData: [{ index: 0, records: Buffer.from([1, 2, 3]) }] }],
		}),
		requestFrame("Fetch", 11, { maxWaitMs: 500, minBytes: 1, topics: [{ topic: "t", partitions: [{ partition: 0, fetchOffset: 3 }] }] }),
		requestFrame("JoinGroup", 7, {
			groupId: "g",
			memberId: "",
			protocolType: "consumer",
			protocols: [{ name: "range", metadata: Buffer.from([0, 0]) }],
		}),
		requestFrame("OffsetCommit", 8, {
			groupId: "g",
			memberId: "m",
			topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 5 }] }],
		}),
		requestFrame("ApiVersions", 3, { clientSoftwareName: "x", clientSoftwareVersion: "1" }),
	];
	fc.assert(
		fc.property(
			fc.constantFrom(...samples),
			fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
			fc.nat(),
			(sample, flips, cut) => {
				const bytes = Buffer.from(sample);
				for (const [at, mask] of flips) bytes[at % bytes.length] ^= mask;
				const truncated = bytes.subarray(0, cut % (bytes.length + 1));
				for (const candidate of [bytes, truncated]) {
					try {
						parseRequest(candidate);
					} catch (error) {
						if (!(error instanceof ProtocolError)) throw error;
					}
				}
			},
		),
		{ seed: SEED, numRuns: 5_000 },
	);
});

test("fuzz: the frame splitter never yields a frame past its input and refuses bad sizes", () => {
	fc.assert(
		fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }), fc.uint8Array({ maxLength: 8 }), (payloads, tail) => {
			const framed = Buffer.concat(
				payloads.flatMap((p) => {
					const size = Buffer.alloc(4);
					size.writeInt32BE(p.length);
					return [size, Buffer.from(p)];
				}),
			);
			const input = Buffer.concat([framed, Buffer.from(tail)]);
			try {
				const { frames, rest } = splitFrames(input);
				assert.deepEqual(
					frames.slice(0, payloads.length).map((f) => [...f]),
					payloads.slice(0, frames.length).map((p) => [...p]),
				);
				assert.ok(rest.length <= input.length);
			} catch (error) {
				if (!(error instanceof ProtocolError)) throw error;
			}
		}),
		{ seed: SEED, numRuns: 2_000 },
	);
});

test("fuzz: arbitrary record-batch bytes raise BatchError or ProtocolError, nothing else", async () => {
	await fc.assert(
		fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
			try {
				await decodeBatches(Buffer.from(bytes));
			} catch (error) {
				if (!(error instanceof BatchError) && !(error instanceof ProtocolError)) throw error;
			}
		}),
		{ seed: SEED, numRuns: 2_000 },
	);
});
