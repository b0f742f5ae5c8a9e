/**
 * Confluent REST v3 under /kafka/v3, driven through the Worker's fetch handler. Request and response
 * fixtures follow Confluent's published API reference: the "Records (v3)" section of the Confluent Cloud API
 * (docs.confluent.io/cloud/current/api.html#tag/Records-(v3), examples `binary_and_json`, `string`,
 * `empty_value`, `produce_record_success`; error examples `unknown_topic_or_partition` 40403,
 * `produce_record_bad_binary_data` 400, `produce_records_expects_json` 413 and 415,
 * `kafka_authentication_failed` 40101, `kafka_authorization_failed` 40301, `cluster_not_found` 404) and
 * confluentinc/kafka-rest `api/v3/openapi.yaml` (ClusterDataList, TopicDataList) and
 * `ProduceBatchAction`/`ProduceBatchRequestEntry` (records:batch, 207, entry ids).
 */

import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../../src/http/app.ts";
import { RECORD_TEXT_LENGTH_MAX } from "../../src/http/compat/confluent/limits.ts";
import { counterEntries } from "../../src/http/middleware/observe.ts";
import { series } from "../../src/metrics/catalog.ts";
import { partitionForKey, utf8 } from "../../src/shared/partitioner.ts";
import { keyAuthority } from "../../src/shared/stubs.ts";
import { batch, chunked, expectV3Error, JSON_TYPE, type Report, records, reportsOf, V3 } from "../support/confluent.ts";
import { basic, createKey, failKeyStatement } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { appendsNeedConfig, configureBreaksOnce } from "../support/needs-config.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { ADMIN_TOKEN, BASE, call, createTopic, fetchRecords, highWatermarks, json, produce } from "../support/worker.ts";

describe("discovery", () => {
	const topic = uniqueTopic("v3-discover");
	beforeAll(async () => {
		await createTopic(topic, 3);
	});

	it("lists the one cluster as a KafkaClusterList", async () => {
		const list = await json<{ kind: string; metadata: { self: string }; data: Record<string, unknown>[] }>(
			"GET",
			"/kafka/v3/clusters",
			200,
		);
		expect(list.kind).toBe("KafkaClusterList");
		expect(list.metadata.self).toBe("http://tributary.test/kafka/v3/clusters");
		expect(list.data).toHaveLength(1);
		expect(list.data[0]).toMatchObject({
			kind: "KafkaCluster",
			cluster_id: "tributary",
			metadata: { self: `http://tributary.test${V3}`, resource_name: "crn:///kafka=tributary" },
			topics: { related: `http://tributary.test${V3}/topics` },
		});
		expect(await json("GET", V3, 200)).toEqual(list.data[0]);
	});

	it("lists topics as KafkaTopicList and describes one as KafkaTopic", async () => {
		const list = await json<{ kind: string; data: { topic_name: string }[] }>("GET", `${V3}/topics`, 200);
		expect(list.kind).toBe("KafkaTopicList");
		const described = await json("GET", `${V3}/topics/${topic}`, 200);
		expect(described).toMatchObject({
			kind: "KafkaTopic",
			cluster_id: "tributary",
			topic_name: topic,
			is_internal: false,
			partitions_count: 3,
			metadata: { self: `http://tributary.test${V3}/topics/${topic}`, resource_name: `crn:///kafka=tributary/topic=${topic}` },
		});
		expect(list.data.find((t) => t.topic_name === topic)).toEqual(described);
	});

	it("answers another cluster id, an unknown topic and an unknown path with v3 404s", async () => {
		// cluster_not_found: {"error_code":404,"message":"Cluster my-cluster cannot be found."}
		const cluster = await expectV3Error(await call("GET", "/kafka/v3/clusters/my-cluster/topics"), 404, 404, "not_found");
		expect(cluster.message).toBe("Cluster my-cluster cannot be found.");
		await expectV3Error(await call("GET", `${V3}/topics/${topic}-absent`), 404, 40403, "topic_not_found");
		await expectV3Error(await call("GET", `${V3}/schemas`), 404, 404, "not_found");
		await expectV3Error(await call("GET", "/kafka/v3/nothing/here"), 404, 404, "not_found");
		await expectV3Error(await call("PUT", `${V3}/topics/${topic}`, { body: {} }), 405, 405, "method_not_allowed");
	});
});

