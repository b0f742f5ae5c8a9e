/**
 * How a Durable Streams stream ends and its storage goes: a fork that expires gives back its reference on its source
 * (once, however many requests find it expired), whether a request finds it or its partition's alarm does; a stream
 * whose time ran out and that nothing touches is dropped by its partition's alarm; a reference whose release failed is
 * given back by a later alarm run; and the alarm's drop check ends: at once when the registry no longer knows the
 * topic, and backing off to `DS_DROP_RETRY_MS_MAX` while the drop keeps failing. A reference is counted once by its id:
 * given back twice (an answer lost), or taken by a fork whose take's answer was lost (the fork is then ended). A
 * partition's alarm run reads the stream's state once to end it; the edge's walk up a fork chain that stops at a failed
 * link is finished by the links' alarms. A fork whose create's answer was lost takes its reference when the retry finds
 * it, and a repeat whose take fails leaves the fork as it was. Ids held keep their count against releases without one. A fork
 * deleted before its take lands has the reference given back by its create.
 */
import { createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { formatOffset } from "../../src/http/compat/durable-streams/protocol.ts";
import worker from "../../src/index.ts";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { ALARM_RETRIES_MAX, DS_DROP_CHECK_MS, DS_DROP_RETRY_MS_MAX } from "../../src/shared/limits.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { topicRegistry } from "../../src/shared/stubs.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub, partitionWithOneRecord, topicIdOf } from "../support/stubs.ts";
import { failStatementOnce } from "../support/throw-once.ts";
import { ADMIN_TOKEN, BASE, call } from "../support/worker.ts";

const DS = "/ds/v1/stream";
const STORAGE_ERROR = "SQLITE_IOERR: disk I/O error";
const TEXT = { "Content-Type": "text/plain" };
/** Long enough that no alarm comes for it during a test: the tests make a stream expire by ageing it (`age`). */
const TTL = { ...TEXT, "Stream-TTL": "3600" };

type Log = Awaited<ReturnType<typeof partitionStub>>;

afterEach(() => vi.restoreAllMocks());

async function stream(name: string, headers: Record<string, string> = TEXT): Promise<string> {
	const path = `${name}/${uniqueTopic("ds")}`;
	expect((await call("PUT", `${DS}/${path}`, { headers, raw: "a" })).status).toBe(201);
	return path;
}

async function fork(source: string, name: string, headers: Record<string, string> = TTL): Promise<string> {
	const path = `${source}-${name}`;
	expect((await call("PUT", `${DS}/${path}`, { headers: { ...headers, "Stream-Forked-From": `${DS}/${source}` } })).status).toBe(201);
	return path;
}

/** The stream's time runs out: its last access moves back past its TTL, as if it had been idle that long. */
async function age(log: Log): Promise<void> {
	await runInDurableObject(log, (_, state) => {
		state.storage.sql.exec("UPDATE stream_meta SET meta = json_set(meta, '$.lastAccessMs', 0) WHERE id = 1");
	});
}

