/**
 * Bad input gets a clear 4xx JSON error and writes nothing: after every request in the table the partition's
 * high watermark is unchanged.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { PRODUCE_RECORDS_MAX, RECORD_HEADERS_MAX, REQUEST_BYTES_MAX } from "../../src/shared/limits.ts";
import { basic } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, call, createTopic, fetchRecords, produce } from "../support/worker.ts";

const topic = uniqueTopic("bad");
const records = `/v1/topics/${topic}/records`;
const partition0 = `/v1/topics/${topic}/partitions/0`;

interface Case {
	readonly name: string;
	readonly method: string;
	readonly path: string;
	readonly raw?: BodyInit;
	readonly contentType?: string;
	readonly headers?: Record<string, string>;
	readonly status: number;
	readonly code: string;
}

const json = (value: unknown) => JSON.stringify(value);
const produceCase = (name: string, body: unknown, status = 400, code = "invalid_request"): Case => ({
	name,
	method: "POST",
	path: records,
	raw: typeof body === "string" ? body : json(body),
	contentType: "application/json",
	status,
	code,
});

const cases: Case[] = [
	produceCase("malformed JSON", '{"records":[', 400, "invalid_json"),
	produceCase("empty body", "", 400, "invalid_json"),
	produceCase("a JSON array instead of an object", [{ value: 1 }]),
	produceCase("records not an array", { records: { value: 1 } }),
	produceCase("no records", { records: [] }),
	produceCase("a record without value", { records: [{ key: "k" }] }),
	produceCase("a record that is not an object", { records: ["v"] }),
	produceCase("an unknown record field", { records: [{ value: 1, valeu: 2 }] }),
	produceCase("an unknown top-level field", { records: [{ value: 1 }], extra: true }),
	produceCase("a negative partition", { records: [{ value: 1, partition: -1 }] }),
	produceCase("a fractional partition", { records: [{ value: 1, partition: 0.5 }] }),
	produceCase("a string partition", { records: [{ value: 1, partition: "0" }] }),
	produceCase("a huge partition", { records: [{ value: 1, partition: 1e300 }] }),
	produceCase("a partition beyond the topic", { records: [{ value: 1 }, { value: 2, partition: 5 }] }, 404, "partition_not_found"),
	produceCase("a negative timestamp", { records: [{ value: 1, timestamp: -5 }] }),
	produceCase("a fractional timestamp", { records: [{ value: 1, timestamp: 1.5 }] }),
	produceCase("a string timestamp", { records: [{ value: 1, timestamp: "now" }] }),
	produceCase("a timestamp past year 275760", { records: [{ value: 1, timestamp: 8.7e15 }] }),
	produceCase("headers not a list", { records: [{ value: 1, headers: { a: "b" } }] }),
	produceCase("a header value that is a number", { records: [{ value: 1, headers: [{ key: "a", value: 1 }] }] }),
	produceCase("too many headers", {
		records: [{ value: 1, headers: Array.from({ length: RECORD_HEADERS_MAX + 1 }, () => ({ key: "h", value: "v" })) }],
	}),
	produceCase("an unknown encoding", { records: [{ value: "AA==", value_encoding: "hex" }] }),
	produceCase("base64 that is not base64", { records: [{ value: "@@@", value_encoding: "base64" }] }),
	produceCase("too many records", { records: Array.from({ length: PRODUCE_RECORDS_MAX + 1 }, () => ({ value: 1 })) }),
	produceCase("one bad record among good ones", { records: [{ value: 1 }, { value: 2 }, { value: 3, partition: -1 }] }),
	{
		name: "an unsupported media type",
		method: "POST",
		path: records,
		raw: "value=1",
		contentType: "application/x-www-form-urlencoded",
		status: 415,
		code: "unsupported_media_type",
	},
	{
		name: "NDJSON with a bad line",
		method: "POST",
		path: records,
		raw: '{"value":1}\n{"value":2,"partition":-1}',
		contentType: "application/x-ndjson",
		status: 400,
		code: "invalid_request",
	},
	{
		name: "NDJSON with no records",
		method: "POST",
		path: records,
		raw: "\n\n",
		contentType: "application/x-ndjson",
		status: 400,
		code: "invalid_request",
	},
	{
		name: "a declared body over the limit",
		method: "POST",
		path: records,
		raw: "{}",
		contentType: "application/json",
		headers: { "Content-Length": String(REQUEST_BYTES_MAX + 1) },
		status: 413,
		code: "request_too_large",
	},
	{ name: "a negative fetch offset", method: "GET", path: `${partition0}/records?offset=-1`, status: 400, code: "invalid_request" },
	{ name: "a NaN fetch offset", method: "GET", path: `${partition0}/records?offset=NaN`, status: 400, code: "invalid_request" },
	{ name: "a fractional fetch offset", method: "GET", path: `${partition0}/records?offset=1.5`, status: 400, code: "invalid_request" },
	{
		name: "a huge fetch offset",
		method: "GET",
		path: `${partition0}/records?offset=99999999999999999999999`,
		status: 400,
		code: "invalid_request",
	},
	{ name: "an offset in exponent form", method: "GET", path: `${partition0}/records?offset=1e3`, status: 400, code: "invalid_request" },
	{ name: "max_records of zero", method: "GET", path: `${partition0}/records?max_records=0`, status: 400, code: "invalid_request" },
	{ name: "negative wait_ms", method: "GET", path: `${partition0}/records?wait_ms=-1`, status: 400, code: "invalid_request" },
	{
		name: "an offset beyond the high watermark",
		method: "GET",
		path: `${partition0}/records?offset=4`,
		status: 416,
		code: "offset_out_of_range",
	},
	{
		name: "a non-numeric partition",
		method: "GET",
		path: `/v1/topics/${topic}/partitions/x/records`,
		status: 400,
		code: "invalid_request",
	},
	{
		name: "a negative partition in the path",
		method: "GET",
		path: `/v1/topics/${topic}/partitions/-1/records`,
		status: 400,
		code: "invalid_request",
	},
	{
		name: "a path-traversal topic",
		method: "GET",
		path: "/v1/topics/..%2F..%2Fetc/partitions/0/records",
		status: 400,
		code: "invalid_request",
	},
	{
		name: "an illegal topic name",
		method: "POST",
		path: "/v1/topics/bad%20name/records",
		raw: json({ records: [{ value: 1 }] }),
		contentType: "application/json",
		status: 400,
		code: "invalid_request",
	},
	{
		name: "an unknown topic",
		method: "POST",
		path: "/v1/topics/never-created/records",
		raw: json({ records: [{ value: 1 }] }),
		contentType: "application/json",
		status: 404,
		code: "topic_not_found",
	},
	{ name: "a bad offsets query", method: "GET", path: `${partition0}/offsets?at=-5`, status: 400, code: "invalid_request" },
];

/** A chunked body that repeats `chunk` until it is two chunks past `REQUEST_BYTES_MAX`. */
function overLimitStream(chunk: Uint8Array): ReadableStream<Uint8Array> {
	let sent = 0;
	return new ReadableStream<Uint8Array>({
		pull(controller) {
			if (sent > REQUEST_BYTES_MAX + 2 * chunk.byteLength) return controller.close();
			sent += chunk.byteLength;
			controller.enqueue(chunk);
		},
	});
}

