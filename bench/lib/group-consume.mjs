// @ts-check
/**
 * Group-consume load: records/s through a consumer group's poll + commit loop, to sit next to the
 * plain-fetch scenario. Requests go over the bench's lean keep-alive client (./http.mjs) in a thread of its own
 * (./http-thread.mjs, which says why), and a poll's
 * answer is scanned for what a commit needs (each partition's last offset, the generation) rather than parsed in
 * full, as the fetch scenario reads only `next_offset`: on a 2-core machine, Node's fetch plus a JSON.parse of
 * every 0.5 MB answer kept the load generator at a full core and made it the bottleneck. Each member's first
 * non-empty poll is parsed in full and must agree with the scan.
 *
 * Setup (not measured): a topic of PARTITIONS partitions is filled with a backlog of keyed 1 KiB records, the same
 * number in each partition (each produce request puts PRODUCE_BATCH_RECORDS ÷ PARTITIONS records in every
 * partition, a count that does not divide a poll, so polls start and end inside stored batches as with keyed
 * traffic), and MEMBERS members join one group reading from the earliest offset. Even partitions run dry together:
 * with keys hashed to partitions the smallest held under a quarter of the backlog and cut windows short.
 * Measured: each member loops poll (max_records `pollRecords`, default POLL_RECORDS) → commit what it got, until
 * `durationMs` passes or one member's partitions run dry (`drained`: the others stop too, so every member is busy
 * for the whole window). `commitWith` "poll" sends each commit with the member's next poll (the poll body's
 * `commit`; the last one on its own after the loop), "request" as a `POST /v1/groups/{group}/offsets` after each
 * poll, "interval" by the broker's auto-commit on COMMIT_INTERVAL_MS (each poll's `auto_commit_interval_ms`), as the
 * SDK's consumer with `autoCommitIntervalMs` polls (Kafka's consumer with its default `auto.commit.interval.ms`), and
 * every partition's offset the member read to committed at the end, as the SDK's `close()` does. Every call counts
 * as a request; latencies are per request.
 * Every poll is checked as the fetch scenario checks its pages: each partition's records in it must start at the next
 * offset of that partition for that member (nothing skipped, nothing given twice between polls), and are counted
 * from the first and last of them (scanPoll); the first non-empty poll is parsed in full. The first failed call stops every member. After the measurement the group's committed offsets are read back
 * (`committed`: their sum, which equals `records` when every polled record was committed once), and the rows the
 * group's coordinator wrote per poll, commits included (from `/metrics`, read once the metrics reports have
 * settled, after the joins and after the loop).
 * Teardown deletes the members, the group and the topic, also after a failure.
 *
 * The backlog's size and fill are in ./group-backlog.mjs: `backlogFor(ratePerSec, durationMs)` sizes one that a
 * group reading at that rate does not finish in the window.
 *
 * @example
 * const result = await groupConsumeScenario({ baseUrl: "http://127.0.0.1:8787", token, durationMs: 10_000 });
 * // { records, bytes, requests, polls, latenciesMs: [...], seconds, drained, committed, coordinatorRowsPerPoll, backlogRecords, fillMs }
 * // `backlogRecords` (default BACKLOG_RECORDS) may be lowered for a quick smoke run; `fill` ({ withinMs, atLeast })
 * // stops its fill early (see group-backlog.mjs: fillBacklogs; `backlogWithin` gives all three for a rate). `measure` (optional) wraps
 * // the joins and the measured loop: it is called with a function that runs them and must return what that
 * // returns (bench/scenarios/group.mjs waits for a quiet machine first and counts CPU around it).
 *
 * Its parts are exported for bench:ab (bench/ab.mjs), which puts the same load on two builds at once: `setUpGroups`
 * (topics, backlogs filled alike, members), `memberCursor` (one member's poll + commit, a step at a time) and `consume` (the
 * members' closed loops over any cursors, a pair of builds' included).
 */