/** A request through the Worker, its background work (`waitUntil`) awaited: what it leaves behind is done. */
async function settled(method: string, path: string): Promise<number> {
	const ctx = createExecutionContext();
	const request = new Request(`${BASE}${DS}/${path}`, { method, headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
	const { status } = await worker.fetch(request, env, ctx);
	await waitOnExecutionContext(ctx);
	return status;
}

const stored = async (path: string) => (await topicRegistry(env).getTopic(streamTopic(path))).ok;

/** The registry's drops of `topic` answer `answer` (throw: storage failing; null: the topic unknown), `times` times. */
async function registryDrops(topic: string, answer: "throw" | null, times = 1): Promise<void> {
	await runInDurableObject(topicRegistry(env), (instance) => {
		const registry = instance as unknown as { find(name: string): unknown };
		const find = registry.find;
		let left = times;
		registry.find = function (this: unknown, name: string) {
			if (name === topic && new Error().stack?.includes("deleteTopic") && left-- > 0) {
				if (left === 0) registry.find = find;
				if (answer === "throw") throw new Error(STORAGE_ERROR);
				return null;
			}
			return find.call(this, name);
		};
	});
}

const alarmInMs = async (log: Log) => ((await runInDurableObject(log, (_, state) => state.storage.getAlarm())) ?? Number.NaN) - Date.now();

describe("a fork whose time ran out, found by requests", { timeout: 30_000 }, () => {
	it("gives back its reference on its source once: a source deleted after holds for its other fork, then goes", async () => {
		const source = await stream("expiring-fork");
		const expiring = await fork(source, "expiring");
		const other = await fork(source, "other", TEXT);
		await age(await partitionStub(streamTopic(expiring)));
		// Found expired by several requests at once, and by a DELETE: each ends it, the reference goes back once.
		const found = await Promise.all([settled("HEAD", expiring), settled("GET", `${expiring}?offset=-1`), settled("DELETE", expiring)]);
		const sourceDeleted = (await call("DELETE", `${DS}/${source}`)).status;
		// A reference given back twice would have let the source go although `other` still holds it.
		const whileForked = (await call("HEAD", `${DS}/${source}`)).status;
		expect((await call("DELETE", `${DS}/${other}`)).status).toBe(204);
		const afterLastFork = (await call("HEAD", `${DS}/${source}`)).status;
		const createdAgain = (await call("PUT", `${DS}/${source}`, { headers: TEXT, raw: "new" })).status;
		expect({ found, sourceDeleted, whileForked, afterLastFork, createdAgain, forkStored: await stored(expiring) }).toEqual({
			found: [404, 404, 404],
			sourceDeleted: 204,
			whileForked: 410,
			afterLastFork: 404,
			createdAgain: 201,
			forkStored: false,
		});
	});
});

describe("a stream whose time ran out and that no request touches", { timeout: 30_000 }, () => {
	it("has its topic dropped by its partition's alarm", async () => {
		const path = await stream("untouched", TTL);
		expect((await call("POST", `${DS}/${path}`, { headers: TEXT, raw: "b" })).status).toBe(204);
		const log = await partitionStub(streamTopic(path));
		await age(log);
		const ran = await runDurableObjectAlarm(log);
		expect({ ran, stored: await stored(path) }).toEqual({ ran: true, stored: false });
	});

	it("when a fork, also gives back its reference on its source: the source, deleted, then goes for good", async () => {
		const source = await stream("untouched-fork");
		const expiring = await fork(source, "fork");
		const log = await partitionStub(streamTopic(expiring));
		await age(log);
		const ran = await runDurableObjectAlarm(log);
		const sourceDeleted = (await call("DELETE", `${DS}/${source}`)).status;
		const head = (await call("HEAD", `${DS}/${source}`)).status;
		expect({ ran, forkStored: await stored(expiring), sourceDeleted, head, sourceStored: await stored(source) }).toEqual({
			ran: true,
			forkStored: false,
			sourceDeleted: 204,
			head: 404,
			sourceStored: false,
		});
	});
});

describe("a fork's release of its source that failed", { timeout: 30_000 }, () => {
	it("is given back by the fork's partition's alarm: the DELETE is 503, the source then goes for good", async () => {
		const source = await stream("release-fails");
		const deleted = await fork(source, "fork", TEXT);
		const log = await partitionStub(streamTopic(deleted));
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		// The source's partition fails the fork's release (its state's read), once.
		await runInDurableObject(await partitionStub(streamTopic(source)), (_, state) =>
			failStatementOnce(state.storage.sql, /stream_meta/, STORAGE_ERROR),
		);
		const first = (await call("DELETE", `${DS}/${deleted}`)).status;
		const retrying = (await alarmInMs(log)) > 0;
		const ran = await runDurableObjectAlarm(log);
		const sourceDeleted = (await call("DELETE", `${DS}/${source}`)).status;
		const head = (await call("HEAD", `${DS}/${source}`)).status;
		expect({ first, retrying, ran, forkStored: await stored(deleted), sourceDeleted, head }).toEqual({
			first: 503,
			retrying: true,
			ran: true,
			forkStored: false,
			sourceDeleted: 204,
			head: 404,
		});
	});
});

describe("the alarm's drop check of a deleted stream", { timeout: 60_000 }, () => {
	it("stops when the registry no longer knows the topic: nothing is left to drop", async () => {
		const path = await stream("unknown-topic");
		const log = await partitionStub(streamTopic(path));
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await registryDrops(streamTopic(path), "throw");
		expect((await call("DELETE", `${DS}/${path}`)).status).toBe(503);
		await registryDrops(streamTopic(path), null);
		const ran = await runDurableObjectAlarm(log);
		const alarm = await runInDurableObject(log, (_, state) => state.storage.getAlarm());
		expect({ ran, alarm }).toEqual({ ran: true, alarm: null });
	});

	it(`backs off while the drop keeps failing, past ALARM_RETRIES_MAX runs, to DS_DROP_RETRY_MS_MAX and no further`, async () => {
		const path = await stream("drop-keeps-failing");
		const topic = streamTopic(path);
		const log = await partitionStub(topic);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const runs = ALARM_RETRIES_MAX + 4;
		await registryDrops(topic, "throw", runs + 1);
		expect((await call("DELETE", `${DS}/${path}`)).status).toBe(503);
		const delays: number[] = [];
		for (let run = 0; run < runs; run++) {
			// A run that throws leaves its retry to workerd's own few: then the check would come at whatever was set before.
			await runDurableObjectAlarm(log).catch(() => false);
			delays.push(await alarmInMs(log));
		}
		const growing = delays.every((delay, i) => i === 0 || delay >= (delays[i - 1] as number) - 5_000);
		const last = delays.slice(-3).map((delay) => delay > DS_DROP_RETRY_MS_MAX - 30_000 && delay <= DS_DROP_RETRY_MS_MAX);
		expect({ growing, last, stored: await stored(path) }, `delays ${delays.join(", ")}`).toEqual({
			growing: true,
			last: [true, true, true],
			stored: true,
		});
	});
});

/**
 * The next `streamReference` of `delta` on `topic`'s partition lands and its answer is then lost (`lands`: the call
 * throws, as a dropped RPC), or it fails before anything is written (storage failing).
 */
async function referenceFails(topic: string, delta: 1 | -1, lands: boolean): Promise<void> {
	const topicId = await topicIdOf(topic);
	const original = PartitionLog.prototype.streamReference;
	let left = 1;
	vi.spyOn(PartitionLog.prototype, "streamReference").mockImplementation(async function (this: PartitionLog, id, d, ...rest) {
		if (id !== topicId || d !== delta || left-- <= 0) return original.call(this, id, d, ...rest);
		if (lands) await original.call(this, id, d, ...rest);
		throw new Error(lands ? "the answer was lost" : STORAGE_ERROR);
	});
}

/**
 * The source deleted, then fork `lost` deleted twice, its first release landing unanswered (and retried), then fork
 * `other`: what each step answered, and whether the source's records are still stored.
 */
async function releasedTwice(source: string, lost: string, other: string) {
	expect((await call("DELETE", `${DS}/${source}`)).status).toBe(204);
	vi.spyOn(console, "error").mockImplementation(() => undefined);
	await referenceFails(streamTopic(source), -1, true);
	const first = (await call("DELETE", `${DS}/${lost}`)).status;
	const again = (await call("DELETE", `${DS}/${lost}`)).status;
	const whileForked = (await call("HEAD", `${DS}/${source}`)).status;
	const otherDeleted = (await call("DELETE", `${DS}/${other}`)).status;
	const afterLastFork = (await call("HEAD", `${DS}/${source}`)).status;
	return { first, again, whileForked, otherDeleted, afterLastFork, stored: await stored(source) };
}

/** `releasedTwice` with the release counted once: the source held for the other fork, then gone with it. */
const RELEASED_ONCE = { first: 503, again: 404, whileForked: 410, otherDeleted: 204, afterLastFork: 404, stored: false };

describe("a fork's release whose answer was lost", { timeout: 30_000 }, () => {
	it("is given again by the retry but counted once: the deleted source holds for its other fork, then goes", async () => {
		const source = await stream("release-lost");
		const lost = await fork(source, "lost", TEXT);
		const other = await fork(source, "other", TEXT);
		// Counted twice, the release would have ended the source although `other` still holds it.
		expect(await releasedTwice(source, lost, other)).toEqual(RELEASED_ONCE);
	});
});

describe("a fork whose reference on its source was taken, its answer lost", { timeout: 30_000 }, () => {
	it("is not created, and gives the reference back: the source, deleted, then goes for good", async () => {
		const source = await stream("take-lost");
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await referenceFails(streamTopic(source), 1, true);
		const forkPath = `${source}-fork`;
		const created = await call("PUT", `${DS}/${forkPath}`, { headers: { ...TEXT, "Stream-Forked-From": `${DS}/${source}` } });
		const forkStatus = (await call("HEAD", `${DS}/${forkPath}`)).status;
		const sourceDeleted = (await call("DELETE", `${DS}/${source}`)).status;
		const head = (await call("HEAD", `${DS}/${source}`)).status;
		expect({ created: created.status, forkStatus, sourceDeleted, head, stored: await stored(source) }).toEqual({
			created: 503,
			forkStatus: 404,
			sourceDeleted: 204,
			head: 404,
			stored: false,
		});
	});
});

describe("a partition's alarm run", { timeout: 30_000 }, () => {
	/** The statements on `stream_meta` the partition runs during one alarm run. */
	async function streamStateReads(log: Log): Promise<string[]> {
		const statements: string[] = [];
		await runInDurableObject(log, (_, state) => {
			const sql = state.storage.sql;
			const exec = sql.exec;
			sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
				if (/stream_meta/.test(query)) statements.push(query);
				return exec.call(sql, query, ...bindings);
			}) as SqlStorage["exec"];
		});
		expect(await runDurableObjectAlarm(log)).toBe(true);
		return statements;
	}

	it("reads the stream's state once to end it and once to reschedule, on an ordinary topic's partition too", async () => {
		const { stub } = await partitionWithOneRecord("alarm-reads");
		const path = await stream("alarm-reads", TTL);
		expect({
			ordinary: (await streamStateReads(stub)).length,
			stream: (await streamStateReads(await partitionStub(streamTopic(path)))).length,
		}).toEqual({
			ordinary: 2,
			stream: 2,
		});
	});
});

