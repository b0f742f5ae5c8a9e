// @ts-check
/**
 * Smoke test against a real `wrangler dev`: health, auth, create, produce, fetch, and a clean stop by PID.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, test } from "node:test";
import { generateToken, groupMembers, startWranglerDev, stopAllWranglerDevs, waitForPortClosed } from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
import { listenLocal } from "./lib/local-server.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const state = tempDir("smoke");
after(async () => {
	await stopAllWranglerDevs();
	state.remove();
});

test("wrangler dev: health, auth, create, produce, fetch, stop", { timeout: 90_000 }, async () => {
	const token = generateToken();
	const dev = await startWranglerDev({ persistTo: state.path, token });
	const api = client(dev.url, token);

	const health = await api.request("GET", "/healthz", { auth: false });
	assert.equal(health.status, 200);
	assert.deepEqual(health.json, { status: "ok" });

	const anonymous = await api.request("GET", "/v1/topics", { auth: false });
	assert.equal(anonymous.status, 401, anonymous.text);
	const wrongToken = await api.request("GET", "/v1/topics", { auth: false, headers: { Authorization: "Bearer not-the-token" } });
	assert.equal(wrongToken.status, 401, wrongToken.text);
	const anonymousProduce = await api.request("POST", "/v1/topics/smoke/records", { auth: false, body: { records: [{ value: 1 }] } });
	assert.equal(anonymousProduce.status, 401, anonymousProduce.text);

	const created = await api.createTopic("smoke", 2);
	assert.equal(created.name, "smoke");
	assert.equal(created.partitions, 2);

	const records = [
		{ key: "user-1", value: { n: 1, text: "héllo ✓" } },
		{ value: "plain string", partition: 1 },
		{ key: "k", value: null, partition: 0 },
		{ value: [1, 2, 3], partition: 1, headers: [{ key: "trace", value: "abc" }] },
		{ key: "user-1", value: 42 },
	];
	const offsets = await api.produce("smoke", records);
	assert.equal(offsets.length, records.length);
	assert.equal(offsets[0]?.partition, offsets[4]?.partition, "one key, one partition");

	/** @type {Map<number, import("./lib/client.mjs").FetchedRecord[]>} the records each partition must hold */
	const expected = new Map([
		[0, []],
		[1, []],
	]);
	records.forEach((record, i) => {
		const position = offsets[i];
		assert.ok(position);
		if (record.partition !== undefined) assert.equal(position.partition, record.partition);
		expected.get(position.partition)?.push({
			partition: position.partition,
			offset: position.offset,
			timestamp: position.timestamp,
			key: record.key ?? null,
			value: record.value,
			headers: record.headers ?? [],
		});
	});
	for (const [partition, want] of expected) {
		want.sort((a, b) => a.offset - b.offset);
		const page = await api.fetchRecords("smoke", partition, 0);
		assert.deepEqual(page.records, want, `partition ${partition}`);
		assert.equal(page.high_watermark, want.length);
		assert.equal(page.log_start_offset, 0);
		assert.equal(page.next_offset, want.length);
		assert.deepEqual(
			want.map((r) => r.offset),
			want.map((_, i) => i),
			"offsets are dense from 0",
		);
	}

	// A fetch's body streams from the partition object to the client, and still states its length: the stream
	// carries the size of the Blob it reads. That length is what lets an HTTP client tell a page cut short (the object
	// evicted or redeployed mid-pipe) from a whole one. (A client that accepts gzip gets the body compressed and
	// chunked, whose end is marked by its last chunk instead.)
	const fetched = await fetch(`${dev.url}/v1/topics/smoke/partitions/1/records?offset=0`, {
		headers: { Authorization: `Bearer ${token}`, "Accept-Encoding": "identity" },
	});
	assert.equal(fetched.status, 200);
	const bytes = new Uint8Array(await fetched.arrayBuffer());
	assert.equal(fetched.headers.get("Content-Length"), String(bytes.byteLength), "a fetch answer states its length");
	assert.equal(fetched.headers.get("Transfer-Encoding"), null);
	assert.equal(JSON.parse(new TextDecoder().decode(bytes)).records.length, expected.get(1)?.length);

	// A group poll laid out by partition of a member that owns one partition is answered with the body the partition
	// built, streamed as a fetch's is: it states its length too, and holds that partition's records.
	const members = [];
	for (let i = 0; i < 2; i++) {
		const joined = await api.request("POST", "/v1/groups/smoke-readers/members", {
			body: { topics: ["smoke"], auto_offset_reset: "earliest" },
		});
		assert.equal(joined.status, 200, joined.text);
		members.push(joined.json.member_id);
	}
	for (const member of members) {
		const polled = await fetch(`${dev.url}/v1/groups/smoke-readers/members/${member}/poll`, {
			method: "POST",
			headers: { Authorization: `Bearer ${token}`, "Accept-Encoding": "identity", "Content-Type": "application/json" },
			body: JSON.stringify({ layout: "partitions" }),
		});
		assert.equal(polled.status, 200);
		const body = new Uint8Array(await polled.arrayBuffer());
		assert.equal(polled.headers.get("Content-Length"), String(body.byteLength), "a poll's answer states its length");
		const answer = JSON.parse(new TextDecoder().decode(body));
		assert.equal(answer.assignment.length, 1, "two members, two partitions: one each");
		const owned = answer.assignment[0].partition;
		assert.deepEqual(answer.partitions, [{ topic: "smoke", partition: owned, records: expected.get(owned) }]);
	}

	const { forced } = await dev.stop();
	assert.equal(forced, false, `wrangler dev needed SIGKILL to stop:\n${dev.output()}`);
	await waitForPortClosed(dev.port);
	assert.deepEqual(groupMembers(dev.pid), [], "no process of wrangler dev's group is left");
});

