// @ts-check
/**
 * `tributary topics create` when wrangler dev's proxy answers its create 503 after the Worker made the topic (its
 * catch covers a failure reading the Worker's answer: seen under load in cli.test.mjs, "produce --json takes record
 * objects"): a relay in front of a real `wrangler dev` forwards every request and, for the first create, drops the
 * Worker's answer for the proxy's. The CLI sends the create again, meets 409 `topic_exists`, finds the topic as it
 * asked, and says it created it (client/README.md, Retries).
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, test } from "node:test";
import { stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { runCli } from "./lib/cli.mjs";
import { WRANGLER_PROXY_RETRY_TEXT } from "./lib/client.mjs";
import { listenLocal } from "./lib/local-server.mjs";
import { plainDevToken, plainWranglerDev } from "./lib/shared-dev.mjs";

const token = plainDevToken();
/** @type {ReturnType<typeof plainWranglerDev> | undefined} */
let started;
after(async () => {
	await stopAllWranglerDevs();
	(await started)?.remove();
});

/**
 * A relay to `target` whose first `POST /v1/topics` is served by the Worker and answered as wrangler dev's proxy
 * answers a forward it failed; every request it saw, as "METHOD path status".
 * @param {string} target
 * @returns {Promise<{ url: string, seen: string[], close: () => Promise<void> }>}
 */
function relayLosingFirstCreate(target) {
	/** @type {string[]} */
	const seen = [];
	let lost = false;
	const server = createServer((request, response) => {
		/** @type {Buffer[]} */
		const chunks = [];
		request.on("data", (chunk) => chunks.push(chunk));
		request.on("end", async () => {
			const method = request.method ?? "GET";
			const body = method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks);
			const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== "host" && name !== "content-length"));
			const answer = await fetch(`${target}${request.url}`, { method, headers: /** @type {Record<string, string>} */ (headers), body });
			const text = await answer.text();
			if (!lost && method === "POST" && request.url === "/v1/topics") {
				lost = true;
				seen.push(`${method} ${request.url} ${answer.status}, answered 503 by the relay`);
				response.writeHead(503, { "content-type": "text/plain;charset=UTF-8", "retry-after": "0" }).end(WRANGLER_PROXY_RETRY_TEXT);
				return;
			}
			seen.push(`${method} ${request.url} ${answer.status}`);
			response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/plain" }).end(text);
		});
	});
	return listenLocal(server).then(({ url, close }) => ({ url, seen, close }));
}

test("topics create whose answer wrangler dev's proxy lost after the Worker made the topic says it created it", {
	timeout: 180_000,
}, async () => {
	started ??= plainWranglerDev("cli-create-lost", token);
	const dev = await started;
	const relay = await relayLosingFirstCreate(dev.url);
	try {
		const env = { TRIBUTARY_URL: relay.url, TRIBUTARY_TOKEN: token };
		const created = await runCli(
			["topics", "create", "cli-lost-create", "--partitions", "2", "--config", "retention.ms=3600000", "--json"],
			{
				env,
			},
		);
		assert.equal(created.status, 0, created.stderr);
		const described = await runCli(["topics", "describe", "cli-lost-create", "--json"], {
			env: { TRIBUTARY_URL: dev.url, TRIBUTARY_TOKEN: token },
		});
		const topic = JSON.parse(described.stdout);
		assert.deepEqual(JSON.parse(created.stdout), {
			name: "cli-lost-create",
			topic_id: topic.topic_id,
			partitions: 2,
			config: topic.config,
		});
		assert.equal(topic.config["retention.ms"], 3_600_000);
		assert.deepEqual(relay.seen, [
			"POST /v1/topics 201, answered 503 by the relay",
			"POST /v1/topics 409",
			"GET /v1/topics/cli-lost-create 200",
			// Which configs the topic holds other than at their defaults (none it was not given).
			"GET /kafka/v3/clusters/tributary/topics/cli-lost-create/configs 200",
		]);
	} finally {
		await relay.close();
	}
});
