/**
 * Tiered storage's pure decisions: local retention (Kafka's -2 = as `retention.*`), when an offload is due, what
 * the next segment takes, and which remote segments retention drops.
 */
import { describe, expect, it } from "vitest";
import {
	offloadDueMs,
	planRemoteRetention,
	planSegment,
	type RemoteSegment,
	remoteRetentionDueMs,
} from "../../src/partition/tiering/tiering-plan.ts";
import { DEFAULT_TOPIC_CONFIG, localRetention, type TopicConfig } from "../../src/shared/topic-config.ts";

const config = (changes: Partial<TopicConfig>): TopicConfig => ({ ...DEFAULT_TOPIC_CONFIG, "remote.storage.enable": true, ...changes });
const NOW = 1_000_000;
const batch = (baseOffset: number, bytes: number, maxTimestamp = NOW) => ({
	baseOffset,
	lastOffset: baseOffset,
	maxTimestamp,
	bytes,
	recordCount: 1,
});
const limits = { bytesTarget: 250, batchesMax: 3 };

describe("localRetention", () => {
	it("is retention.* for -2 and without remote storage, local.retention.* otherwise", () => {
		expect(localRetention(config({ "retention.ms": 500, "retention.bytes": 7 }))).toEqual({ ms: 500, bytes: 7 });
		expect(localRetention(config({ "local.retention.ms": 100, "local.retention.bytes": -1 }))).toEqual({ ms: 100, bytes: -1 });
		const off = config({ "remote.storage.enable": false, "local.retention.ms": 100, "retention.ms": 500 });
		expect(localRetention(off).ms).toBe(500);
	});
});

describe("offloadDueMs", () => {
	it("is now while the local bytes without the head stay at the limit, else when the head passes local.retention.ms", () => {
		expect(offloadDueMs(batch(0, 100), 2, 300, config({ "local.retention.bytes": 200 }), NOW)).toBe(NOW);
		expect(offloadDueMs(batch(0, 100), 2, 299, config({ "local.retention.bytes": 200, "local.retention.ms": 60 }), NOW)).toBe(NOW + 60);
		expect(offloadDueMs(batch(0, 100), 2, 299, config({ "local.retention.bytes": 200, "retention.ms": -1 }), NOW)).toBeNull();
	});

	it("is never without remote storage or with a single local batch", () => {
		const due = config({ "local.retention.bytes": 1 });
		expect(offloadDueMs(batch(0, 100), 1, 100, due, NOW)).toBeNull();
		expect(offloadDueMs(batch(0, 100), 2, 200, { ...due, "remote.storage.enable": false }, NOW)).toBeNull();
		expect(offloadDueMs(null, 0, 0, due, NOW)).toBeNull();
	});
});

describe("planSegment", () => {
	it("takes nothing unless the head is due, then whole batches up to the byte target and batch count", () => {
		const head = [batch(0, 100), batch(1, 100), batch(2, 100), batch(3, 100)];
		expect(planSegment(head, 400, config({ "local.retention.bytes": 400 }), NOW, limits)).toBe(0);
		expect(planSegment(head, 400, config({ "local.retention.bytes": 300 }), NOW, limits)).toBe(2);
		expect(planSegment(head, 400, config({ "local.retention.bytes": 1 }), NOW, { bytesTarget: 10_000, batchesMax: 3 })).toBe(3);
		// One batch over the target still makes a segment.
		expect(planSegment([batch(0, 1_000)], 2_000, config({ "local.retention.bytes": 1 }), NOW, limits)).toBe(1);
		const old = [batch(0, 100, NOW - 120), batch(1, 100, NOW)];
		expect(planSegment(old, 200, config({ "local.retention.ms": 60 }), NOW, limits)).toBe(2);
		expect(planSegment(old, 200, config({ "local.retention.ms": 600 }), NOW, limits)).toBe(0);
	});
});

describe("planRemoteRetention", () => {
	const segment = (baseOffset: number, bytes: number, timestampHigh: number): RemoteSegment => ({
		baseOffset,
		lastOffset: baseOffset + 9,
		timestampHigh,
		bytes,
		recordCount: 10,
		objectKey: `k${baseOffset}`,
	});
	const segments = [segment(0, 100, NOW - 500), segment(10, 100, NOW - 100), segment(20, 100, NOW)];

	it("drops whole segments by time when their newest record is out of retention.ms", () => {
		expect(planRemoteRetention(segments, 1_000, config({ "retention.ms": 200 }), NOW)).toBe(1);
		expect(planRemoteRetention(segments, 1_000, config({ "retention.ms": 50 }), NOW)).toBe(2);
	});

	it("drops by size while local and remote bytes without the segment stay at retention.bytes", () => {
		const keep = (bytes: number) => config({ "retention.ms": -1, "retention.bytes": bytes });
		expect(planRemoteRetention(segments, 350, keep(250), NOW)).toBe(1);
		expect(planRemoteRetention(segments, 350, keep(251), NOW)).toBe(0);
		expect(planRemoteRetention(segments, 350, keep(150), NOW)).toBe(2);
		expect(planRemoteRetention(segments, 350, keep(-1), NOW)).toBe(0);
	});

	it("drops segments wholly below the log start", () => {
		const keepAll = config({ "retention.ms": -1, "retention.bytes": -1 });
		expect(planRemoteRetention(segments, 350, keepAll, NOW, 19)).toBe(1);
		expect(planRemoteRetention(segments, 350, keepAll, NOW, 20)).toBe(2);
		expect(remoteRetentionDueMs(segments[0] as RemoteSegment, 350, keepAll, NOW, 10)).toBe(NOW);
		expect(remoteRetentionDueMs(segments[0] as RemoteSegment, 350, keepAll, NOW, 9)).toBeNull();
	});
});
