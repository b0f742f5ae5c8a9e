/**
 * The gateway's command line (gateway/main.js `parseGatewayArgs`): what Metadata will tell clients to connect to must
 * be an address they can reach. A wildcard listen address (every interface) is not one, so without
 * `--advertised-host` it is refused at start, as a Kafka broker refuses `advertised.listeners` on 0.0.0.0, instead of
 * sending every client to 0.0.0.0 (its own host) after bootstrap. The Worker's URL (`--url`, else $TRIBUTARY_URL) is
 * checked as the CLI checks it, so `npm run kafka-gateway` run on its own refuses an empty, unparsable or `/v1`-holding
 * URL with a usage error naming it, before it listens, instead of "Invalid URL" or a gateway whose every call is a 404.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseGatewayArgs } from "../../gateway/main.js";

const GATEWAY_MAIN = fileURLToPath(new URL("../../gateway/main.js", import.meta.url));

test("a wildcard --listen host without --advertised-host is refused, naming the flag; with it, or on a routable host, the gateway starts", () => {
	for (const listen of ["0.0.0.0:9092", "[::]:9092", ":9092"])
		assert.throws(() => parseGatewayArgs(["--listen", listen], {}), /--advertised-host/, listen);
	const behind = parseGatewayArgs(["--listen", "0.0.0.0:9092", "--advertised-host", "kafka.internal"], {});
	assert.deepEqual([behind.host, behind.port, behind.advertisedHost], ["0.0.0.0", 9092, "kafka.internal"]);
	const local = parseGatewayArgs(["--listen", "127.0.0.1:9092"], {});
	assert.deepEqual([local.host, local.advertisedHost], ["127.0.0.1", undefined]);
	assert.throws(() => parseGatewayArgs(["--listen", "127.0.0.1:9092", "--advertised-host", "0.0.0.0"], {}), /--advertised-host/);
});

test("--help is answered whatever else the command line holds, a wildcard --listen too", () => {
	assert.equal(parseGatewayArgs(["--help", "--listen", "0.0.0.0:9092"], {}).help, true);
	assert.equal(parseGatewayArgs(["--listen", "nonsense", "-h"], {}).help, true);
});

test("every way of writing the any-address that node:net binds as one is a wildcard, refused without --advertised-host", () => {
	// Each binds 0.0.0.0, :: or ::ffff:0.0.0.0 (the IPv4 any-address in IPv6's form) in node:net.
	for (const host of ["0", "0.0", "0x0", "000.000.000.000", "[::0]", "[0:0:0:0:0:0:0:0]", "[::ffff:0.0.0.0]", "[::ffff:0:0]"])
		assert.throws(() => parseGatewayArgs(["--listen", `${host}:9092`], {}), /--advertised-host/, host);
	assert.equal(parseGatewayArgs(["--listen", "127.1:9092"], {}).host, "127.1");
	assert.equal(parseGatewayArgs(["--listen", "[::1]:9092"], {}).host, "::1");
});

test("a wildcard --advertised-host is refused for itself, not blamed on --listen", () => {
	for (const advertised of ["0.0.0.0", "0", "::", "[::0]"]) {
		const given = ["--listen", "127.0.0.1:9092", "--advertised-host", advertised];
		assert.throws(
			() => parseGatewayArgs(given, {}),
			(error) => {
				const { message } = /** @type {Error} */ (error);
				assert.match(message, new RegExp(`^--advertised-host ${advertised.replace(/[[\]]/g, "\\$&")} `));
				assert.doesNotMatch(message, /--listen|pass --advertised-host/);
				return true;
			},
			advertised,
		);
	}
});

/** URLs the gateway must refuse as the Worker's, with what its usage error must say. @type {[string, RegExp][]} */
const BAD_URLS = [
	["", /^kafka-gateway: --url must be an http:\/\/ or https:\/\/ URL such as http:\/\/127\.0\.0\.1:8787, not ""/],
	["127.0.0.1:8787", /^kafka-gateway: --url must be an http:\/\/ or https:\/\/ URL .*not "127\.0\.0\.1:8787"/],
	["http://exa mple.com", /^kafka-gateway: --url is not a URL: "http:\/\/exa mple\.com"/],
	[
		"http://127.0.0.1:8787/v1",
		/^kafka-gateway: --url holds the API's path \/v1: give the broker's base URL, without \/v1, such as http:\/\/127\.0\.0\.1:8787/,
	],
];

/** An assert.throws check of the error's message (a RegExp alone is matched against "Error: …"). @param {RegExp} said */
const saying = (said) => (/** @type {unknown} */ error) => said.test(/** @type {Error} */ (error).message);

test("an empty, unparsable or /v1-holding --url or TRIBUTARY_URL is refused, naming it; a base URL, with a proxy's prefix too, is taken", () => {
	for (const [url, said] of BAD_URLS) {
		const message = new RegExp(said.source.replace("^kafka-gateway: ", "^"));
		assert.throws(() => parseGatewayArgs(["--url", url], {}), saying(message), `--url ${url}`);
		const fromEnv = new RegExp(message.source.replace("^--url", "^TRIBUTARY_URL"));
		if (url !== "") assert.throws(() => parseGatewayArgs([], { TRIBUTARY_URL: url }), saying(fromEnv), `TRIBUTARY_URL=${url}`);
	}
	assert.throws(() => parseGatewayArgs([], { TRIBUTARY_URL: "" }), saying(/^TRIBUTARY_URL is set but empty/));
	for (const url of ["http://127.0.0.1:8787", "https://host.example/tributary"])
		assert.equal(/** @type {any} */ (parseGatewayArgs(["--url", url], {})).url, url);
	assert.equal(/** @type {any} */ (parseGatewayArgs([], {})).url, "http://127.0.0.1:8787");
});

/**
 * `node gateway/main.js ARGS` (`npm run kafka-gateway -- ARGS`) until it exits or says it listens.
 * @param {string[]} args @returns {Promise<{ status: number | null, stderr: string, listened: boolean }>}
 */
function runStandalone(args) {
	const child = spawn(process.execPath, [GATEWAY_MAIN, ...args], {
		stdio: ["ignore", "pipe", "pipe"],
		env: { ...process.env, TRIBUTARY_URL: "" },
	});
	let stderr = "";
	return new Promise((resolve) => {
		child.stderr.on("data", (chunk) => {
			stderr += chunk;
			if (/listening on/.test(stderr)) {
				child.kill("SIGTERM");
				resolve({ status: null, stderr, listened: true });
			}
		});
		child.once("exit", (status) => resolve({ status, stderr, listened: false }));
	});
}

test("the standalone gateway with a bad --url exits 2 with the usage before it listens", { timeout: 30_000 }, async () => {
	// One process each, started at once: one after another, four Node starts outlasted the bound at load 23.
	const runs = await Promise.all(BAD_URLS.map(([url]) => runStandalone(["--listen", "127.0.0.1:0", "--url", url])));
	for (const [i, [url, said]] of BAD_URLS.entries()) {
		const { status, stderr, listened } = runs[i] ?? { status: null, stderr: "", listened: false };
		assert.equal(listened, false, `--url ${url}: listened`);
		assert.equal(status, 2, `--url ${url}: ${stderr}`);
		assert.match(stderr, said, `--url ${url}`);
		assert.match(stderr, /^usage: kafka-gateway /m, `--url ${url}`);
	}
});
