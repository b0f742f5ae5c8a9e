// @ts-check
/**
 * The same-load A/B comparison's pure parts (bench/lib/ab.mjs): which builds its arguments name, how a paired step
 * reports, and what its rounds sum up to; and the thread CPU count it reads a server's cost from.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
	AB_SHAPES,
	abBuilds,
	abScenario,
	abShape,
	cpuMicrosPerRecord,
	latencyTally,
	pairChannels,
	pairCursors,
	pairSteps,
	summarize,
	summarizeRates,
	talliedCursor,
} from "../../bench/lib/ab.mjs";
import { backlogWithin, fillBacklogs } from "../../bench/lib/group-backlog.mjs";
import { consume, memberCursor } from "../../bench/lib/group-consume.mjs";
import { produceLoad } from "../../bench/lib/produce-load.mjs";
import { groupLoad } from "../../bench/scenarios/group.mjs";
import { SCENARIOS } from "../../bench/scenarios/index.mjs";
import { threadCpuSeconds } from "../../scripts/lib/index.mjs";

test("bench:ab compares main with the working tree unless told, and knows an A/A run", () => {
	assert.deepEqual(abBuilds([]), { a: "main", b: ".", sameBuild: false });
	assert.deepEqual(abBuilds(["HEAD~1"]), { a: "HEAD~1", b: ".", sameBuild: false });
	assert.deepEqual(abBuilds([".", "."]), { a: ".", b: ".", sameBuild: true });
	assert.throws(() => abBuilds(["a", "b", "c"]), /two builds/);
});

test("a paired step sends the request to every build and reports the first failure", async () => {
	/** @type {string[]} */
	const sent = [];
	/** @param {string} name @param {number} status */
	const step = (name, status) => async (/** @type {number} */ client, /** @type {number} */ i) => {
		sent.push(`${name}:${client}:${i}`);
		return { status, records: 1 };
	};
	assert.deepEqual(await pairSteps([step("A", 200), step("B", 200)])(3, 7), { status: 200, records: 1 });
	assert.deepEqual(sent.sort(), ["A:3:7", "B:3:7"]);
	assert.equal((await pairSteps([step("A", 200), step("B", 503)])(0, 0)).status, 503);
});

test("bench:ab runs the many small producers unless AB_SHAPE names another bench scenario it can drive", () => {
	assert.deepEqual(abShape(undefined), { id: "produce-32c-1r", driver: "produce" });
	assert.deepEqual(abShape(""), { id: "produce-32c-1r", driver: "produce" });
	assert.deepEqual(abShape("produce-1c-1p"), { id: "produce-1c-1p", driver: "produce" });
	assert.deepEqual(abShape("produce-4c-1p"), { id: "produce-4c-1p", driver: "produce" });
	assert.deepEqual(abShape("produce-keyed-1c-1p"), { id: "produce-keyed-1c-1p", driver: "produce" });
	assert.deepEqual(abShape("fetch-1c-1p"), { id: "fetch-1c-1p", driver: "fetch" });
	assert.deepEqual(abShape("fetch-tail-1c-1p"), { id: "fetch-tail-1c-1p", driver: "fetch" });
	assert.deepEqual(abShape("stream-ws-array-1p"), { id: "stream-ws-array-1p", driver: "streaming" });
	assert.deepEqual(abShape("group-4m-4p"), { id: "group-4m-4p", driver: "group" });
	assert.deepEqual(abShape("group-4m-4p-commit-request"), { id: "group-4m-4p-commit-request", driver: "group" });
	assert.deepEqual(abShape("group-4m-4p-partitions"), { id: "group-4m-4p-partitions", driver: "group" });
	assert.throws(() => abShape("produce-4c-4p"), /produce-1c-1p/);
});

test("AB_RECORDS_PER_PRODUCE sets a produce shape's records a request, and no other shape's", () => {
	const plain = abScenario(abShape("produce-1c-1p"), SCENARIOS, undefined);
	assert.equal(
		plain,
		SCENARIOS.find((s) => s.id === "produce-1c-1p"),
		"unset: the bench's own scenario",
	);
	assert.equal(abScenario(abShape("produce-1c-1p"), SCENARIOS, "").perRequest, undefined);
	const large = abScenario(abShape("produce-1c-1p"), SCENARIOS, "256");
	assert.deepEqual([large.id, large.clients, large.partitions, large.perRequest], ["produce-1c-1p", 1, 1, 256]);
	assert.equal(abScenario(abShape("idem-producer-1c-1p"), SCENARIOS, "256").variant, "producer");
	assert.equal(abScenario(abShape("produce-32c-1r"), SCENARIOS, "8").perRequest, 8);
	assert.throws(() => abScenario(abShape("fetch-1c-1p"), SCENARIOS, "256"), /produce shapes/);
	assert.throws(() => abScenario(abShape("group-4m-4p"), SCENARIOS, "256"), /produce shapes/);
	for (const bad of ["0", "-1", "2.5", "many"]) assert.throws(() => abScenario(abShape("produce-1c-1p"), SCENARIOS, bad), /whole number/);
});

