/**
 * How a request body is encoded, on every mount: a gzip or deflate `Content-Encoding` is decoded (counting the
 * decoded bytes against the body limit, so a small body that inflates past it is a 413), any other coding and a
 * `Content-Type` charset other than UTF-8 are a 415 in the mount's own error shape, and nothing is written for them.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { REQUEST_BYTES_MAX } from "../../src/shared/limits.ts";
import { basic } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, call, createTopic, fetchRecords } from "../support/worker.ts";

type Coding = "gzip" | "deflate";

/** `text` compressed as an HTTP client compresses a body for `Content-Encoding: <coding>`. */
async function encoded(text: string, coding: Coding): Promise<Uint8Array> {
	const stream = new Blob([text]).stream().pipeThrough(new CompressionStream(coding));
	return new Uint8Array(await new Response(stream).arrayBuffer());
}

const JSON_TYPE = "application/json";
const admin = basic("admin", ADMIN_TOKEN);
const V3 = "/kafka/v3/clusters/tributary";
const DS = "/ds/v1/stream";

async function errorOf(response: Response, status: number): Promise<Record<string, unknown>> {
	const text = await response.text();
	expect(response.status, text).toBe(status);
	expect(response.headers.get("Content-Type")).toContain("application/json");
	return JSON.parse(text) as Record<string, unknown>;
}

const highWatermark = async (topic: string) => (await fetchRecords(topic, 0, "offset=0")).high_watermark;

describe("/v1: content codings and charsets", () => {
	const topic = uniqueTopic("coded");
	const records = `/v1/topics/${topic}/records`;
	beforeAll(async () => {
		await createTopic(topic, 1);
	});

	it.each(["gzip", "deflate"] as const)("decodes a %s JSON produce, non-ASCII text included", async (coding) => {
		const before = await highWatermark(topic);
		const body = JSON.stringify({ records: [{ key: "k", value: { text: `café ${coding}` } }] });
		const response = await call("POST", records, {
			raw: await encoded(body, coding),
			headers: { "Content-Type": JSON_TYPE, "Content-Encoding": coding },
		});
		expect(response.status, await response.clone().text()).toBe(200);
		const fetched = await fetchRecords(topic, 0, `offset=${before}`);
		expect(fetched.records.map((r) => r.value)).toEqual([{ text: `café ${coding}` }]);
	});

	it("decodes a gzip NDJSON produce and a gzip produce stream", async () => {
		const before = await highWatermark(topic);
		const lines = '{"value":"one"}\n{"value":"two"}\n';
		const ndjson = await call("POST", records, {
			raw: await encoded(lines, "gzip"),
			headers: { "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip" },
		});
		expect(ndjson.status, await ndjson.clone().text()).toBe(200);
		const stream = await call("POST", `${records}/stream`, {
			raw: await encoded(lines, "gzip"),
			headers: { "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip" },
		});
		expect(stream.status).toBe(200);
		const reports = (await stream.text()).trim().split("\n");
		expect(reports.map((line) => Object.keys(JSON.parse(line) as object))).toEqual([["offsets"], ["offsets"]]);
		const fetched = await fetchRecords(topic, 0, `offset=${before}`);
		expect(fetched.records.map((r) => r.value)).toEqual(["one", "two", "one", "two"]);
	});

	it("refuses a body that inflates past the limit with 413, and gzip that is not gzip with 400", async () => {
		const before = await highWatermark(topic);
		const bomb = await encoded(`{"records":[{"value":"${" ".repeat(REQUEST_BYTES_MAX)}"}]}`, "gzip");
		expect(bomb.byteLength).toBeLessThan(REQUEST_BYTES_MAX / 100);
		const inflated = await call("POST", records, { raw: bomb, headers: { "Content-Type": JSON_TYPE, "Content-Encoding": "gzip" } });
		expect(await errorOf(inflated, 413)).toMatchObject({ error: { code: "request_too_large" } });
		const broken = await call("POST", records, {
			raw: '{"records":[{"value":1}]}',
			headers: { "Content-Type": JSON_TYPE, "Content-Encoding": "gzip" },
		});
		expect(await errorOf(broken, 400)).toMatchObject({ error: { code: "invalid_request", message: expect.stringContaining("gzip") } });
		expect(await highWatermark(topic)).toBe(before);
	});

	it.each<[string, Record<string, string>]>([
		["a coding it does not decode", { "Content-Type": JSON_TYPE, "Content-Encoding": "br" }],
		["two codings", { "Content-Type": JSON_TYPE, "Content-Encoding": "gzip, gzip" }],
		["a charset other than UTF-8", { "Content-Type": "application/json; charset=latin1" }],
		["NDJSON in another charset", { "Content-Type": "application/x-ndjson; charset=ISO-8859-1" }],
	])("refuses %s with 415 and writes nothing", async (_, headers) => {
		const before = await highWatermark(topic);
		const ndjson = (headers["Content-Type"] ?? "").startsWith("application/x-ndjson");
		const response = await call("POST", records, { raw: ndjson ? '{"value":1}\n' : '{"records":[{"value":1}]}', headers });
		expect(await errorOf(response, 415)).toMatchObject({ error: { code: "unsupported_media_type" } });
		const stream = await call("POST", `${records}/stream`, {
			raw: '{"value":1}\n',
			headers: { ...headers, "Content-Type": (headers["Content-Type"] ?? "").replace(JSON_TYPE, "application/x-ndjson") },
		});
		expect(await errorOf(stream, 415)).toMatchObject({ error: { code: "unsupported_media_type" } });
		expect(await highWatermark(topic)).toBe(before);
	});

	it("takes charset=utf-8 however it is written, and refuses another on a topic's body", async () => {
		for (const type of ["application/json; charset=utf-8", 'application/json;charset="UTF-8"', "application/json; charset=utf8"]) {
			const response = await call("POST", records, { raw: '{"records":[{"value":1}]}', headers: { "Content-Type": type } });
			expect(response.status, type).toBe(200);
		}
		const created = await call("POST", "/v1/topics", {
			raw: JSON.stringify({ name: uniqueTopic("latin") }),
			headers: { "Content-Type": "application/json; charset=iso-8859-1" },
		});
		expect(await errorOf(created, 415)).toMatchObject({ error: { code: "unsupported_media_type" } });
	});
});

