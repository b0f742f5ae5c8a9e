/**
 * Against a real `wrangler dev`: the served OpenAPI document (a static asset the build writes) validates as
 * OpenAPI 3.1 with a real validator (@apidevtools/swagger-parser, offline: the document has no external
 * references) and lists every /v1 route of the route table, and any origin may read it (browser API tools); /docs renders it as a page needing nothing else,
 * under its own Content-Security-Policy; other methods on it, the document and the console reach the Worker and get its
 * JSON 405; Prometheus' scrape works with a bearer
 * token; and each failed request is one JSON log line in the Worker's output (what `wrangler tail` shows), while an
 * answered one writes none under the shipped `REQUEST_LOG = "errors"`.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, test } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { generateToken, startWranglerDev, stopAllWranglerDevs, waitUntil } from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const state = tempDir("openapi");
/** The request id the refused produce is sent with, to find its log line. */
const REFUSED_REQUEST_ID = "e2e-refused-produce";
after(async () => {
	await stopAllWranglerDevs();
	state.remove();
});

/** `/v1` route keys of the route table, read from its source (Node cannot import TypeScript). */
function v1Routes() {
	const source = readFileSync(new URL("../../src/http/route-table.ts", import.meta.url), "utf8");
	return [...source.matchAll(/^\t"((?:GET|POST|PATCH|DELETE|PUT) \/v1[^"]*)":/gm)].map((m) => m[1] ?? "");
}

test("OpenAPI document, /docs, /metrics and request logs", { timeout: 120_000 }, async () => {
	const token = generateToken();
	const dev = await startWranglerDev({ persistTo: state.path, token });
	const api = client(dev.url, token);

	const served = await api.request("GET", "/openapi.json", { auth: false });
	assert.equal(served.status, 200, served.text);
	const document = served.json;
	assert.equal(document.openapi, "3.1.0");

	const routes = v1Routes();
	assert.ok(routes.length > 25, `found ${routes.length} /v1 routes`);
	for (const route of routes) {
		const [method = "", path = ""] = route.split(" ");
		const item = document.paths[path.replace(/:([A-Za-z_]+)/g, "{$1}")];
		assert.ok(item?.[method.toLowerCase()], `${route} is documented`);
	}
	assert.deepEqual(Object.keys(document.components.securitySchemes).sort(), ["basic", "bearer"]);

	const docs = await fetch(`${dev.url}/docs`);
	const html = await docs.text();
	assert.equal(docs.status, 200);
	assert.match(docs.headers.get("content-type") ?? "", /^text\/html/);
	assert.doesNotMatch(html, /<script|https?:\/\/(?!127\.0\.0\.1)/, "no script and no external resource");
	assert.match(html, /\/v1\/topics\/\{topic\}\/records/);
	assert.match(docs.headers.get("content-security-policy") ?? "", /^default-src 'none'; style-src 'unsafe-inline'/);
	const crossOrigin = await fetch(`${dev.url}/openapi.json`, { headers: { Origin: "https://editor.swagger.io" } });
	assert.equal(crossOrigin.status, 200);
	assert.equal(crossOrigin.headers.get("access-control-allow-origin"), "*");
	await crossOrigin.arrayBuffer();
	// Other methods on the assets' paths get the Worker's JSON 405, not the assets layer's empty one.
	for (const path of ["/openapi.json", "/docs", "/console/", "/console/app.js"]) {
		for (const method of ["POST", "DELETE"]) {
			const refused = await fetch(`${dev.url}${path}`, { method });
			const text = await refused.text();
			assert.equal(refused.status, 405, `${method} ${path}: ${text}`);
			assert.match(refused.headers.get("content-type") ?? "", /^application\/json/, `${method} ${path}`);
			assert.equal(JSON.parse(text).error.code, "method_not_allowed", `${method} ${path}`);
			assert.match(refused.headers.get("allow") ?? "", /GET/, `${method} ${path}`);
		}
	}
	const consolePage = await fetch(`${dev.url}/console/`);
	assert.equal(consolePage.status, 200);
	assert.match(await consolePage.text(), /<!doctype html>/i);
	assert.match(consolePage.headers.get("content-security-policy") ?? "", /script-src 'self'/, "the console keeps its own CSP");
	const docsHead = await fetch(`${dev.url}/docs`, { method: "HEAD" });
	assert.equal(docsHead.status, 200);
	assert.match(docsHead.headers.get("content-type") ?? "", /^text\/html/);
	const missingFile = await fetch(`${dev.url}/console/no-such-file.js`);
	assert.equal(missingFile.status, 404);
	assert.equal(JSON.parse(await missingFile.text()).error.code, "not_found");

	await api.createTopic("observed", 1);
	await api.produce("observed", [{ value: 1 }, { value: 2 }]);
	const refused = await api.request("POST", "/v1/topics/unobserved/records", {
		body: { records: [{ value: 1 }] },
		headers: { "X-Request-Id": REFUSED_REQUEST_ID },
	});
	assert.equal(refused.status, 404, refused.text);
	const scraped = await fetch(`${dev.url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
	assert.equal(scraped.status, 200);
	assert.match(scraped.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
	assert.match(await scraped.text(), /^# TYPE tributary_http_requests_total counter$/m);

	// A line reaches wrangler's output after its answer: wait for the refused produce's, which was written after the
	// answered produce's would have been (one isolate's lines come out in order).
	await waitUntil(() => dev.output().includes(REFUSED_REQUEST_ID), { timeoutMs: 10_000, message: "the refused produce's log line" });
	const output = dev.output().split("\n");
	const logged = output.filter((line) => line.includes('"msg":"request"')).map((line) => JSON.parse(line.slice(line.indexOf("{"))));
	const produces = logged.filter((l) => l.route === "/v1/topics/:topic/records");
	assert.deepEqual(
		produces.map((l) => l.status),
		[404],
		"one log line for the refused produce, none for the answered one",
	);
	const [produce] = produces;
	assert.equal(produce.principal, "admin");
	assert.equal(produce.request_id, REFUSED_REQUEST_ID);
	assert.equal(typeof produce.duration_ms, "number");
	assert.ok(!output.some((line) => line.includes(token)), "the token never appears in the output");
	// Last, after every request: validate() holds this process's event loop for all of its ~0.6 CPU-s (several seconds
	// of wall time on a loaded machine), and a request sent after that on a connection idle meanwhile met wrangler dev's
	// proxy closing it at 5 s idle, before undici's own 4 s timer could run to drop it: "other side closed".
	// validate() dereferences in place: hand it a copy.
	await SwaggerParser.validate(structuredClone(document));
});