describe("bad input", () => {
	beforeAll(async () => {
		await createTopic(topic, 2);
		await produce(topic, [
			{ value: "a", partition: 0 },
			{ value: "b", partition: 0 },
			{ value: "c", partition: 0 },
			{ value: "d", partition: 1 },
		]);
	});

	it.each(cases)("$name → $status $code, nothing written", async (c) => {
		const headers: Record<string, string> = { ...c.headers };
		if (c.contentType !== undefined) headers["Content-Type"] = c.contentType;
		const response = await call(c.method, c.path, { raw: c.raw, headers });
		const text = await response.text();
		expect(response.status, text).toBe(c.status);
		expect(response.headers.get("Content-Type")).toContain("application/json");
		const body = JSON.parse(text) as { error: { code: string; message: string } };
		expect(body.error.code).toBe(c.code);
		expect(body.error.message.length).toBeGreaterThan(0);
		expect(text).not.toMatch(/at .*\.ts:\d+/); // no stack traces on the wire
		expect((await fetchRecords(topic, 0, "offset=0")).high_watermark).toBe(3);
		expect((await fetchRecords(topic, 1, "offset=0")).high_watermark).toBe(1);
	});

	it("refuses a streamed (chunked) body over the limit without reading it all", async () => {
		const chunk = new TextEncoder().encode(" ".repeat(1024 * 1024));
		const stream = overLimitStream(chunk);
		const response = await call("POST", records, { raw: stream, headers: { "Content-Type": "application/json" } });
		expect(response.status).toBe(413);
		expect(((await response.json()) as { error: { code: string } }).error.code).toBe("request_too_large");
		expect((await fetchRecords(topic, 0, "offset=0")).high_watermark).toBe(3);
	});

	it("refuses a record over max.message.bytes with 413 and writes none of the batch", async () => {
		const small = uniqueTopic("small");
		await createTopic(small, 1, { "max.message.bytes": 200 });
		const response = await call("POST", `/v1/topics/${small}/records`, {
			body: { records: [{ value: "ok" }, { value: "x".repeat(300) }] },
		});
		expect(response.status).toBe(413);
		const body = (await response.json()) as { error: Record<string, unknown> };
		expect(body.error).toMatchObject({ code: "record_too_large", index: 1, max_message_bytes: 200 });
		expect((await fetchRecords(small, 0, "offset=0")).high_watermark).toBe(0);
	});
});