describe("the edge's walk up a fork chain that stops at a failed link", { timeout: 30_000 }, () => {
	it("is finished by the partitions' alarms, each within DS_DROP_CHECK_MS: the whole chain ends, its topics dropped", async () => {
		const grandparent = await stream("chain-alarm");
		const parent = await fork(grandparent, "parent", TEXT);
		const child = await fork(parent, "child", TEXT);
		expect((await call("DELETE", `${DS}/${grandparent}`)).status).toBe(204);
		expect((await call("DELETE", `${DS}/${parent}`)).status).toBe(204);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		// The parent's release of the grandparent fails, once: the walk the child's DELETE began stops at the parent.
		await referenceFails(streamTopic(grandparent), -1, false);
		const childDeleted = (await call("DELETE", `${DS}/${child}`)).status;
		const stopped = { parent: await stored(parent), grandparent: await stored(grandparent) };
		const [parentLog, grandparentLog] = [await partitionStub(streamTopic(parent)), await partitionStub(streamTopic(grandparent))];
		const parentAlarmInMs = await alarmInMs(parentLog);
		const parentRan = await runDurableObjectAlarm(parentLog);
		const grandparentAlarmInMs = await alarmInMs(grandparentLog);
		const grandparentRan = await runDurableObjectAlarm(grandparentLog);
		const kept = [];
		for (const path of [grandparent, parent, child]) if (await stored(path)) kept.push(path);
		expect({
			childDeleted,
			stopped,
			parentAlarmDue: parentAlarmInMs <= DS_DROP_CHECK_MS,
			parentRan,
			grandparentAlarmDue: grandparentAlarmInMs <= DS_DROP_CHECK_MS,
			grandparentRan,
			kept,
		}).toEqual({
			childDeleted: 503,
			stopped: { parent: true, grandparent: true },
			parentAlarmDue: true,
			parentRan: true,
			grandparentAlarmDue: true,
			grandparentRan: true,
			kept: [],
		});
	});
});