import { SETTLE_MS, scrape, sumOf } from "./cost.mjs";
import { fillBacklogs, PARTITIONS } from "./group-backlog.mjs";
import { createThreadClient, sharedBuffer } from "./http-thread.mjs";

const MEMBERS = 4;
/** Records per poll (`max_records`) unless told: Kafka's max.poll.records default. */
export const POLL_RECORDS = 500;
/** Backlog size: enough for a few seconds at the rates seen locally; the result says if it ran dry. */
const BACKLOG_RECORDS = 100_000;
/**
 * A polled record starts `{"topic":"…","partition":P,"offset":O,` (topic names need no escaping), or, in a poll
 * laid out by partition, `{"partition":P,"offset":O,` (its partitions' entries start `{"topic":"…","partition":P,
 * "records":[`, so never so). Those bytes cannot occur inside a JSON string (its quotes are escaped), so before
 * RECORDS_END each is a record's head; after it the assignment's entries start alike (`{"topic":"…","partition":P}`).
 */
const RECORD_HEAD = Buffer.from('{"topic":"');
const PARTITION_RECORD_HEAD = Buffer.from('{"partition":');
const RECORDS_END = Buffer.from('],"generation":');
const PARTITION_FIELD = Buffer.from('","partition":');
const OFFSET_FIELD = Buffer.from(',"offset":');
const QUOTE = 0x22;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const GENERATION = /"generation":(\d+),"assignment":/;
/** How often a member committing on an interval commits: Kafka's default `auto.commit.interval.ms`. */
export const COMMIT_INTERVAL_MS = 5_000;
/** A member's receive buffer: a poll of 1,000 × 1 KiB records answers ~1.1 MB (a longer answer is joined instead). */
const POLL_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * @typedef {{ member_id: string }} Member
 * @typedef {{ records: number, bytes: number, requests: number, polls: number, latenciesMs: number[], seconds: number, drained: boolean }} Consumed
 * @typedef {"poll" | "request" | "interval"} CommitWith
 * @typedef {"records" | "partitions"} Layout  the poll's `layout`: one list of records with their topics (the
 *   default), or records grouped under their partitions
 * @typedef {ReturnType<typeof groupClient>} Api
 * @typedef {{ records: number, bytes: number, pollMs: number, commitMs: number | null }} Stepped  one step of a
 *   member: the records its poll returned (0: its partitions are read to the end), the bytes received, the poll's
 *   latency and that of the commit request after it (null when it sent none)
 * @typedef {{ polled: number, step(): Promise<Stepped>, finish(): Promise<number | null> }} MemberCursor
 * @typedef {{ withinMs?: number, atLeast?: number }} Fill  when a backlog's fill may stop short of its records (fillBacklogs)
 */

/**
 * Fills a backlog, joins the members and measures their poll + commit loop (see the module comment).
 * @param {{ baseUrl: string, token: string, durationMs: number, commitWith?: CommitWith, pollRecords?: number, layout?: Layout, backlogRecords?: number, fill?: Fill, measure?: (run: () => Promise<Consumed>) => Promise<Consumed> }} options
 */
export async function groupConsumeScenario({
	baseUrl,
	token,
	durationMs,
	commitWith = "poll",
	pollRecords = POLL_RECORDS,
	layout = "records",
	backlogRecords = BACKLOG_RECORDS,
	fill,
	measure = (run) => run(),
}) {
	const api = groupClient(baseUrl, token);
	try {
		const load = await openGroupLoad(api, { commitWith, pollRecords, layout, backlogRecords, fill });
		try {
			// Members join inside `measure` (a few milliseconds; the window starts after them), so however long a caller
			// waits before running it, no session can expire before the first poll.
			const result = await measure(async () => {
				await load.join();
				return load.run(durationMs);
			});
			const { committed, coordinatorRowsPerPoll } = await load.close();
			return { ...result, committed, coordinatorRowsPerPoll, backlogRecords: load.backlogRecords, fillMs: load.fillMs };
		} finally {
			await load.tearDown();
		}
	} finally {
		api.close();
	}
}

