// @ts-check
/**
 * The `tributary` CLI against a real `wrangler dev`: topics, produce (-K, --json, headers), consume (--exit,
 * --json, --format, --from, --group), groups, keys, anonymous, subscriptions, and the error path (one line on stderr, a
 * non-zero status, no stack trace). The CLI runs as a process for --help and the error path, in a worker thread for
 * the rest (`cliFor`).
 */

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { generateToken, startWranglerDev, stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { jsonLines, runCli } from "./lib/cli.mjs";
import { client } from "./lib/client.mjs";
import { kcat, startGatewayProcess } from "./lib/kafka.mjs";
import { listenLocal } from "./lib/local-server.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

/**
 * How many of the tests below run at once. Each works on topics, groups and keys of its own, and most of a test's
 * time is spent waiting on a CLI process or the broker, so a few at once overlap those waits instead of adding them.
 */
const TESTS_AT_ONCE = 4;
/**
 * Bounds on a hung test, not measures of speed: run TESTS_AT_ONCE at a time on a loaded machine, a test takes up to
 * about twice its time alone (the keys test: 27.8 s alone, 41.8 s at 4 at once, under load 9 on 2 cores).
 */
const TEST_TIMEOUT_MS = 120_000;
const SLOW_TEST_TIMEOUT_MS = 180_000;

const state = tempDir("cli");
/** @type {Record<string, string>} */
let env = {};

before(async () => {
	const token = generateToken();
	const dev = await startWranglerDev({ persistTo: state.path, token });
	env = { TRIBUTARY_URL: dev.url, TRIBUTARY_TOKEN: token };
});
after(async () => {
	await stopAllWranglerDevs();
	state.remove();
});

/**
 * The CLI for test `t`: `run` is `runCli` stopped with the test (its `t.signal`, aborted as it times out, fails or
 * ends), so that a timed-out test's commands stop, and its later ones never start, instead of running on into the
 * next test (the tests of anonymous's grant share one grant); `ok` and `fails` run against this file's broker. Each
 * run is a worker thread of this process (`inThread`: the same main module, argv, env, stdin, stdout, stderr and exit
 * status, without a node start), but for the tests about the CLI as a process, which ask for `{ asProcess: true }`:
 * a test of 20 runs spent most of its time starting them, and under load past its bound.
 * @param {import("node:test").TestContext} t
 * @param {{ asProcess?: boolean }} [how]
 */
function cliFor(t, { asProcess = false } = {}) {
	/** @param {string[]} args @param {Parameters<typeof runCli>[1]} [options] */
	const run = (args, options = {}) => runCli(args, { inThread: !asProcess, ...options, signal: t.signal });

	/**
	 * @param {string[]} args
	 * @param {string | Buffer} [input]
	 */
	async function ok(args, input) {
		const result = await run(args, { env, input });
		assert.equal(result.status, 0, `tributary ${args.join(" ")} → ${result.status}\n${result.stderr}`);
		return result;
	}

	/**
	 * An error: status 1 (or `status`), one line on stderr naming the code, and nothing that looks like a stack.
	 * @param {string[]} args
	 * @param {string} code
	 * @param {{ status?: number, input?: string, useEnv?: Record<string, string> }} [options]
	 */
	async function fails(args, code, { status = 1, input, useEnv = env } = {}) {
		const result = await run(args, { env: useEnv, input });
		assert.equal(result.status, status, `tributary ${args.join(" ")}: ${result.stderr}`);
		const lines = result.stderr.trim().split("\n");
		assert.equal(lines.length, 1, result.stderr);
		assert.match(lines[0] ?? "", new RegExp(code));
		assert.doesNotMatch(result.stderr, /\n\s+at /);
		return lines[0];
	}

	return { run, ok, fails };
}

/**
 * A broker that answers one topic's description, `described`, and 404 to anything else: for figures a real broker
 * reaches only after a compaction pass or an offload to R2 has run.
 * @param {object} described
 * @returns {Promise<import("./lib/local-server.mjs").LocalServer>}
 */
function describingBroker(described) {
	const server = createServer((req, res) => {
		const found = req.method === "GET" && req.url === `/v1/topics/${/** @type {any} */ (described).name}`;
		res.writeHead(found ? 200 : 404, { "Content-Type": "application/json" });
		res.end(JSON.stringify(found ? described : { error: { code: "not_found", message: "no such route", retriable: false } }));
	});
	return listenLocal(server);
}

/**
 * A proxy in front of the broker at `target`: every request is passed on, and the first write of anonymous's grant
 * (a PATCH) waits, unserved, for `meanwhile`, another admin's change made straight at the broker: it lands after the
 * CLI read the grant and before its write is served.
 * @param {string} target
 * @param {() => Promise<unknown>} meanwhile
 * @returns {Promise<import("./lib/local-server.mjs").LocalServer>}
 */
function changedBeforeWrite(target, meanwhile) {
	/** @type {(() => Promise<unknown>) | null} */
	let pending = meanwhile;
	/** Hop-by-hop headers, and those `fetch` already acted on (it took the body's encoding off). */
	const dropped = new Set(["host", "connection", "content-length", "content-encoding", "transfer-encoding", "keep-alive"]);
	const server = createServer(async (req, res) => {
		const chunks = [];
		for await (const chunk of req) chunks.push(chunk);
		if (req.method === "PATCH" && req.url === "/v1/anonymous" && pending !== null) {
			const change = pending;
			pending = null;
			await change();
		}
		const headers = Object.entries(req.headers).flatMap(([name, value]) => (dropped.has(name) ? [] : [[name, String(value)]]));
		const answer = await fetch(new URL(req.url ?? "/", target), {
			method: req.method,
			headers: Object.fromEntries(headers),
			...(chunks.length === 0 ? {} : { body: Buffer.concat(chunks) }),
		});
		res.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([name]) => !dropped.has(name))));
		res.end(Buffer.from(await answer.arrayBuffer()));
	});
	return listenLocal(server);
}

/**
 * A table's rows as objects keyed by its header.
 * @param {string} stdout
 * @param {string} header the header's first column
 */
function tableRows(stdout, header) {
	const lines = stdout.split("\n");
	const at = lines.findIndex((line) => line.startsWith(header));
	const columns = (lines[at] ?? "").split(/\s{2,}/);
	return lines
		.slice(at + 1)
		.filter((line) => line.trim() !== "")
		.map((line) => Object.fromEntries(line.split(/\s{2,}/).map((cell, i) => [columns[i], cell])));
}

