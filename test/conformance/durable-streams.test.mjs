/**
 * The Durable Streams conformance suite (`@durable-streams/server-conformance-tests`, pinned) against a real
 * `wrangler dev` serving `/ds`, with credential-less requests acting as `anonymous`, granted every right on the
 * streams' namespace (`topic:ds.*`) the way a public deployment would. Long-polls wait `DS_LONG_POLL_MS` (short
 * here, so the suite's timed-out polls finish quickly; 20 s by default).
 *
 * The suite sends its requests with the global fetch, which is made `durableStreamsFetch` for the run: a request
 * wrangler dev failed (not the Worker) is sent again when that is safe (test/e2e/lib/durable-streams-fetch.mjs).
 *
 * `DS_CONFORMANCE_URL=http://127.0.0.1:PORT` runs it against a broker already running instead.
 */

import { runConformanceTests } from "@durable-streams/server-conformance-tests";
import { afterAll, beforeAll } from "vitest";
import { startWranglerDev } from "../../scripts/lib/index.mjs";
import { durableStreamsFetch } from "../e2e/lib/durable-streams-fetch.mjs";
import { tempDir } from "../e2e/lib/temp-dir.mjs";

const TOKEN = "conformance-admin-token";
const LONG_POLL_MS = 1_500;
const config = { baseUrl: "", longPollTimeoutMs: 20_000 };
let dev = null;
let persist = null;
const globalFetch = globalThis.fetch;

async function grantAnonymous(base, token) {
	const response = await fetch(`${base}/v1/anonymous`, {
		method: "PUT",
		headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
		body: JSON.stringify({ acl: [{ resource: "topic:ds.*", operations: ["produce", "consume", "admin"] }] }),
	});
	if (response.status !== 200) throw new Error(`granting anonymous failed: ${response.status} ${await response.text()}`);
}

/** The broker's URL: the one named, or a `wrangler dev` started for the run. */
async function broker() {
	const external = process.env.DS_CONFORMANCE_URL;
	if (external !== undefined && external !== "") {
		await grantAnonymous(external, process.env.DS_CONFORMANCE_TOKEN ?? TOKEN);
		return external;
	}
	persist = tempDir("durable-streams");
	dev = await startWranglerDev({ persistTo: persist.path, token: TOKEN, vars: { DS_LONG_POLL_MS: String(LONG_POLL_MS) } });
	await grantAnonymous(dev.url, TOKEN);
	return dev.url;
}

beforeAll(async () => {
	const url = await broker();
	config.baseUrl = `${url}/ds`;
	globalThis.fetch = durableStreamsFetch(globalFetch, config.baseUrl);
});

afterAll(async () => {
	globalThis.fetch = globalFetch;
	await dev?.stop();
	persist?.remove();
});

runConformanceTests(config);