test("an idempotent producer's sequence advances by the records of each request, however many a request holds", async () => {
	/** @type {string[]} */
	const bodies = [];
	let next = 0;
	const http = {
		async json() {
			return { producer_id: 7, epoch: 0 };
		},
		async request(/** @type {string} */ _method, /** @type {string} */ _path, /** @type {Buffer} */ body) {
			bodies.push(body.toString("utf8"));
			const count = JSON.parse(body.toString("utf8")).records.length;
			const offsets = Array.from({ length: count }, (_, k) => ({ partition: 0, offset: next + k }));
			next += count;
			return { status: 200, sentBytes: body.length, receivedBytes: 0, body: Buffer.from(JSON.stringify({ offsets })), headers: {} };
		},
	};
	const scenario = { id: "idem", label: "idem", kind: "produce", clients: 1, partitions: 1, variant: "producer", perRequest: 3 };
	const load = await produceLoad(/** @type {any} */ (http), "tributary", scenario, "t", 1);
	for (let i = 0; i < 3; i++) assert.equal((await load.step(0, i)).records, 3);
	assert.deepEqual(
		bodies.map((b) => JSON.parse(b).sequence),
		[0, 3, 6],
	);
});

test("every shape bench:ab names is a bench scenario", async () => {
	const ids = new Set(SCENARIOS.map((s) => s.id));
	for (const id of Object.keys(AB_SHAPES)) assert.ok(ids.has(id), id);
});

test("the group shapes load the group as the bench's group scenarios of those ids do", () => {
	assert.deepEqual(groupLoad("group-4m-4p"), { commitWith: "poll", pollRecords: 500, layout: "records" });
	assert.deepEqual(groupLoad("group-4m-4p-commit-request"), { commitWith: "request", pollRecords: 500, layout: "records" });
	assert.deepEqual(groupLoad("group-4m-4p-poll1000"), { commitWith: "poll", pollRecords: 1000, layout: "records" });
	assert.deepEqual(groupLoad("group-4m-4p-partitions"), { commitWith: "poll", pollRecords: 500, layout: "partitions" });
	assert.deepEqual(groupLoad("group-4m-4p-partitions-interval"), { commitWith: "interval", pollRecords: 500, layout: "partitions" });
});

/**
 * A poll's answer as the group edge writes it: records of one partition at `offsets`.
 * @param {number} partition
 * @param {number[]} offsets
 */
function pollAnswer(partition, offsets) {
	const records = offsets.map((offset) => ({ topic: "t", partition, offset, timestamp: 0, key: null, value: "v" }));
	return JSON.stringify({ records, generation: 3, assignment: [{ topic: "t", partition }] });
}

/**
 * A fake group API answering polls with `answers` in turn (then empty polls), and what it was sent.
 * @param {string[]} answers
 */
function fakeGroupApi(answers) {
	/** @type {{ method: string, path: string, body: string | undefined }[]} */
	const sent = [];
	const reply = (/** @type {string} */ text) => ({ status: 200, body: Buffer.from(text), bytes: text.length, text });
	const api = {
		async request(/** @type {string} */ method, /** @type {string} */ path, /** @type {string | undefined} */ body) {
			sent.push({ method, path, body });
			if (path.endsWith("/poll")) return reply(answers.shift() ?? pollAnswer(0, []));
			return reply('{"generation":3}');
		},
	};
	return { sent, api: /** @type {import("../../bench/lib/group-consume.mjs").Api} */ (/** @type {unknown} */ (api)) };
}

const MEMBER = { member_id: "m1" };