describe("a stream with a sliding TTL that is read", { timeout: 60_000 }, () => {
	it("runs its partition's alarm at most once per TTL period while read, and once more to end it", async () => {
		const ttlMs = 60_000;
		const path = await stream("sliding", { ...TEXT, "Stream-TTL": String(ttlMs / 1000) });
		const log = await partitionStub(streamTopic(path));
		let now = Date.now();
		vi.spyOn(Date, "now").mockImplementation(() => now);
		// Four minutes read every 30 s, then none: the clock goes on by a quarter of the TTL a step, the alarm run when due.
		const readMs = 4 * ttlMs;
		const runsAt: number[] = [];
		const start = now;
		for (let step = 1; step <= 32; step++) {
			now += ttlMs / 4;
			if (now - start <= readMs && step % 2 === 0) expect((await call("GET", `${DS}/${path}?offset=-1`)).status).toBe(200);
			const alarm = await runInDurableObject(log, (_, state) => state.storage.getAlarm());
			if (alarm !== null && alarm <= now && (await runDurableObjectAlarm(log))) runsAt.push(now - start);
		}
		vi.mocked(Date.now).mockRestore();
		// Each run while read finds the stream live and sets the alarm for its new expiry; moving the alarm on each read
		// instead would cost every read a reschedule, and a stream kept alive is read at least once a TTL period.
		expect(
			{
				ended: !(await stored(path)),
				atMostOnePerPeriod: runsAt.length <= readMs / ttlMs + 1,
				endedAfterTtl: (runsAt.at(-1) ?? 0) > readMs + ttlMs,
			},
			`alarm runs at ${runsAt.join(", ")} ms`,
		).toEqual({ ended: true, atMostOnePerPeriod: true, endedAfterTtl: true });
	});
});

