import { describe, expect, it } from "vitest";
import { murmur2, partitionForKey, toPositive, utf8 } from "../../src/shared/partitioner";

function fromHex(hex: string): Uint8Array {
	const out = new Uint8Array(hex.length / 2);
	for (let i = 0; i < out.length; i++) {
		out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
	}
	return out;
}

describe("murmur2", () => {
	// apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
	// Strings there go through String.getBytes(); all are ASCII so UTF-8 gives the same bytes.
	const kafkaUtilsTest: [string, Uint8Array, number][] = [
		["21", utf8("21"), -973932308],
		["foobar", utf8("foobar"), -790332482],
		["a-little-bit-long-string", utf8("a-little-bit-long-string"), -985981536],
		["a-little-bit-longer-string", utf8("a-little-bit-longer-string"), -1486304829],
		["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", utf8("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971],
		["new byte[] {'a', 'b', 'c'}", new Uint8Array([0x61, 0x62, 0x63]), 479470107],
	];

	it.each(kafkaUtilsTest)("matches Kafka UtilsTest.testMurmur2 for %s", (_label, bytes, expected) => {
		expect(murmur2(bytes)).toBe(expected);
	});

	// confluentinc/librdkafka src/rdmurmur2.c, unittest_murmur2 ("java_murmur2_results").
	// The C test compares (int32_t)h, so the hex constants are read as int32 via `| 0`.
	// Lengths 0..4 and 35..38 exercise every branch of the tail switch.
	const librdkafkaUnitTest: [string, number][] = [
		["kafka", 0xd067cf64],
		["giberish123456789", 0x8f552b0c],
		["1234", 0x9fc97b14],
		["234", 0xe7c009ca],
		["34", 0x873930da],
		["4", 0x5a4b5ca1],
		["PreAmbleWillBeRemoved,ThePrePartThatIs", 0x78424f1c],
		["reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62b377],
		["eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4e09e],
		["AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8b43f],
		["", 0x106e08d9],
	];

	it.each(librdkafkaUnitTest)("matches librdkafka's Java-derived vector for %j", (key, expected) => {
		expect(murmur2(utf8(key))).toBe(expected | 0);
	});

	// Upstream vectors are all ASCII, so they never set the sign bit of a byte. These were produced
	// by running Kafka's Utils.murmur2 source verbatim under a JDK (javac/java), not copied from a
	// test file; they pin the unsigned-byte handling (Java's `& 0xff`) in both body and tail.
	const jdkHighBytes: [string, number][] = [
		["ff", -311467685],
		["ffff", -1642832928],
		["ffffff", 1548199422],
		["ffffffff", 644171429],
		["8081feffa4", 1294622384],
		["68c3a96c6c6f2077c3b6726c64", 439213890], // "héllo wörld" as UTF-8
		["e697a5e69cace8aa9ee382ade383bc", 1445825182], // "日本語キー" as UTF-8
		["f09f9a80", 761778625], // "🚀" as UTF-8
	];

	it.each(jdkHighBytes)("matches the JDK for high bytes %s", (hex, expected) => {
		expect(murmur2(fromHex(hex))).toBe(expected);
	});

	it("matches the JDK for 1000 bytes of 0x81", () => {
		expect(murmur2(new Uint8Array(1000).fill(0x81))).toBe(-525506620);
	});

	it("returns a signed 32-bit integer, as Java's int", () => {
		const h = murmur2(utf8("21"));
		expect(Number.isInteger(h)).toBe(true);
		expect(h).toBeLessThan(0);
		expect(h | 0).toBe(h);
	});

	it("hashes only the viewed bytes of a subarray", () => {
		// The same "21" preceded and followed by junk in one buffer: byteOffset must be honoured.
		const backing = new Uint8Array([0xde, 0xad, 0xbe, 0x32, 0x31, 0xef]);
		expect(murmur2(backing.subarray(3, 5))).toBe(-973932308);
	});
});

describe("toPositive", () => {
	it("masks off the sign bit rather than negating", () => {
		expect(toPositive(-1)).toBe(0x7fffffff);
		expect(toPositive(-2147483648)).toBe(0);
		expect(toPositive(-973932308)).toBe(1173551340);
		expect(toPositive(-58897971)).toBe(2088585677);
	});

	it("leaves non-negative int32 values unchanged", () => {
		expect(toPositive(0)).toBe(0);
		expect(toPositive(479470107)).toBe(479470107);
		expect(toPositive(0x7fffffff)).toBe(0x7fffffff);
	});
});

describe("partitionForKey", () => {
	// dpkp/kafka-python test/test_partitioner.py, test_murmur2_java_compatibility:
	// "compare with output from Kafka's org.apache.kafka.clients.producer.Partitioner", 1000 partitions.
	const kafkaPython: [string, Uint8Array, number][] = [
		["b''", new Uint8Array([]), 681],
		["b'a'", utf8("a"), 524],
		["b'ab'", utf8("ab"), 434],
		["b'abc'", utf8("abc"), 107],
		["b'123456789'", utf8("123456789"), 566],
		["b'\\x00 '", new Uint8Array([0x00, 0x20]), 742],
	];

	it.each(kafkaPython)("matches the Java partitioner over 1000 partitions for %s", (_label, key, expected) => {
		expect(partitionForKey(key, 1000)).toBe(expected);
	});

	// confluentinc/librdkafka tests/0048-partitioner.c, do_test_partitioners, "murmur2" row
	// (hashes obtained "using tests/java/Murmur2Cli"); the test runs with 7 or 17 partitions.
	const librdkafkaPartitioner: [string, number][] = [
		["", 0x106e08d9],
		["23456", 0x058d780f], // `unaligned + 1` where unaligned = "123456"
		["this is another string with more length to it perhaps", 0x4f7703da],
		["hejsan", 0x5ec19395],
	];

	it.each(librdkafkaPartitioner)("matches librdkafka's murmur2 partitioner for %j", (key, hash) => {
		expect(partitionForKey(utf8(key), 7)).toBe(hash % 7);
		expect(partitionForKey(utf8(key), 17)).toBe(hash % 17);
	});

	it("gives the partitions shown in its @example", () => {
		expect(partitionForKey(utf8("foobar"), 12)).toBe(6);
		expect(partitionForKey(utf8("21"), 12)).toBe(0);
	});

	it("always returns an integer in [0, partitionCount)", () => {
		for (const partitionCount of [1, 2, 3, 7, 12, 64, 1000, 2147483647]) {
			for (let i = 0; i < 500; i++) {
				const p = partitionForKey(utf8(`key-${i}`), partitionCount);
				expect(Number.isInteger(p)).toBe(true);
				expect(p).toBeGreaterThanOrEqual(0);
				expect(p).toBeLessThan(partitionCount);
			}
		}
	});

	it("is deterministic for equal keys, including separate buffers", () => {
		for (let i = 0; i < 200; i++) {
			const key = `order-${i * 7919}`;
			const first = partitionForKey(utf8(key), 24);
			expect(partitionForKey(utf8(key), 24)).toBe(first);
			expect(partitionForKey(Uint8Array.from(utf8(key)), 24)).toBe(first);
		}
	});

	it("spreads keys over every partition", () => {
		const seen = new Set<number>();
		for (let i = 0; i < 1000; i++) {
			seen.add(partitionForKey(utf8(`user-${i}`), 16));
		}
		expect(seen.size).toBe(16);
	});

	it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("throws for partitionCount %s", (partitionCount) => {
		expect(() => partitionForKey(utf8("k"), partitionCount)).toThrow(Error);
	});
});

describe("utf8", () => {
	it("encodes like Java's getBytes(UTF_8) for well-formed text", () => {
		// Bytes printed by the JDK for "héllo wörld".getBytes(StandardCharsets.UTF_8).
		expect(utf8("héllo wörld")).toEqual(fromHex("68c3a96c6c6f2077c3b6726c64"));
		expect(utf8("")).toEqual(new Uint8Array([]));
	});
});