test("a member commits what each poll returned with its next poll, and the last one on its own", async () => {
	const { sent, api } = fakeGroupApi([pollAnswer(2, [0, 1, 2]), pollAnswer(2, [3, 4])]);
	const cursor = memberCursor(api, { topic: "t", group: "g", member: MEMBER, commitWith: "poll", pollRecords: 500 });
	assert.equal((await cursor.step()).records, 3);
	const second = await cursor.step();
	assert.equal(second.records, 2);
	assert.equal(second.commitMs, null);
	assert.equal(cursor.polled, 5);
	assert.deepEqual(JSON.parse(sent[1]?.body ?? ""), {
		max_records: 500,
		auto_commit: false,
		commit: { generation: 3, offsets: [{ topic: "t", partition: 2, offset: 3 }] },
	});
	assert.equal(typeof (await cursor.finish()), "number");
	assert.deepEqual(
		sent.map((s) => `${s.method} ${s.path}`),
		["POST /v1/groups/g/members/m1/poll", "POST /v1/groups/g/members/m1/poll", "POST /v1/groups/g/offsets"],
	);
	assert.deepEqual(JSON.parse(sent[2]?.body ?? ""), { member_id: "m1", generation: 3, offsets: [{ topic: "t", partition: 2, offset: 5 }] });
	assert.equal(await cursor.finish(), null, "nothing left to commit");
});

test("a member with commitWith request commits after every poll that returned records", async () => {
	const { sent, api } = fakeGroupApi([pollAnswer(0, [0, 1])]);
	const cursor = memberCursor(api, { topic: "t", group: "g", member: MEMBER, commitWith: "request", pollRecords: 500 });
	assert.equal(typeof (await cursor.step()).commitMs, "number");
	assert.deepEqual(JSON.parse(sent[1]?.body ?? ""), { member_id: "m1", generation: 3, offsets: [{ topic: "t", partition: 0, offset: 2 }] });
	const dry = await cursor.step();
	assert.deepEqual([dry.records, dry.commitMs, sent.length], [0, null, 3]);
});

test("a member's poll that skips or repeats an offset of its partition fails the load", async () => {
	const skipped = memberCursor(fakeGroupApi([pollAnswer(1, [0, 1]), pollAnswer(1, [3])]).api, {
		topic: "t",
		group: "g",
		member: MEMBER,
		commitWith: "poll",
		pollRecords: 500,
	});
	await skipped.step();
	await assert.rejects(skipped.step(), /partition 1 offset 3; the next for this member is 2/);
	const repeated = memberCursor(fakeGroupApi([pollAnswer(1, [0, 1]), pollAnswer(1, [1, 2])]).api, {
		topic: "t",
		group: "g",
		member: MEMBER,
		commitWith: "poll",
		pollRecords: 500,
	});
	await repeated.step();
	await assert.rejects(repeated.step(), /offset 1; the next for this member is 2/);
	const late = memberCursor(fakeGroupApi([pollAnswer(1, [5])]).api, {
		topic: "t",
		group: "g",
		member: MEMBER,
		commitWith: "poll",
		pollRecords: 500,
	});
	await assert.rejects(late.step(), /the next for this member is 0/);
});

test("a member's poll over two partitions commits each one's last offset, and a record without its offset fails the load", async () => {
	const two = JSON.stringify({
		records: [0, 1, 2]
			.map((offset) => ({ topic: "t", partition: 0, offset, value: "v" }))
			.concat([{ topic: "t", partition: 3, offset: 0, value: "w" }]),
		generation: 4,
		assignment: [
			{ topic: "t", partition: 0 },
			{ topic: "t", partition: 3 },
		],
	});
	const { sent, api } = fakeGroupApi([two]);
	const cursor = memberCursor(api, { topic: "t", group: "g", member: MEMBER, commitWith: "request", pollRecords: 500 });
	assert.equal((await cursor.step()).records, 4);
	assert.deepEqual(JSON.parse(sent[1]?.body ?? ""), {
		member_id: "m1",
		generation: 4,
		offsets: [
			{ topic: "t", partition: 0, offset: 3 },
			{ topic: "t", partition: 3, offset: 1 },
		],
	});
	const reordered = '{"records":[{"topic":"t","partition":0,"key":null,"offset":0}],"generation":3,"assignment":[]}';
	const broken = memberCursor(fakeGroupApi([reordered]).api, {
		topic: "t",
		group: "g",
		member: MEMBER,
		commitWith: "poll",
		pollRecords: 500,
	});
	await assert.rejects(broken.step(), /record at byte 12 does not start with its topic, partition and offset/);
});