describe("produce one record", () => {
	const topic = uniqueTopic("v3-produce");
	beforeAll(async () => {
		// The published example is timestamped 2021: kept forever, or retention would remove it at once.
		await createTopic(topic, 2, { "retention.ms": -1 });
	});

	it("produces the published binary_and_json example and answers produce_record_success's shape", async () => {
		const request = {
			partition_id: 1,
			headers: [
				{ name: "Header-1", value: "SGVhZGVyLTE=" },
				{ name: "Header-2", value: "SGVhZGVyLTI=" },
			],
			key: { type: "BINARY", data: "Zm9vYmFy" },
			value: { type: "JSON", data: { foo: "bar" } },
			timestamp: "2021-02-05T19:14:42Z",
		};
		const report = await json<Report>("POST", records(topic), 200, { body: request });
		// The published example's sizes are illustrative (7 and 15); these are the serialized bytes.
		expect(report).toEqual({
			error_code: 200,
			cluster_id: "tributary",
			topic_name: topic,
			partition_id: 1,
			offset: 0,
			timestamp: "2021-02-05T19:14:42.000Z",
			key: { type: "BINARY", size: 6 },
			value: { type: "JSON", size: 13 },
		});
		const fetched = await fetchRecords(topic, 1, "offset=0");
		expect(fetched.records).toEqual([
			{
				partition: 1,
				offset: 0,
				timestamp: Date.parse("2021-02-05T19:14:42Z"),
				key: "Zm9vYmFy",
				key_encoding: "base64",
				value: { foo: "bar" },
				headers: [
					{ key: "Header-1", value: "Header-1" },
					{ key: "Header-2", value: "Header-2" },
				],
			},
		]);
	});

	it("produces the string and empty_value examples; offsets are dense", async () => {
		const first = await json<Report>("POST", records(topic), 200, {
			body: { partition_id: 0, value: { type: "STRING", data: "My message" } },
		});
		expect(first).toMatchObject({ partition_id: 0, offset: 0, key: null, value: { type: "STRING", size: 10 } });
		const second = await json<Report>("POST", records(topic), 200, { body: { partition_id: 0, key: { data: 1000 } } });
		expect(second).toMatchObject({ partition_id: 0, offset: 1, key: { type: "JSON", size: 4 }, value: null });
		expect(Date.now() - Date.parse(second.timestamp ?? "")).toBeLessThan(60_000);
		const fetched = await fetchRecords(topic, 0, "offset=0");
		expect(fetched.records.map((r) => [r.offset, r.key, r.value])).toEqual([
			[0, null, "My message"],
			[1, 1000, null],
		]);
	});

	it("partitions by Kafka's murmur2 of the serialized key, as /v1 and the Java client do", async () => {
		const many = uniqueTopic("v3-keys");
		await createTopic(many, 8);
		for (const key of ["order-42", "order-43", "customer-7", "x"]) {
			const v3 = await json<Report>("POST", records(many), 200, {
				body: { key: { type: "STRING", data: key }, value: { type: "JSON", data: 1 } },
			});
			const v1 = await produce(many, [{ key, value: 1 }]);
			expect(v3.partition_id).toBe(v1.offsets[0]?.partition);
			expect(v3.partition_id).toBe(partitionForKey(utf8(key), 8));
			// A JSON-typed string key is serialized with its quotes, so it hashes as such.
			const quoted = await json<Report>("POST", records(many), 200, { body: { key: { type: "JSON", data: key } } });
			expect(quoted.partition_id).toBe(partitionForKey(utf8(JSON.stringify(key)), 8));
			// Stored as the bytes it hashed: the JSON text, which a Kafka reader gets, and /v1 sees as that string.
			const stored = await fetchRecords(many, quoted.partition_id ?? -1, `offset=${quoted.offset}&max_records=1`);
			expect(stored.records[0]?.key).toBe(JSON.stringify(key));
		}
	});

	it("answers the published error cases with their status and error_code, writing nothing", async () => {
		const before = (await fetchRecords(topic, 0, "offset=0")).high_watermark;
		// unknown_topic_or_partition
		await expectV3Error(
			await call("POST", records(`${topic}-absent`), { body: { value: { type: "STRING", data: "x" } } }),
			404,
			40403,
			"topic_not_found",
		);
		await expectV3Error(
			await call("POST", records(topic), { body: { partition_id: 7, value: { type: "STRING", data: "x" } } }),
			404,
			40403,
			"partition_not_found",
		);
		// produce_record_bad_binary_data
		await expectV3Error(await call("POST", records(topic), { body: { value: { type: "BINARY", data: 1 } } }), 400, 400, "invalid_request");
		// header_not_base64_encoded
		await expectV3Error(
			await call("POST", records(topic), { body: { headers: [{ name: "h", value: "not base64" }], value: { data: 1 } } }),
			400,
			400,
			"invalid_request",
		);
		await expectV3Error(await call("POST", records(topic), { body: { value: { type: "AVRO", data: 1 } } }), 400, 400, "invalid_request");
		await expectV3Error(
			await call("POST", records(topic), { body: { value: { data: 1 }, timestamp: 1612552482000 } }),
			400,
			400,
			"invalid_request",
		);
		await expectV3Error(
			await call("POST", records(topic), { body: { value: { data: 1 }, timestamp: "2021-02-30T00:00:00Z" } }),
			400,
			400,
			"invalid_request",
		);
		await expectV3Error(await call("POST", records(topic), { raw: '{"value":', headers: JSON_TYPE }), 400, 400, "invalid_json");
		await expectV3Error(await call("POST", records(topic), { raw: "", headers: JSON_TYPE }), 400, 400, "invalid_request");
		// produce_records_expects_json
		await expectV3Error(
			await call("POST", records(topic), { raw: "x", headers: { "Content-Type": "text/plain" } }),
			415,
			415,
			"unsupported_media_type",
		);
		expect((await fetchRecords(topic, 0, "offset=0")).high_watermark).toBe(before);
	});

	it("answers a record over max.message.bytes, and a body over the request limit, with 413", async () => {
		const small = uniqueTopic("v3-small");
		await createTopic(small, 1, { "max.message.bytes": 1024 });
		const big = { value: { type: "STRING", data: "x".repeat(2000) } };
		await expectV3Error(await call("POST", records(small), { body: big }), 413, 413, "record_too_large");
		const huge = `{"value":{"type":"STRING","data":"${"y".repeat(9 * 1024 * 1024)}"}}`;
		await expectV3Error(await call("POST", records(small), { raw: huge, headers: JSON_TYPE }), 413, 413, "request_too_large");
		expect((await fetchRecords(small, 0, "offset=0")).high_watermark).toBe(0);
	});

	it("answers several concatenated records in a plain body with one report each, in order", async () => {
		const several = uniqueTopic("v3-several");
		await createTopic(several, 1);
		const body = `{"value":{"data":1}}{"value":{"type":"BINARY","data":"%%"}}\n{"value":{"data":2}}`;
		const reports = await reportsOf(await call("POST", records(several), { raw: body, headers: JSON_TYPE }));
		expect(reports.map((r) => [r.error_code, r.offset])).toEqual([
			[200, 0],
			[400, undefined],
			[200, 1],
		]);
	});
});

