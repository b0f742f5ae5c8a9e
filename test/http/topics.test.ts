import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MESSAGE_BYTES_CEILING, PARTITIONS_MAX } from "../../src/shared/limits.ts";
import { RECORD_SEPARATOR } from "../../src/shared/record-codec.ts";
import { CONFIG_NUMBER_MAX, DEFAULT_TOPIC_CONFIG } from "../../src/shared/topic-config.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStubById } from "../support/stubs.ts";
import { call, createTopic, expectError, fetchRecords, json, produce } from "../support/worker.ts";

describe("health and auth", () => {
	it("answers /healthz without credentials", async () => {
		expect(await json("GET", "/healthz", 200, { token: null })).toEqual({ status: "ok" });
	});

	it("refuses /v1 without a token, with a wrong token, and with a malformed header", async () => {
		const missing = await call("GET", "/v1/topics", { token: null });
		expect(missing.status).toBe(401);
		expect(missing.headers.get("WWW-Authenticate")).toContain("Bearer");
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: null });
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: "test-admin-tokeN" });
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: "test-admin-token-and-more" });
		await expectError("GET", "/v1/topics", 401, "unauthorized", { token: null, headers: { Authorization: "Basic dGVzdA==" } });
	});

	it("answers unknown routes and wrong methods with JSON errors", async () => {
		await expectError("GET", "/nope", 404, "not_found");
		await expectError("GET", "/v1/nope", 404, "not_found");
		await expectError("PUT", "/v1/topics", 405, "method_not_allowed");
		await expectError("POST", `/v1/topics/${uniqueTopic()}`, 405, "method_not_allowed");
	});
});

