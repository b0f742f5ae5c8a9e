/**
 * `authorize()` reads a request's path by slicing its URL, not by parsing it again: the slice must be exactly what
 * `new URL(url).pathname` answers for every URL a request can carry.
 */
import { describe, expect, it } from "vitest";
import { pathnameOf } from "../../src/http/middleware/authorize.ts";

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
