/**
 * Two SDK consumers with one `instanceId` (KIP-345's group.instance.id): the second's join is the instance's restart
 * and replaces the first, whose next heartbeat or poll is answered `fenced_instance`. The first stops for good with
 * that error and does not join again: joining again, as on `unknown_member`, would replace the second in turn, and
 * the two would take the instance from each other, each rebalancing the group.
 */

import { describe, expect, it } from "vitest";
import { Tributary, TributaryError } from "../../client/index.ts";
import { describeGroup } from "../support/group.ts";
import { uniqueTopic } from "../support/names.ts";
import { type Sent, wiredClient } from "../support/sdk.ts";
import { ADMIN_TOKEN, BASE, createTopic, produce, sized, workerFetch } from "../support/worker.ts";

const isJoin = (r: Sent) => r.method === "POST" && r.path.endsWith("/members");

/** A topic with a record on each of its 2 partitions, and consumer options for a group of it under one instance id. */
async function setUp(name: string) {
	const topic = uniqueTopic(name);
	const group = uniqueTopic("g");
	await createTopic(topic, 2);
	await produce(topic, [
		{ value: 0, partition: 0 },
		{ value: 1, partition: 1 },
	]);
	const options = { group, topics: [topic], from: "earliest" as const, waitMs: 50, instanceId: `i-${group}` };
	return { group, options };
}