/**
 * A group load opened on a server, to run in as many windows as its caller likes (bench/scenarios/group.mjs measures
 * it in rounds beside a plain fetch of the same topic): the backlog filled (setUpGroup), no member yet. `join()`
 * joins the members and makes their cursors; what the joins wrote is left out of the coordinator's rows. `run(ms)`
 * runs the members' loops (`consume`; `finish` false leaves each last commit pending for the next run). `close()`
 * sends the commits still pending and answers the records polled in every run, the group's committed offsets (their
 * sum: equal when each polled record was committed once) and the rows the coordinator wrote per poll, commits
 * included. `tearDown()` deletes the members, the group and the topic.
 * @param {Api} api
 * @param {{ commitWith?: CommitWith, pollRecords?: number, layout?: Layout, backlogRecords?: number, fill?: Fill }} [options]
 */
export async function openGroupLoad(
	api,
	{ commitWith = "poll", pollRecords = POLL_RECORDS, layout = "records", backlogRecords = BACKLOG_RECORDS, fill } = {},
) {
	const setup = await setUpGroup(api, backlogRecords, fill);
	/** @type {MemberCursor[]} */
	let cursors = [];
	let rowsBefore = 0;
	let polls = 0;
	const settledRows = async () => {
		await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
		return coordinatorRowsWritten(await scrape(api.http));
	};
	return {
		topic: setup.topic,
		partitions: PARTITIONS,
		backlogRecords: setup.backlogRecords,
		fillMs: setup.fillMs,
		async join() {
			await setup.join();
			// What the joins wrote (members, assignments) is reported before the loops start, and left out.
			rowsBefore = await settledRows();
			cursors = setup.members.map((member) => memberCursor(api, { ...setup, member, commitWith, pollRecords, layout }));
		},
		/**
		 * @param {number} durationMs
		 * @param {{ finish?: boolean }} [options]
		 */
		async run(durationMs, options) {
			if (cursors.length === 0) throw new Error("the group load runs only once its members have joined");
			const consumed = await consume(cursors, durationMs, options);
			polls += consumed.polls;
			return consumed;
		},
		async close() {
			for (const cursor of cursors) await cursor.finish();
			const committed = await setup.committed();
			const rows = (await settledRows()) - rowsBefore;
			return {
				polled: cursors.reduce((sum, cursor) => sum + cursor.polled, 0),
				committed,
				coordinatorRowsPerPoll: polls > 0 ? Math.round((rows / polls) * 100) / 100 : null,
			};
		},
		tearDown: setup.tearDown,
	};
}

/**
 * The unmeasured part: a topic of PARTITIONS partitions filled with `backlogRecords` (see fillBacklogs), and a
 * group of MEMBERS members (`join()`, reading from the earliest offset) to read it; `committed()` sums the group's
 * committed offsets; `tearDown()` deletes the members, the group and the topic (best effort: a failed run still
 * removes what it made).
 * @param {Api} api
 * @param {number} backlogRecords
 * @param {Fill} [fill] when its fill may stop early (see fillBacklogs)
 */
export async function setUpGroup(api, backlogRecords, fill = {}) {
	const [setup] = await setUpGroups([api], { records: backlogRecords, ...fill });
	return /** @type {GroupSetup} */ (setup);
}

/**
 * @typedef {Awaited<ReturnType<typeof groupOn>> & { backlogRecords: number, fillMs: number }} GroupSetup
 */

/**
 * `setUpGroup` on several servers (bench:ab's builds), their backlogs filled together (fillBacklogs): each topic holds
 * as many records, also when the fill stops on time.
 * @param {Api[]} apis
 * @param {{ records: number, withinMs?: number, atLeast?: number }} backlog
 * @returns {Promise<GroupSetup[]>}
 */