describe("the compatibility mounts: content codings and charsets in their own dialects", () => {
	const topic = uniqueTopic("coded-compat");
	beforeAll(async () => {
		await createTopic(topic, 1);
	});

	it("/upstash decodes gzip, and answers 415 in its shape for another coding or charset", async () => {
		const before = await highWatermark(topic);
		const message = JSON.stringify({ value: "from upstash" });
		const produced = await call("POST", `/upstash/produce/${topic}`, {
			token: null,
			raw: await encoded(message, "gzip"),
			headers: { ...admin, "Content-Encoding": "gzip" },
		});
		expect(produced.status, await produced.clone().text()).toBe(200);
		const refusals: Record<string, string>[] = [{ "Content-Encoding": "br" }, { "Content-Type": "application/json; charset=latin1" }];
		for (const headers of refusals) {
			const refused = await call("POST", `/upstash/produce/${topic}`, { token: null, raw: message, headers: { ...admin, ...headers } });
			const body = await errorOf(refused, 415);
			expect(Object.keys(body).sort()).toEqual(["error", "status"]);
			expect(body.status).toBe(415);
		}
		expect((await fetchRecords(topic, 0, `offset=${before}`)).records.map((r) => r.value)).toEqual(["from upstash"]);
	});

	it("/kafka/v3 decodes gzip, and answers 415 in its shape for another coding or charset", async () => {
		const before = await highWatermark(topic);
		const record = JSON.stringify({ value: { type: "JSON", data: { from: "v3" } } });
		for (const coded of [false, true]) {
			const produced = await call("POST", `${V3}/topics/${topic}/records`, {
				raw: coded ? await encoded(record, "gzip") : record,
				headers: coded ? { "Content-Type": JSON_TYPE, "Content-Encoding": "gzip" } : { "Content-Type": JSON_TYPE },
			});
			expect(produced.status, await produced.clone().text()).toBe(200);
		}
		const refusals: Record<string, string>[] = [
			{ "Content-Type": JSON_TYPE, "Content-Encoding": "zstd" },
			{ "Content-Type": "application/json; charset=windows-1252" },
		];
		for (const headers of refusals) {
			// A chunked body too: its answer is a stream, so the refusal must come before it opens.
			for (const raw of [record, new Blob([record]).stream()]) {
				const refused = await call("POST", `${V3}/topics/${topic}/records`, { raw, headers });
				expect(await errorOf(refused, 415)).toMatchObject({ error_code: 415, error: { code: "unsupported_media_type" } });
			}
		}
		const [plain, inflated, ...more] = (await fetchRecords(topic, 0, `offset=${before}`)).records.map((r) => r.value);
		expect(more).toEqual([]);
		expect(inflated).toEqual(plain);
	});

	it("/ds decodes a gzip append, and answers 415 in its shape for another coding", async () => {
		const path = `coded/${uniqueTopic("ds")}`;
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" } })).status).toBe(201);
		const appended = await call("POST", `${DS}/${path}`, {
			raw: await encoded("inflated text", "gzip"),
			headers: { "Content-Type": "text/plain", "Content-Encoding": "gzip" },
		});
		expect(appended.status, await appended.clone().text()).toBe(204);
		const refused = await call("POST", `${DS}/${path}`, {
			raw: "plain",
			headers: { "Content-Type": "text/plain", "Content-Encoding": "br" },
		});
		expect(await errorOf(refused, 415)).toMatchObject({ error: { code: "BAD_REQUEST" } });
		expect(await (await call("GET", `${DS}/${path}?offset=-1`)).text()).toBe("inflated text");
	});
});

