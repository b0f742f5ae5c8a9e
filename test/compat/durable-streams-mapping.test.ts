/**
 * Stream paths to topic names and back (stream-names.ts), the protocol's offsets and cursors (protocol.ts), and
 * the write rules (stream-rules.ts): pure functions, with property tests where a rule is "for every input".
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodyRecord, payloads, readBodyUtf8 } from "../../src/http/compat/durable-streams/codec.ts";
import {
	formatOffset,
	nextCursor,
	parseOffset,
	parseProducer,
	parseTtl,
	readOffset,
} from "../../src/http/compat/durable-streams/protocol.ts";
import { DS_EXPIRY_GRACE_MS, TOPIC_NAME_LENGTH_MAX } from "../../src/shared/limits.ts";
import { encodeLine, RECORD_SEPARATOR } from "../../src/shared/record-codec.ts";
import { checkStreamPath, streamPathOf, streamTopic } from "../../src/shared/stream-names.ts";
import { checkProducer, isExpired, newStreamMeta, type StreamSettings, sameSettings } from "../../src/shared/stream-rules.ts";

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

describe("stream paths to topic names", () => {
	it("keeps letters, digits and dashes, and escapes every other byte as _XX", () => {
		expect(streamTopic("chat/room-1")).toBe("ds.chat_2Froom-1");
		expect(streamTopic("a.b_c")).toBe("ds.a_2Eb_5Fc");
		expect(streamTopic("é")).toBe("ds._C3_A9");
	});

	it("maps every path into the topic-name charset, one to one, and back", () => {
		fc.assert(
			fc.property(fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }), fc.string({ minLength: 1, maxLength: 40 }), (a, b) => {
				const topic = streamTopic(a);
				expect(topic).toMatch(TOPIC_NAME);
				expect(topic.startsWith("ds.")).toBe(true);
				expect(streamPathOf(topic)).toBe(a);
				if (a !== b) expect(streamTopic(b)).not.toBe(topic);
			}),
		);
	});

	it("refuses topics outside the namespace or that are no encoding", () => {
		expect(streamPathOf("orders")).toBeNull();
		expect(streamPathOf("ds.a_2")).toBeNull();
		expect(streamPathOf("ds.a_2f")).toBeNull(); // lower-case hex is not the encoding
		expect(streamPathOf("ds.a.b")).toBeNull(); // a raw dot is never written
	});

	it("refuses empty paths and paths whose topic name would be too long", () => {
		expect(checkStreamPath("")).toMatch(/empty/);
		expect(checkStreamPath("x".repeat(TOPIC_NAME_LENGTH_MAX - 3))).toBeNull();
		expect(checkStreamPath("x".repeat(TOPIC_NAME_LENGTH_MAX - 2))).toMatch(/too long/);
	});
});

describe("offsets and cursors", () => {
	it("formats offsets that sort as strings in record order, and parses them back", () => {
		fc.assert(
			fc.property(fc.nat(), fc.nat(), (a, b) => {
				expect(parseOffset(formatOffset(a))).toBe(a);
				expect(formatOffset(a) < formatOffset(b)).toBe(a < b);
			}),
		);
	});

	it("reads ?offset=: -1 and absent are the start, now the tail, anything else of ours; repeats and junk refused", () => {
		expect(readOffset(undefined)).toEqual({ ok: true, value: null });
		expect(readOffset("-1")).toEqual({ ok: true, value: null });
		expect(readOffset("now")).toEqual({ ok: true, value: "now" });
		expect(readOffset(formatOffset(7))).toEqual({ ok: true, value: 7 });
		for (const bad of ["", "1,2", "1 2", "abc", "-2"]) expect(readOffset(bad).ok, bad).toBe(false);
	});

	it("accepts TTLs as plain decimals only", () => {
		expect(parseTtl("3600")).toBe(3600);
		expect(parseTtl("0")).toBe(0);
		for (const bad of ["01", "+1", "1.5", "1e3", "-1", " 1", "abc"]) expect(parseTtl(bad), bad).toBeNull();
	});

	it("takes producer headers all together, with digit-only epoch and sequence", () => {
		const headers = (h: Record<string, string>) => new Headers(h);
		expect(parseProducer(headers({}))).toEqual({ ok: true, value: null });
		expect(parseProducer(headers({ "Producer-Id": "p", "Producer-Epoch": "2", "Producer-Seq": "0" }))).toEqual({
			ok: true,
			value: { producerId: "p", epoch: 2, seq: 0 },
		});
		expect(parseProducer(headers({ "Producer-Id": "p", "Producer-Epoch": "2" })).ok).toBe(false);
		expect(parseProducer(headers({ "Producer-Id": "", "Producer-Epoch": "0", "Producer-Seq": "0" })).ok).toBe(false);
		expect(parseProducer(headers({ "Producer-Id": "p", "Producer-Epoch": "1e3", "Producer-Seq": "0" })).ok).toBe(false);
	});

	it("answers the current cursor interval, and a strictly later one to a client already holding it", () => {
		const nowMs = Date.UTC(2026, 0, 1);
		const current = Number(nextCursor(undefined, nowMs));
		expect(Number(nextCursor(String(current - 5), nowMs))).toBe(current);
		fc.assert(
			fc.property(fc.double({ min: 0, max: 0.999, noNaN: true }), (r) => Number(nextCursor(String(current), nowMs, () => r)) > current),
		);
	});
});

describe("stream write rules", () => {
	const settings: StreamSettings = {
		contentType: "application/json",
		ttlSeconds: null,
		expiresAt: null,
		closed: false,
		forkedFrom: null,
		forkOffset: null,
		forkSubOffset: 0,
	};

	it("treats a repeated create as the same when only the content type's case or parameters differ", () => {
		const meta = newStreamMeta(settings, 0);
		expect(sameSettings(meta, { ...settings, contentType: "APPLICATION/JSON; charset=utf-8" })).toBe(true);
		expect(sameSettings(meta, { ...settings, contentType: "text/plain" })).toBe(false);
		expect(sameSettings(meta, { ...settings, ttlSeconds: 60 })).toBe(false);
		expect(sameSettings(meta, { ...settings, closed: true })).toBe(false);
	});

	it("judges producers as Kafka does: new epochs start at 0, old epochs are fenced, gaps refused, repeats duplicates", () => {
		expect(checkProducer(null, 0, 0, 1)).toEqual({ kind: "accepted", next: { epoch: 0, lastSeq: 0, updatedAtMs: 1 } });
		expect(checkProducer(null, 0, 3, 1)).toEqual({ kind: "sequence_gap", expectedSeq: 0, receivedSeq: 3 });
		const state = { epoch: 2, lastSeq: 5, updatedAtMs: 0 };
		expect(checkProducer(state, 1, 6, 1)).toEqual({ kind: "stale_epoch", currentEpoch: 2 });
		expect(checkProducer(state, 3, 1, 1)).toEqual({ kind: "invalid_epoch_seq" });
		expect(checkProducer(state, 3, 0, 1).kind).toBe("accepted");
		expect(checkProducer(state, 2, 5, 1)).toEqual({ kind: "duplicate", lastSeq: 5 });
		expect(checkProducer(state, 2, 6, 1).kind).toBe("accepted");
		expect(checkProducer(state, 2, 8, 1)).toEqual({ kind: "sequence_gap", expectedSeq: 6, receivedSeq: 8 });
	});

	it("expires a stream no earlier than its TTL since the last access (or its Expires-At), within the grace", () => {
		const ttl = newStreamMeta({ ...settings, ttlSeconds: 2 }, 1_000);
		expect(isExpired(ttl, 3_000)).toBe(false);
		expect(isExpired(ttl, 3_000 + DS_EXPIRY_GRACE_MS)).toBe(true);
		expect(isExpired({ ...ttl, lastAccessMs: 2_500 }, 3_000 + DS_EXPIRY_GRACE_MS)).toBe(false);
		const at = newStreamMeta({ ...settings, expiresAt: new Date(10_000).toISOString() }, 0);
		expect(isExpired(at, 10_000)).toBe(false);
		expect(isExpired(at, 10_000 + DS_EXPIRY_GRACE_MS)).toBe(true);
		expect(isExpired(newStreamMeta(settings, 0), Number.MAX_SAFE_INTEGER - DS_EXPIRY_GRACE_MS)).toBe(false);
	});
});

describe("a stream's read body", () => {
	const encoder = new TextEncoder();
	/** The body of a read whose records are `text`, answered as one part to scan (as a read from R2 is). */
	const bodyOf = (text: string, json: boolean) => readBodyUtf8(text === "" ? [] : [encoder.encode(text)], undefined, json);
	/** A stored line as an append writes it: its messages as one array (record() in codec.ts). */
	const appended = (offset: number, messages: unknown[]) => {
		const record = bodyRecord("application/json", new TextEncoder().encode(JSON.stringify(messages)), true);
		if (!record.ok || record.value === null) throw new Error("an append of messages makes a record");
		return encodeLine(0, offset, 1_700_000_000_000, record.value.tail);
	};
	/** Lines a /v1 produce may have left in the same topic: keys, headers, encodings, non-array and spaced values. */
	const produced = fc.oneof(
		fc.jsonValue().map((value) => `"key":"k","value":${JSON.stringify(value)},"headers":[]}`),
		fc.jsonValue().map((value) => `"key":null,"value":${JSON.stringify(value)},"headers":[{"key":"h","value":"v"}]}`),
		fc.jsonValue().map((value) => `"key":null,"value":${JSON.stringify(value)},"headers":[]}`),
		fc.constantFrom(
			'"key":null,"value":[ ],"headers":[]}',
			'"key":null,"value":[ 1 , [2] , "]," ],"headers":[]}',
			'"key":null,"value":null,"headers":[]}',
			'"key":null,"value":"aGk=","headers":[],"value_encoding":"base64"}',
			'"key":null,"value":12345678901234567890,"headers":[]}',
		),
	);
	const line = fc.oneof(
		fc.array(fc.jsonValue(), { minLength: 1, maxLength: 4 }).map((messages) => ({ appended: messages })),
		produced.map((tail) => ({ tail })),
	);

	it("holds the messages the parsed lines hold, in order, whatever the lines", () => {
		fc.assert(
			fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
				const text = lines
					.map((l, offset) => ("tail" in l ? encodeLine(0, offset, 1_700_000_000_000, l.tail) : appended(offset, l.appended)))
					.join(RECORD_SEPARATOR);
				const decoder = new TextDecoder();
				const fast = JSON.parse(decoder.decode(bodyOf(text, true)));
				// What the parsed lines hold, through JSON as a body carries it.
				const parsed = JSON.parse(JSON.stringify(payloads(text, true).flatMap((p) => p.messages)));
				expect(fast).toEqual(parsed);
			}),
			{ numRuns: 300 },
		);
	});

	it("reads the same body from the records cut into parts, with their ends or scanned, as from one part", () => {
		fc.assert(
			fc.property(
				fc.array(line, { maxLength: 8 }),
				fc.array(fc.nat(), { maxLength: 3 }),
				fc.boolean(),
				fc.boolean(),
				(lines, cuts, withEnds, json) => {
					const texts = lines.map((l, offset) =>
						"tail" in l ? encodeLine(0, offset, 1_700_000_000_000, l.tail) : appended(offset, l.appended),
					);
					// The records cut into parts at record boundaries, as a read spanning stored batches answers them.
					const bounds = [...new Set(cuts.map((n) => n % (texts.length + 1)))].sort((a, b) => a - b);
					const groups = [0, ...bounds, texts.length]
						.slice(1)
						.map((to, i, all) => texts.slice(i === 0 ? 0 : (all[i - 1] as number), to))
						.filter((g) => g.length > 0);
					const parts = groups.map((g) => encoder.encode(g.join(RECORD_SEPARATOR)));
					const ends = groups.map((g) => {
						let at = 0;
						return Uint32Array.from(g, (t, k) => {
							at += (k > 0 ? RECORD_SEPARATOR.length : 0) + encoder.encode(t).byteLength;
							return at;
						});
					});
					const whole = texts.join(RECORD_SEPARATOR);
					const body = readBodyUtf8(parts, withEnds ? ends : undefined, json);
					expect(body).toEqual(bodyOf(whole, json));
					// A byte stream's body: each record's bytes, one after another.
					if (!json) expect([...body]).toEqual(payloads(whole, false).flatMap((p) => [...p.bytes]));
				},
			),
			{ numRuns: 300 },
		);
	});

	it("takes an appended line's messages as their text: a big number keeps its digits", () => {
		const line = encodeLine(0, 0, 1, '"key":null,"value":[12345678901234567890,{"a":[]}],"headers":[]}');
		expect(new TextDecoder().decode(bodyOf(line, true))).toBe('[12345678901234567890,{"a":[]}]');
		expect(new TextDecoder().decode(bodyOf("", true))).toBe("[]");
	});
});