describe("a fork and its source stored before references had ids", { timeout: 30_000 }, () => {
	it("still counts the fork: the source deleted holds for it, and goes once it is deleted", async () => {
		const source = await stream("before-ids");
		const forked = await fork(source, "fork", TEXT);
		// Their rows as the code before wrote them: no `hold` on the fork, no `holds` on the source.
		for (const [path, field] of [
			[forked, "$.hold"],
			[source, "$.holds"],
		] as const) {
			await runInDurableObject(await partitionStub(streamTopic(path)), (_, state) => {
				state.storage.sql.exec("UPDATE stream_meta SET meta = json_remove(meta, ?) WHERE id = 1", field);
			});
		}
		const sourceDeleted = (await call("DELETE", `${DS}/${source}`)).status;
		const whileForked = (await call("HEAD", `${DS}/${source}`)).status;
		const forkDeleted = (await call("DELETE", `${DS}/${forked}`)).status;
		const afterFork = (await call("HEAD", `${DS}/${source}`)).status;
		expect({ sourceDeleted, whileForked, forkDeleted, afterFork, stored: await stored(source) }).toEqual({
			sourceDeleted: 204,
			whileForked: 410,
			forkDeleted: 204,
			afterFork: 404,
			stored: false,
		});
	});

	it("counts a fork with an id however often one without is given back: the source holds for it", async () => {
		const source = await stream("mixed-ids");
		const before = await fork(source, "before", TEXT);
		for (const [path, field] of [
			[before, "$.hold"],
			[source, "$.holds"],
		] as const) {
			await runInDurableObject(await partitionStub(streamTopic(path)), (_, state) => {
				state.storage.sql.exec("UPDATE stream_meta SET meta = json_remove(meta, ?) WHERE id = 1", field);
			});
		}
		const after = await fork(source, "after", TEXT);
		// The release without an id lands twice (its answer lost, retried): it may not take the other fork's count.
		expect(await releasedTwice(source, before, after)).toEqual(RELEASED_ONCE);
	});
});

