import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/http/app.ts";
import { SECURITY_HEADERS } from "../../src/http/middleware/security-headers.ts";
import { JSON_DEPTH_MAX, JSON_OBJECT_FIELDS_MAX } from "../../src/shared/limits.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, BASE, call, createTopic, expectError, fetchRecords } from "../support/worker.ts";

function nested(depth: number): string {
	return `${"[".repeat(depth - 1)}{"a":1}${"]".repeat(depth - 1)}`;
}

const JSON_HEADERS = { "Content-Type": "application/json" };

async function fetchWith(vars: Record<string, string>, request: Request): Promise<Response> {
	const ctx = createExecutionContext();
	const response = await app.fetch(request, { ...env, ...vars }, ctx);
	await waitOnExecutionContext(ctx);
	return response;
}

describe("security headers", () => {
	it.each([
		["a 200", "/healthz", ADMIN_TOKEN],
		["a 401", "/v1/topics", null],
		["a 404", "/v1/nope", ADMIN_TOKEN],
	])("are on %s", async (_, path, token) => {
		const response = await call("GET", path, { token });
		for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers.get(name), name).toBe(value);
	});
});

describe("CORS", () => {
	it("is off by default: no CORS header, and a preflight is not answered", async () => {
		const response = await call("GET", "/v1/topics", { headers: { Origin: "https://evil.example" } });
		expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
		const preflight = await call("OPTIONS", "/v1/topics", {
			token: null,
			headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
		});
		expect(preflight.status).toBe(401);
		expect(preflight.headers.get("Access-Control-Allow-Origin")).toBeNull();
	});

	it("allows the origins CORS_ORIGINS lists, and only those", async () => {
		const vars = { CORS_ORIGINS: "https://console.example, https://admin.example" };
		const preflight = await fetchWith(
			vars,
			new Request(`${BASE}/v1/topics`, {
				method: "OPTIONS",
				headers: { Origin: "https://console.example", "Access-Control-Request-Method": "POST" },
			}),
		);
		expect(preflight.status).toBe(204);
		expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe("https://console.example");
		expect(preflight.headers.get("Access-Control-Allow-Headers")).toContain("Authorization");
		const allowed = await fetchWith(
			vars,
			new Request(`${BASE}/v1/topics`, { headers: { Origin: "https://admin.example", Authorization: `Bearer ${ADMIN_TOKEN}` } }),
		);
		expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://admin.example");
		const other = await fetchWith(
			vars,
			new Request(`${BASE}/v1/topics`, { headers: { Origin: "https://evil.example", Authorization: `Bearer ${ADMIN_TOKEN}` } }),
		);
		expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
		// A browser app elsewhere changes anonymous's grant conditionally: it may send If-Match and read the ETag.
		const conditional = await fetchWith(
			vars,
			new Request(`${BASE}/v1/anonymous`, {
				method: "OPTIONS",
				headers: {
					Origin: "https://console.example",
					"Access-Control-Request-Method": "PATCH",
					"Access-Control-Request-Headers": "if-match",
				},
			}),
		);
		expect(conditional.headers.get("Access-Control-Allow-Headers")).toContain("If-Match");
		expect(conditional.headers.get("Access-Control-Allow-Methods"), "PUT replaces the grant (and a key's quotas)").toContain("PUT");
		const read = await fetchWith(
			vars,
			new Request(`${BASE}/v1/anonymous`, { headers: { Origin: "https://console.example", Authorization: `Bearer ${ADMIN_TOKEN}` } }),
		);
		expect(read.headers.get("Access-Control-Expose-Headers")).toContain("ETag");
		// CORS follows the env of each request: one without the origins in the same isolate is CORS-free again.
		const without = await fetchWith(
			{},
			new Request(`${BASE}/v1/topics`, { headers: { Origin: "https://admin.example", Authorization: `Bearer ${ADMIN_TOKEN}` } }),
		);
		expect(without.headers.get("Access-Control-Allow-Origin")).toBeNull();
		const changed = await fetchWith(
			{ CORS_ORIGINS: "*" },
			new Request(`${BASE}/v1/topics`, { headers: { Origin: "https://evil.example", Authorization: `Bearer ${ADMIN_TOKEN}` } }),
		);
		expect(changed.headers.get("Access-Control-Allow-Origin")).toBe("*");
	});
});

describe("the admin token", () => {
	it("is compared as the env has it now: a changed token is taken and the old one refused", async () => {
		const request = (token: string) => new Request(`${BASE}/v1/topics`, { headers: { Authorization: `Bearer ${token}` } });
		expect((await fetchWith({}, request(ADMIN_TOKEN))).status).toBe(200);
		const rotated = `${ADMIN_TOKEN}-rotated`;
		expect((await fetchWith({ ADMIN_TOKEN: rotated }, request(rotated))).status).toBe(200);
		expect((await fetchWith({ ADMIN_TOKEN: rotated }, request(ADMIN_TOKEN))).status).toBe(401);
		expect((await fetchWith({}, request(rotated))).status).toBe(401);
		expect((await fetchWith({}, request(ADMIN_TOKEN))).status).toBe(200);
	});

	it("refuses a wrong token of the same length, a prefix and a longer one", async () => {
		const request = (token: string) => new Request(`${BASE}/v1/topics`, { headers: { Authorization: `Bearer ${token}` } });
		const last = ADMIN_TOKEN.at(-1) === "x" ? "y" : "x";
		for (const wrong of [`${ADMIN_TOKEN.slice(0, -1)}${last}`, ADMIN_TOKEN.slice(0, -1), `${ADMIN_TOKEN}x`]) {
			expect((await fetchWith({}, request(wrong))).status, wrong).toBe(401);
		}
	});
});

describe("JSON depth and width", () => {
	it("accepts JSON exactly at the depth limit and refuses one level more, before validation", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		// The body, the records array and the record are three levels; the value the rest.
		const atLimit = `{"records":[{"value":${nested(JSON_DEPTH_MAX - 3)}}]}`;
		expect((await call("POST", `/v1/topics/${topic}/records`, { raw: atLimit, headers: JSON_HEADERS })).status).toBe(200);
		const over = `{"records":[{"value":${nested(JSON_DEPTH_MAX - 2)}}]}`;
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_json", { raw: over, headers: JSON_HEADERS });
		expect(error.max_depth).toBe(JSON_DEPTH_MAX);
		expect((await fetchRecords(topic, 0, "offset=0")).records).toHaveLength(1);
	});

	it("refuses hostile depth (100 000 levels) on every JSON reader with a 400", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const deep = nested(100_000);
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_json", {
			raw: `{"records":[{"value":${deep}}]}`,
			headers: JSON_HEADERS,
		});
		await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_json", {
			raw: `{"value":${deep}}\n`,
			headers: { "Content-Type": "application/x-ndjson" },
		});
		await expectError("POST", `/v1/topics/${topic}/webhook`, 400, "invalid_json", {
			raw: deep,
			headers: { "Content-Type": "application/json" },
		});
		await expectError("POST", "/v1/topics", 400, "invalid_json", { raw: `{"name":"x","config":${deep}}`, headers: JSON_HEADERS });
	});

	it("refuses an object with more fields than the limit", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const wide = `{${Array.from({ length: JSON_OBJECT_FIELDS_MAX + 1 }, (_, i) => `"f${i}":0`).join(",")}}`;
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 400, "invalid_json", {
			raw: `{"records":[{"value":${wide}}]}`,
			headers: JSON_HEADERS,
		});
		expect(error.max_object_fields).toBe(JSON_OBJECT_FIELDS_MAX);
	});
});