describe("streaming produce (chunked body of concatenated records)", () => {
	it("answers many records with one report each, in order, malformed ones in place, and stores exactly the good ones", async () => {
		const topic = uniqueTopic("v3-stream");
		await createTopic(topic, 1);
		const COUNT = 3_000;
		// In place of three records: bad base64, malformed JSON (still brace-balanced), and an unknown field.
		const bad = new Map<number, string>([
			[17, '{"value":{"type":"BINARY","data":"not base64!"}}'],
			[1_000, '{"value":{"type":"JSON","data":}}'],
			[2_500, '{"value":{"type":"JSON","data":1},"extra":true}'],
		]);
		const texts = Array.from({ length: COUNT }, (_, i) => bad.get(i) ?? JSON.stringify({ value: { type: "JSON", data: { n: i } } }));
		const body = texts.join(" ");
		// Chunks that cut records anywhere, including inside strings and between braces.
		const chunks: string[] = [];
		for (let at = 0, size = 1; at < body.length; at += size, size = (size * 7 + 13) % 4_001) chunks.push(body.slice(at, at + size));
		const response = await call("POST", records(topic), { raw: chunked(chunks), headers: JSON_TYPE });
		const reports = await reportsOf(response);
		expect(reports).toHaveLength(COUNT);
		let offset = 0;
		reports.forEach((report, i) => {
			if (bad.has(i)) {
				expect(report.error_code, `record ${i}`).toBe(400);
				expect(report.error?.code).toMatch(/^invalid_/);
				return;
			}
			expect(report, `record ${i}`).toMatchObject({ error_code: 200, topic_name: topic, partition_id: 0, offset });
			offset++;
		});
		const stored: unknown[] = [];
		for (let from = 0; ; ) {
			const page = await fetchRecords(topic, 0, `offset=${from}&max_records=10000`);
			stored.push(...page.records.map((r) => r.value));
			if (page.records.length === 0 || page.next_offset >= page.high_watermark) break;
			from = page.next_offset;
		}
		expect(stored).toEqual(texts.flatMap((_, i) => (bad.has(i) ? [] : [{ n: i }])));
	}, 60_000);

	it("reports a record cut off by the end of the stream, and keeps the records before it", async () => {
		const topic = uniqueTopic("v3-cut");
		await createTopic(topic, 1);
		const reports = await reportsOf(
			await call("POST", records(topic), { raw: chunked(['{"value":{"data":1}} {"val', 'ue":{"data"']), headers: JSON_TYPE }),
		);
		expect(reports.map((r) => r.error_code)).toEqual([200, 400]);
		expect((await fetchRecords(topic, 0, "offset=0")).records.map((r) => r.value)).toEqual([1]);
	});

	it("answers a record too long to buffer with a 413 report in place, and goes on", async () => {
		const topic = uniqueTopic("v3-long");
		await createTopic(topic, 1);
		const long = `{"value":{"type":"STRING","data":"${"z".repeat(RECORD_TEXT_LENGTH_MAX)}"}}`;
		const chunks = ['{"value":{"data":1}}', ...(long.match(/.{1,65536}/gs) ?? []), '{"value":{"data":2}}'];
		const reports = await reportsOf(await call("POST", records(topic), { raw: chunked(chunks), headers: JSON_TYPE }));
		expect(reports.map((r) => [r.error_code, r.error?.code ?? null, r.offset ?? null])).toEqual([
			[200, null, 0],
			[413, "record_too_large", null],
			[200, null, 1],
		]);
	});

	it("stops a key's stream once the key is deleted: a 401 report, and nothing after it is written", async () => {
		const topic = uniqueTopic("v3-revoked");
		await createTopic(topic, 1);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }]);
		const encoder = new TextEncoder();
		let send: ReadableStreamDefaultController<Uint8Array> | undefined;
		const body = new ReadableStream<Uint8Array>({
			start(controller) {
				send = controller;
				controller.enqueue(encoder.encode('{"value":{"type":"STRING","data":"before"}}'));
			},
		});
		const response = await call("POST", records(topic), { raw: body, headers: JSON_TYPE, token: key.secret });
		expect(response.status).toBe(200);
		const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
		expect(JSON.parse((await reader.read()).value ?? "")).toMatchObject({ error_code: 200, offset: 0 });
		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		send?.enqueue(encoder.encode('{"value":{"type":"STRING","data":"after"}}'));
		send?.close();
		let rest = "";
		for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += chunk.value;
		const reports = rest
			.trim()
			.split("\n")
			.map((line) => JSON.parse(line) as Report);
		expect(reports.map((r) => r.error_code)).toEqual([40101]);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.value)).toEqual(["before"]);
	}, 20_000);

	it("answers each record while the stream is still open: a report comes back before the next record is sent", async () => {
		const topic = uniqueTopic("v3-live");
		await createTopic(topic, 1);
		const encoder = new TextEncoder();
		let send: ReadableStreamDefaultController<Uint8Array> | undefined;
		const body = new ReadableStream<Uint8Array>({
			start(controller) {
				send = controller;
				controller.enqueue(encoder.encode('{"value":{"type":"STRING","data":"first"}}'));
			},
		});
		const response = await call("POST", records(topic), { raw: body, headers: JSON_TYPE });
		expect(response.status).toBe(200);
		const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
		const first = await reader.read();
		expect(JSON.parse(first.value ?? "")).toMatchObject({ error_code: 200, offset: 0 });
		// A bad record in a stream is a report, not the connection's status.
		send?.enqueue(encoder.encode('{"value":{"type":"BINARY","data":"?"}} {"value":{"type":"STRING","data":"second"}}'));
		send?.close();
		let rest = "";
		for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += chunk.value;
		expect(
			rest
				.trim()
				.split("\n")
				.map((line) => (JSON.parse(line) as Report).error_code),
		).toEqual([400, 200]);
	}, 20_000);

	it("answers an unknown topic with 404 before reading the stream", async () => {
		const response = await call("POST", records(uniqueTopic("v3-nowhere")), { raw: chunked(['{"value":{"data":1}}']), headers: JSON_TYPE });
		await expectV3Error(response, 404, 40403, "topic_not_found");
	});
});

