/**
 * `authorize()` reads a request's path by slicing its URL, not by parsing it again: the slice must be exactly what
 * `new URL(url).pathname` answers for every URL a request can carry.
 */
import { routePath } from "hono/route";
import { describe, expect, it } from "vitest";
import { Hono } from "../../src/http/hono.ts";
import { pathnameOf, routeParams } from "../../src/http/middleware/authorize.ts";
import { matchedRoute, ROUTES } from "../../src/http/route-table.ts";

describe("pathnameOf", () => {
	it.each([
		"http://tributary.test/v1/topics/orders/records",
		"https://example.com:8443/v1/topics/a%2Fb/records?x=1&y=/z",
		"http://127.0.0.1:8787/",
		"http://127.0.0.1:8787",
		"http://host/ds/v1/stream/a/b/c?offset=-1#fragment",
		"http://host/v1/topics/t#frag?not-a-query",
		"http://host/v1/topics/%E2%9C%93?q=%3F",
		"http://user:pw@host/v1/keys",
	])("%s", (url) => {
		expect(pathnameOf(new Request(url).url)).toBe(new URL(url).pathname);
	});
});

/**
 * `authorize()` checks a key's ACL against the route's parameters before the handler runs, reading them from the
 * request's path where the route table says they are (`MatchedRoute.params`), and finds the route from Hono's match
 * through an entry kept per route object. Both must name exactly what the handler will read: for every route of the
 * table, the route found is the one that answers, and the parameters are the ones `c.req.param()` gives its handler,
 * request after request on the same route.
 */
describe("the route and parameters authorize() checks", () => {
	/**
	 * Values of one segment: plain, percent-encoded (a letter, UTF-8, a slash, a percent sign), and malformed (a `%`
	 * not followed by two hex digits beside a valid escape, UTF-8 cut short, a lone `%`), which Hono decodes in part.
	 */
	const SEGMENTS = ["orders", "a.b-c_d", "a%41b", "%E2%9C%93", "a%2Fb", "a%2541", "x%ZZ%41", "%E2%9C%41", "a%", "%%41%2"];
	/** Values of a `{.+}` parameter, which spans segments. */
	const RESTS = [...SEGMENTS, "dir/sub/x%41", "a/b%2Fc/d"];

	/** The path of `route` with every parameter filled: `:name` by `value`, `:name{.+}` by `rest`, `:name{literal}` by the literal. */
	function fill(route: string, value: string, rest: string): string {
		return route
			.split("/")
			.map((part) => {
				if (!part.startsWith(":")) return part;
				const pattern = /\{(.*)\}$/.exec(part)?.[1];
				if (pattern === undefined) return value;
				if (pattern === ".+") return rest;
				expect(pattern, route).toMatch(/^[\w:-]+$/);
				return pattern;
			})
			.join("/");
	}

	type Seen = { routePath: string; params: Record<string, string> };
	const probe = new Hono<{ Variables: { seen: Seen | undefined } }>();
	probe.use("*", async (c, next) => {
		const route = matchedRoute(c);
		c.set(
			"seen",
			route === undefined ? undefined : { routePath: route.path, params: { ...routeParams(route.params, pathnameOf(c.req.url)) } },
		);
		await next();
	});
	for (const key of Object.keys(ROUTES)) {
		const [method = "", path = ""] = key.split(" ");
		probe.on(method, path, (c) => c.json({ seen: c.get("seen"), routePath: routePath(c), params: c.req.param() }));
	}

	it.each(Object.keys(ROUTES))("%s", async (key) => {
		const [method = "", path = ""] = key.split(" ");
		for (const [i, value] of SEGMENTS.entries()) {
			for (const rest of i === 0 ? RESTS : [value]) {
				const response = await probe.request(`http://tributary.test${fill(path, value, rest)}?q=%2F`, { method });
				expect(response.status, `${key} ${value} ${rest}`).toBe(200);
				const answer = (await response.json()) as { seen: Seen; routePath: string; params: Record<string, string> };
				expect(answer.seen.routePath).toBe(path);
				expect(answer.routePath).toBe(path);
				expect(answer.seen.params, `${key} with ${value} / ${rest}`).toEqual(answer.params);
			}
		}
	});

	it("finds no route for a path no route answers, so authorize() lets the 404 through", async () => {
		const response = await probe.request("http://tributary.test/v1/nothing-here");
		expect(response.status).toBe(404);
	});
});
