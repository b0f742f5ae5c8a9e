/**
 * Query parameters and stored names, on every mount: an enumeration's unknown value, a parameter given twice
 * (which one was meant cannot be known) and a name that cannot round-trip as UTF-8 text or holds a control
 * character are each a JSON 400 in the mount's own dialect that names the parameter or field, and write nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { basic } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, call, createTopic, fetchRecords, json } from "../support/worker.ts";

const topic = uniqueTopic("query");
const admin = basic("admin", ADMIN_TOKEN);

/** The error's text, whatever the mount's dialect: /v1 and /ds `{error:{message}}`, Upstash `{error}`, Confluent `{message}`. */
async function refusal(response: Response): Promise<string> {
	const text = await response.text();
	expect(response.status, text).toBe(400);
	expect(response.headers.get("Content-Type") ?? "").toContain("application/json");
	const body = JSON.parse(text) as { error?: string | { message: string }; message?: string };
	return typeof body.error === "string" ? body.error : (body.error?.message ?? body.message ?? "");
}

describe("query parameters", () => {
	beforeAll(async () => {
		await createTopic(topic, 1);
		await json("POST", `/v1/topics/${topic}/records`, 200, { body: { records: [{ value: "a" }] } });
		expect((await call("PUT", "/ds/v1/stream/live-values")).status).toBe(201);
	});

	it("refuses an unknown reports= on the NDJSON produce stream, naming the parameter and its values, and writes nothing", async () => {
		const response = await call("POST", `/v1/topics/${topic}/records/stream?reports=bogus`, {
			raw: '{"value":1}\n',
			headers: { "Content-Type": "application/x-ndjson" },
		});
		expect(await refusal(response)).toBe('reports: must be "message"');
		expect((await fetchRecords(topic, 0, "offset=0")).high_watermark).toBe(1);
	});

	it.each([
		["/v1 fetch", "GET", `/v1/topics/${topic}/partitions/0/records?offset=0&offset=1`, "offset"],
		["/v1 listing", "GET", "/v1/topics?limit=1&limit=2", "limit"],
		["/v1 NDJSON stream", "POST", `/v1/topics/${topic}/records/stream?reports=message&reports=message`, "reports"],
		["/upstash consume", "GET", `/upstash/consume/g/i/${topic}?timeout=0&timeout=5`, "timeout"],
		["/upstash webhook", "POST", `/upstash/webhook?topic=${topic}&topic=${topic}`, "topic"],
		["/kafka/v3 ACL filter", "GET", "/kafka/v3/clusters/tributary/acls?resource_type=TOPIC&resource_type=GROUP", "resource_type"],
		["/ds read", "GET", "/ds/v1/stream/live-values?offset=-1&live=long-poll&live=sse", "live"],
	])("%s: a parameter given twice is a 400 naming it", async (_mount, method, path, name) => {
		const headers = path.startsWith("/upstash") ? admin : {};
		const response = await call(method, path, {
			headers: { ...headers, "Content-Type": "application/x-ndjson" },
			raw: method === "POST" ? '{"value":1}\n' : undefined,
			token: path.startsWith("/upstash") ? null : undefined,
		});
		expect(await refusal(response)).toContain(name);
		expect((await fetchRecords(topic, 0, "offset=0")).high_watermark).toBe(1);
	});

	it.each([
		["/v1 fetch", `/v1/topics/${topic}/partitions/0/records?max_records=99999999999999999`, "max_records"],
		["/upstash consume", `/upstash/consume/g/i/${topic}?timeout=99999999999999999`, "timeout"],
	])(
		"%s: a number of more digits than a parameter takes says so, not that it is not a non-negative integer",
		async (_mount, path, name) => {
			const upstash = path.startsWith("/upstash");
			const message = await refusal(await call("GET", path, { headers: upstash ? admin : {}, token: upstash ? null : undefined }));
			expect(message).toBe(`${name}: must be a non-negative integer of at most 16 digits`);
		},
	);

	it("/ds: an unknown live= is a 400 naming the values, not a plain read", async () => {
		const message = await refusal(await call("GET", "/ds/v1/stream/live-values?offset=-1&live=bogus"));
		expect(message).toContain("live");
		expect(message).toContain("long-poll");
	});
});

describe("names that are stored or echoed", () => {
	it.each([
		["an API key's name with a lone surrogate", "/v1/keys", { name: "orders\ud800", acl: [] }, "name"],
		["a transactional_id with NUL", "/v1/producers", { transactional_id: "tx\u0000a" }, "transactional_id"],
		["a transactional_id with a lone surrogate", "/v1/producers", { transactional_id: "tx\udc00" }, "transactional_id"],
		["a topic_pattern with a lone surrogate", "/v1/groups/names-g/members", { topic_pattern: "a\ud800.*" }, "topic_pattern"],
		[
			"commit metadata with a lone surrogate",
			"/v1/groups/names-g/offsets",
			{ offsets: [{ topic, partition: 0, offset: 0, metadata: "m\ud800" }] },
			"offsets[0].metadata",
		],
		["a webhook URL with a lone surrogate", `/v1/topics/${topic}/subscriptions`, { url: "https://receiver.test/\ud800" }, "url"],
		// The URL parser drops a tab or newline without a word: what is stored would not be what was sent.
		["a webhook URL with a tab", `/v1/topics/${topic}/subscriptions`, { url: "https://receiver.test/a\tb" }, "url"],
	])("refuses %s with a 400 naming the field, and does not echo it", async (_name, path, body, field) => {
		const message = await refusal(await call("POST", path, { body }));
		expect(message.startsWith(`${field}: `), message).toBe(true);
		expect(message.isWellFormed() && !message.includes("\t"), message).toBe(true);
	});
});

describe("numbers past a double's integers", () => {
	it.each([
		[
			"/upstash",
			`/upstash/produce/${topic}`,
			'{"value":"v","partition":1e20}',
			"partition: must be at most 255 (got 100000000000000000000)",
		],
		[
			"/v1",
			`/v1/topics/${topic}/records`,
			'{"records":[{"value":1,"partition":1e20}]}',
			"records[0].partition: must be at most 255 (got 100000000000000000000)",
		],
	])(
		"%s: a partition of 1e20 is refused with the partition's own bound, not the largest safe integer",
		async (mount, path, raw, expected) => {
			const headers = { "Content-Type": "application/json", ...(mount === "/upstash" ? admin : {}) };
			expect(await refusal(await call("POST", path, { raw, headers, token: mount === "/upstash" ? null : undefined }))).toBe(expected);
		},
	);
});

describe("numbers kept as written where text is expected", () => {
	it("says a header value must be a string, not that it must be 'a string a double holds as written'", async () => {
		const message = await refusal(
			await call("POST", `/upstash/produce/${topic}`, {
				raw: '[{"value":"v","headers":[{"key":"a","value":1e400}]}]',
				headers: { ...admin, "Content-Type": "application/json" },
				token: null,
			}),
		);
		expect(message).toBe("[0].headers[0].value: must be a string, not a number");
	});
});