describe("records:batch", () => {
	afterEach(() => vi.restoreAllMocks());

	it("answers 207 with each entry a success or a failure on its own, by id", async () => {
		const topic = uniqueTopic("v3-batch");
		await createTopic(topic, 2);
		const entries = [
			{ id: "1", partition_id: 0, value: { type: "STRING", data: "one" } },
			{ id: "2", partition_id: 0, value: { type: "BINARY", data: 1 } },
			{ id: "3", partition_id: 1, key: { type: "STRING", data: "k" }, value: { type: "JSON", data: [3] } },
			{ id: "4", partition_id: 9, value: { type: "STRING", data: "nowhere" } },
			{ id: "5", partition_id: 0, value: { type: "STRING", data: "five" } },
		];
		const response = await json<{ successes: (Report & { id: string })[]; failures: (Report & { id: string })[] }>(
			"POST",
			batch(topic),
			207,
			{
				body: { entries },
			},
		);
		expect(response.successes.map((s) => [s.id, s.partition_id, s.offset, s.error_code])).toEqual([
			["1", 0, 0, 200],
			["3", 1, 0, 200],
			["5", 0, 1, 200],
		]);
		expect(response.successes[1]).toMatchObject({
			cluster_id: "tributary",
			topic_name: topic,
			key: { type: "STRING", size: 1 },
			value: { type: "JSON", size: 3 },
		});
		expect(response.failures.map((f) => [f.id, f.error_code, f.error?.code])).toEqual([
			["2", 400, "invalid_request"],
			["4", 40403, "partition_not_found"],
		]);
		expect((await fetchRecords(topic, 0, "offset=0")).records.map((r) => r.value)).toEqual(["one", "five"]);
		expect((await fetchRecords(topic, 1, "offset=0")).records.map((r) => [r.key, r.value])).toEqual([["k", [3]]]);
	});

	it("answers 207 when one partition's share meets its bug: the other entry a success, this one a 500 failure naming the request", async () => {
		const topic = uniqueTopic("v3-batch-bug");
		await createTopic(topic, 2);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await configureBreaksOnce(topic, 0);
		const restore = appendsNeedConfig(0, 1);
		type Failure = Report & { id: string; error?: { request_id?: string } };
		let answer: Response;
		try {
			const entries = [
				{ id: "1", partition_id: 0, value: { type: "STRING", data: "a" } },
				{ id: "2", partition_id: 1, value: { type: "STRING", data: "b" } },
			];
			answer = await call("POST", batch(topic), { body: { entries } });
		} finally {
			restore();
		}
		const response = (await answer.json()) as { successes: (Report & { id: string })[]; failures: Failure[] };
		expect(answer.status).toBe(207);
		expect(response.successes.map((s) => [s.id, s.partition_id, s.offset])).toEqual([["2", 1, 0]]);
		// `error.request_id`, as a whole 500 under /kafka/v3 has it: the bug's log line can be found.
		const requestId = answer.headers.get("X-Request-Id");
		expect(response.failures.map((f) => [f.id, f.error_code, f.error?.code, f.error?.request_id])).toEqual([
			["1", 500, "internal", requestId],
		]);
		expect(await highWatermarks(topic)).toEqual([0, 1]);
	});

	it("refuses the whole batch for missing, malformed or repeated ids, an empty batch, or an unknown topic", async () => {
		const topic = uniqueTopic("v3-batch-bad");
		await createTopic(topic, 1);
		const value = { type: "STRING", data: "v" };
		for (const entries of [
			[{ value }],
			[{ id: "a b", value }],
			[{ id: 1, value }],
			[{ id: "x".repeat(81), value }],
			[
				{ id: "a", value },
				{ id: "a", value },
			],
			[],
		]) {
			await expectV3Error(await call("POST", batch(topic), { body: { entries } }), 400, 400, "invalid_request");
		}
		await expectV3Error(
			await call("POST", batch(`${topic}-absent`), { body: { entries: [{ id: "a", value }] } }),
			404,
			40403,
			"topic_not_found",
		);
		expect((await fetchRecords(topic, 0, "offset=0")).high_watermark).toBe(0);
	});
});

