/**
 * The doc test's reading of Markdown (test/e2e/lib/doc-blocks.mjs) and its bash session's curl checks, on small
 * documents against a plain local HTTP server: the convention in docs/doc-tests.md holds, and a doc that
 * contradicts its server fails.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import {
	checkResponse,
	extractBlocks,
	extractShellBlocks,
	instrumentBlock,
	JS_LANGS,
	matchesPattern,
	parseExpectation,
} from "./lib/doc-blocks.mjs";
import { gatewayStartLines, propertiesBlocks } from "./lib/doc-kafka.mjs";
import { runModule, runModules } from "./lib/doc-module.mjs";
import { runSession } from "./lib/doc-session.mjs";
import { listenLocal } from "./lib/local-server.mjs";

const doc = [
	"# Title",
	"```sh",
	'curl -s "$URL/a"   # → {"ok":true,"id":…}',
	"```",
	"<!-- doc-test: skip (needs kcat) -->",
	"```sh",
	"kcat -L",
	"```",
	"1. A list item:",
	"",
	"   ```bash",
	'   curl -s "$URL/conflict"',
	"   # → 409 topic_exists",
	"   curl -s $URL/b",
	'   # → {"records":[…],',
	'   #    "next_offset":3}',
	"   ```",
	"```js",
	"not shell",
	"```",
].join("\n");

describe("reading Markdown", () => {
	test("finds shell blocks (indented ones too), with their skips and first lines", () => {
		const blocks = extractShellBlocks(doc, "x.md");
		assert.deepEqual(
			blocks.map((b) => [b.line, b.skip]),
			[
				[3, null],
				[7, "needs kcat"],
				[12, null],
			],
		);
		assert.equal(blocks[2]?.code.split("\n")[0], 'curl -s "$URL/conflict"');
	});

	test("refuses a malformed marker and an unclosed fence", () => {
		assert.throws(() => extractShellBlocks("<!-- doc-test: skip -->\n```sh\nls\n```", "y.md"), /malformed doc-test marker/);
		assert.throws(() => extractShellBlocks("```sh\nls\n", "z.md"), /never closes/);
	});

	test("puts a check after each expectation, trailing or on its own lines with continuations", () => {
		const [first, , third] = extractShellBlocks(doc, "x.md");
		assert.ok(first !== undefined && third !== undefined);
		assert.deepEqual(
			instrumentBlock(third).expectations.map((e) => [e.where, e.expected]),
			[
				["x.md:13", "409 topic_exists"],
				["x.md:16", '{"records":[…], "next_offset":3}'],
			],
		);
		const lines = instrumentBlock(first).script.split("\n");
		assert.match(lines[1] ?? "", /^__doc_expect [A-Za-z0-9+/=]+$/);
	});

	test("parses and checks expectations: status, error code, body pattern", () => {
		assert.deepEqual(parseExpectation("409"), { status: 409, code: null, pattern: null });
		assert.deepEqual(parseExpectation("404 topic_not_found"), { status: 404, code: "topic_not_found", pattern: null });
		assert.deepEqual(parseExpectation('201 {"id":…}'), { status: 201, code: null, pattern: '{"id":…}' });
		assert.ok(matchesPattern('{"a": 1,\n "b": [2, 3]}', '{"a":1,"b":[…]}'));
		assert.ok(!matchesPattern('{"a":2}', '{"a":1}'));
		const e = (/** @type {string} */ expected) => ({ where: "w", expected });
		assert.equal(checkResponse(e("409 topic_exists"), 409, '{"error":{"code":"topic_exists"}}'), null);
		assert.match(checkResponse(e("409 topic_exists"), 409, '{"error":{"code":"other"}}') ?? "", /expected error code topic_exists/);
		assert.match(checkResponse(e('{"a":1}'), 404, '{"a":1}') ?? "", /expected a 2xx, got 404/);
		assert.equal(checkResponse(e("204"), 204, ""), null);
	});
});

