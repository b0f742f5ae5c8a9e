// @ts-check
/**
 * The docs run as written: every shell block of README.md and docs/*.md, in order, in one bash session per file,
 * against a fresh broker (a real `wrangler dev` on a free port, empty state, WEBHOOK_ALLOW_PRIVATE=true as
 * `npm start -- --allow-private-webhooks` sets it). A response of 400 or more that the text does not mark, or an
 * output that contradicts a `# → …` line, fails the test. client/README.md's and README.md's JavaScript blocks run
 * too, on the broker of a doc named in MODULE_DOCS; one that throws or never ends fails it. README.md's kcat and
 * kafkajs blocks reach a Kafka gateway in front of its broker (KAFKA_DOCS). Convention: docs/doc-tests.md.
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { generateToken, PROJECT_ROOT, startWranglerDev, stopAllWranglerDevs, underLoad } from "../../scripts/lib/index.mjs";
import { extractBlocks, extractShellBlocks, JS_LANGS } from "./lib/doc-blocks.mjs";
import { gatewayStartLines, propertiesBlocks } from "./lib/doc-kafka.mjs";
import { runModules } from "./lib/doc-module.mjs";
import { runSession } from "./lib/doc-session.mjs";
import { kcat, kcatSasl, startGatewayCommand } from "./lib/kafka.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

/**
 * The load (2 cores) the hang bounds below held at: every doc's session runs at once, each with a broker of its own,
 * and README.md's took about 270 s of its test's 270 s at 15-19. Above it they are stretched (`underLoad`).
 */
const BOUNDS_LOAD = 16;
const SESSION_TIMEOUT_MS = underLoad(180_000, BOUNDS_LOAD);
const MODULE_TIMEOUT_MS = underLoad(120_000, BOUNDS_LOAD);
/** A doc's session, then its modules' and gateways' time after it. */
const TEST_TIMEOUT_MS = SESSION_TIMEOUT_MS + underLoad(90_000, BOUNDS_LOAD);

/**
 * What the SDK's examples (client/README.md's, README.md's at a glance) leave to their reader: a few orders to send,
 * and the consumer loop's bill(), which bills one record and then has the loop stop at its `if (shuttingDown) break`.
 */
const SDK_READER_PRELUDE = `const orders = [{ id: "order-1", sku: "A1", qty: 1 }, { id: "order-2", sku: "B2", qty: 3 }];
let shuttingDown = false;
async function bill(_value) {
	shuttingDown = true;
}`;

/** What the README's kafkajs snippet leaves to its reader: a key's id and secret (the admin and its token are one). */
const KAFKA_READER_PRELUDE = 'const keyId = "admin", keySecret = process.env.TRIBUTARY_TOKEN;';

/**
 * Docs whose JavaScript blocks run too, as one module in order (test/e2e/lib/doc-module.mjs), each on the broker of
 * the shell session named as its key once that session is done: no wrangler dev start of its own. client/README.md
 * and observability.md must create nothing alike (observability.md makes one key, "prometheus"); README.md's blocks
 * follow its own tour, as its reader's would; webhooks.md's signature check and the receiver that uses it run on that
 * doc's own broker (it has no shell block), compat-upstash.md's @upstash/kafka client with the key its shell blocks
 * made and exported. `apart`: each block is a program of its own (README.md's import
 * different clients, two of them a `Kafka`), run as its own module in order.
 */
const MODULE_DOCS = new Map([
	["docs/observability.md", { file: "client/README.md", prelude: SDK_READER_PRELUDE, apart: false }],
	["docs/webhooks.md", { file: "docs/webhooks.md", prelude: "", apart: false }],
	["docs/compat-upstash.md", { file: "docs/compat-upstash.md", prelude: "", apart: false }],
	["README.md", { file: "README.md", prelude: `${SDK_READER_PRELUDE}\n${KAFKA_READER_PRELUDE}`, apart: true }],
]);

/**
 * Docs whose shell and JavaScript blocks reach a Kafka gateway: one runs in front of their broker, started by the
 * doc's first gateway start line but on a free port, given as KAFKA_BOOTSTRAP: the README's 127.0.0.1:9092, its
 * fallback, may be a developer's own gateway. Every other start line is started too and must advertise what it says;
 * the doc's librdkafka settings run in its session, where they stand, and must list `topic` and read `record` from
 * it (test/e2e/lib/doc-kafka.mjs).
 */
const KAFKA_DOCS = new Map([["README.md", { topic: "orders", record: 'order-42 {"sku":"A1"}' }]]);
const OUTPUT_TAIL_CHARS = 6_000;