test("a member's poll laid out by partition counts each partition's run from its ends, partition 1 apart from 12", async () => {
	const byPartition = (/** @type {[number, number[]][]} */ runs) =>
		JSON.stringify({
			partitions: runs.map(([partition, offsets]) => ({
				topic: "t",
				partition,
				records: offsets.map((offset) => ({ partition, offset, value: "v" })),
			})),
			generation: 6,
			assignment: [
				{ topic: "t", partition: 1 },
				{ topic: "t", partition: 12 },
			],
		});
	const answers = [
		byPartition([
			[1, [0, 1, 2]],
			[12, [0, 1]],
		]),
		byPartition([
			[12, [2]],
			[1, [3, 4, 5, 6]],
		]),
		byPartition([[1, [6]]]),
	];
	const { sent, api } = fakeGroupApi(answers);
	const options = { topic: "t", group: "g", member: MEMBER, commitWith: /** @type {const} */ ("request"), pollRecords: 500 };
	const cursor = memberCursor(api, { ...options, layout: "partitions" });
	assert.equal((await cursor.step()).records, 5);
	assert.equal((await cursor.step()).records, 5);
	assert.deepEqual(JSON.parse(sent[3]?.body ?? "").offsets, [
		{ topic: "t", partition: 12, offset: 3 },
		{ topic: "t", partition: 1, offset: 7 },
	]);
	await assert.rejects(cursor.step(), /partition 1 offset 6; the next for this member is 7/);
	const backwards = memberCursor(fakeGroupApi([pollAnswer(1, [0]), pollAnswer(1, [1, 0])]).api, options);
	await backwards.step();
	await assert.rejects(backwards.step(), /partition 1's records out of order/);
});

/**
 * A fake member cursor: each step returns the next of `records` (then 0), with latency `ms`.
 * @param {number[]} records
 * @param {number} ms
 * @returns {import("../../bench/lib/group-consume.mjs").MemberCursor & { steps: number, finished: number }}
 */
function fakeCursor(records, ms) {
	const cursor = {
		polled: 0,
		steps: 0,
		finished: 0,
		async step() {
			cursor.steps++;
			const n = records.shift() ?? 0;
			cursor.polled += n;
			return { records: n, bytes: n, pollMs: ms, commitMs: n > 0 ? ms + 1 : null };
		},
		async finish() {
			cursor.finished++;
			return null;
		},
	};
	return cursor;
}

test("a paired member steps every build at once, keeps each build's latencies while told, and fails when they part", async () => {
	const [a, b] = [fakeCursor([500, 500, 500], 10), fakeCursor([500, 500, 499], 20)];
	const tally = latencyTally(2);
	const paired = pairCursors([a, b], tally);
	assert.equal((await paired.step()).records, 500);
	assert.deepEqual(tally.pollMs, [[], []], "not kept before the window");
	tally.keep = true;
	await paired.step();
	assert.deepEqual([a.steps, b.steps], [2, 2]);
	assert.deepEqual(tally, { keep: true, pollMs: [[10], [20]], commitMs: [[11], [21]] });
	await assert.rejects(paired.step(), /500 and 499 records/);
	await paired.finish();
	assert.deepEqual([a.finished, b.finished], [1, 1]);
});

test("an uncoupled member keeps its own build's latencies while told, and passes its steps and count through", async () => {
	const cursor = fakeCursor([500, 500], 30);
	const tally = latencyTally(2);
	const tallied = talliedCursor(cursor, tally, 1);
	assert.equal((await tallied.step()).records, 500);
	assert.deepEqual(tally.pollMs, [[], []], "not kept before the window");
	tally.keep = true;
	await tallied.step();
	assert.deepEqual(tally, { keep: true, pollMs: [[], [30]], commitMs: [[], [31]] });
	assert.equal(tallied.polled, cursor.polled);
	await tallied.finish();
	assert.equal(cursor.finished, 1);
});

test("the group load stops every member when one member's partitions run dry, and counts what was polled", async () => {
	const cursors = [fakeCursor([500, 500, 500, 500], 1), fakeCursor([500], 1)];
	const consumed = await consume(cursors, 60_000, { finish: false });
	assert.equal(consumed.drained, true);
	assert.equal(consumed.records, cursors[0].polled + cursors[1].polled);
	assert.ok(cursors[0].steps <= 3, "the first member stopped soon after the second ran dry");
	assert.deepEqual(
		cursors.map((c) => c.finished),
		[0, 0],
	);
	await consume([fakeCursor([1], 1)], 60_000);
});

/**
 * Fake group APIs for the backlog fill: each answers produce requests and counts them; `clock` is the fill's
 * clock, moved by `msPerStep` whenever a step's requests have all been sent.
 * @param {number} count @param {{ clock: { now: number }, msPerStep: number }} time
 */
function fillTargets(count, { clock, msPerStep }) {
	/** @type {number[]} requests per target */
	const requests = Array.from({ length: count }, () => 0);
	let inStep = 0;
	const targets = requests.map((_, i) => ({
		topic: `t${i}`,
		api: /** @type {import("../../bench/lib/group-consume.mjs").Api} */ (
			/** @type {unknown} */ ({
				async raw(/** @type {string} */ method, /** @type {string} */ path) {
					assert.equal(`${method} ${path}`, `POST /v1/topics/t${i}/records`);
					requests[i] = (requests[i] ?? 0) + 1;
					inStep++;
					await Promise.resolve();
					if (--inStep === 0) clock.now += msPerStep;
				},
			})
		),
	}));
	return { requests, targets };
}

test("a backlog fill gives every build the same records, up to the count asked, in whole requests", async () => {
	const clock = { now: 0 };
	const { requests, targets } = fillTargets(2, { clock, msPerStep: 10 });
	const filled = await fillBacklogs(targets, { records: 10_000, now: () => clock.now });
	assert.equal(filled, 10_080, "21 requests of 480");
	assert.deepEqual(requests, [21, 21]);
});

test("a backlog fill told a time stops at the first step past it, every build alike, however few records that is", async () => {
	const clock = { now: 0 };
	const { requests, targets } = fillTargets(2, { clock, msPerStep: 1_000 });
	const filled = await fillBacklogs(targets, { records: 1_000_000, withinMs: 2_500, now: () => clock.now });
	assert.deepEqual(requests, [12, 12], "3 steps of 4 requests each");
	assert.equal(filled, 12 * 480);
	const floored = fillTargets(1, { clock, msPerStep: 1_000 });
	const atLeast = await fillBacklogs(floored.targets, { records: 1_000_000, withinMs: 2_500, atLeast: 10_000, now: () => clock.now });
	assert.deepEqual([atLeast, floored.requests], [11_520, [24]], "past the time, until it holds what it must (in whole steps)");
	const slow = fillTargets(1, { clock, msPerStep: 60_000 });
	assert.equal(await fillBacklogs(slow.targets, { records: 1_000_000, withinMs: 1, now: () => clock.now }), 4 * 480, "one step at least");
});

test("a backlog for a rate lasts the read at that rate, its fill given time in proportion to the read", () => {
	const backlog = backlogWithin(100_000, 10_000);
	assert.ok(backlog.records >= 1_250_000 && backlog.records < 1_250_000 + 480, String(backlog.records));
	assert.equal(backlog.records % 480, 0);
	assert.ok(backlog.withinMs > 10_000, "a fill gets longer than the read it feeds");
	assert.equal(backlogWithin(100_000, 20_000).withinMs, 2 * backlog.withinMs);
	assert.equal(backlogWithin(100_000, 10_000, 6).withinMs, 60_000, "told how long a ms of the read may take to fill");
	assert.ok(backlog.atLeast > 0 && backlog.atLeast < backlog.records / 2, "a floor far below the quiet machine's backlog");
	assert.equal(backlogWithin(5_000, 10_000).atLeast, backlogWithin(5_000, 10_000).records, "never above it");
});

test("CPU per record is seconds over records, in µs; no figure without both", () => {
	assert.equal(cpuMicrosPerRecord(0.5, 1_000), 500);
	assert.equal(cpuMicrosPerRecord(0.02, 1_000), 20);
	assert.equal(cpuMicrosPerRecord(0.021_234, 1_000), 21.23);
	assert.equal(cpuMicrosPerRecord(Number.NaN, 1_000), null);
	assert.equal(cpuMicrosPerRecord(0.5, 0), null);
});

/** A fake streaming channel: what was sent on it, and `answer(report)` to report. */
function fakeChannel() {
	/** @type {string[]} */
	const sent = [];
	/** @type {(report: import("../../bench/lib/ab.mjs").Report) => void} */
	let handler = () => {};
	let closed = false;
	return {
		sent,
		isClosed: () => closed,
		answer: (/** @type {import("../../bench/lib/ab.mjs").Report} */ report) => handler(report),
		channel: {
			send: (/** @type {string} */ text) => sent.push(text),
			onReport: (/** @type {typeof handler} */ h) => {
				handler = h;
			},
			close: async () => {
				closed = true;
			},
		},
	};
}

test("paired channels send each message on every channel and pass a report on once all answered it, the same", async () => {
	const [a, b] = [fakeChannel(), fakeChannel()];
	const paired = pairChannels([a.channel, b.channel]);
	/** @type {unknown[]} */
	const got = [];
	paired.onReport((report) => got.push(report));
	paired.send("m0");
	paired.send("m1");
	assert.deepEqual(
		[a.sent, b.sent],
		[
			["m0", "m1"],
			["m0", "m1"],
		],
	);
	a.answer({ offsets: [{ offset: 0 }] });
	a.answer({ offsets: [{ offset: 1 }] });
	assert.deepEqual(got, [], "B has answered nothing yet");
	b.answer({ offsets: [{ offset: 0 }] });
	assert.deepEqual(got, [{ offsets: [{ offset: 0 }] }]);
	b.answer({ offsets: [{ offset: 2 }] });
	assert.equal(got.length, 2);
	assert.match(String(/** @type {{ error: unknown }} */ (got[1]).error), /\[1\] and \[2\]/);
	a.answer({ error: { code: "a" } });
	b.answer({ offsets: [{ offset: 2 }] });
	assert.deepEqual(got[2], { error: { code: "a" } });
	a.answer({ offsets: [{ offset: 3 }] });
	b.answer({ error: { code: "b" } });
	assert.ok(/** @type {{ error?: unknown }} */ (got[3]).error !== undefined, "a failure on the second build is not hidden");
	await paired.close();
	assert.ok(a.isClosed() && b.isClosed());
});

test("a summary gives each build's median, the per-round differences' median and spread, and whether they agree in sign", () => {
	const s = summarize([
		{ a: 500, b: 490 },
		{ a: 520, b: 505 },
		{ a: 480, b: 485 },
	]);
	assert.deepEqual(s, { rounds: 3, a: 500, b: 490, diff: -10, diffMin: -15, diffMax: 5, percent: -2, bLower: 2, signsAgree: false });
	// Per-record figures of a batch shape are ~20 µs: their differences keep two decimals.
	assert.equal(summarize([{ a: 17.52, b: 21.94 }]).diff, 4.42);
	assert.equal(summarize([{ a: 500, b: 490 }]).signsAgree, true);
	assert.equal(summarize([{ a: 500, b: 500 }]).signsAgree, false);
	assert.throws(() => summarize([]), /no rounds/);
	// An even count of rounds: the mean of the two middle ones, not the lower (which read -0.88 for these, a gain where
	// the rounds disagree and their midpoint is near nothing).
	const even = summarize([
		{ a: 15, b: 15.74 },
		{ a: 15, b: 15.61 },
		{ a: 15, b: 14.12 },
		{ a: 15, b: 13.97 },
	]);
	assert.equal(even.diff, -0.14);
	assert.equal(even.b, 14.86); // (14.12 + 15.61) / 2, to two decimals
});

test("a process's thread CPU grows as it works, counted finer than clock ticks", () => {
	const before = threadCpuSeconds(process.pid);
	// Spin until the process has run 30 ms by Node's own count (getrusage), not for 30 ms of wall time: on a loaded
	// machine 30 ms of wall time held only 6.5 ms of CPU, and the check failed 2 runs in 7.
	const start = process.cpuUsage();
	for (let used = process.cpuUsage(start); used.user + used.system < 30_000; used = process.cpuUsage(start)) {
		// spin
	}
	const spent = threadCpuSeconds(process.pid) - before;
	assert.ok(spent >= 0.02 && spent < 1, `spent ${spent} s`);
	assert.notEqual(Math.round(threadCpuSeconds(process.pid) * 1e9) % 10_000_000, 0, "a count in whole ticks");
	assert.ok(Number.isNaN(threadCpuSeconds(2 ** 30)));
});

test("uncoupled rounds sum up to B's records/s as a percentage of A's, the median of the rounds'", () => {
	const s = summarizeRates([
		{ a: 100, b: 110 },
		{ a: 200, b: 180 },
		{ a: 50, b: 60 },
	]);
	assert.deepEqual(s, { rounds: 3, percent: 110, percentMin: 90, percentMax: 120, bHigher: 2 });
	assert.throws(() => summarizeRates([]), /no rounds/);
	assert.throws(() => summarizeRates([{ a: 0, b: 5 }]), /read nothing/);
});
