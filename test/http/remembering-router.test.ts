/**
 * The edge's router remembers each method and path's match (src/http/hono.ts): what it answers must be what
 * Hono's TrieRouter answers for the same routes, every time, however many paths it was asked before; a remembered
 * answer cannot be changed by the request it was handed to; and the app answers a repeated request as the first.
 */
import { TrieRouter } from "hono/router/trie-router";
import { describe, expect, it } from "vitest";
import { RememberingTrieRouter } from "../../src/http/hono.ts";
import { ROUTE_MATCH_PATH_CHARS_MAX, ROUTE_MATCHES_KEPT_MAX } from "../../src/shared/limits.ts";
import { uniqueTopic } from "../support/names.ts";
import { call, createTopic, fetchRecords, produce } from "../support/worker.ts";

const ROUTES: [string, string][] = [
	["ALL", "*"],
	["GET", "/healthz"],
	["ALL", "/v1/*"],
	["GET", "/v1/topics"],
	["POST", "/v1/topics"],
	["GET", "/v1/topics/:topic"],
	["POST", "/v1/topics/:topic/records"],
	["ALL", "/v1/topics/:topic/records"],
	["GET", "/v1/topics/:topic/partitions/:partition/records"],
	["POST", "/ds/v1/stream/:path{.+}"],
];

const ASKED: [string, string][] = [
	["POST", "/v1/topics/orders/records"],
	["GET", "/v1/topics/orders/records"],
	["GET", "/v1/topics/orders/partitions/3/records"],
	["GET", "/v1/topics/or%20ders"],
	["POST", "/v1/topics"],
	["GET", "/healthz"],
	["GET", "/nowhere"],
	["POST", "/ds/v1/stream/a/b/c"],
];

function both(): { plain: TrieRouter<string>; remembering: RememberingTrieRouter<string> } {
	const plain = new TrieRouter<string>();
	const remembering = new RememberingTrieRouter<string>();
	for (const [method, path] of ROUTES) {
		plain.add(method, path, `${method} ${path}`);
		remembering.add(method, path, `${method} ${path}`);
	}
	return { plain, remembering };
}

describe("the remembering router", () => {
	it("answers as TrieRouter, the first time and every time after", () => {
		const { plain, remembering } = both();
		for (let round = 0; round < 3; round++) {
			for (const [method, path] of ASKED) {
				expect(remembering.match(method, path), `${method} ${path}`).toEqual(plain.match(method, path));
			}
		}
	});

	it("hands back the remembered answer, frozen so no request can change it", () => {
		const { remembering } = both();
		const first = remembering.match("POST", "/v1/topics/orders/records");
		expect(remembering.match("POST", "/v1/topics/orders/records")).toBe(first);
		expect(first[0].map(([handler]) => handler)).toEqual([
			"ALL *",
			"ALL /v1/*",
			"POST /v1/topics/:topic/records",
			"ALL /v1/topics/:topic/records",
		]);
		expect(Object.isFrozen(first) && Object.isFrozen(first[0])).toBe(true);
		const [, params] = first[0][2] as [string, Record<string, string>];
		expect(params.topic).toBe("orders");
		expect(() => {
			params.topic = "other";
		}).toThrow(TypeError);
		expect(remembering.match("POST", "/v1/topics/orders/records")[0][2]?.[1]).toEqual({ topic: "orders" });
	});

	it("keeps at most ROUTE_MATCHES_KEPT_MAX answers, and still answers right once the oldest are gone", () => {
		const { plain, remembering } = both();
		const first = remembering.match("POST", "/v1/topics/t0/records");
		for (let i = 1; i <= ROUTE_MATCHES_KEPT_MAX; i++) remembering.match("POST", `/v1/topics/t${i}/records`);
		const again = remembering.match("POST", "/v1/topics/t0/records");
		expect(again).not.toBe(first); // the oldest was let go, and searched for again
		expect(again).toEqual(plain.match("POST", "/v1/topics/t0/records"));
		expect(remembering.match("POST", `/v1/topics/t${ROUTE_MATCHES_KEPT_MAX}/records`)).toEqual(
			plain.match("POST", `/v1/topics/t${ROUTE_MATCHES_KEPT_MAX}/records`),
		);
	});

	it("answers a path longer than ROUTE_MATCH_PATH_CHARS_MAX without keeping it", () => {
		const { plain, remembering } = both();
		const long = `/v1/topics/${"t".repeat(ROUTE_MATCH_PATH_CHARS_MAX)}/records`;
		const answer = remembering.match("POST", long);
		expect(answer).toEqual(plain.match("POST", long));
		expect(remembering.match("POST", long)).not.toBe(answer);
		const short = "/v1/topics/t/records";
		expect(remembering.match("POST", short)).toBe(remembering.match("POST", short));
	});

	it("forgets what it remembered when a route is added", () => {
		const { remembering } = both();
		expect(remembering.match("GET", "/v1/topics/orders/offsets")[0].map(([h]) => h)).toEqual(["ALL *", "ALL /v1/*"]);
		remembering.add("GET", "/v1/topics/:topic/offsets", "GET /v1/topics/:topic/offsets");
		expect(remembering.match("GET", "/v1/topics/orders/offsets")[0].map(([h]) => h)).toEqual([
			"ALL *",
			"ALL /v1/*",
			"GET /v1/topics/:topic/offsets",
		]);
	});

	it("is the app's router: requests repeating a path are answered as the first, each with its own parameters", async () => {
		const [a, b] = [uniqueTopic("router-a"), uniqueTopic("router-b")];
		await createTopic(a);
		await createTopic(b);
		for (let i = 0; i < 3; i++) {
			expect((await produce(a, [{ value: `a${i}` }])).offsets[0]?.offset).toBe(i);
			expect((await produce(b, [{ value: `b${i}` }])).offsets[0]?.offset).toBe(i);
		}
		expect((await fetchRecords(a, 0)).records.map((r) => r.value)).toEqual(["a0", "a1", "a2"]);
		expect((await fetchRecords(b, 0)).records.map((r) => r.value)).toEqual(["b0", "b1", "b2"]);
		// A name the schema refuses, twice: the same 400 and message both times, naming what was asked.
		const refused = [await call("POST", "/v1/topics/no%20spaces/records", { body: { records: [{ value: 1 }] } })];
		refused.push(await call("POST", "/v1/topics/no%20spaces/records", { body: { records: [{ value: 1 }] } }));
		const bodies = await Promise.all(refused.map((r) => r.json()));
		expect(refused.map((r) => r.status)).toEqual([400, 400]);
		expect(bodies[1]).toEqual(bodies[0]);
	});
});
