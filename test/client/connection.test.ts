/**
 * The SDK's `url` is the broker's base URL: requests append `/v1/…` to it. One that already holds the API's path
 * (`http://127.0.0.1:8787/v1`, copied from a curl line) would send every request to `/v1/v1/…` and read as a
 * broker answering 404 to everything, so the constructor refuses it; a proxy's own path prefix stays allowed.
 */
import { expect, it } from "vitest";
import { baseUrlProblem, Tributary, TributaryError } from "../../client/index.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, BASE, createTopic, workerFetch } from "../support/worker.ts";

it("refuses a url holding the API's path /v1 at construction, naming the path and the base URL to give", () => {
	for (const [url, path, base] of [
		["http://127.0.0.1:8787/v1", "/v1", "http://127.0.0.1:8787"],
		["http://127.0.0.1:8787/v1/", "/v1/", "http://127.0.0.1:8787"],
		["https://proxy.example/tributary/v1/topics", "/v1/topics", "https://proxy.example/tributary"],
	] as const) {
		let thrown: unknown;
		try {
			new Tributary({ url, token: ADMIN_TOKEN, fetch: workerFetch });
		} catch (cause) {
			thrown = cause;
		}
		expect(thrown, url).toBeInstanceOf(TributaryError);
		expect(thrown).toMatchObject({
			code: "invalid_argument",
			message: `url holds the API's path ${path}: give the broker's base URL, without /v1, such as ${base}`,
		});
	}
});

// A query or fragment in the base URL swallowed every request's path: `http://127.0.0.1:8787?x` + `/v1/topics` is a
// request for `/` with the query `x/v1/topics`, and `…#y` + `/v1/topics` one for `/` with the path in its fragment.
it("refuses a url holding a query string or a fragment at construction, naming it and the base URL to give", () => {
	for (const [url, part, base] of [
		["http://127.0.0.1:8787?x", 'a query string "?x"', "http://127.0.0.1:8787"],
		["http://127.0.0.1:8787/?", 'a query string "?"', "http://127.0.0.1:8787"],
		["http://127.0.0.1:8787#y", 'a fragment "#y"', "http://127.0.0.1:8787"],
		["https://proxy.example/tributary/?token=1#top", 'a query string "?token=1"', "https://proxy.example/tributary"],
		["https://proxy.example/tributary#", 'a fragment "#"', "https://proxy.example/tributary"],
	] as const) {
		let thrown: unknown;
		try {
			new Tributary({ url, token: ADMIN_TOKEN, fetch: workerFetch });
		} catch (cause) {
			thrown = cause;
		}
		expect(thrown, url).toBeInstanceOf(TributaryError);
		expect(thrown, url).toMatchObject({
			code: "invalid_argument",
			message: `url holds ${part}: give the broker's base URL, without it, such as ${base}`,
		});
	}
	expect(baseUrlProblem("http://127.0.0.1:8787/v1?x")).toBe(
		"holds the API's path /v1: give the broker's base URL, without /v1, such as http://127.0.0.1:8787",
	);
});

it("takes a base URL with a proxy's path prefix, and sends requests under it", async () => {
	const topic = uniqueTopic("sdk-prefix");
	await createTopic(topic, 1);
	const seen: string[] = [];
	const client = new Tributary({
		url: `${BASE}/tributary/`,
		token: ADMIN_TOKEN,
		fetch: (request) => {
			const url = new URL(request.url);
			seen.push(url.pathname);
			url.pathname = url.pathname.replace(/^\/tributary/, "");
			return workerFetch(new Request(url, request));
		},
	});
	expect((await client.topics.describe(topic)).partitions).toHaveLength(1);
	expect(seen).toEqual([`/tributary/v1/topics/${topic}`]);
});