const files = [
	"README.md",
	...readdirSync(join(PROJECT_ROOT, "docs"))
		.filter((name) => name.endsWith(".md"))
		.sort()
		.map((name) => `docs/${name}`),
];

after(() => stopAllWranglerDevs());

// Each file's session has a broker of its own, so the files run at once; the blocks within one file stay in order
// (a tour builds on its earlier blocks).
describe("the docs' shell blocks", { concurrency: true }, () => {
	for (const file of files) {
		const markdown = readFileSync(join(PROJECT_ROOT, file), "utf8");
		const kafkaDoc = KAFKA_DOCS.get(file);
		const runnable = [
			...extractShellBlocks(markdown, file).filter((block) => block.skip === null),
			...(kafkaDoc === undefined ? [] : propertiesBlocks(markdown, file, kafkaDoc)),
		].sort((a, b) => a.line - b.line);
		// A doc with only JavaScript blocks (webhooks.md's receiver) still gets its broker, for them.
		if (runnable.length === 0 && !MODULE_DOCS.has(file)) continue;
		const then = MODULE_DOCS.has(file) ? `, then ${MODULE_DOCS.get(file)?.file}'s JavaScript blocks` : "";
		test(`${file}: every shell block runs as written on a fresh broker${then}`, { timeout: TEST_TIMEOUT_MS }, async () => {
			const state = tempDir("docs");
			const token = generateToken();
			const dev = await startWranglerDev({ persistTo: state.path, token, vars: { WEBHOOK_ALLOW_PRIVATE: "true" } });
			/** @type {import("./lib/kafka.mjs").GatewayProcess | null} */
			let kafka = null;
			const starts = kafkaDoc === undefined ? [] : gatewayStartLines(markdown, file, { url: dev.url, token });
			try {
				if (kafkaDoc !== undefined) {
					const [first] = starts;
					assert.ok(first !== undefined, `${file}: no \`npx tributary kafka-gateway …\` line in a text block`);
					kafka = await startGateway(first, token);
				}
				/** @type {Record<string, string>} */
				const kafkaEnv = kafka === null ? {} : { KAFKA_BOOTSTRAP: kafka.bootstrap, KAFKAJS_NO_PARTITIONER_WARNING: "1" };
				/** @type {Record<string, string>} */
				let exported = {};
				if (runnable.length > 0) {
					const result = await runSession(runnable, {
						cwd: PROJECT_ROOT,
						env: { URL: dev.url, TOKEN: token, ...kafkaEnv },
						timeoutMs: SESSION_TIMEOUT_MS,
					});
					const output = `--- stderr ---\n${result.stderr.slice(-OUTPUT_TAIL_CHARS)}\n--- stdout ---\n${result.stdout.slice(-OUTPUT_TAIL_CHARS)}`;
					assert.equal(result.code, 0, `${file}: a shell block failed\n${output}`);
					// Every block ran to its end: the session announces each one before running it.
					const announced = result.stderr.split("\n").filter((/** @type {string} */ line) => line.startsWith("## ")).length;
					assert.equal(announced, runnable.length, output);
					exported = result.exported;
				}
				const moduleDoc = MODULE_DOCS.get(file);
				const moduleEnv = { TRIBUTARY_URL: dev.url, TRIBUTARY_TOKEN: token, ...kafkaEnv, ...exported };
				if (moduleDoc !== undefined) await runModuleDoc(moduleDoc, moduleEnv);
				for (const start of starts.slice(1)) await (await startGateway(start, token)).stop();
			} finally {
				await kafka?.stop();
				await dev.stop();
				state.remove();
			}
		});
	}
});

/**
 * Starts a doc's gateway start line (its port free) and checks it: its "listening on" line and the Metadata kcat gets
 * through it (logged in as the admin: a line without --token has clients log in) name the address the line advertises,
 * its --advertised-host/--advertised-port or else where it listens.
 * @param {import("./lib/doc-kafka.mjs").GatewayStartLine} start @param {string} token
 */
async function startGateway(start, token) {
	const gateway = await startGatewayCommand(start.args);
	try {
		const option = (/** @type {string} */ name) => {
			const at = start.args.indexOf(name);
			return at < 0 ? undefined : start.args[at + 1];
		};
		const listenHost = (option("--listen") ?? "").replace(/:\d+$/, "");
		const advertised = `${option("--advertised-host") ?? listenHost}:${option("--advertised-port") ?? gateway.port}`;
		assert.equal(gateway.advertised, advertised, `${start.where}: ${start.text}\n${gateway.output()}`);
		const metadata = await kcat(["-b", gateway.bootstrap, ...kcatSasl("admin", token), "-L"]);
		assert.equal(metadata.status, 0, `${start.where}: kcat -L through ${start.text}\n${metadata.stderr}`);
		assert.match(
			metadata.stdout,
			new RegExp(`broker 0 at ${advertised.replaceAll(".", "\\.")}\\b`),
			`${start.where}: ${start.text}\n${metadata.stdout}`,
		);
		return gateway;
	} catch (error) {
		await gateway.stop();
		throw error;
	}
}