describe("a refused content coding says which codings are taken (RFC 9110 §15.5.16: Accept-Encoding on the 415)", () => {
	const topic = uniqueTopic("coded-accept");
	const path = `coded/${uniqueTopic("ds-accept")}`;
	beforeAll(async () => {
		await createTopic(topic, 1);
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" } })).status).toBe(201);
	});

	it.each<[string, string, string, Record<string, string>]>([
		["/v1 produce", `/v1/topics/${topic}/records`, '{"records":[{"value":1}]}', {}],
		["/v1 produce stream", `/v1/topics/${topic}/records/stream`, '{"value":1}\n', { "Content-Type": "application/x-ndjson" }],
		["/v1 topic create", "/v1/topics", `{"name":"${uniqueTopic("never")}"}`, {}],
		["/upstash", `/upstash/produce/${topic}`, '{"value":1}', { ...admin }],
		["/kafka/v3", `${V3}/topics/${topic}/records`, '{"value":{"type":"JSON","data":1}}', {}],
		["/ds", `${DS}/${path}`, "text", { "Content-Type": "text/plain" }],
	])("%s", async (mount, route, raw, headers) => {
		const before = await highWatermark(topic);
		const token = mount === "/upstash" ? { token: null } : {};
		const refused = await call("POST", route, {
			...token,
			raw,
			headers: { "Content-Type": JSON_TYPE, ...headers, "Content-Encoding": "br" },
		});
		await errorOf(refused, 415);
		expect(refused.headers.get("Accept-Encoding")).toBe("gzip, deflate");
		expect(await highWatermark(topic)).toBe(before);
	});

	it("is not sent on a 415 for a charset, which no coding would cure", async () => {
		const refused = await call("POST", `/v1/topics/${topic}/records`, {
			raw: '{"records":[{"value":1}]}',
			headers: { "Content-Type": "application/json; charset=latin1" },
		});
		await errorOf(refused, 415);
		expect(refused.headers.get("Accept-Encoding")).toBeNull();
	});
});