export async function setUpGroups(apis, backlog) {
	/** @type {Awaited<ReturnType<typeof groupOn>>[]} */
	const made = [];
	try {
		for (const api of apis) made.push(await groupOn(api));
		const fillStarted = performance.now();
		const filled = await fillBacklogs(
			made.map((m, i) => ({ api: /** @type {Api} */ (apis[i]), topic: m.topic })),
			backlog,
		);
		const fillMs = Math.round(performance.now() - fillStarted);
		return made.map((m) => ({ ...m, backlogRecords: filled, fillMs }));
	} catch (error) {
		for (const m of made) await m.tearDown();
		throw error;
	}
}

/**
 * A fresh topic of PARTITIONS partitions on `api`'s server and the group that will read it (see setUpGroup).
 * @param {Api} api
 */
async function groupOn(api) {
	const suffix = Math.random().toString(36).slice(2, 10);
	const topic = `bench-group-${suffix}`;
	const group = `bench-group-${suffix}`;
	/** @type {Member[]} */
	const members = [];
	await api.json("POST", "/v1/topics", { name: topic, partitions: PARTITIONS }, [201]);
	return {
		topic,
		group,
		members,
		async join() {
			for (let i = 0; i < MEMBERS; i++) {
				const joinBody = { topics: [topic], auto_offset_reset: "earliest" };
				members.push(await api.json("POST", `/v1/groups/${group}/members`, joinBody, [200]));
			}
		},
		async committed() {
			const described = await api.json("GET", `/v1/groups/${group}`, undefined, [200]);
			/** @type {{ committed?: number }[]} */
			const offsets = described.offsets;
			return offsets.reduce((sum, o) => sum + (o.committed ?? 0), 0);
		},
		async tearDown() {
			for (const m of members) await api.request("DELETE", `/v1/groups/${group}/members/${m.member_id}`).catch(() => {});
			if (members.length > 0) await api.request("DELETE", `/v1/groups/${group}`).catch(() => {});
			await api.request("DELETE", `/v1/topics/${topic}`).catch(() => {});
		},
	};
}

/**
 * Rows every group coordinator wrote so far (the joins, polls and commits of this run are the only group traffic).
 * @param {Map<string, number>} samples
 */
function coordinatorRowsWritten(samples) {
	return sumOf(samples, 'tributary_storage_rows_written_total{class="GroupCoordinator"}');
}

/**
 * What a commit needs from a poll's answer: how many records, each partition's last offset, the generation. Each
 * partition's records come together, in offset order (the poll's answer is laid out so), so only the ends of each
 * partition's run are read: its first record must be the one after the last this member was given from that
 * partition (`nextOffsets`, which it advances; a partition not in it starts at 0, the earliest offset of a fresh
 * topic), nothing skipped or given twice across polls, and its last is found from the end (lastIndexOf of that
 * partition's own record head); the run counts last − first + 1 records, offsets being dense in the bench's topic.
 * So the client does the fetch scenario's work (fetchStep checks its first page in full, then reads each page's
 * `next_offset` and counts next − from), not more: checking every record's head cost the load generator 0.30–0.33 µs
 * a record, reading the ends 0.01–0.09 (500-record answers of 1 KiB records, 4 warm rounds of 200,000 records
 * each, load ~10), CPU that on a 2-core machine the server's share paid for. Decoding the answer to a string instead
 * cost ~5 µs a record. The first non-empty answer is still parsed in full (`checkScan`), and the group's committed
 * offsets must still add up to the records counted (`close`).
 * @param {Buffer} body
 * @param {Map<number, number>} nextOffsets
 * @param {Layout} layout
 */