describe("topics", () => {
	it("creates a topic with Kafka defaults and lists it", async () => {
		const name = uniqueTopic();
		const created = await createTopic(name, 3);
		expect(created).toEqual({ name, topic_id: expect.any(String), partitions: 3, config: DEFAULT_TOPIC_CONFIG });
		const { topics } = await json<{ topics: { name: string }[] }>("GET", "/v1/topics", 200);
		expect(topics.find((t) => t.name === name)).toEqual(created);
	});

	it("gives a topic its incarnation's id (Kafka's topic id): the same listed and described, new once deleted and created again", async () => {
		const name = uniqueTopic();
		const first = await createTopic(name);
		expect(first.topic_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
		expect(await json("GET", `/v1/topics/${name}`, 200)).toMatchObject({ name, topic_id: first.topic_id });
		await call("DELETE", `/v1/topics/${name}`);
		const second = await createTopic(name);
		expect(second.topic_id).not.toBe(first.topic_id);
		const { topics } = await json<{ topics: { name: string; topic_id: string }[] }>("GET", "/v1/topics", 200);
		expect(topics.find((t) => t.name === name)?.topic_id).toBe(second.topic_id);
	});

	it("defaults to one partition and accepts digit strings for numbers", async () => {
		const name = uniqueTopic();
		const created = await json("POST", "/v1/topics", 201, {
			body: { name, config: { "retention.ms": "60000", "retention.bytes": -1, "cleanup.policy": "compact" } },
		});
		expect(created).toMatchObject({ partitions: 1, config: { "retention.ms": 60000, "retention.bytes": -1, "cleanup.policy": "compact" } });
	});

	it("refuses a duplicate with 409 topic_exists", async () => {
		const name = uniqueTopic();
		await createTopic(name);
		const error = await expectError("POST", "/v1/topics", 409, "topic_exists", { body: { name, partitions: 2 } });
		expect(error.topic).toBe(name);
	});

	it.each([
		["empty name", { name: "", partitions: 1 }],
		["illegal characters", { name: "a/b", partitions: 1 }],
		["a dot", { name: ".", partitions: 1 }],
		["two dots", { name: "..", partitions: 1 }],
		["250 characters", { name: "x".repeat(250), partitions: 1 }],
		["zero partitions", { name: "ok", partitions: 0 }],
		["too many partitions", { name: "ok", partitions: PARTITIONS_MAX + 1 }],
		["fractional partitions", { name: "ok", partitions: 1.5 }],
		["string partitions that are not digits", { name: "ok", partitions: "two" }],
		["an unknown field", { name: "ok", partitions: 1, replication: 3 }],
		["a name that is not a string", { name: 42, partitions: 1 }],
	])("refuses a topic with %s (400)", async (_, body) => {
		await expectError("POST", "/v1/topics", 400, "invalid_request", { body });
	});

	it.each([
		["an unknown config", { "retention.hours": 1 }],
		["retention.ms of 0", { "retention.ms": 0 }],
		["retention.ms of -2", { "retention.ms": -2 }],
		["a fractional retention.ms", { "retention.ms": 1.5 }],
		["a non-numeric retention.bytes", { "retention.bytes": "lots" }],
		["an unknown cleanup.policy", { "cleanup.policy": "archive" }],
		["max.message.bytes over the ceiling", { "max.message.bytes": MESSAGE_BYTES_CEILING + 1 }],
		["an unlimited max.message.bytes", { "max.message.bytes": -1 }],
		["an unlimited producer.id.expiration.ms", { "producer.id.expiration.ms": -1 }],
		["a negative delete.retention.ms", { "delete.retention.ms": -1 }],
	])("refuses %s (400 invalid_config)", async (_, config) => {
		const error = await expectError("POST", "/v1/topics", 400, "invalid_config", { body: { name: uniqueTopic(), config } });
		expect(error.config).toBe(Object.keys(config)[0]);
	});

	it("describes each partition's log start offset, high watermark, stored bytes and records", async () => {
		const name = uniqueTopic();
		await createTopic(name, 2);
		await produce(name, [
			{ value: 1, partition: 1 },
			{ value: "two", partition: 1 },
		]);
		// A partition stores each record's JSON (as a fetch returns it) followed by the record separator.
		const body = await (await call("GET", `/v1/topics/${name}/partitions/1/records`)).text();
		const records = body.slice('{"records":['.length, body.indexOf('],"high_watermark"'));
		const storedBytes = new TextEncoder().encode(records + RECORD_SEPARATOR).length;
		const described = await json("GET", `/v1/topics/${name}`, 200);
		expect(described).toEqual({
			name,
			topic_id: expect.any(String),
			config: DEFAULT_TOPIC_CONFIG,
			location_hint: null,
			partitions: [
				{
					partition: 0,
					log_start_offset: 0,
					local_log_start_offset: 0,
					high_watermark: 0,
					bytes: 0,
					remote_bytes: 0,
					records: 0,
					remote_records: 0,
				},
				{
					partition: 1,
					log_start_offset: 0,
					local_log_start_offset: 0,
					high_watermark: 2,
					bytes: storedBytes,
					remote_bytes: 0,
					records: 2,
					remote_records: 0,
				},
			],
		});
	});

	it("takes tiered storage configs with Kafka's names, defaults and cross-checks", async () => {
		const name = uniqueTopic();
		const created = await json("POST", "/v1/topics", 201, {
			body: { name, config: { "remote.storage.enable": "true", "local.retention.ms": "3600000", "local.retention.bytes": 1024 } },
		});
		expect(created).toMatchObject({
			config: { "remote.storage.enable": true, "local.retention.ms": 3_600_000, "local.retention.bytes": 1024, "retention.bytes": -1 },
		});
		expect(DEFAULT_TOPIC_CONFIG).toMatchObject({ "remote.storage.enable": false, "local.retention.ms": -2, "local.retention.bytes": -2 });
		// Kafka: local retention may not pass the total one, nor be unlimited while the total is not.
		const tooLong = await expectError("PATCH", `/v1/topics/${name}`, 400, "invalid_config", {
			body: { config: { "local.retention.ms": 7 * 86_400_000 + 1 } },
		});
		expect(tooLong.config).toBe("local.retention.ms");
		await expectError("PATCH", `/v1/topics/${name}`, 400, "invalid_config", { body: { config: { "local.retention.ms": -1 } } });
		await expectError("PATCH", `/v1/topics/${name}`, 400, "invalid_config", { body: { config: { "retention.ms": 60_000 } } });
		await expectError("PATCH", `/v1/topics/${name}`, 400, "invalid_config", { body: { config: { "local.retention.bytes": -3 } } });
		await expectError("PATCH", `/v1/topics/${name}`, 400, "invalid_config", { body: { config: { "remote.storage.enable": "yes" } } });
		const limited = await json("PATCH", `/v1/topics/${name}`, 200, { body: { config: { "retention.bytes": 4096 } } });
		expect(limited).toMatchObject({ config: { "retention.bytes": 4096, "local.retention.bytes": 1024 } });
		await expectError("PATCH", `/v1/topics/${name}`, 400, "invalid_config", { body: { config: { "local.retention.bytes": 4097 } } });
		const reset = await json("PATCH", `/v1/topics/${name}`, 200, { body: { config: { "local.retention.bytes": null } } });
		expect(reset).toMatchObject({ config: { "local.retention.bytes": -2 } });
	});

	it("refuses __proto__ as a config name (it would be dropped, not applied), creating or changing a topic", async () => {
		const json = { "Content-Type": "application/json" };
		const name = uniqueTopic();
		const config = '"config":{"__proto__":{"retention.ms":5}}';
		await expectError("POST", "/v1/topics", 400, "invalid_request", { raw: `{"name":"${name}",${config}}`, headers: json });
		await createTopic(name);
		await expectError("PATCH", `/v1/topics/${name}`, 400, "invalid_request", { raw: `{${config}}`, headers: json });
		// Looking for the name walks every value: a body of a million numbers is answered, not a 500.
		const long = `{"name":"${uniqueTopic()}","config":{"retention.ms":[${new Array(1_000_000).fill(0).join(",")}]}}`;
		await expectError("POST", "/v1/topics", 400, "invalid_config", { raw: long, headers: json });
	});

	it.each([
		["retention.ms", "9007199254740993"],
		["retention.bytes", "9223372036854775807"],
	])(
		"takes %s %s (a JSON number past a double's integers) as the largest the config holds, creating or changing a topic",
		async (key, number) => {
			// Numbers a double cannot hold are kept as their digits when the body is parsed; a config reads them as
			// digits, and past the largest a long config holds any integer means that largest (Kafka's "no limit").
			const headers = { "Content-Type": "application/json" };
			const created = await json("POST", "/v1/topics", 201, { raw: `{"name":"${uniqueTopic()}","config":{"${key}":${number}}}`, headers });
			expect(created.config).toMatchObject({ [key]: CONFIG_NUMBER_MAX });
			const name = uniqueTopic();
			await createTopic(name);
			const changed = await json("PATCH", `/v1/topics/${name}`, 200, { raw: `{"config":{"${key}":${number}}}`, headers });
			expect(changed.config).toMatchObject({ [key]: CONFIG_NUMBER_MAX });
		},
	);

	it.each([
		["a retention.bytes in exponent form past a double", '"retention.bytes":1e400', "1e400"],
		["a long number inside a list", '"max.message.bytes":[12345678901234567890]', "12345678901234567890"],
	])("refuses a config value that is %s with a 400 naming the number, creating or changing a topic", async (_, entry, number) => {
		// Numbers a double cannot hold are kept as their digits when the body is parsed; only an integer config value
		// goes on (as its digits): no other can reach the registry (a Durable Object call cannot carry it: that was a 500).
		const json = { "Content-Type": "application/json" };
		const created = await expectError("POST", "/v1/topics", 400, "invalid_request", {
			raw: `{"name":"${uniqueTopic()}","config":{${entry}}}`,
			headers: json,
		});
		expect(created.message).toContain(number);
		const name = uniqueTopic();
		await createTopic(name);
		const changed = await expectError("PATCH", `/v1/topics/${name}`, 400, "invalid_request", {
			raw: `{"config":{${entry}}}`,
			headers: json,
		});
		expect(changed.message).toContain(number);
	});

	it("refuses remote storage on a compacted topic, as Kafka does", async () => {
		const error = await expectError("POST", "/v1/topics", 400, "invalid_config", {
			body: { name: uniqueTopic(), config: { "cleanup.policy": "compact", "remote.storage.enable": true } },
		});
		expect(error.config).toBe("remote.storage.enable");
		const name = uniqueTopic();
		await createTopic(name, 1, { "remote.storage.enable": true });
		await expectError("PATCH", `/v1/topics/${name}`, 400, "invalid_config", { body: { config: { "cleanup.policy": "compact,delete" } } });
	});

	it("creates a topic with a location hint, shows it on describe, and refuses an unknown hint", async () => {
		const name = uniqueTopic();
		await json("POST", "/v1/topics", 201, { body: { name, partitions: 2, location_hint: "weur" } });
		const described = await json<{ location_hint: string; partitions: unknown[] }>("GET", `/v1/topics/${name}`, 200);
		expect(described.location_hint).toBe("weur");
		expect(described.partitions).toHaveLength(2);
		const error = await expectError("POST", "/v1/topics", 400, "invalid_request", { body: { name: uniqueTopic(), location_hint: "mars" } });
		expect(error.message).toContain("weur");
	});

	it("alters config and grows partitions; never shrinks", async () => {
		const name = uniqueTopic();
		await createTopic(name, 2);
		const updated = await json("PATCH", `/v1/topics/${name}`, 200, {
			body: { partitions: 4, config: { "retention.ms": -1, "max.message.bytes": "1000" } },
		});
		expect(updated).toMatchObject({ name, partitions: 4, config: { "retention.ms": -1, "max.message.bytes": 1000 } });
		const reset = await json("PATCH", `/v1/topics/${name}`, 200, { body: { config: { "max.message.bytes": null } } });
		expect(reset).toMatchObject({ config: { "max.message.bytes": DEFAULT_TOPIC_CONFIG["max.message.bytes"], "retention.ms": -1 } });
		const error = await expectError("PATCH", `/v1/topics/${name}`, 400, "invalid_partitions", { body: { partitions: 3 } });
		expect(error.partitions).toBe(4);
		await produce(name, [{ value: "new partition", partition: 3 }]);
		expect((await fetchRecords(name, 3, "offset=0")).records).toHaveLength(1);
	});

	it("pushes a config change to existing partitions (smaller max.message.bytes is enforced at once)", async () => {
		const name = uniqueTopic();
		await createTopic(name, 1);
		await produce(name, [{ value: "x".repeat(500) }]);
		await json("PATCH", `/v1/topics/${name}`, 200, { body: { config: { "max.message.bytes": 100 } } });
		const error = await expectError("POST", `/v1/topics/${name}/records`, 413, "record_too_large", {
			body: { records: [{ value: "x".repeat(500) }] },
		});
		expect(error.max_message_bytes).toBe(100);
	});

	it("deletes a topic and its data; a new topic of the same name starts empty", async () => {
		const name = uniqueTopic();
		await createTopic(name, 2);
		const before = await json<{ name: string }>("GET", `/v1/topics/${name}`, 200);
		expect(before.name).toBe(name);
		await produce(name, [
			{ value: "a", partition: 0 },
			{ value: "b", partition: 1 },
		]);
		const meta = await env.TOPIC_REGISTRY.getByName("global").getTopic(name);
		if (!meta.ok) throw new Error("topic missing");
		const response = await call("DELETE", `/v1/topics/${name}`);
		expect(response.status).toBe(204);
		for (const partition of [0, 1]) {
			const stub = partitionStubById(meta.value.topicId, partition);
			const rows = await runInDurableObject(stub, (_, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM batches").one().n);
			expect(rows).toBe(0);
		}
		await expectError("GET", `/v1/topics/${name}`, 404, "topic_not_found");
		await expectError("POST", `/v1/topics/${name}/records`, 404, "topic_not_found", { body: { records: [{ value: 1 }] } });
		await expectError("DELETE", `/v1/topics/${name}`, 404, "topic_not_found");
		await createTopic(name, 2);
		const fetched = await fetchRecords(name, 0, "offset=0");
		expect(fetched).toEqual({ records: [], high_watermark: 0, log_start_offset: 0, next_offset: 0 });
	});

	it("404s an unknown topic on every topic route", async () => {
		const name = uniqueTopic("missing");
		await expectError("GET", `/v1/topics/${name}`, 404, "topic_not_found");
		await expectError("PATCH", `/v1/topics/${name}`, 404, "topic_not_found", { body: { partitions: 2 } });
		await expectError("GET", `/v1/topics/${name}/partitions/0/records`, 404, "topic_not_found");
		await expectError("GET", `/v1/topics/${name}/partitions/0/offsets?at=latest`, 404, "topic_not_found");
	});
});
