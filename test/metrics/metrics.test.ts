/**
 * `GET /metrics`: the Prometheus text format, its access rule, and figures equal to what the API shows once
 * quiet: partition offsets and sizes, group commits and lag, request counters and latency, storage rows.
 */

import { describe, expect, it } from "vitest";
import { LATENCY_BUCKETS_SECONDS } from "../../src/metrics/catalog.ts";
import { commit, type Described, join, poll } from "../support/group.ts";
import { createKey } from "../support/keys.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { call, createTopic, expectError, json, produce, topicOfThreeRecords } from "../support/worker.ts";
import { scrape, scrapeUntil } from "./exposition.ts";

interface DescribedTopic {
	partitions: { partition: number; log_start_offset: number; high_watermark: number }[];
}

describe("/metrics", () => {
	it("is refused without credentials and to keys that may not describe the cluster", async () => {
		await expectError("GET", "/metrics", 401, "unauthorized", { token: null });
		const reader = await createKey([{ resource: "topic:*", operations: ["consume"] }]);
		await expectError("GET", "/metrics", 403, "forbidden", { token: reader.secret });
		const scraper = await createKey([{ resource: "cluster", operations: ["describe"] }]);
		expect((await scrape(scraper.secret)).size).toBeGreaterThan(0);
	});

	it("shows each partition's high watermark, log start and bytes as GET /v1/topics/{topic} does", async () => {
		const topic = await topicOfThreeRecords();
		await produce(topic, [{ value: "d".repeat(500), partition: 0 }]);
		const described = await json<DescribedTopic>("GET", `/v1/topics/${topic}`, 200);
		const hw = (p: number) => `tributary_partition_high_watermark{topic="${topic}",partition="${p}"}`;
		const samples = await scrapeUntil((s) => described.partitions.every((p) => s.get(hw(p.partition)) === p.high_watermark));
		for (const p of described.partitions) {
			const labels = `{topic="${topic}",partition="${p.partition}"}`;
			expect(samples.get(`tributary_partition_high_watermark${labels}`)).toBe(p.high_watermark);
			expect(samples.get(`tributary_partition_log_start_offset${labels}`)).toBe(p.log_start_offset);
			expect(samples.get(`tributary_partition_records_appended_total${labels}`)).toBe(p.high_watermark);
			expect(samples.get(`tributary_partition_bytes${labels}`)).toBeGreaterThan(0);
			expect(samples.get(`tributary_partition_bytes_appended_total${labels}`)).toBe(samples.get(`tributary_partition_bytes${labels}`));
		}
		expect(described.partitions.map((p) => p.high_watermark)).toEqual([3, 1]);
		expect(samples.get(`tributary_partition_bytes{topic="${topic}",partition="0"}`)).toBeGreaterThan(500);
	});

	it("shows a group's members, committed offsets and lag as GET /v1/groups/{group} does", async () => {
		const topic = uniqueTopic();
		const group = uniqueGroup();
		await createTopic(topic, 2);
		await produce(topic, [
			{ value: 1, partition: 0 },
			{ value: 2, partition: 0 },
			{ value: 3, partition: 1 },
		]);
		const member = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		await poll(group, member.member_id, { max_records: 1 });
		await commit(group, member.member_id, member.generation, [{ topic, partition: 0, offset: 1 }]);
		await produce(topic, [{ value: 4, partition: 1 }]);
		const described = await json<Described>("GET", `/v1/groups/${group}`, 200);
		// Partition 1 has nothing committed: the API's lag is null there, and /metrics has no series for it.
		expect(described.offsets.map((o) => o.lag)).toEqual([1, null]);
		const lag = (p: number) => `tributary_group_lag{group="${group}",topic="${topic}",partition="${p}"}`;
		const samples = await scrapeUntil((s) => described.offsets.every((o) => (s.get(lag(o.partition)) ?? null) === o.lag));
		for (const o of described.offsets) {
			expect(samples.get(lag(o.partition)) ?? null, `lag of ${o.partition}`).toBe(o.lag);
			const committed = samples.get(`tributary_group_committed_offset{group="${group}",topic="${topic}",partition="${o.partition}"}`);
			expect(committed ?? null).toBe(o.committed);
		}
		expect(samples.get(`tributary_group_members{group="${group}"}`)).toBe(described.members.length);
	});

	it("counts requests by route and status, with a latency histogram, and SQLite rows per class", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const key = `tributary_http_requests_total{route="/v1/topics/:topic",status="404"}`;
		const before = (await scrape()).get(key) ?? 0;
		for (let i = 0; i < 3; i++) await expectError("GET", `/v1/topics/${uniqueTopic("missing")}`, 404, "topic_not_found");
		const samples = await scrapeUntil((s) => s.get(key) === before + 3);
		expect(samples.get(key)).toBe(before + 3);
		const count = samples.get(`tributary_http_request_duration_seconds_count{route="/v1/topics/:topic"}`) ?? 0;
		expect(samples.get(`tributary_http_request_duration_seconds_bucket{route="/v1/topics/:topic",le="+Inf"}`)).toBe(count);
		expect(count).toBeGreaterThanOrEqual(3);
		expect(samples.get(`tributary_storage_rows_written_total{class="PartitionLog"}`)).toBeGreaterThan(0);
		expect(samples.get(`tributary_storage_rows_read_total{class="PartitionLog"}`)).toBeGreaterThan(0);
		expect(samples.get(`tributary_storage_bytes{class="PartitionLog"}`)).toBeGreaterThan(0);
	});

	it("counts each status of a route apart and keeps its latency buckets cumulative, in le order, up to +Inf", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const route = "/v1/topics/:topic";
		const ok = `tributary_http_requests_total{route="${route}",status="200"}`;
		const missing = `tributary_http_requests_total{route="${route}",status="404"}`;
		const before = await scrape();
		for (let i = 0; i < 2; i++) await json("GET", `/v1/topics/${topic}`, 200);
		await expectError("GET", `/v1/topics/${uniqueTopic("missing")}`, 404, "topic_not_found");
		const samples = await scrapeUntil((s) => s.get(ok) === (before.get(ok) ?? 0) + 2 && s.get(missing) === (before.get(missing) ?? 0) + 1);
		expect(samples.get(ok)).toBe((before.get(ok) ?? 0) + 2);
		expect(samples.get(missing)).toBe((before.get(missing) ?? 0) + 1);
		const bucket = (le: string) => samples.get(`tributary_http_request_duration_seconds_bucket{route="${route}",le="${le}"}`);
		const bounds = [...LATENCY_BUCKETS_SECONDS.map(String), "+Inf"];
		const counts = bounds.map((le) => bucket(le));
		expect(
			counts.every((n) => n !== undefined),
			"every bucket is present",
		).toBe(true);
		counts.forEach((n, i) => {
			if (i > 0) expect(n, `le=${bounds[i]}`).toBeGreaterThanOrEqual(counts[i - 1] as number);
		});
		const count = samples.get(`tributary_http_request_duration_seconds_count{route="${route}"}`);
		expect(counts.at(-1)).toBe(count);
		expect(count).toBe(
			[...samples].filter(([k]) => k.startsWith(`tributary_http_requests_total{route="${route}",`)).reduce((n, [, v]) => n + v, 0),
		);
		expect(samples.get(`tributary_http_request_duration_seconds_sum{route="${route}"}`)).toBeGreaterThanOrEqual(0);
	});

	it("answers other methods with 405", async () => {
		expect((await call("POST", "/metrics")).status).toBe(405);
	});
});