describe("credentials and rights", () => {
	const topic = uniqueTopic("v3-acl");
	beforeAll(async () => {
		await createTopic(topic, 1);
	});

	it("answers missing or wrong credentials with 401 error_code 40101, on every path", async () => {
		for (const path of ["/kafka/v3/clusters", records(topic), batch(topic), "/kafka/v3/nothing"]) {
			await expectV3Error(await call("POST", path, { token: null, body: {} }), 401, 40101, "unauthorized");
		}
		await expectV3Error(await call("GET", V3, { token: "trb_00000000000000000000_AAAA" }), 401, 40101, "unauthorized");
	});

	it("lets a key produce with Basic auth (Confluent's API key and secret) only where its ACL allows", async () => {
		const producer = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }]);
		const reader = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }]);
		const nobody = await createKey([]);
		const body = { value: { type: "STRING", data: "from a key" } };
		const ok = await json<Report>("POST", records(topic), 200, { token: null, headers: basic(producer.id, producer.secret), body });
		expect(ok.error_code).toBe(200);
		// kafka_authorization_failed
		await expectV3Error(
			await call("POST", records(topic), { token: null, headers: basic(reader.id, reader.secret), body }),
			403,
			40301,
			"forbidden",
		);
		await expectV3Error(
			await call("POST", batch(topic), { token: reader.secret, body: { entries: [{ id: "a", ...body }] } }),
			403,
			40301,
			"forbidden",
		);
		// Discovery: a key with some right sees the cluster and only its topics; a key with none sees nothing.
		expect((await json("GET", "/kafka/v3/clusters", 200, { token: reader.secret })).kind).toBe("KafkaClusterList");
		const topics = await json<{ data: { topic_name: string }[] }>("GET", `${V3}/topics`, 200, { token: reader.secret });
		expect(topics.data.map((t) => t.topic_name)).toEqual([topic]);
		await expectV3Error(await call("GET", "/kafka/v3/clusters", { token: nobody.secret }), 403, 40301, "forbidden");
		await expectV3Error(await call("POST", records("_audit"), { body }), 403, 40301, "forbidden");
		expect((await fetchRecords(topic, 0, "offset=0")).records.map((r) => r.value)).toEqual(["from a key"]);
	});

	it("refuses a stream from a key with a produce quota (it must declare Content-Length) with 411 in v3's shape", async () => {
		const limited = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { produce_bytes_per_sec: 1_000_000 });
		const response = await call("POST", records(topic), {
			token: limited.secret,
			raw: chunked(['{"value":{"data":1}}']),
			headers: JSON_TYPE,
		});
		await expectV3Error(response, 411, 411, "length_required");
		const plain = await json<Report>("POST", records(topic), 200, { token: limited.secret, body: { value: { data: 2 } } });
		expect(plain.error_code).toBe(200);
	});
});