function scanPoll(body, nextOffsets, layout) {
	/** @type {Map<number, number>} */
	const lastOffsets = new Map();
	let records = 0;
	const recordsEnd = body.lastIndexOf(RECORDS_END);
	if (recordsEnd < 0) throw new Error("a poll answer without its generation");
	const head = layout === "records" ? RECORD_HEAD : PARTITION_RECORD_HEAD;
	for (let at = body.indexOf(head); at >= 0 && at < recordsEnd; at = body.indexOf(head, at + 1)) {
		const first = recordAt(body, at, head, layout);
		const expected = nextOffsets.get(first.partition) ?? 0;
		if (first.offset !== expected)
			throw new Error(`a poll answered partition ${first.partition} offset ${first.offset}; the next for this member is ${expected}`);
		// The run's last record: the last head of this partition's own before the envelope's tail.
		at = body.lastIndexOf(body.subarray(at, first.offsetAt), recordsEnd);
		const last = recordAt(body, at, head, layout);
		if (last.offset < first.offset) throw new Error(`a poll answered partition ${first.partition}'s records out of order`);
		records += last.offset - first.offset + 1;
		nextOffsets.set(first.partition, last.offset + 1);
		lastOffsets.set(first.partition, last.offset);
	}
	const generation = Number(GENERATION.exec(body.toString("latin1", recordsEnd))?.[1] ?? Number.NaN);
	return { records, lastOffsets, generation };
}

/**
 * The partition and offset of the record whose head is at `at`, and where its offset's digits start.
 * @param {Buffer} body
 * @param {number} at
 * @param {Buffer} head
 * @param {Layout} layout
 */
function recordAt(body, at, head, layout) {
	const malformed = () =>
		new Error(`a poll answer's record at byte ${at} does not start with its ${layout === "records" ? "topic, " : ""}partition and offset`);
	let partitionAt = at + head.length;
	if (layout === "records") {
		const topicEnd = body.indexOf(QUOTE, partitionAt);
		if (!fieldAt(body, topicEnd, PARTITION_FIELD)) throw malformed();
		partitionAt = topicEnd + PARTITION_FIELD.length;
	}
	const partition = digitsAt(body, partitionAt);
	if (!fieldAt(body, partition.end, OFFSET_FIELD)) throw malformed();
	const offsetAt = partition.end + OFFSET_FIELD.length;
	return { partition: partition.value, offset: digitsAt(body, offsetAt).value, offsetAt };
}

/**
 * Whether `body` holds the bytes of `field` at `at`.
 * @param {Buffer} body
 * @param {number} at
 * @param {Buffer} field
 */
function fieldAt(body, at, field) {
	return at >= 0 && at + field.length <= body.length && body.compare(field, 0, field.length, at, at + field.length) === 0;
}

/**
 * The whole number written at `at` in `body` and where its digits end; throws when there is none.
 * @param {Buffer} body
 * @param {number} at
 */
function digitsAt(body, at) {
	let value = 0;
	let end = at;
	for (let byte = body[end]; byte !== undefined && byte >= DIGIT_0 && byte <= DIGIT_9; byte = body[++end])
		value = value * 10 + (byte - DIGIT_0);
	if (end === at) throw new Error(`a poll answer has no number at byte ${at}`);
	return { value, end };
}

/**
 * The same, from the answer parsed in full; throws if the scan disagrees.
 * @param {Buffer} body
 * @param {ReturnType<typeof scanPoll>} scanned
 * @param {Layout} layout
 */
function checkScan(body, scanned, layout) {
	/** @typedef {{ partition: number, offset: number }} Polled */
	/** @type {{ records?: Polled[], partitions?: { topic: string, partition: number, records: Polled[] }[], generation: number }} */
	const parsed = JSON.parse(body.toString("utf8"));
	const polled =
		layout === "records"
			? (parsed.records ?? [])
			: (parsed.partitions ?? []).flatMap((p) =>
					p.records.map((r) => ({ ...r, partition: r.partition === p.partition ? p.partition : -1 })),
				);
	/** @type {Map<number, number>} */
	const lastOffsets = new Map();
	for (const r of polled) lastOffsets.set(r.partition, r.offset);
	const same =
		polled.length === scanned.records &&
		parsed.generation === scanned.generation &&
		lastOffsets.size === scanned.lastOffsets.size &&
		[...lastOffsets].every(([p, o]) => scanned.lastOffsets.get(p) === o);
	if (!same) {
		throw new Error(
			`poll answer scan disagrees with JSON.parse: ${scanned.records} vs ${polled.length} records, generation ${scanned.generation} vs ${parsed.generation}`,
		);
	}
}