/** What `promise` rejects with, which must be the fenced error naming the instance. */
async function fencedError(promise: Promise<unknown>, instance: string): Promise<TributaryError> {
	const error = await promise.then(
		() => null,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(TributaryError);
	expect(error).toMatchObject({ code: "fenced_instance", status: 409, retriable: false });
	expect((error as TributaryError).message).toContain(instance);
	return error as TributaryError;
}

describe("SDK consumers sharing one instanceId", { timeout: 30_000 }, () => {
	it("the replaced one's next poll stops its loop with fenced_instance, and it does not join again", async () => {
		const { group, options } = await setUp("fence-poll");
		const first = wiredClient();
		const a = first.client.consumer(options);
		await a.join();
		const b = wiredClient().client.consumer(options);
		await b.join();
		const holder = await describeGroup(group);
		expect(holder.members.map((m) => m.member_id)).toEqual([b.memberId]);
		const loop = (async () => {
			for await (const _ of a) {
				// No record may be handed out to the replaced member.
				expect.unreachable("the replaced consumer read a record");
			}
		})();
		await fencedError(loop, options.instanceId);
		expect(a.memberId).toBeNull();
		expect(first.sent.filter(isJoin)).toHaveLength(1);
		const after = await describeGroup(group);
		expect(after.generation).toBe(holder.generation);
		expect(after.members.map((m) => m.member_id)).toEqual([b.memberId]);
		await a.close();
		await b.close();
	});

	it("the replaced one's heartbeat fences it: its next poll and join() throw the fenced error, and it does not join again", async () => {
		const { group, options } = await setUp("fence-heartbeat");
		const first = wiredClient();
		const a = first.client.consumer({ ...options, sessionTimeoutMs: 6_000 });
		await a.join();
		const b = wiredClient().client.consumer(options);
		await b.join();
		const holder = await describeGroup(group);
		const sentBefore = first.sent.length;
		// The heartbeat timer (a third of the session) is the only call an idle member makes.
		await expect
			.poll(() => first.sent.slice(sentBefore).some((r) => r.path.endsWith("/heartbeat")), { timeout: 10_000, interval: 100 })
			.toBe(true);
		await expect.poll(() => a.memberId, { timeout: 5_000, interval: 20 }).toBeNull();
		await fencedError(a.join(), options.instanceId);
		const loop = (async () => {
			for await (const _ of a) expect.unreachable("the replaced consumer read a record");
		})();
		await fencedError(loop, options.instanceId);
		expect(first.sent.filter(isJoin)).toHaveLength(1);
		expect(first.sent.filter((r) => r.path.endsWith("/poll"))).toEqual([]);
		const after = await describeGroup(group);
		expect(after.generation).toBe(holder.generation);
		expect(after.members.map((m) => m.member_id)).toEqual([b.memberId]);
		await a.close();
		await b.close();
	});
});

describe("a replaced SDK consumer's commit()", { timeout: 30_000 }, () => {
	it("rejects with the fenced error, again after the commit that learned of it, and stores nothing", async () => {
		const { group, options } = await setUp("fence-commit");
		const a = wiredClient().client.consumer({ ...options, autoCommit: false });
		const records = a[Symbol.asyncIterator]();
		await records.next(); // held: the loop body is busy with it
		const b = wiredClient().client.consumer(options);
		await b.join();
		await fencedError(a.commit(), options.instanceId);
		// Told once, the consumer has no member any more: its offsets are still not stored.
		await fencedError(a.commit(), options.instanceId);
		const after = await describeGroup(group);
		expect(after.offsets.map((o) => o.committed)).toEqual([null, null]);
		await a.close();
		await b.close();
	});
});

describe("an SDK consumer replaced while its long poll waits", { timeout: 30_000 }, () => {
	it("is fenced by its poll's settlement, and the newer consumer keeps its member id and the group", async () => {
		const topic = uniqueTopic("fence-long-poll");
		const group = uniqueTopic("g");
		await createTopic(topic, 1);
		const options = { group, topics: [topic], from: "earliest" as const, instanceId: `i-${group}` };
		const first = wiredClient();
		const a = first.client.consumer({ ...options, waitMs: 3_000 });
		await a.join();
		const loop = (async () => {
			for await (const _ of a) expect.unreachable("the empty topic handed out a record");
		})();
		// b joins (the instance's restart) once a's poll is on the wire, so a's poll settles after it was replaced.
		await expect.poll(() => first.sent.some((r) => r.path.endsWith("/poll")), { timeout: 5_000, interval: 10 }).toBe(true);
		const b = wiredClient().client.consumer({ ...options, waitMs: 50 });
		await b.join();
		const member = b.memberId;
		// Wrongly told unknown_member, a joins again (a restart) and polls on: its loop would never end.
		const rejoined = new Promise<never>((_, reject) => {
			const check = setInterval(() => {
				if (first.sent.filter(isJoin).length > 1) reject(new Error("the replaced consumer joined again"));
			}, 20);
			void loop.finally(() => clearInterval(check)).catch(() => {});
		});
		await fencedError(Promise.race([loop, rejoined]), options.instanceId);
		expect(first.sent.filter(isJoin)).toHaveLength(1);
		expect(b.memberId).toBe(member);
		const after = await describeGroup(group);
		expect(after.members.map((m) => m.member_id)).toEqual([member]);
		await b.join();
		expect(b.memberId).toBe(member);
		await a.close();
		await b.close();
	});
});

describe("an SDK consumer with instanceId and a Worker from before instance_id on member calls", { timeout: 30_000 }, () => {
	it("sends the refused call again without the field, consumes and commits, and names no instance afterwards", async () => {
		const { options } = await setUp("fence-older-worker");
		const named: string[] = [];
		const paths: string[] = [];
		// The real Worker behind a transport that refuses `instance_id` on a heartbeat, poll or commit body with the 400
		// an older Worker's strict bodies answer (its join takes the field: static membership is older).
		const older = new Tributary({
			url: BASE,
			token: ADMIN_TOKEN,
			fetch: async (request: Request) => {
				const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.clone().text();
				const path = new URL(request.url).pathname;
				paths.push(path);
				if (body.includes('"instance_id"') && !(request.method === "POST" && path.endsWith("/members"))) {
					named.push(path);
					const error = { code: "invalid_request", message: 'request: unknown field "instance_id"', retriable: false };
					return Response.json({ error }, { status: 400 });
				}
				return workerFetch(request.body === null ? request : sized(request, body));
			},
		});
		const consumer = older.consumer({ ...options, autoCommit: false });
		// Read by hand, not by `for await`, whose break would close the consumer before its commit.
		const records = consumer[Symbol.asyncIterator]();
		const values = [(await records.next()).value?.value, (await records.next()).value?.value];
		expect(values.sort()).toEqual([0, 1]);
		await consumer.commit();
		expect(named).toHaveLength(1);
		expect(named[0]).toMatch(/\/poll$/);
		expect(paths.filter((p) => p.endsWith("/offsets")).length, "the commit was sent").toBeGreaterThan(0);
		await consumer.close();
	});
});

describe("a lone SDK consumer with instanceId whose own earlier commit lands after it joined again", { timeout: 30_000 }, () => {
	it("is not fenced by that commit: it keeps running as its new member", async () => {
		const { group, options } = await setUp("fence-own-commit");
		const wire = wiredClient();
		const consumer = wire.client.consumer({ ...options, autoCommit: false });
		const records = consumer[Symbol.asyncIterator]();
		await records.next();
		const first = consumer.memberId;
		// The commit of the first member waits, unserved, while the consumer's next poll fails and it joins again.
		const release = wire.hold((r) => r.path.endsWith("/offsets"));
		const committing = consumer.commit().then(
			() => null,
			(e: unknown) => e,
		);
		await expect.poll(() => wire.sent.some((r) => r.path.endsWith("/offsets")), { timeout: 5_000, interval: 10 }).toBe(true);
		wire.failUnserved((r) => r.path.endsWith("/poll"));
		await records.next();
		// The failed poll: the consumer leaves and joins again under a new member id, and reads from the start again.
		expect((await records.next()).done).toBe(false);
		const second = consumer.memberId;
		expect(second).not.toBeNull();
		expect(second).not.toBe(first);
		release();
		const refused = await committing;
		expect(refused === null || (refused as TributaryError).code !== "fenced_instance", `commit() threw ${refused}`).toBe(true);
		expect((await records.next()).done).toBe(false);
		expect(consumer.memberId).toBe(second);
		const after = await describeGroup(group);
		expect(after.members.map((m) => m.member_id)).toEqual([second]);
		await consumer.close();
	});
});
