/**
 * The SDK's `url` is the broker's base URL: requests append `/v1/…` to it. One that already holds the API's path
 * (`http://127.0.0.1:8787/v1`, copied from a curl line) would send every request to `/v1/v1/…` and read as a
 * broker answering 404 to everything, so the constructor refuses it; a proxy's own path prefix stays allowed.
 */
import { expect, it } from "vitest";
import { baseUrlProblem, brokerUrl, LOCAL_URL, Tributary, TributaryError, urlProblem } from "../../client/index.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, BASE, createTopic, workerFetch } from "../support/worker.ts";

// A query or fragment in the base URL swallowed every request's path too: `http://127.0.0.1:8787?x` + `/v1/topics` is a
// request for `/` with the query `x/v1/topics`, and `…#y` + `/v1/topics` one for `/` with the path in its fragment.
// Either is named, not quoted: a query string often carries a secret, and the message is printed and thrown.
it("refuses a url holding the API's path /v1, a query string or a fragment at construction, naming it and the base URL to give", () => {
	const local = "http://127.0.0.1:8787";
	const proxy = "https://proxy.example/tributary";
	for (const [url, problem] of [
		[`${local}/v1`, `holds the API's path /v1: give the broker's base URL, without /v1, such as ${local}`],
		[`${local}/v1/`, `holds the API's path /v1/: give the broker's base URL, without /v1, such as ${local}`],
		[`${proxy}/v1/topics`, `holds the API's path /v1/topics: give the broker's base URL, without /v1, such as ${proxy}`],
		[`${local}?x`, `holds a query string: give the broker's base URL, without it, such as ${local}`],
		[`${local}/?`, `holds a query string: give the broker's base URL, without it, such as ${local}`],
		[`${local}#y`, `holds a fragment: give the broker's base URL, without it, such as ${local}`],
		[`${proxy}/?token=1#top`, `holds a query string: give the broker's base URL, without it, such as ${proxy}`],
		[`${proxy}#`, `holds a fragment: give the broker's base URL, without it, such as ${proxy}`],
	] as const) {
		let thrown: unknown;
		try {
			new Tributary({ url, token: ADMIN_TOKEN, fetch: workerFetch });
		} catch (cause) {
			thrown = cause;
		}
		expect(thrown, url).toBeInstanceOf(TributaryError);
		expect(thrown, url).toMatchObject({ code: "invalid_argument", message: `url ${problem}` });
		expect(baseUrlProblem(url), url).toBe(problem);
		expect(urlProblem(url), url).toBe(problem);
	}
	expect(baseUrlProblem(`${local}/v1?x`)).toBe(`holds the API's path /v1: give the broker's base URL, without /v1, such as ${local}`);
});

// The CLI and the Kafka gateway check a URL typed or set with urlProblem: what the SDK refuses, and text that would
// reach fetch as "Invalid URL" (a host:port without its scheme, as wrangler prints an address), or no URL at all.
it("urlProblem refuses what is not an http(s) URL the parser takes, and takes a base URL", () => {
	expect(urlProblem("127.0.0.1:8787")).toBe('must be an http:// or https:// URL such as http://127.0.0.1:8787, not "127.0.0.1:8787"');
	expect(urlProblem("")).toBe('must be an http:// or https:// URL such as http://127.0.0.1:8787, not ""');
	expect(urlProblem("ftp://host/")).toBe('must be an http:// or https:// URL such as http://127.0.0.1:8787, not "ftp://host/"');
	expect(urlProblem("http://exa mple")).toBe('is not a URL: "http://exa mple"');
	for (const url of ["http://127.0.0.1:8787", "HTTPS://proxy.example/tributary/"]) expect(urlProblem(url), url).toBeNull();
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

// The CLI's and the Kafka gateway's one rule for where the broker is: `--url`, else TRIBUTARY_URL, else the local one.
it("brokerUrl takes --url, else TRIBUTARY_URL, else LOCAL_URL; an empty TRIBUTARY_URL, or a URL urlProblem refuses, is a problem naming its source", () => {
	expect(brokerUrl(undefined, undefined)).toEqual({ url: LOCAL_URL, problem: null });
	expect(brokerUrl(undefined, "https://proxy.example/t")).toEqual({ url: "https://proxy.example/t", problem: null });
	expect(brokerUrl("http://10.0.0.1:8787", "https://proxy.example/t")).toEqual({ url: "http://10.0.0.1:8787", problem: null });
	expect(brokerUrl(undefined, "")).toEqual({
		url: null,
		problem: `TRIBUTARY_URL is set but empty: give it the broker's URL, such as ${LOCAL_URL}, or unset it to use that one`,
	});
	expect(brokerUrl("", undefined)).toEqual({ url: null, problem: `--url ${urlProblem("")}` });
	expect(brokerUrl(undefined, `${LOCAL_URL}/v1`)).toEqual({ url: null, problem: `TRIBUTARY_URL ${urlProblem(`${LOCAL_URL}/v1`)}` });
	expect(brokerUrl("127.0.0.1:8787", LOCAL_URL)).toEqual({ url: null, problem: `--url ${urlProblem("127.0.0.1:8787")}` });
});