describe("the CLI against one broker", { concurrency: TESTS_AT_ONCE }, () => {
	test("--help works without a broker", async (t) => {
		const { run } = cliFor(t, { asProcess: true });
		const result = await run(["--help"], { env: { TRIBUTARY_URL: "http://127.0.0.1:9", TRIBUTARY_TOKEN: "x" } });
		assert.equal(result.status, 0);
		assert.match(result.stdout, /usage: tributary/);
		for (const command of ["topics", "produce", "consume", "groups", "keys", "anonymous", "subscriptions", "kafka-gateway"]) {
			assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
		}
		// Where consume starts when --from is not given: not Kafka's (and the SDK's) latest, so the usage says it.
		assert.match(result.stdout, /--from defaults to earliest/);
		// A subcommand served by another part of the repository answers --help with its own options.
		const gateway = await run(["kafka-gateway", "--help"], { env: { TRIBUTARY_URL: "http://127.0.0.1:9", TRIBUTARY_TOKEN: "x" } });
		assert.equal(gateway.status, 0, gateway.stderr);
		assert.match(gateway.stdout, /^usage: kafka-gateway --listen HOST:PORT .*--advertised-host HOST/);
	});

	test("topics: create, list, describe --json, alter, delete", { timeout: TEST_TIMEOUT_MS }, async (t) => {
		const { ok, fails } = cliFor(t);
		await ok([
			"topics",
			"create",
			"cli-topics",
			"--partitions",
			"2",
			"--config",
			"retention.ms=3600000",
			"--config",
			"remote.storage.enable=true",
			"--location-hint",
			"enam",
		]);
		const list = JSON.parse((await ok(["topics", "list", "--json"])).stdout);
		const listed = list.topics.find((/** @type {any} */ t) => t.name === "cli-topics");
		assert.match(listed.topic_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
		assert.deepEqual(listed, { name: "cli-topics", topic_id: listed.topic_id, partitions: 2, config: listed.config });
		assert.equal(list.topics.find((/** @type {any} */ t) => t.name === "cli-topics").config["retention.ms"], 3600000);
		await ok(["topics", "alter", "cli-topics", "--partitions", "3"]);
		const described = JSON.parse((await ok(["topics", "describe", "cli-topics", "--json"])).stdout);
		assert.deepEqual(
			described.partitions.map((/** @type {any} */ p) => ({
				partition: p.partition,
				log_start_offset: p.log_start_offset,
				high_watermark: p.high_watermark,
			})),
			[0, 1, 2].map((partition) => ({ partition, log_start_offset: 0, high_watermark: 0 })),
		);
		assert.equal(described.location_hint, "enam");
		assert.equal(described.config["remote.storage.enable"], true);
		const table = await ok(["topics", "describe", "cli-topics"]);
		assert.match(table.stdout, /HIGH_WATERMARK +RECORDS +BYTES +REMOTE_RECORDS +REMOTE_BYTES/);
		assert.doesNotMatch(table.stdout, /NaN|undefined/, "every figure comes from the broker's answer");
		assert.match(table.stdout, /location hint enam/);
		assert.match(table.stdout, new RegExp(`^topic cli-topics \\(id ${listed.topic_id}\\): 3 partition`));
		await ok(["topics", "delete", "cli-topics"]);
		await fails(["topics", "describe", "cli-topics"], "^tributary: error: topic_not_found \\(HTTP 404\\): ");
	});

	test("topics delete-records: one partition before an offset, every partition with latest", {
		timeout: TEST_TIMEOUT_MS,
	}, async (t) => {
		const { ok, fails } = cliFor(t);
		await ok(["topics", "create", "cli-trim", "--partitions", "2"]);
		await ok(["produce", "cli-trim", "--partition", "0"], "a\nb\nc\nd\n");
		await ok(["produce", "cli-trim", "--partition", "1"], "e\nf\n");
		const one = JSON.parse((await ok(["topics", "delete-records", "cli-trim", "--partition", "0", "--before", "3", "--json"])).stdout);
		assert.deepEqual(one, { topic: "cli-trim", partitions: [{ partition: 0, log_start_offset: 3 }] });
		const read = jsonLines((await ok(["consume", "cli-trim", "--partition", "0", "--from", "earliest", "--exit", "--json"])).stdout);
		assert.deepEqual(
			read.map((/** @type {any} */ r) => [r.offset, r.value]),
			[[3, "d"]],
		);
		const every = await ok(["topics", "delete-records", "cli-trim", "--before", "latest"]);
		assert.match(every.stdout, /PARTITION +LOG_START_OFFSET\n0 +4\n1 +2\n/);
		await fails(
			["topics", "delete-records", "cli-trim", "--partition", "0", "--before", "9"],
			"^tributary: error: offset_out_of_range \\(HTTP 416\\): ",
		);
		await fails(["topics", "delete-records", "cli-trim", "--before", "2"], "needs --partition", { status: 2 });
	});

	test("topics describe shows the records and bytes held, in both tiers, not the offset range", { timeout: TEST_TIMEOUT_MS }, async (t) => {
		const { run } = cliFor(t);
		// Partition 0 is compacted: 4 records held over offsets [0, 10). Partition 1 is tiered: [2, 50) in R2, 48
		// records there, and 10 records locally.
		const partition = { log_start_offset: 0, local_log_start_offset: 0, remote_bytes: 0, remote_records: 0 };
		const broker = await describingBroker({
			name: "described",
			config: { "cleanup.policy": "compact" },
			location_hint: null,
			partitions: [
				{ ...partition, partition: 0, high_watermark: 10, bytes: 300, records: 4 },
				{
					...partition,
					partition: 1,
					log_start_offset: 2,
					local_log_start_offset: 50,
					high_watermark: 60,
					bytes: 1000,
					records: 10,
					remote_bytes: 9000,
					remote_records: 48,
				},
			],
		});
		try {
			const result = await run(["topics", "describe", "described"], { env: { TRIBUTARY_URL: broker.url, TRIBUTARY_TOKEN: "t" } });
			assert.equal(result.status, 0, result.stderr);
			const rows = tableRows(result.stdout, "PARTITION");
			assert.deepEqual(
				rows.map((r) => [r.PARTITION, r.RECORDS, r.BYTES, r.REMOTE_RECORDS, r.REMOTE_BYTES]),
				[
					["0", "4", "300", "0", "0"],
					["1", "58", "10000", "48", "9000"],
				],
			);
		} finally {
			await broker.close();
		}
	});

	test("produce -K splits keys; consume --exit --json reads everything back, keys in one partition each", {
		timeout: TEST_TIMEOUT_MS,
	}, async (t) => {
		const { ok } = cliFor(t);
		await ok(["topics", "create", "cli-keys", "--partitions", "3"]);
		const lines = Array.from({ length: 60 }, (_, i) => `user-${i % 7}:event ${i}: with a colon`);
		const produced = await ok(["produce", "cli-keys", "-K", ":", "--header", "source=cli"], `${lines.join("\n")}\n`);
		assert.match(produced.stderr, /^produced 60 records .* to cli-keys\n$/);
		const records = jsonLines((await ok(["consume", "cli-keys", "--exit", "--json"])).stdout);
		assert.equal(records.length, 60);
		const byKey = new Map();
		for (const r of records) {
			assert.deepEqual(Object.keys(r).sort(), ["headers", "key", "offset", "partition", "timestamp", "topic", "value"]);
			assert.equal(r.topic, "cli-keys");
			assert.deepEqual(r.headers, [{ key: "source", value: "cli" }]);
			assert.match(r.value, /^event \d+: with a colon$/);
			if (byKey.has(r.key)) assert.equal(byKey.get(r.key), r.partition, `key ${r.key} in one partition`);
			byKey.set(r.key, r.partition);
		}
		assert.equal(byKey.size, 7);
		// Per partition, offsets are dense from 0 and the order of the input is kept.
		for (const p of [0, 1, 2]) {
			const mine = records.filter((r) => r.partition === p);
			assert.deepEqual(
				mine.map((r) => r.offset),
				mine.map((_, i) => i),
			);
			const numbers = mine.map((r) => Number(/event (\d+)/.exec(r.value)?.[1]));
			assert.deepEqual(
				numbers,
				[...numbers].sort((a, b) => a - b),
			);
		}
		const one = jsonLines((await ok(["consume", "cli-keys", "--exit", "--json", "--partition", "1", "--from=-2"])).stdout);
		assert.ok(one.every((r) => r.partition === 1));
		assert.equal(one.length, Math.min(2, records.filter((r) => r.partition === 1).length));
		const limited = await ok(["consume", "cli-keys", "--max", "5", "--format", "%p/%o %k=%s\\n"]);
		assert.equal(limited.stdout.trim().split("\n").length, 5);
		assert.match(limited.stdout, /^\d+\/\d+ user-\d=event \d+/);
	});

	test("produce --json takes record objects; a bad line fails alone", { timeout: TEST_TIMEOUT_MS }, async (t) => {
		const { run, ok } = cliFor(t);
		await ok(["topics", "create", "cli-json", "--partitions", "1", "--config", "max.message.bytes=1024"]);
		const input = [
			JSON.stringify({ key: "a", value: { n: 1 }, headers: [{ key: "h", value: "1" }], timestamp: 1767225600000 }),
			"not json",
			JSON.stringify({ value: "x".repeat(2000) }),
			JSON.stringify({ key: null, value: [1, 2] }),
		].join("\n");
		const result = await run(["produce", "cli-json", "--json"], { env, input });
		assert.equal(result.status, 1, result.stderr);
		assert.match(result.stderr, /line 2: error: not JSON/);
		assert.match(result.stderr, /line 3: error: record_too_large \(HTTP 413\)/);
		assert.match(result.stderr, /produced 2 records .*, 2 failed/);
		assert.doesNotMatch(result.stderr, /\n\s+at /);
		const records = jsonLines((await ok(["consume", "cli-json", "--exit", "--json"])).stdout);
		assert.deepEqual(
			records.map((r) => [r.offset, r.key, r.value, r.headers]),
			[
				[0, "a", { n: 1 }, [{ key: "h", value: "1" }]],
				[1, null, [1, 2], []],
			],
		);
		assert.equal(records[0].timestamp, 1767225600000);
		const later = jsonLines((await ok(["consume", "cli-json", "--exit", "--json", "--from", "2026-01-01T00:00:00.001Z"])).stdout);
		assert.deepEqual(
			later.map((r) => r.offset),
			[1],
		);
	});

	test("consume --group commits what it printed; groups list, describe, reset", { timeout: SLOW_TEST_TIMEOUT_MS }, async (t) => {
		const { ok, fails } = cliFor(t);
		await ok(["topics", "create", "cli-group", "--partitions", "2"]);
		await ok(["produce", "cli-group"], `${Array.from({ length: 40 }, (_, i) => `r${i}`).join("\n")}\n`);
		const first = jsonLines((await ok(["consume", "cli-group", "--group", "cli-g", "--exit", "--json"])).stdout);
		assert.deepEqual(first.map((r) => r.value).sort(), Array.from({ length: 40 }, (_, i) => `r${i}`).sort());
		const again = await ok(["consume", "cli-group", "--group", "cli-g", "--exit", "--json"]);
		assert.equal(again.stdout, "", "a group resumes at its commits");
		const groups = JSON.parse((await ok(["groups", "list", "--json"])).stdout);
		assert.ok(groups.groups.some((/** @type {any} */ g) => g.group === "cli-g" && g.members === 0));
		const described = JSON.parse((await ok(["groups", "describe", "cli-g", "--json"])).stdout);
		assert.equal(described.members.length, 0);
		assert.equal(
			described.offsets.reduce((/** @type {number} */ sum, /** @type {any} */ o) => sum + (o.committed ?? 0), 0),
			40,
		);
		// Every partition it committed is caught up (one it never committed, having read nothing there, has no lag).
		assert.ok(described.offsets.every((/** @type {any} */ o) => o.committed === null || o.lag === 0));
		await ok(["groups", "reset", "cli-g", "--topic", "cli-group", "--to", "earliest"]);
		const replay = jsonLines((await ok(["consume", "cli-group", "--group", "cli-g", "--max", "10", "--json"])).stdout);
		assert.equal(replay.length, 10);
		const after10 = JSON.parse((await ok(["groups", "describe", "cli-g", "--json"])).stdout);
		assert.equal(
			after10.offsets.reduce((/** @type {number} */ sum, /** @type {any} */ o) => sum + (o.committed ?? 0), 0),
			10,
		);
		await fails(["groups", "describe", "no-such-group"], "^tributary: error: group_not_found|^tributary: error: ");
	});

	test("keys: create with an ACL, the key's limits hold, quotas replaced and altered, list, describe, delete", {
		timeout: TEST_TIMEOUT_MS,
	}, async (t) => {
		const { run, ok, fails } = cliFor(t);
		await ok(["topics", "create", "cli-acl-a"]);
		await ok(["topics", "create", "cli-acl-b"]);
		const created = JSON.parse((await ok(["keys", "create", "cli-writer", "--acl", "topic:cli-acl-a=produce,describe", "--json"])).stdout);
		assert.equal(typeof created.secret, "string");
		const asKey = { ...env, TRIBUTARY_TOKEN: created.secret };
		const produced = await run(["produce", "cli-acl-a"], { env: asKey, input: "hello\n" });
		assert.equal(produced.status, 0, produced.stderr);
		const refused = await run(["produce", "cli-acl-b"], { env: asKey, input: "hello\n" });
		assert.equal(refused.status, 1);
		assert.match(refused.stderr, /forbidden \(HTTP 403\)/);
		const list = JSON.parse((await ok(["keys", "list", "--json"])).stdout);
		assert.ok(list.keys.some((/** @type {any} */ k) => k.id === created.id && k.name === "cli-writer"));
		assert.ok(!JSON.stringify(list).includes(created.secret));
		const limited = await ok(["keys", "quotas", created.id, "--quota", "requests_per_sec=5", "--quota", "produce_bytes_per_sec=1048576"]);
		assert.equal(limited.stdout, `key ${created.id}: quotas produce_bytes_per_sec=1048576 requests_per_sec=5\n`);
		const relisted = JSON.parse((await ok(["keys", "list", "--json"])).stdout);
		assert.deepEqual(relisted.keys.find((/** @type {any} */ k) => k.id === created.id)?.quotas, {
			requests_per_sec: 5,
			produce_bytes_per_sec: 1048576,
		});
		// Only the quotas named: one set, one removed, the third kept.
		const altered = await ok(["keys", "alter", created.id, "--quota", "fetch_bytes_per_sec=4096", "--remove-quota", "requests_per_sec"]);
		assert.equal(altered.stdout, `key ${created.id}: quotas produce_bytes_per_sec=1048576 fetch_bytes_per_sec=4096\n`);
		const shown = await ok(["keys", "describe", created.id]);
		assert.match(shown.stdout, new RegExp(`^key ${created.id} \\(cli-writer\\), created \\d{4}-\\d{2}-\\d{2}T[^\\n]*\\n`));
		assert.match(
			shown.stdout,
			/\n {2}acl: topic:cli-acl-a=produce,describe\n {2}quotas produce_bytes_per_sec=1048576 fetch_bytes_per_sec=4096\n {2}etag: "[^"]+" .*\n$/,
		);
		const shownJson = JSON.parse((await ok(["keys", "describe", created.id, "--json"])).stdout);
		assert.deepEqual(shownJson.quotas, { produce_bytes_per_sec: 1048576, fetch_bytes_per_sec: 4096 });
		assert.ok(!JSON.stringify(shownJson).includes(created.secret));
		await fails(["keys", "alter", created.id], "^tributary: usage: keys alter needs --quota", { status: 2 });
		await fails(["keys", "describe", "0123456789abcdef0123"], "^tributary: error: key_not_found \\(HTTP 404\\)");
		// A whole replacement: naming none removes them all.
		const cleared = JSON.parse((await ok(["keys", "quotas", created.id, "--json"])).stdout);
		assert.deepEqual(cleared.quotas, {});
		await fails(["keys", "quotas", "0123456789abcdef0123"], "^tributary: error: key_not_found \\(HTTP 404\\)");
		await ok(["keys", "delete", created.id]);
		await fails(["topics", "list"], "^tributary: error: unauthorized \\(HTTP 401\\)", { useEnv: asKey });
	});

	test("keys --if-match: quotas and alter apply only while the key is the one describe printed; describe --json carries its etag, and a write's --json the new one", {
		timeout: TEST_TIMEOUT_MS,
	}, async (t) => {
		const { ok, fails } = cliFor(t);
		const { id } = JSON.parse((await ok(["keys", "create", "cli-etag", "--quota", "requests_per_sec=5", "--json"])).stdout);
		const shown = await ok(["keys", "describe", id]);
		const etag = /^ {2}etag: "([^"]+)" {3}\(quotas and alter take it as --if-match\)$/m.exec(shown.stdout)?.[1];
		assert.ok(etag !== undefined, `describe prints the etag: ${shown.stdout}`);
		// Another admin's change since describe: each write sent --if-match the etag it printed is a 412 saying what to do.
		await ok(["keys", "alter", id, "--quota", "fetch_bytes_per_sec=4096"]);
		for (const args of [
			["quotas", id, "--quota", "requests_per_sec=1"],
			["alter", id, "--quota", "requests_per_sec=1"],
		]) {
			await fails(
				["keys", ...args, "--if-match", etag],
				"^tributary: error: precondition_failed \\(HTTP 412\\): .*run `tributary keys describe ID`",
			);
		}
		const shownJson = JSON.parse((await ok(["keys", "describe", id, "--json"])).stdout);
		assert.deepEqual(shownJson.quotas, { requests_per_sec: 5, fetch_bytes_per_sec: 4096 }, "nothing overwritten");
		assert.match(shownJson.etag, /^"[^"]+"$/, "describe --json carries the etag as the API sends it");
		assert.notEqual(shownJson.etag, `"${etag}"`);
		const altered = JSON.parse(
			(await ok(["keys", "alter", id, "--quota", "requests_per_sec=10", "--if-match", shownJson.etag, "--json"])).stdout,
		);
		assert.deepEqual(altered.quotas, { requests_per_sec: 10, fetch_bytes_per_sec: 4096 });
		assert.notEqual(altered.etag, shownJson.etag, "a write answers the new key's etag");
		// A bare tag, as a shell leaves a quoted one, is quoted for the API; a whole replacement goes the same way.
		const bare = altered.etag.slice(1, -1);
		const replaced = await ok(["keys", "quotas", id, "--quota", "requests_per_sec=20", "--if-match", bare]);
		assert.equal(replaced.stdout, `key ${id}: quotas requests_per_sec=20\n`);
		await fails(
			["keys", "alter", id, "--quota", "requests_per_sec=1", "--if-match", '"x'],
			"^tributary: usage: --if-match .*`keys describe` prints",
			{
				status: 2,
			},
		);
		await ok(["keys", "delete", id]);
	});

	// anonymous's grant is one per broker, which the file's other tests may not touch: its tests run one after another,
	// each starting from whatever grant the one before left, and each with its own bound. As one test of about 50 CLI
	// runs it ran past 180 s under load; so did its first 35 runs, set to close (88 s at load 9 on 2 cores, past 180 s
	// at 12), so grant and revoke are a test of their own.
	describe("anonymous's grant", { concurrency: 1 }, () => {
		/** The grant's ETag as `anonymous show` prints it, without its quotes. */
		const etagOf = (/** @type {{ stdout: string }} */ shown) => /^ {2}etag: "([^"]+)"/m.exec(shown.stdout)?.[1];
		/** `--json`'s grant without its etag (the tag changes with every write): the API's JSON. */
		const grantOf = (/** @type {{ stdout: string }} */ printed) => {
			const { etag: _, ...grant } = JSON.parse(printed.stdout);
			return grant;
		};
		/** `anonymous show`'s output without its etag line, which the commands that change the grant do not print. */
		const withoutEtag = (/** @type {{ stdout: string }} */ shown) => shown.stdout.replace(/^ {2}etag: .*\n/m, "");
		test("anonymous: set opens a topic to requests without credentials, with quotas; show; alter; close keeps the quotas; set with nothing closes it", {
			timeout: SLOW_TEST_TIMEOUT_MS,
		}, async (t) => {
			const { ok, fails } = cliFor(t);
			await ok(["topics", "create", "cli-public"]);
			await ok(["produce", "cli-public"], "news\n");
			const read = () =>
				client(String(env.TRIBUTARY_URL), String(env.TRIBUTARY_TOKEN)).request(
					"GET",
					"/v1/topics/cli-public/partitions/0/records?offset=0",
					{
						auth: false,
					},
				);
			assert.equal((await read()).status, 401, "no access before a grant");

			const granted = await ok(["anonymous", "set", "--acl", "topic:cli-public=consume,describe", "--quota", "requests_per_sec=100"]);
			assert.equal(granted.stdout, "anonymous:\n  acl: topic:cli-public=consume,describe\n  quotas requests_per_sec=100\n");
			const response = await read();
			assert.equal(response.status, 200);
			assert.deepEqual(
				/** @type {{ records: { value: unknown }[] }} */ (response.json).records.map((r) => r.value),
				["news"],
			);
			assert.equal(withoutEtag(await ok(["anonymous", "show"])), granted.stdout);
			assert.deepEqual(grantOf(await ok(["anonymous", "show", "--json"])), {
				acl: [{ resource: "topic:cli-public", operations: ["consume", "describe"] }],
				quotas: { requests_per_sec: 100 },
			});

			// The API judges the grant: its refusal is one line, and the grant is unchanged.
			await fails(["anonymous", "set", "--acl", "everything=consume"], "^tributary: error: [a-z_]+ \\(HTTP 400\\)");
			await fails(["anonymous", "set", "--quota", "requests_per_sec"], "^tributary: usage: --quota takes key=value", { status: 2 });
			await fails(["anonymous", "show", "extra"], '^tributary: usage: unexpected argument "extra"', { status: 2 });
			assert.equal(withoutEtag(await ok(["anonymous", "show"])), granted.stdout);

			// alter changes only what it names: quotas one by one, the ACL (whole) when --acl is given.
			const altered = await ok(["anonymous", "alter", "--quota", "fetch_bytes_per_sec=4096", "--remove-quota", "requests_per_sec"]);
			assert.equal(altered.stdout, "anonymous:\n  acl: topic:cli-public=consume,describe\n  quotas fetch_bytes_per_sec=4096\n");
			const narrowed = await ok(["anonymous", "alter", "--acl", "topic:cli-public=consume", "--json"]);
			assert.deepEqual(grantOf(narrowed), {
				acl: [{ resource: "topic:cli-public", operations: ["consume"] }],
				quotas: { fetch_bytes_per_sec: 4096 },
			});
			assert.equal((await read()).status, 200, "still public");
			await fails(["anonymous", "alter"], "^tributary: usage: anonymous alter needs --acl, --quota or --remove-quota", { status: 2 });
			await fails(
				["anonymous", "alter", "--quota", "fetch_bytes_per_sec=1", "--remove-quota", "fetch_bytes_per_sec"],
				"^tributary: usage: --quota and --remove-quota both name fetch_bytes_per_sec",
				{ status: 2 },
			);
			await fails(["anonymous", "alter", "--quota", "requests_per_sec=0"], "^tributary: error: [a-z_]+ \\(HTTP 400\\)");
			assert.deepEqual(grantOf(await ok(["anonymous", "show", "--json"])), grantOf(narrowed), "refusals changed nothing");

			// close empties the ACL alone, as the console's "Close public access" does: the quotas stay for a later grant.
			const shut = await ok(["anonymous", "close"]);
			assert.equal(shut.stdout, "anonymous:\n  acl: none (a request without credentials is refused)\n  quotas fetch_bytes_per_sec=4096\n");
			assert.equal((await read()).status, 401, "closed by close");
			await fails(["anonymous", "close", "--quota", "requests_per_sec=1"], "^tributary: usage: ", { status: 2 });
			await ok(["anonymous", "alter", "--acl", "topic:cli-public=consume"]);
			assert.equal((await read()).status, 200, "open again");

			// A whole replacement: naming nothing closes public access and removes the quotas.
			const closed = grantOf(await ok(["anonymous", "set", "--json"]));
			assert.deepEqual(closed, { acl: [], quotas: {} });
			assert.equal(
				withoutEtag(await ok(["anonymous", "show"])),
				"anonymous:\n  acl: none (a request without credentials is refused)\n  no quotas\n",
			);
			assert.equal((await read()).status, 401, "closed again");
		});

		test("anonymous: grant and revoke change one entry, keeping the others and the quotas", { timeout: TEST_TIMEOUT_MS }, async (t) => {
			const { ok, fails } = cliFor(t);
			// grant and revoke change one entry (kafka-acls --add, --remove): every other entry and the quotas are kept.
			await ok(["anonymous", "set", "--acl", "topic:cli-news.*=consume", "--quota", "requests_per_sec=100"]);
			const weather = await ok(["anonymous", "grant", "topic:cli-weather", "describe"]);
			assert.equal(
				weather.stdout,
				"anonymous:\n  acl: topic:cli-news.*=consume topic:cli-weather=describe\n  quotas requests_per_sec=100\n",
			);
			const widened = grantOf(await ok(["anonymous", "grant", "topic:cli-news.*", "describe,consume", "--json"]));
			assert.deepEqual(widened, {
				acl: [
					{ resource: "topic:cli-news.*", operations: ["consume", "describe"] },
					{ resource: "topic:cli-weather", operations: ["describe"] },
				],
				quotas: { requests_per_sec: 100 },
			});
			assert.deepEqual(grantOf(await ok(["anonymous", "grant", "topic:cli-weather", "describe", "--json"])), widened, "granted already");

			const cut = await ok(["anonymous", "revoke", "topic:cli-news.*", "describe"]);
			assert.equal(cut.stdout, "anonymous:\n  acl: topic:cli-news.*=consume topic:cli-weather=describe\n  quotas requests_per_sec=100\n");
			const revoked = await ok(["anonymous", "revoke", "topic:cli-weather"]);
			assert.equal(revoked.stdout, "anonymous:\n  acl: topic:cli-news.*=consume\n  quotas requests_per_sec=100\n");
			assert.equal((await ok(["anonymous", "revoke", "topic:cli-weather"])).stdout, revoked.stdout, "not granted: nothing to revoke");

			await fails(["anonymous", "grant", "topic:cli-weather"], "^tributary: usage: anonymous grant takes operations as op\\[,op…\\]", {
				status: 2,
			});
			await fails(["anonymous", "revoke", "topic:cli-weather", ","], "^tributary: usage: anonymous revoke takes operations", { status: 2 });
			await fails(["anonymous", "revoke"], "^tributary: usage: missing resource", { status: 2 });
			await fails(["anonymous", "grant", "topic:a", "consume", "extra"], '^tributary: usage: unexpected argument "extra"', { status: 2 });
			await fails(["anonymous", "grant", "topic:a", "consume", "--quota", "requests_per_sec=1"], "^tributary: usage: ", { status: 2 });
			await fails(["anonymous", "grant", "everything", "consume"], "^tributary: error: [a-z_]+ \\(HTTP 400\\)");
			assert.equal(withoutEtag(await ok(["anonymous", "show"])), revoked.stdout, "refusals changed nothing");
		});

		test("anonymous --if-match: set, alter and close apply only while the grant is the one show printed; show --json carries its etag, and a write's --json the new one, so writes chain", {
			timeout: TEST_TIMEOUT_MS,
		}, async (t) => {
			const { ok, fails } = cliFor(t);
			// show prints the grant's ETag; set, alter and close take it as --if-match and apply only while the grant is still
			// that one: another admin's change since (here a grant) is a 412 that says what to do, and nothing is overwritten.
			const etag = etagOf(await ok(["anonymous", "show"]));
			assert.ok(etag !== undefined, "show prints the etag");
			await ok(["anonymous", "grant", "topic:cli-other", "consume"]);
			const changed = grantOf(await ok(["anonymous", "show", "--json"]));
			for (const args of [["set", "--acl", "topic:cli-x=consume"], ["alter", "--acl", "topic:cli-x=consume"], ["close"]]) {
				await fails(
					["anonymous", ...args, "--if-match", etag],
					"^tributary: error: precondition_failed \\(HTTP 412\\): .*run `tributary anonymous show`",
				);
			}
			assert.deepEqual(grantOf(await ok(["anonymous", "show", "--json"])), changed, "nothing overwritten");
			// The ETag read now, quoted as the API sends it or bare as a shell leaves it, applies the change.
			const now = etagOf(await ok(["anonymous", "show"])) ?? "";
			const narrowedNow = JSON.parse(
				(await ok(["anonymous", "alter", "--acl", "topic:cli-other=consume", "--if-match", `"${now}"`, "--json"])).stdout,
			);
			assert.deepEqual(narrowedNow.acl, [{ resource: "topic:cli-other", operations: ["consume"] }]);
			const closedNow = await ok(["anonymous", "close", "--if-match", etagOf(await ok(["anonymous", "show"])) ?? "", "--json"]);
			assert.deepEqual(JSON.parse(closedNow.stdout).acl, []);

			// show --json carried no etag, so a script could not go show → edit → set --if-match without scraping the text
			// output. It is the API's JSON with the grant's ETag added as "etag", exactly as the API sends the header (and
			// as show prints it); a write's --json carries the new one, so writes chain.
			await ok(["anonymous", "grant", "topic:cli-other", "consume"]);
			const shownJson = JSON.parse((await ok(["anonymous", "show", "--json"])).stdout);
			assert.equal(shownJson.etag, `"${etagOf(await ok(["anonymous", "show"]))}"`, "show --json's etag is the one show prints");
			const edited = [...shownJson.acl, { resource: "topic:cli-script", operations: ["describe"] }];
			const setJson = JSON.parse(
				(
					await ok([
						"anonymous",
						"set",
						...edited.flatMap((e) => ["--acl", `${e.resource}=${e.operations.join(",")}`]),
						"--if-match",
						shownJson.etag,
						"--json",
					])
				).stdout,
			);
			assert.deepEqual(setJson.acl, edited);
			assert.match(setJson.etag, /^"[^"]+"$/);
			assert.notEqual(setJson.etag, shownJson.etag, "a write answers the new grant's etag");
			await fails(["anonymous", "close", "--if-match", shownJson.etag], "^tributary: error: precondition_failed \\(HTTP 412\\)");
			assert.deepEqual(JSON.parse((await ok(["anonymous", "close", "--if-match", setJson.etag, "--json"])).stdout).acl, []);
		});

		test("anonymous close without --if-match decides on the grant it read: an entry another admin granted meanwhile is reported, not removed; a change adding none is kept and the close sent again", {
			timeout: TEST_TIMEOUT_MS,
		}, async (t) => {
			const { run, ok, fails } = cliFor(t);
			// close emptied the ACL unconditionally: an entry another admin granted between the read an admin decided on and
			// the write was removed unseen. It is sent If-Match the grant it read, as the console's Close public access is.
			await ok(["anonymous", "set", "--acl", "topic:cli-seen=consume", "--quota", "requests_per_sec=100"]);
			const late = await changedBeforeWrite(String(env.TRIBUTARY_URL), () => ok(["anonymous", "grant", "topic:cli-late", "produce"]));
			try {
				await fails(
					["anonymous", "close"],
					"^tributary: error: precondition_failed \\(HTTP 412\\): another admin changed the ACL since it was read: added produce on topic:cli-late; public access was not closed .*run `tributary anonymous show`",
					{ useEnv: { ...env, TRIBUTARY_URL: late.url } },
				);
			} finally {
				await late.close();
			}
			assert.deepEqual(
				grantOf(await ok(["anonymous", "show", "--json"])),
				{
					acl: [
						{ resource: "topic:cli-seen", operations: ["consume"] },
						{ resource: "topic:cli-late", operations: ["produce"] },
					],
					quotas: { requests_per_sec: 100 },
				},
				"nothing removed",
			);

			// Another admin's change that adds no entry (a quota) is kept, and the close is sent again If-Match the grant read.
			const quota = await changedBeforeWrite(String(env.TRIBUTARY_URL), () => ok(["anonymous", "alter", "--quota", "requests_per_sec=7"]));
			try {
				const closed = await run(["anonymous", "close", "--json"], { env: { ...env, TRIBUTARY_URL: quota.url } });
				assert.equal(closed.status, 0, closed.stderr);
				assert.deepEqual(grantOf(closed), { acl: [], quotas: { requests_per_sec: 7 } });
			} finally {
				await quota.close();
			}
			assert.deepEqual(grantOf(await ok(["anonymous", "show", "--json"])), { acl: [], quotas: { requests_per_sec: 7 } });
		});

		test("anonymous --if-match: a malformed tag is a usage mistake naming it, a weak one never matches, * matches any grant", {
			timeout: TEST_TIMEOUT_MS,
		}, async (t) => {
			const { ok, fails } = cliFor(t);
			// An entity tag with a lone quote ('"abc', as a shell leaves a half-quoted paste) was sent as it stood, or quoted
			// again ('abc"' as '"abc""'): the API refused it 400, read as a broker's refusal. A malformed tag is a usage
			// mistake naming it; a weak tag (W/"…") is an entity tag, sent, and never matches (If-Match compares strongly).
			for (const bad of ['"abc', 'abc"', 'W/"abc', '"a"b"', 'W/abc"', "a b", '"a", "b', ","]) {
				const line = await fails(["anonymous", "close", "--if-match", bad], "^tributary: usage: --if-match ", { status: 2 });
				assert.ok(line?.includes(`'${bad}' is not an entity tag`), line);
			}
			// `*` stands alone (RFC 9110 §13.1.1: `"*" / #entity-tag`): in a list the API refuses it (400), where it was sent
			// quoted, as a tag no grant has. Named as the usage mistake it is.
			for (const listed of ['"a", *', '*, "a"']) {
				const line = await fails(["anonymous", "close", "--if-match", listed], "^tributary: usage: --if-match ", { status: 2 });
				assert.ok(line?.includes(`'${listed}' lists *`), line);
			}
			// Open, so that closing is a change: a close already in force is answered 200 whatever the tag (RFC 9110 §13.1.1).
			await ok(["anonymous", "grant", "topic:cli-weak", "consume"]);
			const weak = etagOf(await ok(["anonymous", "show"])) ?? "";
			await fails(["anonymous", "close", "--if-match", `W/"${weak}"`], "^tributary: error: precondition_failed \\(HTTP 412\\)");
			assert.deepEqual(JSON.parse((await ok(["anonymous", "close", "--if-match", weak, "--json"])).stdout).acl, [], "a bare tag is quoted");
			// If-Match is a list of tags (RFC 9110 §13.1.1), as the API reads it: the change applies while the grant is any
			// one of them, and a list of none that match is a 412.
			await ok(["anonymous", "grant", "topic:cli-other", "consume"]);
			const listed = etagOf(await ok(["anonymous", "show"])) ?? "";
			await fails(["anonymous", "close", "--if-match", `"stale", W/"${listed}"`], "^tributary: error: precondition_failed \\(HTTP 412\\)");
			const closedByList = await ok(["anonymous", "close", "--if-match", `"stale", ${listed}`, "--json"]);
			assert.deepEqual(JSON.parse(closedByList.stdout).acl, [], "one of the list is the grant; a bare one is quoted");
			// `*` matches whatever grant is held (RFC 9110 §13.1.1), so it is sent as it is, not quoted into a tag: for each
			// command, after another admin's change; with spaces around it too, as the API trims it.
			/** @type {[string[], { resource: string, operations: string[] }[]][]} each command and the ACL it leaves */
			const starred = [
				[["set", "--acl", "topic:cli-star=consume"], [{ resource: "topic:cli-star", operations: ["consume"] }]],
				[["alter", "--acl", "topic:cli-star=describe"], [{ resource: "topic:cli-star", operations: ["describe"] }]],
				[["close"], []],
			];
			for (const star of ["*", " * "]) {
				for (const [args, acl] of starred) {
					await ok(["anonymous", "grant", "topic:cli-other", "consume"]);
					const answered = JSON.parse((await ok(["anonymous", ...args, "--if-match", star, "--json"])).stdout);
					assert.deepEqual(answered.acl, acl, `${args[0]} --if-match '${star}'`);
				}
			}
			await ok(["anonymous", "set"]);
		});
	});

	test("subscriptions: create, list, delete", { timeout: TEST_TIMEOUT_MS }, async (t) => {
		const { ok } = cliFor(t);
		await ok(["topics", "create", "cli-subs"]);
		const created = JSON.parse((await ok(["subscriptions", "create", "cli-subs", "--url", "https://8.8.8.8/hook", "--json"])).stdout);
		assert.match(created.id, /^sub_/);
		const list = JSON.parse((await ok(["subscriptions", "list", "cli-subs", "--json"])).stdout);
		assert.deepEqual(
			list.subscriptions.map((/** @type {any} */ s) => s.id),
			[created.id],
		);
		await ok(["subscriptions", "delete", "cli-subs", created.id]);
		const empty = JSON.parse((await ok(["subscriptions", "list", "cli-subs", "--json"])).stdout);
		assert.deepEqual(empty.subscriptions, []);
	});

	test("consume --from an offset past the high watermark waits at the tail; below the log start it starts there", {
		timeout: TEST_TIMEOUT_MS,
	}, async (t) => {
		const { ok } = cliFor(t);
		await ok(["topics", "create", "cli-past", "--partitions", "1"]);
		await ok(["produce", "cli-past"], "a\nb\nc\n");
		// Kafka's consumer resets an offset past the end to the end (latest), not to the log start.
		assert.equal((await ok(["consume", "cli-past", "--from", "100", "--exit", "--format", "%o\\n"])).stdout, "");
		assert.equal((await ok(["consume", "cli-past", "--from", "3", "--exit"])).stdout, "");
		assert.equal((await ok(["consume", "cli-past", "--from", "2", "--exit"])).stdout, "c\n");
	});

	test("consume --from -N and -o -N, as the usage spells them, read N before the end", { timeout: TEST_TIMEOUT_MS }, async (t) => {
		const { ok, fails } = cliFor(t);
		await ok(["topics", "create", "cli-from-end", "--partitions", "1"]);
		await ok(["produce", "cli-from-end"], "a\nb\nc\n");
		assert.equal((await ok(["consume", "cli-from-end", "--from", "-1", "--exit"])).stdout, "c\n");
		assert.equal((await ok(["consume", "cli-from-end", "-o", "-2", "--exit"])).stdout, "b\nc\n");
		assert.equal((await ok(["consume", "cli-from-end", "--from=-1", "--exit"])).stdout, "c\n");
		await fails(["consume", "cli-from-end", "--from"], "--from", { status: 2 });
	});

	test("--format %K/%S count a key's and value's bytes (base64 decoded), -1 for null, as kcat does", {
		timeout: TEST_TIMEOUT_MS,
	}, async (t) => {
		const { ok } = cliFor(t);
		await ok(["topics", "create", "cli-sizes", "--partitions", "1"]);
		const input = [
			JSON.stringify({ value: "AAEC/w==", value_encoding: "base64" }),
			JSON.stringify({ key: "AAE=", key_encoding: "base64", value: null }),
			JSON.stringify({ key: "é", value: { n: 1 } }),
		].join("\n");
		await ok(["produce", "cli-sizes", "--json"], input);
		const sizes = (await ok(["consume", "cli-sizes", "--exit", "--format", "%K %S\\n"])).stdout;
		assert.equal(sizes, "-1 4\n2 -1\n2 7\n");
	});

	test("produce keeps a line's bytes: a line that is not UTF-8 is sent as base64, key and value", {
		timeout: TEST_TIMEOUT_MS,
	}, async (t) => {
		const { ok } = cliFor(t);
		await ok(["topics", "create", "cli-bytes", "--partitions", "1"]);
		// "caf\xe9" (Latin-1), then "k\xff:v\xfe" split by -K, then a UTF-8 line that stays text.
		const input = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x6b, 0xff, 0x3a, 0x76, 0xfe, 0x0a, 0xc3, 0xa9, 0x0a]);
		await ok(["produce", "cli-bytes", "-K", ":"], input);
		const records = jsonLines((await ok(["consume", "cli-bytes", "--exit", "--json"])).stdout);
		assert.deepEqual(
			records.map((r) => [r.key, r.key_encoding, r.value, r.value_encoding]),
			[
				[null, undefined, Buffer.from([0x63, 0x61, 0x66, 0xe9]).toString("base64"), "base64"],
				[Buffer.from([0x6b, 0xff]).toString("base64"), "base64", Buffer.from([0x76, 0xfe]).toString("base64"), "base64"],
				[null, undefined, "é", undefined],
			],
		);
	});

	test("integers a double cannot hold keep their digits through produce --json and consume --json", {
		timeout: TEST_TIMEOUT_MS,
	}, async (t) => {
		const { ok } = cliFor(t);
		await ok(["topics", "create", "cli-big", "--partitions", "1"]);
		await ok(["produce", "cli-big", "--json"], '{"key":{"id":12345678901234567891},"value":{"id":12345678901234567890,"small":1.5}}\n');
		const raw = await client(String(env.TRIBUTARY_URL), String(env.TRIBUTARY_TOKEN)).request(
			"GET",
			"/v1/topics/cli-big/partitions/0/records?offset=0",
		);
		assert.match(raw.text, /"value":\{"id":12345678901234567890,"small":1.5\}/, "the broker stored every digit");
		const consumed = (await ok(["consume", "cli-big", "--exit", "--json"])).stdout;
		assert.match(consumed, /"key":\{"id":12345678901234567891\},"value":\{"id":12345678901234567890,"small":1.5\}/);
		assert.equal(
			(await ok(["consume", "cli-big", "--exit", "--format", "%k %s\\n"])).stdout,
			'{"id":12345678901234567891} {"id":12345678901234567890,"small":1.5}\n',
		);
	});

	test("errors: usage mistakes exit 2, broker refusals and an unreachable broker exit 1, always one line", {
		timeout: TEST_TIMEOUT_MS,
	}, async (t) => {
		const { run, fails } = cliFor(t, { asProcess: true });
		await fails(["topics", "frobnicate"], "^tributary: usage: ", { status: 2 });
		await fails(["consume"], "^tributary: usage: consume needs a topic", { status: 2 });
		await fails(["consume", "x", "--bogus"], "^tributary: usage: ", { status: 2 });
		await fails(["topics", "create", "bad name!"], "^tributary: error: invalid_request \\(HTTP 400\\)");
		await fails(["topics", "list"], "^tributary: error: unauthorized", { useEnv: { ...env, TRIBUTARY_TOKEN: "wrong" } });
		// An unreachable broker says where the CLI went and how to point it elsewhere: a newcomer's broker started
		// with PORT=… is not on the default port.
		const unreachable = await fails(["topics", "list"], "^tributary: error: network_error", {
			useEnv: { TRIBUTARY_URL: "http://127.0.0.1:9", TRIBUTARY_TOKEN: "x" },
		});
		assert.match(
			unreachable ?? "",
			/no broker answered at http:\/\/127\.0\.0\.1:9: start one with `npm start`, or name yours with --url or TRIBUTARY_URL/,
		);
		// An empty TRIBUTARY_TOKEN (`export TRIBUTARY_TOKEN=$TOKEN` in a shell without TOKEN) hides .dev.vars' token: say so.
		await fails(["topics", "list"], "^tributary: usage: TRIBUTARY_TOKEN is set but empty: give it a token, or unset it", {
			status: 2,
			useEnv: { TRIBUTARY_URL: "http://127.0.0.1:9", TRIBUTARY_TOKEN: "" },
		});
		// An empty ADMIN_TOKEN line in .dev.vars, TRIBUTARY_TOKEN unset: the message names .dev.vars, not TRIBUTARY_TOKEN.
		const emptyVars = tempDir("cli-empty-token");
		try {
			writeFileSync(join(emptyVars.path, ".dev.vars"), "ADMIN_TOKEN=\n");
			const empty = await run(["topics", "list"], {
				cwd: emptyVars.path,
				env: { TRIBUTARY_URL: "http://127.0.0.1:9", TRIBUTARY_TOKEN: undefined },
			});
			assert.equal(empty.status, 2, empty.stderr);
			assert.match(empty.stderr, /^tributary: usage: the ADMIN_TOKEN in \S+\.dev\.vars is empty: give it a token/);
			assert.doesNotMatch(empty.stderr, /TRIBUTARY_TOKEN is set/);
		} finally {
			emptyVars.remove();
		}
		// A URL without its scheme (as wrangler prints a host:port) is a usage mistake that says what to write.
		await fails(
			["topics", "list"],
			'^tributary: usage: TRIBUTARY_URL must be an http:// or https:// URL such as http://127\\.0\\.0\\.1:8787, not "127\\.0\\.0\\.1:8851"',
			{
				status: 2,
				useEnv: { TRIBUTARY_URL: "127.0.0.1:8851", TRIBUTARY_TOKEN: "x" },
			},
		);
		await fails(["--url", "localhost:8851", "topics", "list"], "^tributary: usage: --url must be an http:// or https:// URL", {
			status: 2,
			useEnv: { TRIBUTARY_TOKEN: "x" },
		});
		// The kafka-gateway subcommand is the gateway's own main(args, connection): its usage errors, no stack.
		const gateway = await run(["kafka-gateway", "--bogus"], { env });
		assert.equal(gateway.status, 2, gateway.stderr);
		assert.match(gateway.stderr, /kafka-gateway/);
		assert.doesNotMatch(gateway.stderr, /\n\s+at /);
		// --url/--token on the command line win over the environment.
		const flags = await run(["--url", String(env.TRIBUTARY_URL), "--token", String(env.TRIBUTARY_TOKEN), "topics", "list", "--json"], {
			env: { TRIBUTARY_URL: "http://127.0.0.1:9", TRIBUTARY_TOKEN: "wrong" },
		});
		assert.equal(flags.status, 0, flags.stderr);
	});

	// TRIBUTARY_URL set but empty was `must be an http:// or https:// URL …, not ""`; one that is no URL at all reached
	// fetch and came back as a network error ("no broker answered"); parseArgs' own words for an unknown option advised
	// "place it at the end of the command after '--'", even for --url written after the command.
	test("the connection and the command line: an empty or unparsable URL, one holding /v1, a query or a fragment, an unknown or valueless option are usage errors naming them; a trailing slash and a repeated --url work", {
		timeout: TEST_TIMEOUT_MS,
	}, async (t) => {
		const { run, fails } = cliFor(t);
		const token = String(env.TRIBUTARY_TOKEN);
		await fails(
			["topics", "list"],
			"^tributary: usage: TRIBUTARY_URL is set but empty: give it the broker's URL, such as http://127\\.0\\.0\\.1:8787, or unset it",
			{
				status: 2,
				useEnv: { TRIBUTARY_URL: "", TRIBUTARY_TOKEN: token },
			},
		);
		await fails(["topics", "list"], '^tributary: usage: TRIBUTARY_URL is not a URL: "http://exa mple"', {
			status: 2,
			useEnv: { TRIBUTARY_URL: "http://exa mple", TRIBUTARY_TOKEN: token },
		});
		// A URL holding the API's path, as a curl line has it, sent every request to /v1/v1/…: a 404 for all.
		const base = String(env.TRIBUTARY_URL).replace(/\/+$/, "");
		const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
		await fails(
			["topics", "list"],
			`^tributary: usage: TRIBUTARY_URL holds the API's path /v1: give the broker's base URL, without /v1, such as ${escaped} \\(see tributary --help\\)$`,
			{ status: 2, useEnv: { TRIBUTARY_URL: `${base}/v1`, TRIBUTARY_TOKEN: token } },
		);
		await fails(
			["--url", `${base}/v1/`, "topics", "list"],
			"^tributary: usage: --url holds the API's path /v1/: give the broker's base URL",
			{
				status: 2,
				useEnv: { TRIBUTARY_TOKEN: token },
			},
		);
		// A query string or a fragment took every request's path into it: `…:8787?x` + `/v1/topics` asked for `/`. It is
		// named, not quoted: a query string often carries a secret (`?token=…`), and stderr is often kept in a log.
		await fails(
			["topics", "list"],
			`^tributary: usage: TRIBUTARY_URL holds a query string: give the broker's base URL, without it, such as ${escaped} \\(see tributary --help\\)$`,
			{ status: 2, useEnv: { TRIBUTARY_URL: `${base}?token=1`, TRIBUTARY_TOKEN: token } },
		);
		await fails(
			["--url", `${base}/#y`, "topics", "list"],
			`^tributary: usage: --url holds a fragment: give the broker's base URL, without it, such as ${escaped} `,
			{
				status: 2,
				useEnv: { TRIBUTARY_TOKEN: token },
			},
		);
		await fails(["consume", "cli-env", "--from"], "^tributary: usage: --from needs a value \\(see tributary --help\\)$", { status: 2 });
		await fails(["topics", "list", "--bogus"], "^tributary: usage: unknown option --bogus \\(see tributary --help\\)$", { status: 2 });
		await fails(
			["topics", "list", "--url", String(env.TRIBUTARY_URL)],
			"^tributary: usage: --url goes before the command: tributary --url URL topics",
			{
				status: 2,
			},
		);
		// A trailing slash, as a browser's address bar copies a URL, reaches the same API.
		const slash = { TRIBUTARY_URL: `${env.TRIBUTARY_URL}/`, TRIBUTARY_TOKEN: token };
		for (const args of [
			["topics", "create", "cli-env"],
			["produce", "cli-env"],
			["consume", "cli-env", "--exit"],
			["anonymous", "show"],
		]) {
			const result = await run(args, { env: slash, input: "hello\n" });
			assert.equal(result.status, 0, `${args.join(" ")} with TRIBUTARY_URL=${slash.TRIBUTARY_URL}: ${result.stderr}`);
			if (args[0] === "consume") assert.equal(result.stdout, "hello\n");
		}
		// --url twice: the last one wins, as with curl, so an alias's --url can be overridden.
		const twice = await run(["--url", "http://127.0.0.1:9", "--url", String(env.TRIBUTARY_URL), "topics", "list"], {
			env: { TRIBUTARY_TOKEN: token },
		});
		assert.equal(twice.status, 0, twice.stderr);
		assert.match(twice.stdout, /cli-env/);
	});

	test("--format prints exactly the format, as kcat's -f does: a newline only where the format has \\n", {
		timeout: SLOW_TEST_TIMEOUT_MS,
	}, async (t) => {
		const { ok } = cliFor(t);
		await ok(["topics", "create", "cli-kcat-format", "--partitions", "1"]);
		await ok(["produce", "cli-kcat-format", "-K", ":"], "k1:one\nk2:two\n");
		const gateway = await startGatewayProcess({ url: String(env.TRIBUTARY_URL), token: env.TRIBUTARY_TOKEN });
		try {
			const formats = ["%s", "%o:%s\\n", "%k\\t%s\\r\\n", "[%p] %s\\x41|", "%s\\\\"];
			const printed = { kcat: /** @type {string[]} */ ([]), ours: /** @type {string[]} */ ([]) };
			for (const format of formats) {
				const theirs = await kcat(["-b", gateway.bootstrap, "-C", "-t", "cli-kcat-format", "-o", "beginning", "-e", "-q", "-f", format]);
				assert.equal(theirs.status, 0, theirs.stderr);
				printed.kcat.push(`${format} → ${JSON.stringify(theirs.stdout)}`);
				printed.ours.push(`${format} → ${JSON.stringify((await ok(["consume", "cli-kcat-format", "--exit", "--format", format])).stdout)}`);
			}
			assert.deepEqual(printed.ours, printed.kcat);
		} finally {
			await gateway.stop();
		}
	});
});