describe("unknown faults", () => {
	// A route under the mount that fails the way a bug would (this file only: isolates are per file).
	app.get("/kafka/v3/__test/bug", () => {
		throw new TypeError("secret internal detail at /src/http/compat/confluent/routes.ts:1");
	});

	it("answers 500 in v3's shape, with the request id and no detail", async () => {
		const response = await app.request("/kafka/v3/__test/bug", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }, { ADMIN_TOKEN });
		const text = await response.text();
		expect(response.status).toBe(500);
		expect(text).not.toContain("secret");
		const body = JSON.parse(text) as Report & { error: { request_id: string } };
		expect(body).toMatchObject({ error_code: 500, message: "internal error", error: { code: "internal", retriable: false } });
		expect(body.error.request_id).toBe(response.headers.get("X-Request-Id"));
	});
});

/** Requests of v3's produce route counted under `status` so far. */
function producesCounted(status: number): number {
	const route = series("tributary_http_requests_total", {
		route: "/kafka/v3/clusters/:cluster_id/topics/:topic_name/records",
		status: String(status),
	});
	return counterEntries()[route] ?? 0;
}

describe("a chunked produce whose key re-check fails at the key's authority", () => {
	afterEach(() => vi.restoreAllMocks());

	it("reports 50003 service_unavailable naming the request's id, as a 503 answered before the stream does, logged and counted as a 503", async () => {
		const topic = uniqueTopic("v3-keyfail");
		await createTopic(topic, 1);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }]);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
		const before = producesCounted(503);
		// The first read is authentication's; the second, the stream's re-check before its first window.
		await failKeyStatement(keyAuthority(env, key.id), "SELECT * FROM api_keys WHERE id", 2);
		const response = await call("POST", records(topic), {
			raw: chunked(['{"value":{"type":"STRING","data":"a"}}']),
			headers: JSON_TYPE,
			token: key.secret,
		});
		expect(response.status).toBe(200);
		const reports = await reportsOf(response);
		const last = reports.at(-1) as { error_code?: number; error?: { code?: string; request_id?: unknown } };
		expect([reports.length, last.error_code, last.error?.code]).toEqual([1, 50003, "service_unavailable"]);
		expect(typeof last.error?.request_id, "the report names the request's id").toBe("string");
		// Its failure after the 200: the request's line again, with its id and 503, and a 503 more for the route.
		const lines = log.mock.calls
			.map(([line]) => (typeof line === "string" && line.startsWith("{") ? JSON.parse(line) : null))
			.filter((line) => line?.msg === "request" && line.request_id === last.error?.request_id);
		expect(lines.map((line) => line.status)).toEqual([503]);
		expect(producesCounted(503) - before).toBe(1);
	});
});