/**
 * One member's poll + commit loop, a step at a time: `step()` polls (carrying the commit of the previous poll when
 * `commitWith` is "poll"), checks the answer (scanPoll; the first non-empty one parsed in full as well) and commits
 * what it got (as a request of its own when `commitWith` is "request"); `finish()` sends a commit still pending on
 * its own. `polled` counts every record returned so far, the sum the group's committed offsets must reach.
 * @param {Api} api
 * @param {{ topic: string, group: string, member: Member, commitWith: CommitWith, pollRecords: number, layout?: Layout }} options
 * @returns {MemberCursor}
 */
export function memberCursor(api, { topic, group, member, commitWith, pollRecords, layout = "records" }) {
	const pollPath = `/v1/groups/${group}/members/${member.member_id}/poll`;
	/** @type {Map<number, number>} */
	const nextOffsets = new Map();
	let checked = false;
	/** Each poll's answer is read into this, and scanned before the next poll (see `into` in lib/http.mjs). */
	const answer = sharedBuffer(POLL_ANSWER_BYTES);
	/** What the last poll returned, to commit with the next one (`commitWith` "poll"): `{"generation":…,"offsets":[…]}`. */
	let pending = /** @type {string | null} */ (null);
	/** `commitWith` "interval": the offset read to per partition, committed at the end (`finish`). */
	const uncommitted = new Map();
	let generation = 0;
	const uncommittedJson = () =>
		uncommitted.size === 0
			? null
			: JSON.stringify({ generation, offsets: [...uncommitted].map(([partition, offset]) => ({ topic, partition, offset })) });
	// The loop commits explicitly, so the poll does not auto-commit (the default) as well; on an interval the broker does.
	const autoCommit = commitWith === "interval" ? `true,"auto_commit_interval_ms":${COMMIT_INTERVAL_MS}` : "false";
	const pollBody = (/** @type {string | null} */ commit) =>
		`{"max_records":${pollRecords},"auto_commit":${autoCommit}${layout === "records" ? "" : `,"layout":"${layout}"`}${commit === null ? "" : `,"commit":${commit}`}}`;
	/** Commits as a request of its own; answers its latency. */
	const commitRequest = async (/** @type {string} */ commit) => {
		const t0 = performance.now();
		const committed = await api.request("POST", `/v1/groups/${group}/offsets`, `{"member_id":"${member.member_id}",${commit.slice(1)}`);
		const ms = performance.now() - t0;
		// A rebalance between the poll and the commit is not an error: the records are read again (at-least-once).
		if (committed.status !== 200 && committed.status !== 409)
			throw new Error(`commit → ${committed.status} ${committed.text.slice(0, 300)}`);
		return ms;
	};
	/** @type {MemberCursor} */
	const cursor = {
		polled: 0,
		async step() {
			const t0 = performance.now();
			const polled = await api.request("POST", pollPath, pollBody(pending), answer);
			const pollMs = performance.now() - t0;
			if (polled.status !== 200) throw new Error(`poll → ${polled.status} ${polled.text.slice(0, 300)}`);
			pending = null;
			const scanned = scanPoll(polled.body, nextOffsets, layout);
			if (!checked && scanned.records > 0) {
				checkScan(polled.body, scanned, layout);
				checked = true;
			}
			cursor.polled += scanned.records;
			let commitMs = null;
			if (scanned.records > 0) {
				// Committed = the next offset to read, per partition.
				const offsets = [...scanned.lastOffsets].map(([partition, offset]) => ({ topic, partition, offset: offset + 1 }));
				if (commitWith === "interval") {
					generation = scanned.generation;
					for (const o of offsets) uncommitted.set(o.partition, o.offset);
				} else {
					const commit = JSON.stringify({ generation: scanned.generation, offsets });
					if (commitWith === "poll") pending = commit;
					else commitMs = await commitRequest(commit);
				}
			}
			return { records: scanned.records, bytes: polled.bytes, pollMs, commitMs };
		},
		async finish() {
			if (commitWith === "interval") pending = uncommittedJson();
			uncommitted.clear();
			if (pending === null) return null;
			const commit = pending;
			pending = null;
			return commitRequest(commit);
		},
	};
	return cursor;
}

