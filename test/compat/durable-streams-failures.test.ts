/**
 * `/ds` when a stream's partition or the registry fails inside the object: a read, HEAD or live read is 503 BUSY,
 * retriable, as a rejection was answered; a partition that failed to take its config is not taken for a missing
 * stream; a fork deleted while the registry failed to drop its topic, or whose creation failed, still gives back
 * its source's reference; a DELETE retried after its topic's drop failed finishes the drop before it answers; and a
 * stream made again at a path whose topic's drop failed, or came late, starts empty; a deleted source whose drop failed
 * when its last fork went is dropped by the next request that finds it, and gives back its own reference on its source;
 * and a deleted stream's topic whose drop failed and no request came is dropped by its partition's alarm, whatever
 * rescheduled that alarm since (a DeleteRecords, a newer config). How a stream ends otherwise (expiry, its alarm's
 * back-off, a fork's release that failed): durable-streams-ends.test.ts.
 */
import { createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { endStream } from "../../src/http/compat/durable-streams/forks.ts";
import worker from "../../src/index.ts";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { DS_DROP_CHECK_MS } from "../../src/shared/limits.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { topicRegistry } from "../../src/shared/stubs.ts";
import { uniqueTopic } from "../support/names.ts";
import { partitionStub, topicIdOf } from "../support/stubs.ts";
import { failStatementOnce, throwOnce } from "../support/throw-once.ts";
import { ADMIN_TOKEN, BASE, call } from "../support/worker.ts";

const DS = "/ds/v1/stream";
const STORAGE_ERROR = "SQLITE_IOERR: disk I/O error";
const TEXT = { "Content-Type": "text/plain" };
const BUSY = { error: { code: "BUSY", message: "a Durable Object failed; the request may be partly done", retriable: true } };

type Log = Awaited<ReturnType<typeof partitionStub>>;

afterEach(() => vi.restoreAllMocks());

async function stream(name: string): Promise<string> {
	const path = `${name}/${uniqueTopic("ds")}`;
	expect((await call("PUT", `${DS}/${path}`, { headers: TEXT, raw: "a" })).status).toBe(201);
	return path;
}

/** The stream's partition's next read of the stream's state fails. */
async function partitionFailsOnce(path: string): Promise<void> {
	await runInDurableObject(await partitionStub(streamTopic(path)), (_, state) =>
		failStatementOnce(state.storage.sql, /stream_meta/, STORAGE_ERROR),
	);
}

/** The registry's next drop of `topic` fails (its storage), once; its other calls, and other topics' drops, go through. */
async function dropFailsOnce(topic: string): Promise<void> {
	await runInDurableObject(topicRegistry(env), (instance) => {
		const registry = instance as unknown as { find(name: string): unknown };
		const find = registry.find;
		registry.find = function (this: unknown, name: string) {
			if (name === topic && new Error().stack?.includes("deleteTopic")) {
				registry.find = find;
				throw new Error(STORAGE_ERROR);
			}
			return find.call(this, name);
		};
	});
}

describe("a stream's partition failing inside it", { timeout: 20_000 }, () => {
	it("answers a catch-up read, a live read and a HEAD 503 BUSY, retriable", async () => {
		const path = await stream("reads");
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = [];
		for (const query of ["?offset=-1", "?offset=-1&live=sse", "?offset=-1&live=long-poll"]) {
			await partitionFailsOnce(path);
			const response = await call("GET", `${DS}/${path}${query}`);
			answers.push([query, response.status, await response.json()]);
		}
		await partitionFailsOnce(path);
		answers.push(["HEAD", (await call("HEAD", `${DS}/${path}`)).status]);
		expect(answers).toEqual([
			["?offset=-1", 503, BUSY],
			["?offset=-1&live=sse", 503, BUSY],
			["?offset=-1&live=long-poll", 503, BUSY],
			["HEAD", 503],
		]);
		expect(await (await call("GET", `${DS}/${path}?offset=-1`)).text()).toBe("a");
	});

	it("answers an append whose partition failed to take the config it asked for 503 BUSY, not 404 as if no stream", async () => {
		const path = await stream("configure");
		const stub = await partitionStub(streamTopic(path));
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await runInDurableObject(stub, (instance, state) => {
			// The partition forgets the config version it took, so the next append asks for it again.
			state.storage.sql.exec("UPDATE partition_state SET config_version = 0 WHERE id = 1");
			(instance as unknown as { load(): void }).load();
			throwOnce((instance as unknown as { lifecycle: { configured(): void } }).lifecycle, "configured", STORAGE_ERROR);
		});
		const response = await call("POST", `${DS}/${path}`, { headers: TEXT, raw: "b" });
		expect([response.status, await response.json()]).toEqual([503, BUSY]);
	});
});

describe("a fork deleted while the registry failed to drop its topic", { timeout: 20_000 }, () => {
	it("is answered 503 and gives back its reference on the source, which a delete then removes for good", async () => {
		const path = await stream("fork-source");
		const fork = `${path}-fork`;
		expect((await call("PUT", `${DS}/${fork}`, { headers: { ...TEXT, "Stream-Forked-From": `${DS}/${path}` } })).status).toBe(201);
		await runInDurableObject(topicRegistry(env), (instance) => throwOnce(instance as unknown as { find(): void }, "find", STORAGE_ERROR));
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		expect((await call("DELETE", `${DS}/${fork}`)).status).toBe(503);
		expect((await call("DELETE", `${DS}/${path}`)).status).toBe(204);
		// A source a fork still referenced would only be marked gone (410); one none references is no more (404).
		expect((await call("HEAD", `${DS}/${path}`)).status, "the source, deleted").toBe(404);
	});
});

describe("a stream deleted while the registry failed to drop its topic", { timeout: 20_000 }, () => {
	it("is answered 503, and a stream created again at its path starts empty, not with the deleted one's records", async () => {
		const path = await stream("reused");
		expect((await call("POST", `${DS}/${path}`, { headers: TEXT, raw: "b" })).status).toBe(204);
		await runInDurableObject(topicRegistry(env), (instance) => throwOnce(instance as unknown as { find(): void }, "find", STORAGE_ERROR));
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		expect((await call("DELETE", `${DS}/${path}`)).status).toBe(503);
		// (No read before the create: one would drop the topic behind its 404, racing the create's own drop.)
		expect((await call("PUT", `${DS}/${path}`, { headers: TEXT, raw: "new" })).status).toBe(201);
		const read = await call("GET", `${DS}/${path}?offset=-1`);
		expect([read.status, await read.text()], "the new stream's records").toEqual([200, "new"]);
	});
});

describe("a DELETE retried after its stream's topic failed to drop", { timeout: 20_000 }, () => {
	it("drops the topic before it answers: 503 while the drop fails, then 404 (the stream is gone) with its records", async () => {
		const path = await stream("delete-again");
		const topic = streamTopic(path);
		const failDrop = () =>
			runInDurableObject(topicRegistry(env), (instance) => throwOnce(instance as unknown as { find(): void }, "find", STORAGE_ERROR));
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await failDrop();
		const first = (await call("DELETE", `${DS}/${path}`)).status;
		await failDrop();
		const again = (await call("DELETE", `${DS}/${path}`)).status;
		const last = (await call("DELETE", `${DS}/${path}`)).status;
		const dropped = !(await topicRegistry(env).getTopic(topic)).ok;
		expect({ first, again, last, dropped }).toEqual({ first: 503, again: 503, last: 404, dropped: true });
	});
});

describe("a stream deleted while its topic's drop keeps failing, and no request comes", { timeout: 20_000 }, () => {
	it("has its topic dropped by its partition's alarm, which backs off while the drop fails (each failed end doubles the wait), logged", async () => {
		const path = await stream("alarm-drop");
		const topic = streamTopic(path);
		const topicId = await topicIdOf(topic);
		const log = await partitionStub(topic);
		const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
		await dropFailsOnce(topic);
		expect((await call("DELETE", `${DS}/${path}`)).status).toBe(503);
		const stored = async () => (await topicRegistry(env).getTopic(topic)).ok;
		// The alarm's first drop fails too (the second end failed): tried again after twice the check's wait, said in the log.
		await dropFailsOnce(topic);
		const first = await runDurableObjectAlarm(log);
		const storedAfterFirst = await stored();
		const retryInMs = ((await runInDurableObject(log, (_, state) => state.storage.getAlarm())) ?? 0) - Date.now();
		const second = await runDurableObjectAlarm(log);
		const logged = errors.mock.calls.some(([line]) => String(line).startsWith(`stream ${topicId}: end failed: `));
		expect({
			first,
			storedAfterFirst,
			backingOff: retryInMs > DS_DROP_CHECK_MS * 3 && retryInMs <= DS_DROP_CHECK_MS * 4,
			logged,
			second,
			stored: await stored(),
		}).toEqual({
			first: true,
			storedAfterFirst: true,
			backingOff: true,
			logged: true,
			second: true,
			stored: false,
		});
	});
});

describe("a stream deleted while its topic's drop failed, its partition then rescheduled", { timeout: 20_000 }, () => {
	/**
	 * What reschedules the partition outside an alarm run: a DeleteRecords (one that deletes nothing: records below the
	 * log start would make retention due at once, its alarm run dropping the topic anyway), or a newer config taken.
	 */
	const reschedules = {
		"a DeleteRecords": async (log: Log, topic: string) => expect((await log.deleteRecords(await topicIdOf(topic), 0)).ok).toBe(true),
		"a newer config": async (log: Log, topic: string) => {
			const meta = await topicRegistry(env).getTopic(topic);
			if (!meta.ok) throw new Error(`topic ${topic} missing`);
			const { name, topicId, configVersion, config } = meta.value;
			expect((await log.configure({ topic: name, topicId, partition: 0, configVersion: configVersion + 1, config })).ok).toBe(true);
		},
	};

	it.for(Object.keys(reschedules) as (keyof typeof reschedules)[])(
		"keeps its drop check after %s: the alarm still comes and drops it",
		async (by) => {
			const path = await stream("drop-kept");
			const topic = streamTopic(path);
			const log = await partitionStub(topic);
			vi.spyOn(console, "error").mockImplementation(() => undefined);
			await dropFailsOnce(topic);
			expect((await call("DELETE", `${DS}/${path}`)).status).toBe(503);
			await reschedules[by](log, topic);
			const alarm = await runInDurableObject(log, (_, state) => state.storage.getAlarm());
			// The DELETE's end failed once: the check waits twice as long.
			const checkBy = Date.now() + DS_DROP_CHECK_MS * 2;
			const ran = await runDurableObjectAlarm(log);
			expect({ due: alarm !== null && alarm <= checkBy, ran, stored: (await topicRegistry(env).getTopic(topic)).ok }).toEqual({
				due: true,
				ran: true,
				stored: false,
			});
		},
	);
});

describe("a read that finds its stream deleted while its topic's drop failed", { timeout: 20_000 }, () => {
	it("answers 404 and logs an end behind the answer that fails again, naming the stream's topic", async () => {
		const path = await stream("read-drop");
		const topic = streamTopic(path);
		const failDrop = () =>
			runInDurableObject(topicRegistry(env), (instance) => throwOnce(instance as unknown as { find(): void }, "find", STORAGE_ERROR));
		const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
		await failDrop();
		expect((await call("DELETE", `${DS}/${path}`)).status).toBe(503);
		await failDrop();
		const ctx = createExecutionContext();
		const request = new Request(`${BASE}${DS}/${path}?offset=-1`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
		const read = await worker.fetch(request, env, ctx);
		await waitOnExecutionContext(ctx);
		const lines = errors.mock.calls.map(([line]) => String(line)).filter((line) => line.startsWith(`stream "${topic}"`));
		expect({ status: read.status, lines }).toEqual({ status: 404, lines: [expect.stringContaining("end failed")] });
	});
});

describe("a stream's topic dropped late, after a stream was made again at its path", { timeout: 20_000 }, () => {
	it("drops only the topic it found: the new stream and its records stay", async () => {
		const path = await stream("late-drop");
		const topic = streamTopic(path);
		const first = await topicRegistry(env).getTopic(topic);
		expect(first.ok).toBe(true);
		expect((await call("DELETE", `${DS}/${path}`)).status).toBe(204);
		expect((await call("PUT", `${DS}/${path}`, { headers: TEXT, raw: "new" })).status).toBe(201);
		// What a read that found the first stream gone sends behind its 404, landing after the create.
		await endStream(env, first.ok ? first.value.topicId : undefined);
		const read = await call("GET", `${DS}/${path}?offset=-1`);
		expect([read.status, await read.text()], "the new stream").toEqual([200, "new"]);
	});
});

describe("a fork whose topic's partition failed to take its config", { timeout: 20_000 }, () => {
	it("is answered 503 and gives back its reference on the source, which a delete then removes for good", async () => {
		const path = await stream("fork-create");
		const fork = `${path}-fork`;
		const configure = PartitionLog.prototype.configure;
		let failed = 0;
		vi.spyOn(PartitionLog.prototype, "configure").mockImplementation(function (this: PartitionLog, assignment) {
			if (assignment.topic === streamTopic(fork) && failed++ === 0) {
				return Promise.resolve({ ok: false, error: { code: "service_unavailable", message: "a Durable Object failed" } } as never);
			}
			return configure.call(this, assignment);
		});
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const created = (await call("PUT", `${DS}/${fork}`, { headers: { ...TEXT, "Stream-Forked-From": `${DS}/${path}` } })).status;
		expect([created, failed]).toEqual([503, 1]);
		expect((await call("DELETE", `${DS}/${path}`)).status).toBe(204);
		// A source a fork still referenced would only be marked gone (410); one none references is no more (404).
		expect((await call("HEAD", `${DS}/${path}`)).status, "the source, deleted").toBe(404);
	});
});

describe("a fork's DELETE whose deleted source's drop failed", { timeout: 20_000 }, () => {
	it("leaves the source marked deleted: the next request that finds it drops its topic (answered 404), not a 'gone' kept forever", async () => {
		const path = await stream("fork-source");
		const fork = `${path}-fork`;
		expect((await call("PUT", `${DS}/${fork}`, { headers: { ...TEXT, "Stream-Forked-From": `${DS}/${path}` } })).status).toBe(201);
		// The source deleted while its fork holds it: only marked gone, its topic kept for the fork.
		expect((await call("DELETE", `${DS}/${path}`)).status).toBe(204);
		const source = streamTopic(path);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		// The registry's next drop of the source's topic fails (storage), once; the fork's own drop goes through.
		await dropFailsOnce(source);
		const first = (await call("DELETE", `${DS}/${fork}`)).status;
		const again = (await call("DELETE", `${DS}/${fork}`)).status;
		const ctx = createExecutionContext();
		const request = new Request(`${BASE}${DS}/${path}?offset=-1`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
		const read = (await worker.fetch(request, env, ctx)).status;
		await waitOnExecutionContext(ctx);
		const sourceDropped = !(await topicRegistry(env).getTopic(source)).ok;
		expect({ first, again, read, sourceDropped }).toEqual({ first: 503, again: 404, read: 404, sourceDropped: true });
	});
});

describe("a fork chain whose middle stream's drop failed when its last fork went", { timeout: 30_000 }, () => {
	it("still gives back the middle's reference on its source: the whole chain ends gone, its topics dropped", async () => {
		const grandparent = await stream("chain");
		const parent = `${grandparent}-parent`;
		const child = `${parent}-child`;
		const forkOf = (source: string) => ({ headers: { ...TEXT, "Stream-Forked-From": `${DS}/${source}` } });
		expect((await call("PUT", `${DS}/${parent}`, forkOf(grandparent))).status).toBe(201);
		expect((await call("PUT", `${DS}/${child}`, forkOf(parent))).status).toBe(201);
		// Both sources deleted while forked: only marked gone (410), their topics kept for the forks.
		expect((await call("DELETE", `${DS}/${grandparent}`)).status).toBe(204);
		expect((await call("DELETE", `${DS}/${parent}`)).status).toBe(204);
		expect((await call("HEAD", `${DS}/${grandparent}`)).status, "the grandparent, referenced").toBe(410);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		// The registry's next drop of the parent's topic fails (storage), once; every other drop goes through.
		await dropFailsOnce(streamTopic(parent));
		const childDeleted = (await call("DELETE", `${DS}/${child}`)).status;
		// The parent's drop finished by a DELETE's retry; the grandparent, which the parent's release ended before its drop
		// failed, by the next request that finds it (behind its answer) or else its alarm.
		const parentDeleted = (await call("DELETE", `${DS}/${parent}`)).status;
		const ctx = createExecutionContext();
		const request = new Request(`${BASE}${DS}/${grandparent}`, { method: "HEAD", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
		const grandparentHead = (await worker.fetch(request, env, ctx)).status;
		await waitOnExecutionContext(ctx);
		const stored = [];
		for (const path of [grandparent, parent, child]) if ((await topicRegistry(env).getTopic(streamTopic(path))).ok) stored.push(path);
		expect({ childDeleted, parentDeleted, grandparentHead, stored }).toEqual({
			childDeleted: 503,
			parentDeleted: 404,
			grandparentHead: 404,
			stored: [],
		});
	});
});