describe("a fork whose create landed, its answer lost", { timeout: 30_000 }, () => {
	it("holds its source once its retry finds it: the source deleted holds for it, and goes once it is deleted", async () => {
		const source = await stream("create-lost");
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const original = PartitionLog.prototype.streamCreate;
		let left = 1;
		vi.spyOn(PartitionLog.prototype, "streamCreate").mockImplementation(async function (this: PartitionLog, request) {
			const answer = await original.call(this, request);
			if (request.settings.forkedFrom !== null && left-- > 0) throw new Error("the answer was lost");
			return answer;
		});
		const forkPath = `${source}-fork`;
		const put = () => call("PUT", `${DS}/${forkPath}`, { headers: { ...TEXT, "Stream-Forked-From": `${DS}/${source}` } });
		const created = (await put()).status;
		const retried = (await put()).status;
		const sourceDeleted = (await call("DELETE", `${DS}/${source}`)).status;
		// Holding nothing, the fork would let its source go for good while it lives.
		const whileForked = (await call("HEAD", `${DS}/${source}`)).status;
		const forkDeleted = (await call("DELETE", `${DS}/${forkPath}`)).status;
		const afterFork = (await call("HEAD", `${DS}/${source}`)).status;
		expect({ created, retried, sourceDeleted, whileForked, forkDeleted, afterFork, stored: await stored(source) }).toEqual({
			created: 503,
			retried: 200,
			sourceDeleted: 204,
			whileForked: 410,
			forkDeleted: 204,
			afterFork: 404,
			stored: false,
		});
	});

	it("is kept by a repeat whose take fails: the fork lives on, holding its source", async () => {
		const source = await stream("repeat-take-fails");
		const forked = await fork(source, "fork", TEXT);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await referenceFails(streamTopic(source), 1, false);
		const repeated = (await call("PUT", `${DS}/${forked}`, { headers: { ...TEXT, "Stream-Forked-From": `${DS}/${source}` } })).status;
		const forkHead = (await call("HEAD", `${DS}/${forked}`)).status;
		const sourceDeleted = (await call("DELETE", `${DS}/${source}`)).status;
		const whileForked = (await call("HEAD", `${DS}/${source}`)).status;
		expect({ repeated, forkHead, sourceDeleted, whileForked }).toEqual({
			repeated: 503,
			forkHead: 200,
			sourceDeleted: 204,
			whileForked: 410,
		});
	});
});

describe("a fork deleted between its create and its take of its source", { timeout: 30_000 }, () => {
	it("gives the reference back: the source, deleted, then goes for good", async () => {
		const source = await stream("deleted-before-take");
		const sourceId = await topicIdOf(streamTopic(source));
		const forkPath = `${source}-fork`;
		const original = PartitionLog.prototype.streamReference;
		let forkDeleted = 0;
		vi.spyOn(PartitionLog.prototype, "streamReference").mockImplementation(async function (this: PartitionLog, id, d, ...rest) {
			// The fork's DELETE lands (and its end gives back a reference not taken yet) before the take.
			if (id === sourceId && d === 1 && forkDeleted === 0) forkDeleted = (await call("DELETE", `${DS}/${forkPath}`)).status;
			return original.call(this, id, d, ...rest);
		});
		const created = await call("PUT", `${DS}/${forkPath}`, { headers: { ...TEXT, "Stream-Forked-From": `${DS}/${source}` } });
		const forkHead = (await call("HEAD", `${DS}/${forkPath}`)).status;
		const sourceDeleted = (await call("DELETE", `${DS}/${source}`)).status;
		const head = (await call("HEAD", `${DS}/${source}`)).status;
		expect({ created: created.status, forkDeleted, forkHead, sourceDeleted, head, stored: await stored(source) }).toEqual({
			created: 201,
			forkDeleted: 204,
			forkHead: 404,
			sourceDeleted: 204,
			head: 404,
			stored: false,
		});
	});
});

describe("a repeated create of a fork whose source was deleted since", { timeout: 30_000 }, () => {
	it("answers 200 as any repeat of a create does, the fork holding its source until it is deleted", async () => {
		const source = await stream("repeat-source-gone");
		const forked = await fork(source, "fork", TEXT);
		const sourceDeleted = (await call("DELETE", `${DS}/${source}`)).status;
		const repeat = await call("PUT", `${DS}/${forked}`, { headers: { ...TEXT, "Stream-Forked-From": `${DS}/${source}` } });
		const whileForked = (await call("HEAD", `${DS}/${source}`)).status;
		const forkDeleted = (await call("DELETE", `${DS}/${forked}`)).status;
		const afterFork = (await call("HEAD", `${DS}/${source}`)).status;
		expect({
			sourceDeleted,
			repeated: repeat.status,
			nextOffset: repeat.headers.get("Stream-Next-Offset"),
			whileForked,
			forkDeleted,
			afterFork,
			stored: await stored(source),
		}).toEqual({
			sourceDeleted: 204,
			repeated: 200,
			nextOffset: formatOffset(1),
			whileForked: 410,
			forkDeleted: 204,
			afterFork: 404,
			stored: false,
		});
	});
});
