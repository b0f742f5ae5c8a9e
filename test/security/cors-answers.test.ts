/**
 * With CORS on, every answer's headers by name and value: a produce, errors (the router's, authentication's and a
 * route's), a preflight and a live stream, for a list of origins and for `*`. And a route's own value of a header
 * CORS sets is the one answered, whether the route set it on Hono's context or built its Response itself. A request to
 * exactly `/ds` gets the Durable Streams mount's CORS alone, as one under it does.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { app } from "../../src/http/app.ts";
import { STREAMS_CORS } from "../../src/http/compat/durable-streams/routes.ts";
import { API_CORS, answerCors } from "../../src/http/middleware/cors.ts";
import { SECURITY_HEADERS } from "../../src/http/middleware/security-headers.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, BASE, createTopic } from "../support/worker.ts";

const ORIGIN = "https://console.example";

/** The answer, its body read (a stream's cancelled: an SSE stream's writer runs until its reader goes). */
async function worker(corsOrigins: string, request: Request): Promise<Response> {
	const ctx = createExecutionContext();
	const response = await app.fetch(request, { ...env, CORS_ORIGINS: corsOrigins }, ctx);
	if (response.headers.get("Content-Type") === "text/event-stream") await response.body?.cancel();
	else await response.arrayBuffer();
	await waitOnExecutionContext(ctx);
	return response;
}

/** An answer's headers, sorted by name. */
function headersOf(response: Response): [string, string][] {
	return [...response.headers].sort(([a], [b]) => a.localeCompare(b));
}

/** `extra` and the headers every answer carries (the request id `id`, the security headers), sorted by name. */
function expected(id: string, extra: Record<string, string>): [string, string][] {
	const all = { ...SECURITY_HEADERS, "X-Request-Id": id, ...extra };
	return Object.entries(all)
		.map(([name, value]): [string, string] => [name.toLowerCase(), value])
		.sort(([a], [b]) => a.localeCompare(b));
}

const JSON_TYPE = { "Content-Type": "application/json" };

describe("with CORS on, every answer's headers", () => {
	const settings: [string, Record<string, string>][] = [
		[`${ORIGIN}, https://admin.example`, { "Access-Control-Allow-Origin": ORIGIN, Vary: "Origin" }],
		["*", { "Access-Control-Allow-Origin": "*" }],
	];
	for (const [setting, cors] of settings) {
		it(`CORS_ORIGINS=${setting}: answers, errors and a preflight`, async () => {
			const topic = uniqueTopic();
			await createTopic(topic);
			const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, Origin: ORIGIN };
			const exposed = { "Access-Control-Expose-Headers": API_CORS.exposeHeaders, ...cors };
			const cases: { name: string; init: RequestInit; path: string; own: Record<string, string> }[] = [
				{
					name: "produce",
					path: `/v1/topics/${topic}/records`,
					init: { method: "POST", headers: { ...admin, ...JSON_TYPE }, body: '{"records":[{"value":1}]}' },
					own: JSON_TYPE,
				},
				{ name: "no route", path: "/v1/nothing-here", init: { headers: admin }, own: JSON_TYPE },
				{
					name: "no credentials",
					path: `/v1/topics/${topic}`,
					init: { headers: { Origin: ORIGIN } },
					own: { ...JSON_TYPE, "WWW-Authenticate": 'Bearer realm="tributary", Basic realm="tributary"' },
				},
				{
					name: "bad JSON",
					path: `/v1/topics/${topic}/records`,
					init: { method: "POST", headers: { ...admin, ...JSON_TYPE }, body: "{" },
					own: JSON_TYPE,
				},
				{ name: "wrong method", path: `/v1/topics/${topic}/records`, init: { method: "PUT", headers: admin }, own: JSON_TYPE },
				{
					name: "SSE",
					path: `/v1/topics/${topic}/partitions/0/records`,
					init: { headers: { ...admin, Accept: "text/event-stream" } },
					own: {
						"Content-Type": "text/event-stream",
						"Cache-Control": "no-cache",
						Connection: "keep-alive",
						"Transfer-Encoding": "chunked",
					},
				},
			];
			for (const [i, c] of cases.entries()) {
				const id = `cors-${i}`;
				const headers = { ...(c.init.headers as Record<string, string>), "X-Request-Id": id };
				const response = await worker(setting, new Request(`${BASE}${c.path}`, { ...c.init, headers }));
				const own = c.name === "wrong method" ? { ...c.own, Allow: response.headers.get("Allow") ?? "" } : c.own;
				expect(headersOf(response), `${c.name} (${response.status})`).toEqual(expected(id, { ...own, ...exposed }));
			}
			const preflight = await worker(
				setting,
				new Request(`${BASE}/v1/topics`, {
					method: "OPTIONS",
					headers: {
						Origin: ORIGIN,
						"Access-Control-Request-Method": "POST",
						"Access-Control-Request-Headers": "authorization",
						"X-Request-Id": "cors-preflight",
					},
				}),
			);
			expect(preflight.status).toBe(204);
			const vary = setting === "*" ? "Access-Control-Request-Headers" : "Origin, Access-Control-Request-Headers";
			expect(headersOf(preflight), "preflight").toEqual(
				expected("cors-preflight", {
					...exposed,
					Vary: vary,
					"Access-Control-Max-Age": "600",
					"Access-Control-Allow-Methods": API_CORS.allowMethods,
					"Access-Control-Allow-Headers": API_CORS.allowHeaders,
				}),
			);
		});
	}
});

describe("a route's own value of a header CORS sets", () => {
	const OWN = "X-Own";
	const mounted = new Hono();
	mounted.use((c, next) => answerCors(c, next, [ORIGIN], API_CORS));
	mounted.get("/context", (c) => {
		c.header("Access-Control-Expose-Headers", OWN);
		return c.json({});
	});
	mounted.get("/built", () => new Response("{}", { headers: { "Access-Control-Expose-Headers": OWN } }));

	for (const path of ["/context", "/built"]) {
		it(`is answered (${path})`, async () => {
			const response = await mounted.fetch(new Request(`${BASE}${path}`, { headers: { Origin: ORIGIN } }));
			expect(response.headers.get("Access-Control-Expose-Headers")).toBe(OWN);
			expect(response.headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
			expect(response.headers.get("Vary")).toBe("Origin");
		});
	}
});

describe("a request to exactly the Durable Streams mount, /ds", () => {
	it("is answered by its CORS policy alone: one Vary: Origin, its headers exposed and, to a preflight, its methods", async () => {
		const setting = `${ORIGIN}, https://admin.example`;
		const answer = await worker(setting, new Request(`${BASE}/ds`, { headers: { Origin: ORIGIN } }));
		const preflight = await worker(
			setting,
			new Request(`${BASE}/ds`, { method: "OPTIONS", headers: { Origin: ORIGIN, "Access-Control-Request-Method": "PUT" } }),
		);
		const cors = (response: Response) => ({
			origin: response.headers.get("Access-Control-Allow-Origin"),
			exposed: response.headers.get("Access-Control-Expose-Headers"),
			methods: response.headers.get("Access-Control-Allow-Methods"),
			vary: response.headers.get("Vary"),
		});
		expect({ answer: cors(answer), preflight: cors(preflight) }).toEqual({
			answer: { origin: ORIGIN, exposed: STREAMS_CORS.exposeHeaders, methods: null, vary: "Origin" },
			preflight: {
				origin: ORIGIN,
				exposed: STREAMS_CORS.exposeHeaders,
				methods: STREAMS_CORS.allowMethods,
				vary: "Origin, Access-Control-Request-Headers",
			},
		});
	});
});