/**
 * A scratch Worker in `dir` whose fetch handler is `body`.
 * @param {string} dir
 * @param {string} source
 */
function scratchWorker(dir, source) {
	writeFileSync(join(dir, "wrangler.toml"), 'name = "scratch"\nmain = "index.js"\ncompatibility_date = "2025-01-01"\n');
	writeFileSync(join(dir, "index.js"), source);
}

test("the harness fails fast on a Worker that does not build, and quotes the build error first", { timeout: 60_000 }, async () => {
	const dir = tempDir("broken-worker");
	try {
		scratchWorker(dir.path, 'import missing from "./nowhere.js";\nexport default { fetch: () => new Response(missing) };\n');
		const started = Date.now();
		await assert.rejects(
			startWranglerDev({ root: dir.path, persistTo: join(dir.path, "state"), token: generateToken() }),
			(/** @type {Error} */ error) => {
				assert.match(error.message, /^wrangler dev could not build the Worker\n--- its \[ERROR\] lines ---\n.*Build failed/);
				assert.match(error.message, /Could not resolve "\.\/nowhere\.js"/);
				return true;
			},
		);
		// Fast: a build failure does not wait out the ready timeout (90 s).
		assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
	} finally {
		dir.remove();
	}
});

test("an [ERROR] line that is not a build failure does not fail the start (workerd logs dropped sockets so)", {
	timeout: 60_000,
}, async () => {
	const dir = tempDir("noisy-worker");
	const logPath = join(dir.path, "wrangler.log");
	const line = "[ERROR] disconnected: ::write(fd): Broken pipe (logged by the test Worker)";
	// The harness writes each line it takes in to `logPath` after keeping it, so a line in the file is one it holds.
	// The probe says "held" from the second time it finds the line: a health check after that finding began after
	// it, so the harness had the line while it was still waiting for readiness, however late the line came.
	let found = 0;
	const probe = createServer((_request, response) => {
		if (existsSync(logPath) && readFileSync(logPath, "utf8").includes(line)) found++;
		response.end(found >= 2 ? "held" : "not yet");
	});
	const { port, close } = await listenLocal(probe);
	try {
		// Health checks are answered 503 after logging a line like the one workerd prints for a write to a socket
		// the peer closed, until the probe says the harness holds that line.
		scratchWorker(
			dir.path,
			[
				"export default {",
				"\tasync fetch() {",
				`\t\tif ((await (await fetch("http://127.0.0.1:${port}/")).text()) === "held") return new Response("ok");`,
				`\t\tconsole.error(${JSON.stringify(`✘ ${line}`)});`,
				"\t\treturn new Response('starting', { status: 503 });",
				"\t},",
				"};",
				"",
			].join("\n"),
		);
		const dev = await startWranglerDev({ root: dir.path, persistTo: join(dir.path, "state"), token: generateToken(), logPath });
		try {
			assert.ok(found >= 2, `the probe found the line ${found} times`);
			assert.ok(dev.output().includes(line), dev.output());
			assert.equal((await fetch(`${dev.url}/healthz`)).status, 200);
		} finally {
			await dev.stop();
		}
	} finally {
		await close();
		dir.remove();
	}
});