describe("a bash session against a server", () => {
	/** @type {Record<string, [number, string]>} */
	const routes = { "/ok": [200, '{"ok":true,"id":7}'], "/conflict": [409, '{"error":{"code":"topic_exists"}}'] };
	const server = createServer((request, response) => {
		const [status, body] = routes[request.url ?? ""] ?? [404, '{"error":{"code":"not_found"}}'];
		response.writeHead(status, { "Content-Type": "application/json" }).end(body);
	});
	let url = "";
	/** @type {import("./lib/local-server.mjs").LocalServer | undefined} */
	let listening;
	before(async () => {
		listening = await listenLocal(server);
		url = listening.url;
	});
	after(() => listening?.close());

	const run = (/** @type {string} */ code) =>
		runSession([{ file: "t.md", line: 1, code, skip: null }], { cwd: process.cwd(), env: { URL: url }, timeoutMs: 20_000 });

	test("passes when the doc says what the server does", async () => {
		const result = await run(
			[
				'ID=$(curl -s "$URL/ok" | node -pe "JSON.parse(require(\'fs\').readFileSync(0)).id")',
				'[ "$ID" = 7 ]',
				'curl -s "$URL/ok"  # → {"ok":true,…}',
				'curl -s "$URL/conflict"',
				"# → 409",
			].join("\n"),
		);
		assert.equal(result.code, 0, result.stderr);
	});

	test("fails on an unmarked error status, at the next curl or at the end", async () => {
		for (const code of ['curl -s "$URL/conflict"\ncurl -s "$URL/ok"', 'curl -s "$URL/missing"']) {
			const result = await run(code);
			assert.equal(result.code, 1);
			assert.match(result.stderr, /unexpected HTTP (409|404)/);
		}
	});

	test("`npx tributary` runs the repository's own CLI, and a CLI that fails fails the session", async () => {
		const usage = await run("npx tributary --help");
		assert.equal(usage.code, 0, usage.stderr);
		assert.match(usage.stdout, /^usage: tributary /);
		const refused = await run('npx tributary --url "$URL" --token x topics describe missing');
		assert.equal(refused.code, 1);
		assert.match(refused.stderr, /tributary: error: /);
	});

	test("answers what the blocks exported, for the JavaScript blocks after them; not bash's own or unexported names", async () => {
		const result = await run('export GREETING="hi there"\nexport URL="$URL/upstash"\nLOCAL=x\ncd /tmp');
		assert.equal(result.code, 0, result.stderr);
		assert.deepEqual(result.exported, { GREETING: "hi there", URL: `${url}/upstash` });
	});

	test("fails when the output contradicts the doc, or an expectation follows no curl", async () => {
		const contradicted = await run('curl -s "$URL/ok"   # → {"ok":false,…}');
		assert.equal(contradicted.code, 1);
		assert.match(contradicted.stderr, /t\.md:1: expected \{"ok":false/);
		const orphan = await run("echo hi\n# → 200");
		assert.equal(orphan.code, 1);
		assert.match(orphan.stderr, /follows no curl command/);
	});
});

describe("a doc's Kafka section", () => {
	const kafkaDoc = [
		"```text",
		"npx tributary kafka-gateway --listen 127.0.0.1:9092 --url $URL --token $TOKEN",
		"npx tributary kafka-gateway --listen 0.0.0.0:9092 --url https://<worker> --advertised-host k.internal",
		"```",
		"```properties",
		"# a comment",
		"bootstrap.servers=127.0.0.1:9092",
		"sasl.username=<key id>",
		"sasl.password=<key secret>",
		"```",
	].join("\n");

	test("reads the gateway's start lines from text blocks: placeholders filled, the --listen port free", () => {
		const lines = gatewayStartLines(kafkaDoc, "k.md", { url: "http://127.0.0.1:1", token: "tok" });
		assert.deepEqual(
			lines.map((line) => [line.where, line.args]),
			[
				["k.md:2", ["kafka-gateway", "--listen", "127.0.0.1:0", "--url", "http://127.0.0.1:1", "--token", "tok"]],
				["k.md:3", ["kafka-gateway", "--listen", "0.0.0.0:0", "--url", "http://127.0.0.1:1", "--advertised-host", "k.internal"]],
			],
		);
	});

	// kcat stands in here for the real one, which test/e2e/docs.test.mjs runs against a gateway: it answers only when
	// handed the settings with the session's key and gateway filled in.
	const stub = (/** @type {string} */ topics) =>
		[
			"KEY_ID=k1 SECRET=s3 KAFKA_BOOTSTRAP=127.0.0.1:1234",
			"kcat() {",
			'  for line in "bootstrap.servers=127.0.0.1:1234" "sasl.username=k1" "sasl.password=s3"; do',
			'    grep -qxF "$line" "$2" || { echo "no $line in:"; cat "$2"; return 1; }',
			"  done",
			`  case "$3" in -L) echo ${JSON.stringify(topics)};; -C) echo 'order-42 v';; esac`,
			"}",
		].join("\n");
	const runProperties = (/** @type {string} */ topics) =>
		runSession(
			[
				{ file: "k.md", line: 1, code: stub(topics), skip: null },
				...propertiesBlocks(kafkaDoc, "k.md", { topic: "orders", record: "order-42 v" }),
			],
			{
				cwd: process.cwd(),
				env: {},
				timeoutMs: 20_000,
			},
		);

	test("runs a properties block with kcat -F, the key and the gateway filled in", async () => {
		const result = await runProperties(' topic "orders" with 1 partitions:');
		assert.equal(result.code, 0, result.stderr);
	});

	test("fails when kcat with those settings lists no such topic", async () => {
		const result = await runProperties(' topic "other" with 1 partitions:');
		assert.equal(result.code, 1);
		assert.match(result.stderr, /k\.md:6: kcat -F with these settings lists no topic orders/);
	});
});

describe("a module of JavaScript blocks", () => {
	const markdown = (/** @type {string} */ second) =>
		["```js", 'import { Tributary } from "tributary/client";', "const seen = [given];", "```", "```js", second, "```"].join("\n");
	const run = (/** @type {string} */ second) =>
		runModule(extractBlocks(markdown(second), "t.md", JS_LANGS), {
			cwd: process.cwd(),
			env: {},
			prelude: "const given = 1;",
			timeoutMs: 20_000,
		});

	test("runs the blocks in order as one module: the prelude's and earlier blocks' names are there, imports resolve", async () => {
		const result = await run('console.log(typeof Tributary, seen.join(","));');
		assert.equal(result.code, 0, result.stderr);
		assert.equal(result.stdout, "function 1\n");
		assert.match(result.stderr, /## t\.md:2\n## t\.md:6/);
	});

	test("fails when a block throws, or when it never ends", async () => {
		const thrown = await run('throw new Error("refused");');
		assert.equal(thrown.code, 1);
		assert.match(thrown.stderr, /refused/);
		const endless = await runModule(extractBlocks("```js\nsetInterval(() => {}, 1000);\n```", "t.md", JS_LANGS), {
			cwd: process.cwd(),
			env: {},
			prelude: "",
			timeoutMs: 1_000,
		});
		assert.notEqual(endless.code, 0);
		assert.match(endless.stderr, /took longer than 1000 ms/);
	});

	test("runs blocks apart, each its own module, when they are separate programs: one that fails stops the rest", async () => {
		const programs = extractBlocks(
			[
				"```js",
				'import { join as Kafka } from "node:path";',
				"console.log(typeof Kafka);",
				"```",
				"```js",
				'import { Kafka } from "kafkajs";',
				"console.log(typeof Kafka);",
				"```",
				"```js",
				'throw new Error("second");',
				"```",
				"```js",
				'console.log("never");',
				"```",
			].join("\n"),
			"t.md",
			JS_LANGS,
		);
		const options = { cwd: process.cwd(), env: {}, prelude: "", timeoutMs: 20_000 };
		const together = await runModules(programs.slice(0, 2), { ...options, apart: false });
		assert.match(together.stderr, /Identifier 'Kafka' has already been declared/);
		const apart = await runModules(programs, { ...options, apart: true });
		assert.equal(apart.code, 1);
		assert.equal(apart.stdout, "function\nfunction\n");
		assert.match(apart.stderr, /## t\.md:2\n## t\.md:6\n[\s\S]*## t\.md:10\n[\s\S]*second/);
		assert.doesNotMatch(apart.stderr, /t\.md:14/);
	});
});
