/**
 * The CORS answers of both mounts that set CORS (the API, and Durable Streams under /ds), header for header, against
 * Hono's own `cors()` middleware given the options these mounts have (the Worker answers CORS itself: see
 * src/http/middleware/cors.ts). Each case is a preflight or a request, from an origin allowed, another or none.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { describe, expect, it } from "vitest";
import { app } from "../../src/http/app.ts";
import { STREAMS_CORS } from "../../src/http/compat/durable-streams/routes.ts";
import { API_CORS, type CorsPolicy } from "../../src/http/middleware/cors.ts";
import { ADMIN_TOKEN, BASE } from "../support/worker.ts";

/** Hono's `cors()` options for a mount's policy (its lists, as the Worker keeps them in one place). */
function optionsOf(policy: CorsPolicy) {
	const list = (joined: string) => joined.split(",");
	return {
		allowMethods: list(policy.allowMethods),
		allowHeaders: list(policy.allowHeaders),
		exposeHeaders: list(policy.exposeHeaders),
		maxAge: 600,
	};
}

const API_OPTIONS = optionsOf(API_CORS);
const STREAMS_OPTIONS = optionsOf(STREAMS_CORS);

/**
 * What CORS makes of an answer: its CORS and Vary headers, and a preflight's status (another request's is the route's,
 * which the reference does not have).
 */
function corsPart(request: Request, response: Response): { status: number | null; headers: [string, string][] } {
	const headers = [...response.headers].filter(([name]) => name.startsWith("access-control-") || name === "vary");
	return { status: request.method === "OPTIONS" ? response.status : null, headers: headers.sort(([a], [b]) => a.localeCompare(b)) };
}

type CorsOptions = typeof API_OPTIONS & { origin: "*" | string[] };

/** Hono's `cors()` with each of `layers` in turn, in front of a handler answering 200. */
async function reference(request: Request, ...layers: CorsOptions[]): Promise<Response> {
	const reference = new Hono();
	for (const options of layers) reference.use(cors(options));
	reference.all("*", (c) => c.json({}));
	return reference.fetch(request);
}

async function worker(vars: Record<string, string>, request: Request): Promise<Response> {
	const ctx = createExecutionContext();
	const response = await app.fetch(request, { ...env, ...vars }, ctx);
	await waitOnExecutionContext(ctx);
	return response;
}

const ORIGINS = ["https://console.example", "https://admin.example"];

function requests(path: string): [string, () => Request][] {
	const url = `${BASE}${path}`;
	const preflight = (origin: string) => () =>
		new Request(url, {
			method: "OPTIONS",
			headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization" },
		});
	const get = (headers: Record<string, string>) => () =>
		new Request(url, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...headers } });
	return [
		["a preflight from an allowed origin", preflight("https://admin.example")],
		["a preflight from another origin", preflight("https://evil.example")],
		["a GET from an allowed origin", get({ Origin: "https://console.example" })],
		["a GET from another origin", get({ Origin: "https://evil.example" })],
		["a GET without an origin", get({})],
	];
}

describe("CORS answers are Hono's cors() answers for the same options", () => {
	const settings: [string, CorsOptions["origin"]][] = [
		[ORIGINS.join(", "), [...ORIGINS]],
		["*", "*"],
	];
	for (const [setting, origin] of settings) {
		for (const [name, request] of requests("/v1/topics")) {
			it(`/v1, CORS_ORIGINS=${setting}: ${name}`, async () => {
				const answer = await worker({ CORS_ORIGINS: setting }, request());
				const expected = await reference(request(), { origin, ...API_OPTIONS });
				expect(corsPart(request(), answer)).toEqual(corsPart(request(), expected));
			});
		}
	}

	// /ds is answered by its own policy alone, whatever CORS_ORIGINS says (unset: any origin, as the protocol's
	// browser clients need); the API's CORS never answers a /ds preflight or adds its headers to a /ds answer.
	const streamsSettings: [string, CorsOptions["origin"]][] = [["", "*"], ...settings];
	for (const [setting, origin] of streamsSettings) {
		for (const [name, request] of requests("/ds/v1/stream/cors-reference")) {
			it(`/ds, CORS_ORIGINS=${setting || "(unset)"}: ${name}`, async () => {
				const answer = await worker({ CORS_ORIGINS: setting }, request());
				const expected = await reference(request(), { origin, ...STREAMS_OPTIONS });
				expect(corsPart(request(), answer)).toEqual(corsPart(request(), expected));
			});
		}
	}
});