describe("a chunked produce whose client leaves mid-body", () => {
	afterEach(() => vi.restoreAllMocks());

	it("is no failure of the server's: its body's failed read is neither logged nor counted, and the records it sent stay written", async () => {
		const topic = uniqueTopic("v3-left");
		await createTopic(topic, 1);
		const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
		vi.spyOn(console, "warn").mockImplementation(() => undefined);
		const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
		const before = [producesCounted(500), producesCounted(503)];
		// The stream's end is the route's writer closed or aborted, after its last word (if any) was logged and counted.
		const ended = [vi.spyOn(WritableStreamDefaultWriter.prototype, "close"), vi.spyOn(WritableStreamDefaultWriter.prototype, "abort")];
		const client = new AbortController();
		const body = new ReadableStream<Uint8Array>({
			start: (controller) => controller.enqueue(new TextEncoder().encode('{"value":{"type":"STRING","data":"a"}}')),
		});
		// Through the runtime's own boundary (as the /v1 NDJSON stream's test): workerd fails the body's read once it left.
		const response = await exports.default.fetch(
			new Request(`${BASE}${records(topic)}`, {
				method: "POST",
				headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...JSON_TYPE },
				body,
				signal: client.signal,
				duplex: "half",
			} as RequestInit),
		);
		const reader = (response.body as ReadableStream<Uint8Array>).getReader();
		expect(JSON.parse(new TextDecoder().decode((await reader.read()).value)).offset).toBe(0);
		client.abort();
		await vi.waitFor(() => expect(ended.some((spy) => spy.mock.calls.length > 0)).toBe(true), UNTIL_SEEN);
		const lines = log.mock.calls.filter(([line]) => typeof line === "string" && line.includes('"status":5'));
		expect(lines, "no request line again with a 5xx").toEqual([]);
		expect([producesCounted(500), producesCounted(503)]).toEqual(before);
		expect(errors).not.toHaveBeenCalled();
		expect((await fetchRecords(topic, 0, "?offset=0")).records.map((r) => r.value)).toEqual(["a"]);
	});
});