describe("/ds: a JSON stream's body is read as UTF-8, so another charset is a 415; a byte stream keeps its bytes", () => {
	it("refuses a JSON create or append declaring latin1, and writes nothing", async () => {
		const path = `charset/${uniqueTopic("ds-json")}`;
		const latin1 = { "Content-Type": "application/json; charset=latin1" };
		const created = await call("PUT", `${DS}/${path}`, { raw: '["caf\xe9"]', headers: latin1 });
		expect(await errorOf(created, 415)).toMatchObject({ error: { code: "BAD_REQUEST", message: expect.stringContaining("latin1") } });
		expect((await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "application/json; charset=utf-8" } })).status).toBe(201);
		const appended = await call("POST", `${DS}/${path}`, { raw: new Uint8Array([0x22, 0x63, 0xe9, 0x22]), headers: latin1 });
		expect(await errorOf(appended, 415)).toMatchObject({ error: { code: "BAD_REQUEST" } });
		expect(await (await call("GET", `${DS}/${path}?offset=-1`)).json()).toEqual([]);
	});

	it("keeps a latin1 byte stream's bytes as sent", async () => {
		const path = `charset/${uniqueTopic("ds-bytes")}`;
		const latin1 = { "Content-Type": "text/plain; charset=latin1" };
		expect((await call("PUT", `${DS}/${path}`, { headers: latin1 })).status).toBe(201);
		const appended = await call("POST", `${DS}/${path}`, { raw: new Uint8Array([0x63, 0x61, 0x66, 0xe9]), headers: latin1 });
		expect(appended.status, await appended.clone().text()).toBe(204);
		const read = await call("GET", `${DS}/${path}?offset=-1`);
		expect([...new Uint8Array(await read.arrayBuffer())]).toEqual([0x63, 0x61, 0x66, 0xe9]);
	});
});

/**
 * A gzip body that breaks partway: every line it completed before the break, then bytes that are no gzip (its
 * trailer replaced, so the check that ends the member fails), sent as a chunked body.
 */
async function brokenGzip(complete: string, after: string): Promise<ReadableStream<Uint8Array>> {
	const whole = await encoded(complete + after, "gzip");
	const head = await encoded(complete, "gzip");
	// Two chunks, as a network delivers them: the deflate data of the complete lines (no trailer yet), then a
	// trailer that does not match them and the rest.
	const chunks = [head.subarray(0, head.byteLength - 8), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, ...whole.subarray(10)])];
	return new ReadableStream({
		pull(controller) {
			const chunk = chunks.shift();
			if (chunk === undefined) controller.close();
			else controller.enqueue(chunk);
		},
	});
}

describe("a gzip produce stream whose body breaks partway ends with an error report in the stream's dialect", () => {
	const topic = uniqueTopic("coded-break");
	beforeAll(async () => {
		await createTopic(topic, 1);
	});

	it("/v1: the lines before the break are acknowledged, then one error line; nothing after it is written", async () => {
		const before = await highWatermark(topic);
		const response = await call("POST", `/v1/topics/${topic}/records/stream`, {
			raw: await brokenGzip('{"value":"one"}\n{"value":"two"}\n', '{"value":"three"}\n'),
			headers: { "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip" },
		});
		expect(response.status).toBe(200);
		const reports = (await response.text())
			.trim()
			.split("\n")
			.map((line) => JSON.parse(line) as Record<string, unknown>);
		expect(reports.slice(0, 2).map((r) => Object.keys(r))).toEqual([["offsets"], ["offsets"]]);
		expect(reports.slice(2)).toEqual([
			{ status: 400, error: expect.objectContaining({ code: "invalid_request", message: expect.stringContaining("gzip") }) },
		]);
		expect((await fetchRecords(topic, 0, `offset=${before}`)).records.map((r) => r.value)).toEqual(["one", "two"]);
	});

	it("/kafka/v3: the records before the break get delivery reports, then one v3 error line; nothing after it is written", async () => {
		const before = await highWatermark(topic);
		const record = (data: string) => JSON.stringify({ value: { type: "JSON", data } });
		const response = await call("POST", `${V3}/topics/${topic}/records`, {
			raw: await brokenGzip(`${record("one")}\n${record("two")}\n`, `${record("three")}\n`),
			headers: { "Content-Type": JSON_TYPE, "Content-Encoding": "gzip" },
		});
		expect(response.status).toBe(200);
		const reports = (await response.text())
			.trim()
			.split("\n")
			.map((line) => JSON.parse(line) as Record<string, unknown>);
		expect(reports.slice(0, 2).map((r) => r.error_code)).toEqual([200, 200]);
		expect(reports.slice(2)).toEqual([
			expect.objectContaining({
				error_code: 400,
				error: expect.objectContaining({ code: "invalid_request", message: expect.stringContaining("gzip") }),
			}),
		]);
		expect((await fetchRecords(topic, 0, `offset=${before}`)).records.map((r) => r.value)).toEqual(['"one"', '"two"']);
	});
});