/**
 * Runs a doc's JavaScript blocks in `env`: the broker as TRIBUTARY_URL/TRIBUTARY_TOKEN (what npm start's export line
 * sets and the SDK's examples read), the Kafka gateway's address for a doc in KAFKA_DOCS, and what the session's
 * shell blocks exported (compat-upstash.md's UPSTASH_KAFKA_REST_* for the client it configures).
 * @param {{ file: string, prelude: string, apart: boolean }} doc
 * @param {Record<string, string>} env
 */
async function runModuleDoc({ file, prelude, apart }, env) {
	const blocks = extractBlocks(readFileSync(join(PROJECT_ROOT, file), "utf8"), file, JS_LANGS).filter((block) => block.skip === null);
	assert.ok(blocks.length > 0, `${file}: no JavaScript blocks`);
	const result = await runModules(blocks, { apart, cwd: PROJECT_ROOT, env, prelude, timeoutMs: MODULE_TIMEOUT_MS });
	const output = `--- stderr ---\n${result.stderr.slice(-OUTPUT_TAIL_CHARS)}\n--- stdout ---\n${result.stdout.slice(-OUTPUT_TAIL_CHARS)}`;
	assert.equal(result.code, 0, `${file}: a JavaScript block failed\n${output}`);
	const announced = result.stderr.split("\n").filter((line) => line.startsWith("## ")).length;
	assert.equal(announced, blocks.length, output);
}

test("README.md runs its API tour: most of its shell blocks are run, and each skip says why", () => {
	const blocks = extractShellBlocks(readFileSync(join(PROJECT_ROOT, "README.md"), "utf8"), "README.md");
	const skipped = blocks.filter((block) => block.skip !== null);
	assert.ok(blocks.length - skipped.length >= 6, `only ${blocks.length - skipped.length} README blocks run`);
	assert.ok(skipped.length <= blocks.length / 3, `${skipped.length} of ${blocks.length} README blocks are skipped`);
	for (const block of skipped)
		assert.ok((block.skip ?? "").trim().length >= 8, `${block.file}:${block.line}: say why the block is skipped`);
});

test("every JavaScript block of README.md and docs/*.md runs (its doc is in MODULE_DOCS) or says why not", () => {
	const run = new Set([...MODULE_DOCS.values()].map((doc) => doc.file));
	for (const file of files) {
		for (const block of extractBlocks(readFileSync(join(PROJECT_ROOT, file), "utf8"), file, JS_LANGS)) {
			if (block.skip !== null) assert.ok(block.skip.trim().length >= 8, `${file}:${block.line}: say why the block is skipped`);
			else assert.ok(run.has(file), `${file}:${block.line}: no module runs this JavaScript block (add ${file} to MODULE_DOCS)`);
		}
	}
});

/**
 * The metrics observability.md's table lists, with their types: a row names one metric, or two sharing the first's
 * `tributary_<area>` (`tributary_storage_rows_read_total`, `…_rows_written_total`).
 * @param {string} markdown
 * @returns {Map<string, string>}
 */
function documentedMetrics(markdown) {
	/** @type {Map<string, string>} */
	const metrics = new Map();
	for (const row of markdown.split("\n").filter((line) => line.startsWith("| `tributary_"))) {
		const [names = "", type = ""] = row.split("|").slice(1, 3);
		const listed = [...names.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? "");
		const area = /^tributary_[a-z]+/.exec(listed[0] ?? "")?.[0] ?? "";
		for (const name of listed) metrics.set(name.replace(/^…/, area), type.trim());
	}
	return metrics;
}

test("docs/observability.md's metric table lists every metric /metrics exposes (src/metrics/catalog.ts), with its type", () => {
	const catalog = readFileSync(join(PROJECT_ROOT, "src/metrics/catalog.ts"), "utf8");
	const exposed = new Map([...catalog.matchAll(/\b(tributary_[a-z_]+): \{\s*type: "([a-z]+)"/g)].map((m) => [m[1], m[2]]));
	assert.ok(exposed.size >= 20, `read only ${exposed.size} metrics from the catalog`);
	const documented = documentedMetrics(readFileSync(join(PROJECT_ROOT, "docs/observability.md"), "utf8"));
	assert.deepEqual(new Map([...documented].sort()), new Map([...exposed].sort()));
});
