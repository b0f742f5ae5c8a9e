// @ts-check
/**
 * Smoke test against a real `wrangler dev`: health, auth, create, produce, fetch, and a clean stop by PID.
 */

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { generateToken, groupMembers, startWranglerDev, stopAllWranglerDevs, waitForPortClosed } from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
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

	const { forced } = await dev.stop();
	assert.equal(forced, false, `wrangler dev needed SIGKILL to stop:\n${dev.output()}`);
	await waitForPortClosed(dev.port);
	assert.deepEqual(groupMembers(dev.pid), [], "no process of wrangler dev's group is left");
});
