/**
 * Errors a person can act on: validation messages name unknown fields first (with the field probably meant),
 * list an enumeration's values and a number's range; a 405 carries `Allow` and points to the right resource; a
 * curl form body is told which header to add; a Worker without ADMIN_TOKEN says how to set one; a local broker
 * names the setting that allows private webhook targets.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/http/app.ts";
import { PARTITIONS_MAX } from "../../src/shared/limits.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, BASE, call, createTopic, expectError, workerFetch } from "../support/worker.ts";

interface ErrorBody {
	error: { code: string; message: string; retriable: boolean; issues?: { path: string; message: string }[] } & Record<string, unknown>;
}

describe("validation messages", () => {
	it("puts an unknown field first, with a did-you-mean, before the fields it left missing", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", { body: { records: [{ val: 1 }] } });
		expect(error.message).toBe('records[0]: unknown field "val" (did you mean "value"?)');
		expect(error.issues).toEqual([
			{ path: "records[0]", message: 'unknown field "val" (did you mean "value"?)' },
			{ path: "records[0].value", message: "is required" },
		]);
		const misspelt = await expectError("POST", "/v1/topics", 400, "invalid_request", { body: { name: "x", partitons: 3 } });
		expect(misspelt.message).toBe('request: unknown field "partitons" (did you mean "partitions"?)');
		const stranger = await expectError("POST", "/v1/topics", 400, "invalid_request", { body: { name: "x", colour: "red" } });
		expect(stranger.message).toBe('request: unknown field "colour"; known fields: name, partitions, config, location_hint');
	});

	it("lists the allowed values of an enumeration", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const at = await expectError("GET", `/v1/topics/${topic}/partitions/0/offsets?at=first`, 400, "invalid_request");
		expect(at.message).toBe('at: must be "earliest", "latest", "max_timestamp" or a time in ms (epoch milliseconds)');
		const strategy = await expectError("POST", "/v1/groups/g/members", 400, "invalid_request", {
			body: { topics: [topic], strategy: "cooperative" },
		});
		expect(strategy.message).toBe('strategy: must be "sticky", "range" or "round-robin"');
	});

	it("states the range of a number that is too large or too small", async () => {
		const big = await expectError("POST", "/v1/topics", 400, "invalid_request", { body: { name: "x", partitions: 100_000 } });
		expect(big.message).toBe(`partitions: must be at most ${PARTITIONS_MAX} (got 100000)`);
		const small = await expectError("POST", "/v1/topics", 400, "invalid_request", { body: { name: "x", partitions: 0 } });
		expect(small.message).toBe("partitions: must be at least 1 (got 0)");
	});

	it("reads a number with more digits than a double holds as a number: out of range, never 'must be a number'", async () => {
		const json = { "Content-Type": "application/json" };
		const topic = uniqueTopic();
		await createTopic(topic);
		const huge = await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", {
			raw: '{"records":[{"value":1,"partition":123456789012345678901234567890}]}',
			headers: json,
		});
		expect(huge.message).toMatch(/^records\[0\]\.partition: must be at most \d+ \(got 1\.2345678901234568e\+29\)$/);
		// A record value with long digits keeps them, and the numeric fields beside it mean what they mean anywhere.
		const response = await call("POST", `/v1/topics/${topic}/records`, {
			raw: '{"records":[{"value":12345678901234567890},{"value":2,"partition":0,"timestamp":1e3}]}',
			headers: json,
		});
		expect(response.status, await response.clone().text()).toBe(200);
		const { offsets } = (await response.json()) as { offsets: { timestamp: number }[] };
		expect(offsets[1]?.timestamp).toBe(1000);
	});

	it("keeps messages written for this API as they are", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_request", { body: { records: [] } });
		expect(error.message).toBe("records: records must hold at least one record");
	});
});

describe("405", () => {
	it("carries Allow and points a GET of a topic's records to a partition's records or a group poll", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const response = await call("GET", `/v1/topics/${topic}/records`);
		expect(response.status).toBe(405);
		expect(response.headers.get("Allow")).toBe("POST");
		const { error } = (await response.json()) as ErrorBody;
		expect(error.code).toBe("method_not_allowed");
		expect(error.allowed_methods).toEqual(["POST"]);
		expect(error.message).toContain("GET /v1/topics/{topic}/partitions/{partition}/records");
		expect(error.message).toContain("POST /v1/groups/{group}/members/{member}/poll");
	});

	it("lists every method a path answers, on /v1 and on the compatibility mounts", async () => {
		const topics = await call("DELETE", "/v1/topics");
		expect(topics.status).toBe(405);
		expect(topics.headers.get("Allow")?.split(", ").sort()).toEqual(["GET", "HEAD", "POST"]);
		const topic = await call("PUT", "/v1/topics/x");
		expect(topic.headers.get("Allow")?.split(", ").sort()).toEqual(["DELETE", "GET", "HEAD", "PATCH"]);
		const poll = await call("GET", "/v1/groups/g/members/m/poll");
		expect(poll.headers.get("Allow")).toBe("POST");
		expect(((await poll.json()) as ErrorBody).error.message).toContain("a poll is a POST");
		const confluent = await call("DELETE", "/kafka/v3/clusters");
		expect(confluent.status).toBe(405);
		expect(confluent.headers.get("Allow")?.split(", ").sort()).toEqual(["GET", "HEAD"]);
	});
});

describe("415 for curl's default form body", () => {
	it("says which header to add", async () => {
		const error = await expectError("POST", "/v1/topics", 415, "unsupported_media_type", {
			raw: '{"name":"x"}',
			headers: { "Content-Type": "application/x-www-form-urlencoded" },
		});
		expect(error.message).toContain('add -H "Content-Type: application/json"');
	});
});

describe("a Worker without ADMIN_TOKEN", () => {
	async function fetchUnconfigured(headers: Record<string, string>): Promise<Response> {
		const ctx = createExecutionContext();
		const response = await app.fetch(new Request(`${BASE}/v1/topics`, { headers }), { ...env, ADMIN_TOKEN: "" }, ctx);
		await waitOnExecutionContext(ctx);
		return response;
	}

	it("answers 503 not_configured naming the command that fixes it, with or without credentials", async () => {
		const attempts: Record<string, string>[] = [{}, { Authorization: "Bearer anything" }, { Authorization: `Basic ${btoa("admin:x")}` }];
		for (const headers of attempts) {
			const response = await fetchUnconfigured(headers);
			expect(response.status).toBe(503);
			const { error } = (await response.json()) as ErrorBody;
			expect(error).toMatchObject({ code: "not_configured", retriable: false, setting: "ADMIN_TOKEN" });
			expect(error.fix).toBe("npx wrangler secret put ADMIN_TOKEN");
			expect(error.message).toContain("npx wrangler secret put ADMIN_TOKEN");
			expect(error.message).toContain("npm start");
		}
	});

	it("is configured when the token is set: a wrong token stays a plain 401", async () => {
		const response = await call("GET", "/v1/topics", { token: `${ADMIN_TOKEN}-wrong` });
		expect(response.status).toBe(401);
		expect(((await response.json()) as ErrorBody).error.code).toBe("unauthorized");
	});
});

describe("webhook URLs on a local broker", () => {
	async function subscribe(origin: string, topic: string): Promise<ErrorBody["error"]> {
		const response = await workerFetch(
			new Request(`${origin}/v1/topics/${topic}/subscriptions`, {
				method: "POST",
				headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
				body: JSON.stringify({ url: "http://127.0.0.1:9999/hook" }),
			}),
		);
		expect(response.status).toBe(400);
		return ((await response.json()) as ErrorBody).error;
	}

	it("names WEBHOOK_ALLOW_PRIVATE and the npm start flag when the request came to a loopback address", async () => {
		expect((env as { WEBHOOK_ALLOW_PRIVATE?: string }).WEBHOOK_ALLOW_PRIVATE ?? "").not.toBe("true");
		const topic = uniqueTopic();
		await createTopic(topic);
		const local = await subscribe("http://127.0.0.1:8788", topic);
		expect(local).toMatchObject({ code: "invalid_webhook_url", setting: "WEBHOOK_ALLOW_PRIVATE" });
		expect(local.message).toContain("url must use https://");
		expect(local.message).toContain("npm start -- --allow-private-webhooks");
		expect(local.message).toContain("WEBHOOK_ALLOW_PRIVATE=true");
		// A deployed Worker cannot reach private hosts anyway: no local advice there.
		const deployed = await subscribe(BASE, topic);
		expect(deployed.message).toBe("url must use https://");
		expect(deployed.setting).toBeUndefined();
	});
});