/**
 * The members' closed loops, one per cursor, for `durationMs` or until one member's partitions run dry (`drained`:
 * members are fixed, so no rebalance will add more; the others stop at their next step, so the window never
 * includes a tail with fewer members at work). Every call counts as a request; latencies are per request. With
 * `finish` (the default) each loop ends by sending its pending commit; a caller that runs the loops again (a
 * warm-up, then the measured window) passes false. The first failure stops every loop.
 * @param {MemberCursor[]} cursors
 * @param {number} durationMs
 * @param {{ finish?: boolean }} [options]
 * @returns {Promise<Consumed>}
 */
export async function consume(cursors, durationMs, { finish = true } = {}) {
	const totals = { records: 0, bytes: 0, requests: 0, polls: 0, latenciesMs: /** @type {number[]} */ ([]) };
	const started = performance.now();
	const deadline = started + durationMs;
	let drained = false;
	let failed = false;
	const count = (/** @type {number | null} */ ms) => {
		if (ms === null) return;
		totals.latenciesMs.push(ms);
		totals.requests++;
	};
	const loop = async (/** @type {MemberCursor} */ cursor) => {
		while (!failed && !drained && performance.now() < deadline) {
			const got = await cursor.step();
			count(got.pollMs);
			totals.polls++;
			totals.bytes += got.bytes;
			if (got.records === 0) {
				drained = true;
				break;
			}
			totals.records += got.records;
			count(got.commitMs);
		}
		if (finish && !failed) count(await cursor.finish());
	};
	// Every loop ends (the first failure stops the others at their next step) before the first error is thrown.
	const settled = await Promise.allSettled(
		cursors.map((cursor) =>
			loop(cursor).catch((error) => {
				failed = true;
				throw error;
			}),
		),
	);
	const failure = settled.find((s) => s.status === "rejected");
	if (failure !== undefined) throw failure.reason;
	return { ...totals, seconds: (performance.now() - started) / 1000, drained };
}

/**
 * The bench's keep-alive client with string bodies and expected statuses, a socket per member.
 * @param {string} baseUrl
 * @param {string} token
 */
export function groupClient(baseUrl, token) {
	// In a thread of its own, as the fetch rows' pages are read (see lib/http-thread.mjs).
	const http = createThreadClient(baseUrl, { token, sockets: MEMBERS });
	/**
	 * @param {string} method
	 * @param {string} path
	 * @param {string} [body]
	 * @param {Buffer} [into] a buffer of the caller's the answer is read into (see lib/http.mjs)
	 */
	async function request(method, path, body, into) {
		const response = await http.request(method, path, body === undefined ? undefined : Buffer.from(body), undefined, { into });
		return {
			status: response.status,
			body: response.body,
			bytes: response.receivedBytes,
			get text() {
				return response.body.toString("utf8");
			},
		};
	}
	/**
	 * @param {string} method
	 * @param {string} path
	 * @param {string | undefined} body
	 * @param {number[]} expect
	 */
	async function raw(method, path, body, expect) {
		const response = await request(method, path, body);
		if (!expect.includes(response.status)) throw new Error(`${method} ${path} → ${response.status} ${response.text.slice(0, 300)}`);
		return response;
	}
	/**
	 * @param {string} method
	 * @param {string} path
	 * @param {unknown} value
	 * @param {number[]} expect
	 * @returns {Promise<any>} the parsed body: JSON of whatever shape the route answers
	 */
	async function json(method, path, value, expect) {
		const response = await raw(method, path, value === undefined ? undefined : JSON.stringify(value), expect);
		const text = response.text;
		return text.length === 0 ? null : JSON.parse(text);
	}
	return { http, request, raw, json, close: http.close };
}
