/**
 * Group-consume scenario (issue 3): records/s through a consumer group's poll + commit loop, to sit next to the
 * plain-fetch scenario. Standalone: Node 20's fetch (keep-alive), no imports from the rest of the bench.
 *
 * Setup (not measured): a topic of PARTITIONS partitions is filled with a backlog of 1 KiB records, and MEMBERS
 * members join one group reading from the earliest offset. Measured: each member loops poll (max_records
 * POLL_RECORDS) → commit what it got, until `durationMs` passes or the backlog is drained. Both calls count as
 * requests; latencies are per request. Teardown deletes the members, the group and the topic.
 *
 * @example
 * const result = await groupConsumeScenario({ baseUrl: "http://127.0.0.1:8787", token, durationMs: 10_000 });
 * // { records, bytes, requests, latenciesMs: [...], seconds, drained }
 * // `backlogRecords` (default BACKLOG_RECORDS) may be lowered for a quick smoke run.
 */

const PARTITIONS = 4;
const MEMBERS = 4;
const POLL_RECORDS = 500;
const VALUE_CHARS = 1024;
const PRODUCE_BATCH_RECORDS = 500;
/** Backlog size: enough for a few seconds at the rates seen locally; the result says if it ran dry. */
const BACKLOG_RECORDS = 100_000;
const REQUEST_TIMEOUT_MS = 30_000;

export async function groupConsumeScenario({ baseUrl, token, durationMs, backlogRecords = BACKLOG_RECORDS }) {
	const api = client(baseUrl, token);
	const suffix = Math.random().toString(36).slice(2, 10);
	const topic = `bench-group-${suffix}`;
	const group = `bench-group-${suffix}`;
	await api.json("POST", "/v1/topics", { name: topic, partitions: PARTITIONS }, [201]);
	try {
		await fillBacklog(api, topic, backlogRecords);
		const members = [];
		for (let i = 0; i < MEMBERS; i++) {
			members.push(await api.json("POST", `/v1/groups/${group}/members`, { topics: [topic], auto_offset_reset: "earliest" }, [200]));
		}
		const result = await consume(api, group, members, durationMs);
		for (const m of members) await api.request("DELETE", `/v1/groups/${group}/members/${m.member_id}`);
		await api.request("DELETE", `/v1/groups/${group}`);
		return result;
	} finally {
		await api.request("DELETE", `/v1/topics/${topic}`);
	}
}

async function fillBacklog(api, topic, backlogRecords) {
	const value = printable(VALUE_CHARS);
	const body = JSON.stringify({ records: Array.from({ length: PRODUCE_BATCH_RECORDS }, (_, i) => ({ key: `k${i}`, value })) });
	const batches = Math.ceil(backlogRecords / PRODUCE_BATCH_RECORDS);
	const inFlight = 4;
	for (let b = 0; b < batches; b += inFlight) {
		await Promise.all(
			Array.from({ length: Math.min(inFlight, batches - b) }, () => api.raw("POST", `/v1/topics/${topic}/records`, body, [200])),
		);
	}
}

/** Each member polls and commits in a closed loop; the loops share the deadline and the counters. */
async function consume(api, group, members, durationMs) {
	const totals = { records: 0, bytes: 0, requests: 0, latenciesMs: [] };
	const started = performance.now();
	const deadline = started + durationMs;
	let drainedMembers = 0;
	const timed = async (method, path, body) => {
		const t0 = performance.now();
		const response = await api.request(method, path, body);
		totals.latenciesMs.push(performance.now() - t0);
		totals.requests++;
		return response;
	};
	const loop = async (member) => {
		let generation = member.generation;
		while (performance.now() < deadline) {
			const polled = await timed(
				"POST",
				`/v1/groups/${group}/members/${member.member_id}/poll`,
				JSON.stringify({ max_records: POLL_RECORDS }),
			);
			if (polled.status !== 200) throw new Error(`poll → ${polled.status} ${polled.text.slice(0, 300)}`);
			totals.bytes += polled.bytes;
			const { records, generation: current } = JSON.parse(polled.text);
			generation = current;
			// This member's partitions are read to the end (members are fixed, so no rebalance will add more).
			if (records.length === 0) {
				drainedMembers++;
				break;
			}
			totals.records += records.length;
			const next = new Map();
			for (const r of records) next.set(`${r.topic}/${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
			const committed = await timed(
				"POST",
				`/v1/groups/${group}/offsets`,
				JSON.stringify({ member_id: member.member_id, generation, offsets: [...next.values()] }),
			);
			// A rebalance between the poll and the commit is not an error: the records are read again (at-least-once).
			if (committed.status !== 200 && committed.status !== 409)
				throw new Error(`commit → ${committed.status} ${committed.text.slice(0, 300)}`);
		}
	};
	await Promise.all(members.map(loop));
	return { ...totals, seconds: (performance.now() - started) / 1000, drained: drainedMembers === members.length };
}

function client(baseUrl, token) {
	const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
	async function request(method, path, body) {
		const response = await fetch(new URL(path, baseUrl), { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
		const buffer = Buffer.from(await response.arrayBuffer());
		return { status: response.status, text: buffer.toString("utf8"), bytes: buffer.length };
	}
	async function raw(method, path, body, expect) {
		const response = await request(method, path, body);
		if (!expect.includes(response.status)) throw new Error(`${method} ${path} → ${response.status} ${response.text.slice(0, 300)}`);
		return response;
	}
	async function json(method, path, value, expect) {
		const response = await raw(method, path, JSON.stringify(value), expect);
		return response.text.length === 0 ? null : JSON.parse(response.text);
	}
	return { request, raw, json };
}

/** A deterministic printable string (xorshift32), quotes and backslashes included so escaping costs what it would. */
function printable(length, seed = 1) {
	let state = seed;
	let out = "";
	for (let i = 0; i < length; i++) {
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		out += String.fromCharCode(0x20 + ((state >>> 0) % 95));
	}
	return out;
}