describe("lone surrogates in keys and headers", () => {
	// They have no UTF-8 form: Kafka's partitioner hashes a key's UTF-8 and a Kafka client reads keys and headers
	// as bytes, so each would see U+FFFD where the JSON API answers the surrogate.
	it.each([
		["a key", '{"key":"k\\ud800","value":1}'],
		["a header key", '{"value":1,"headers":[{"key":"h\\udc00","value":"v"}]}'],
		["a header value", '{"value":1,"headers":[{"key":"h","value":"v\\ud800"}]}'],
	])("%s is refused with 400 naming the record, on /v1 (JSON and NDJSON) and /upstash", async (_, record) => {
		const lone = uniqueTopic("lone");
		await createTopic(lone, 1);
		const json = await call("POST", `/v1/topics/${lone}/records`, {
			raw: `{"records":[{"value":0},${record}]}`,
			headers: { "Content-Type": "application/json" },
		});
		const ndjson = await call("POST", `/v1/topics/${lone}/records`, {
			raw: `{"value":0}\n${record}\n`,
			headers: { "Content-Type": "application/x-ndjson" },
		});
		for (const response of [json, ndjson]) {
			const text = await response.text();
			expect(response.status, text).toBe(400);
			expect(JSON.parse(text)).toMatchObject({ error: { code: "invalid_record", index: 1 } });
		}
		const upstash = await call("POST", `/upstash/produce/${lone}`, {
			token: null,
			raw: `[{"value":"0"},${record.replace('"value":1', '"value":"1"')}]`,
			headers: basic("admin", ADMIN_TOKEN),
		});
		expect(upstash.status, await upstash.clone().text()).toBe(400);
		expect(((await upstash.json()) as { error: string }).error).toMatch(/^records\[1\]/);
		expect((await fetchRecords(lone, 0)).high_watermark).toBe(0);
	});
});

describe("inbound webhooks: bounded binary bodies", () => {
	it("refuses a streamed binary body over the limit (no Content-Length) with 413", async () => {
		const inbound = uniqueTopic("inbound");
		await createTopic(inbound);
		const chunk = new Uint8Array(1024 * 1024).fill(7);
		const stream = overLimitStream(chunk);
		const response = await call("POST", `/v1/topics/${inbound}/webhook`, {
			raw: stream,
			headers: { "Content-Type": "application/octet-stream" },
		});
		expect(response.status).toBe(413);
		expect((await fetchRecords(inbound, 0)).high_watermark).toBe(0);
	});
});
