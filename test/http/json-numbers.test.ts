/**
 * Numbers in request bodies that a double does not write back as sent. A negative zero names the same partition,
 * offset or setting as 0 on every mount (JSON.parse reads it as a zero; Python and Go encoders write a float's -0
 * as `-0.0` or `-0`): only a record's value keeps its sign. A number past a double's range is refused by name, never
 * taken for an object missing its fields.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { basic } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, call, createTopic, fetchRecords, json } from "../support/worker.ts";

const admin = basic("admin", ADMIN_TOKEN);
const JSON_HEADERS = { "Content-Type": "application/json" };
const V3 = "/kafka/v3/clusters/tributary";

describe('"partition": -0 is partition 0 on every mount', () => {
	const topic = uniqueTopic("zero");
	beforeAll(async () => {
		await createTopic(topic, 3);
	});

	it.each([
		[
			"/v1 JSON",
			() => call("POST", `/v1/topics/${topic}/records`, { raw: '{"records":[{"value":1,"partition":-0}]}', headers: JSON_HEADERS }),
		],
		[
			"/v1 NDJSON",
			() =>
				call("POST", `/v1/topics/${topic}/records`, {
					raw: '{"value":1,"partition":-0.0}\n',
					headers: { "Content-Type": "application/x-ndjson" },
				}),
		],
		["/upstash", () => call("POST", `/upstash/produce/${topic}`, { token: null, raw: '{"value":"1","partition":-0}', headers: admin })],
		[
			"/kafka/v3",
			() =>
				call("POST", `${V3}/topics/${topic}/records`, {
					raw: '{"partition_id":-0,"value":{"type":"JSON","data":1}}',
					headers: JSON_HEADERS,
				}),
		],
	])("%s", async (_, produce) => {
		const before = (await fetchRecords(topic, 0, "offset=0")).high_watermark;
		const response = await produce();
		expect(response.status, await response.text()).toBe(200);
		expect((await fetchRecords(topic, 0, "offset=0")).high_watermark).toBe(before + 1);
	});

	it("a setting of -0 is 0, and a record's value keeps its sign", async () => {
		const name = uniqueTopic("zero-config");
		const created = await json<{ config: Record<string, unknown> }>("POST", "/v1/topics", 201, {
			raw: JSON.stringify({ name, config: {} }).replace("{}", '{"delete.retention.ms":-0}'),
			headers: JSON_HEADERS,
		});
		expect(created.config["delete.retention.ms"]).toBe(0);
		const produced = await call("POST", `/v1/topics/${name}/records`, {
			raw: '{"records":[{"value":-0,"partition":-0}]}',
			headers: JSON_HEADERS,
		});
		expect(produced.status).toBe(200);
		const read = await call("GET", `/v1/topics/${name}/partitions/0/records?offset=0`);
		expect(await read.text()).toContain('"value":-0');
	});
});

describe("a number past a double's range where an object belongs is named, not taken for an object without fields", () => {
	it.each([
		["1e400", "body: must be an object, not 1e400"],
		["[1e400]", "[0]: must be an object, not 1e400"],
		['{"value":"x","partition":1e400}', "partition: must be a number a double holds as written, not 1e400"],
	])("/upstash body %s", async (body, message) => {
		const topic = uniqueTopic("huge");
		await createTopic(topic, 1);
		const response = await call("POST", `/upstash/produce/${topic}`, { token: null, raw: body, headers: admin });
		expect(response.status).toBe(400);
		expect(((await response.json()) as { error: string }).error).toBe(message);
	});

	it("/v1 produce", async () => {
		const topic = uniqueTopic("huge");
		await createTopic(topic, 1);
		const response = await call("POST", `/v1/topics/${topic}/records`, { raw: '{"records":[1e400]}', headers: JSON_HEADERS });
		expect(response.status).toBe(400);
		expect(((await response.json()) as { error: { message: string } }).error.message).toBe("records[0]: must be an object, not 1e400");
	});
});
