/**
 * The leave of an SDK consumer that closes, against the real Worker (inside workerd), where a rebalance callback
 * is in its way: an `onRevoke` that throws still lets the member leave (one DELETE), its error surfaced as a
 * callback's (close() and `closed` reject with it), whether the leave is a close's or the recovery's from a lost
 * poll answer; and a rebalance's callback under way when close() comes is waited for, so a commit() there finds
 * the member still in the group (as Kafka's close() runs after its rebalance listener returned), without the close
 * waiting for itself, and one that throws fails the close (its error the close's over a final commit's, whichever
 * failed first); a rebalance followed during a recovery's onRevoke runs no callback for the member that left (its
 * partitions are revoked once), whether the consumer joins again or closes meanwhile (then joins no member nothing
 * would leave); one followed while the recovery waits for a callback before its onRevoke runs that partition's
 * callbacks first; and a close while a poll's refused carried commit finds the member gone ends the loop quietly.
 */

import { describe, expect, it, vi } from "vitest";
import { RebalanceCallbacks } from "../../client/consumer-callbacks.ts";
import { type Consumer, type ConsumerOptions, type ConsumerRecord, Tributary } from "../../client/index.ts";
import { filled, HEARTBEAT_SOON, handedBoth, heartbeatOnDemand, latch } from "../support/consumer-fixtures.ts";
import { wiredClient } from "../support/sdk.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { ADMIN_TOKEN, BASE, call, json, produce, sized, workerFetch } from "../support/worker.ts";

interface GroupState {
	members: unknown[];
	offsets: { partition: number; committed: number | null }[];
}

const groupState = (group: string) => json<GroupState>("GET", `/v1/groups/${group}`, 200);

const isLeave = (r: { method: string }) => r.method === "DELETE";

/** A consumer of a three-record topic whose `onRevoke` throws `failure`. */
async function revokeThrowing(name: string) {
	const { topic, group } = await filled(name, 3);
	const failure = new Error("onRevoke failed");
	const wire = wiredClient();
	const consumer = wire.client.consumer({
		group,
		topics: [topic],
		from: "earliest",
		waitMs: 50,
		onRevoke: () => {
			throw failure;
		},
	});
	return { group, failure, wire, consumer };
}

describe("SDK consumer whose leave's onRevoke throws", { timeout: 30_000 }, () => {
	it("close(): the member still leaves (one DELETE); close() and closed reject with that error", async () => {
		const { group, failure, wire, consumer } = await revokeThrowing("revoke-throws");
		await consumer.join();
		await expect(consumer.close()).rejects.toBe(failure);
		await expect(consumer.closed).rejects.toBe(failure);
		expect(wire.sent.filter(isLeave), "the leave was sent").toHaveLength(1);
		expect((await groupState(group)).members, "the member left, not waiting out its session").toEqual([]);
		expect(consumer.memberId).toBeNull();
	});

	it("the recovery's from a lost poll answer: the loop ends with that error, and the member leaves once", async () => {
		const { group, failure, wire, consumer } = await revokeThrowing("recovery-revoke-throws");
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 3; i++) expect(((await it.next()).value as ConsumerRecord).offset).toBe(i);
		// The next poll is served and its answer lost: the recovery runs onRevoke (which throws) before its leave.
		wire.dropAnswer((r) => r.method === "POST" && r.path.endsWith("/poll"));
		await expect(it.next()).rejects.toBe(failure);
		await expect(consumer.closed).rejects.toBe(failure);
		expect(wire.sent.filter(isLeave), "the leave was sent, once").toHaveLength(1);
		expect((await groupState(group)).members).toEqual([]);
	});
});

describe("SDK consumer whose leave is answered 404 by something other than the group", { timeout: 30_000 }, () => {
	it("close() rejects with that answer: the member was not left, it is not taken as gone", async () => {
		const { topic, group } = await filled("leave-404", 1);
		// A proxy's own 404 (not the Worker's JSON): nothing says the group dropped the member.
		const fetch = (request: Request) =>
			request.method === "DELETE" ? Promise.resolve(new Response("Not Found", { status: 404 })) : workerFetch(request);
		const consumer = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch }).consumer({ group, topics: [topic], waitMs: 50 });
		await consumer.join();
		const closing = await refusal(consumer.close());
		expect(closing).toMatchObject({ name: "TributaryError", code: "unexpected_response", status: 404 });
		expect((await groupState(group)).members, "the member is still in the group").toHaveLength(1);
	});
});

/** What `promise` rejected with, or null once it resolved. */
const refusal = (promise: Promise<unknown>) =>
	promise.then(
		() => null,
		(error: unknown) => error,
	);

/**
 * `handedBoth`'s member, whose `onRevoke` is `onRevoke` (the partitions it gives up are in `revoked`), and
 * `rebalance()`: another member joins and takes partition 1; the loop moves past the fourth record and follows it.
 */
async function handedBothRevoking(
	name: string,
	onRevoke: (consumer: Consumer, partitions: number[]) => Promise<void>,
	more: Partial<ConsumerOptions> = {},
) {
	const revoked: number[][] = [];
	let consumer: Consumer | null = null;
	const handed = await handedBoth(name, {
		...more,
		onRevoke: async (tps) => {
			const partitions = tps.map((tp) => tp.partition);
			revoked.push(partitions);
			if (consumer === null) throw new Error("a revoke before the member was handed its records");
			await onRevoke(consumer, partitions);
		},
	});
	consumer = handed.consumer;
	const rebalance = async () => {
		const other = wiredClient().client.consumer({ ...handed.options, instanceId: `z-${handed.group}` });
		await other.join();
		return { other, next: handed.it.next() };
	};
	return { ...handed, revoked, rebalance };
}

const committedOf = async (group: string, partition: number) =>
	(await groupState(group)).offsets.find((o) => o.partition === partition)?.committed ?? null;

/** A callback's step held until `proceed()`: `entered` settles once the callback reached `hold()`. */
function heldStep() {
	const [entered, enter] = latch();
	const [proceeding, proceed] = latch();
	const hold = async () => {
		enter();
		await proceeding;
	};
	return { entered, proceed, hold };
}

/**
 * Another member joins (taking partition 1) and the loop moves past the fourth record: its poll is served and the
 * answer lost, so the recovery begins, still owning both partitions. Answers once the recovery's onRevoke reached
 * `step` (held there) and a heartbeat followed the rebalance.
 */
async function recoveryWhileRebalanced(
	{ wire, consumer, rebalance }: Awaited<ReturnType<typeof handedBothRevoking>>,
	step: ReturnType<typeof heldStep>,
	heartbeat: ReturnType<typeof heartbeatOnDemand>,
) {
	wire.dropAnswer((r) => r.method === "POST" && r.path.endsWith("/poll"));
	const rebalanced = await rebalance();
	await step.entered;
	await heartbeat.now();
	const followed = { ...UNTIL_SEEN, message: "a heartbeat followed the rebalance (partition 1 taken)" };
	await expect.poll(() => consumer.assignment.map((tp) => tp.partition), followed).toEqual([0]);
	return rebalanced;
}

describe("SDK consumer close() while a rebalance's onRevoke runs", { timeout: 30_000 }, () => {
	const isCommit = (r: { method: string; path: string }) => r.method === "POST" && r.path.endsWith("/offsets");

	it("a commit() of that onRevoke under way when close() comes is stored: the leave waits for the callback", async () => {
		let committing: Promise<unknown> | null = null;
		const { group, wire, consumer, revoked, rebalance } = await handedBothRevoking("close-rebalance-commit", async (c, partitions) => {
			if (!partitions.includes(1)) return;
			committing = refusal(c.commit());
			await committing;
		});
		const releaseCommit = wire.hold(isCommit);
		const { other, next } = await rebalance();
		await expect.poll(() => wire.sent.some(isCommit), UNTIL_SEEN).toBe(true);
		await consumer.close(); // a signal handler's, while that onRevoke's commit is under way
		releaseCommit();
		await consumer.closed;
		expect(await committing, "the rebalance's onRevoke commit() was stored, not refused by the leave").toBeNull();
		expect(await committedOf(group, 0)).toBe(2);
		expect(revoked, "then the leave's onRevoke").toEqual([[1], [0]]);
		expect(wire.sent.filter(isLeave)).toHaveLength(1);
		expect((await groupState(group)).members).toHaveLength(1);
		expect(await next).toEqual({ done: true, value: undefined });
		await other.close();
	});

	it("a commit() that onRevoke makes after close() came is stored too; a close() awaited there returns at once", async () => {
		const commits: unknown[] = [];
		const step = heldStep();
		const { group, wire, consumer, revoked, rebalance } = await handedBothRevoking("close-rebalance-later", async (c, partitions) => {
			if (!partitions.includes(1)) return;
			await step.hold();
			commits.push(await refusal(c.commit()));
			await c.close(); // the close under way waits for this callback: this one must not wait for it
		});
		const { other, next } = await rebalance();
		await step.entered;
		void consumer.close(); // a signal handler's, while that onRevoke runs
		step.proceed();
		await consumer.closed;
		expect(
			commits.map((e) => (e === null ? null : String(e))),
			"the rebalance's onRevoke commit() was stored",
		).toEqual([null]);
		expect(await committedOf(group, 0)).toBe(2);
		expect(revoked).toEqual([[1], [0]]);
		expect(wire.sent.filter(isLeave)).toHaveLength(1);
		expect(await next).toEqual({ done: true, value: undefined });
		await other.close();
	});

	it("the member's heartbeat goes on while the leave waits for that callback: a slow one does not outlive its session", async () => {
		const step = heldStep();
		// The shortest session, which a slow callback outlives but for the heartbeat.
		const { group, wire, consumer, rebalance } = await handedBothRevoking(
			"close-rebalance-heartbeat",
			async (_, partitions) => {
				if (partitions.includes(1)) await step.hold();
			},
			{ sessionTimeoutMs: 6_000, ...HEARTBEAT_SOON },
		);
		const isHeartbeat = (r: { path: string }) => r.path.endsWith("/heartbeat");
		const { other, next } = await rebalance();
		await step.entered;
		void consumer.close(); // a signal handler's, while that onRevoke runs
		const sent = wire.sent.length;
		const beat = { ...UNTIL_SEEN, message: "a heartbeat while the leave waits for the callback" };
		await expect.poll(() => wire.sent.slice(sent).some(isHeartbeat), beat).toBe(true);
		expect(wire.sent.slice(sent).filter(isLeave), "the leave waits for the callback").toEqual([]);
		step.proceed();
		await consumer.closed;
		expect(wire.sent.filter(isLeave)).toHaveLength(1);
		expect((await groupState(group)).members).toHaveLength(1);
		expect(await next).toEqual({ done: true, value: undefined });
		await other.close();
	});
});

describe("SDK consumer close() while a rebalance's callback runs and another rebalance follows", { timeout: 30_000 }, () => {
	it("the leave waits for the callbacks queued meanwhile too: none runs beside the leave's onRevoke", async () => {
		const log: string[] = [];
		const step = heldStep();
		let group = "";
		const { wire, consumer, rebalance, ...rest } = await handedBothRevoking(
			"close-rebalance-reassign",
			async (_, partitions) => {
				log.push(`revoke ${partitions.join("+")}`);
				if (partitions.length === 1) await step.hold();
				log.push(`revoked ${partitions.join("+")}`);
			},
			{
				sessionTimeoutMs: 6_000,
				...HEARTBEAT_SOON, // a heartbeat soon follows the rebalance while the leave waits
				onAssign: async (tps) => {
					log.push(`assign ${tps.map((tp) => tp.partition).join("+")}`);
					// A real round trip (once the group is known: not the first assignment's): a leave's onRevoke started
					// meanwhile would run beside it.
					if (group !== "") await groupState(group);
					log.push(`assigned ${tps.map((tp) => tp.partition).join("+")}`);
				},
			},
		);
		group = rest.group;
		const { other, next } = await rebalance();
		await step.entered;
		void consumer.close(); // a signal handler's, while that onRevoke runs
		await other.close(); // partition 1 comes back at the next heartbeat: its onAssign queued behind the onRevoke
		await expect.poll(() => consumer.assignment.length, UNTIL_SEEN).toBe(2);
		step.proceed();
		await consumer.closed;
		expect(log.slice(log.indexOf("revoke 1"))).toEqual(["revoke 1", "revoked 1", "assign 1", "assigned 1", "revoke 0+1", "revoked 0+1"]);
		expect(wire.sent.filter(isLeave)).toHaveLength(1);
		expect(await next).toEqual({ done: true, value: undefined });
	});
});

describe("SDK consumer close() whose onRevoke commits after a rebalance", { timeout: 30_000 }, () => {
	it("the commit follows the new generation and stores what is still owned; the leaving member queues no callback", async () => {
		const step = heldStep();
		const commits: unknown[] = [];
		const { group, options, wire, consumer, it, revoked } = await handedBothRevoking("close-revoke-rebalanced", async (c) => {
			await step.hold();
			commits.push(await refusal(c.commit()));
		});
		const closing = consumer.close(); // from outside: the leave runs onRevoke on both partitions
		await step.entered;
		const other = wiredClient().client.consumer({ ...options, instanceId: `z-${group}` });
		await other.join(); // takes partition 1: that onRevoke's commit is refused for the generation that ended
		step.proceed();
		await closing;
		await consumer.closed;
		expect(revoked, "the leave's onRevoke only, none for the partition the rebalance took").toEqual([[0, 1]]);
		expect(commits).toEqual([null]);
		expect(await committedOf(group, 0), "the partition still owned is committed").toBe(2);
		expect(await committedOf(group, 1)).toBeNull();
		expect(wire.sent.filter(isLeave)).toHaveLength(1);
		expect(await it.next()).toEqual({ done: true, value: undefined });
		await other.close();
	});
});

describe("SDK consumer close() whose onRevoke commits after a rebalance that gives a partition back", { timeout: 30_000 }, () => {
	it("the assignment is empty once closed, that partition included", async () => {
		const step = heldStep();
		const commits: unknown[] = [];
		const owned: number[][] = [];
		const { group, wire, consumer, revoked, rebalance } = await handedBothRevoking("close-revoke-given-back", async (c, partitions) => {
			if (partitions[0] !== 0) return; // the rebalance's, of partition 1
			await step.hold();
			commits.push(await refusal(c.commit()));
			owned.push(c.assignment.map((tp) => tp.partition).sort());
		});
		const { other, next } = await rebalance();
		await expect.poll(() => revoked, UNTIL_SEEN).toEqual([[1]]);
		const closing = consumer.close(); // the leave's onRevoke([0]), held
		await step.entered;
		await other.close(); // partition 1 is this member's again: that onRevoke's commit() is refused, and follows it
		step.proceed();
		await closing;
		expect(commits).toEqual([null]);
		expect(owned, "the commit followed the rebalance that gave partition 1 back").toEqual([[0, 1]]);
		expect(consumer.assignment, "nothing is owned once closed").toEqual([]);
		expect(revoked).toEqual([[1], [0]]);
		expect(await committedOf(group, 0)).toBe(2);
		expect(wire.sent.filter(isLeave)).toHaveLength(1);
		expect(await next).toEqual({ done: true, value: undefined });
	});
});

describe("SDK consumer close() while the onRevoke of a lost membership runs", { timeout: 30_000 }, () => {
	it("closed settles only once that onRevoke returned, though the leave finds no member to leave", async () => {
		const step = heldStep();
		const order: string[] = [];
		const onRevoke = async () => {
			await step.hold();
			order.push("revoked");
		};
		const { group, wire, consumer, it } = await handedBothRevoking("close-lost-revoking", onRevoke, {
			sessionTimeoutMs: 6_000,
			...HEARTBEAT_SOON,
		});
		const member = consumer.memberId as string;
		expect((await call("DELETE", `/v1/groups/${group}/members/${member}?auto_commit=false`)).ok).toBe(true);
		await step.entered; // the heartbeat found the member gone: onRevoke on the partitions lost
		expect(consumer.memberId).toBeNull();
		void consumer.close(); // returns at once while a rebalance's callback runs
		const settled = consumer.closed.then(() => order.push("closed"));
		// A round trip to the Worker while that onRevoke is held: a `closed` not waiting for it settles meanwhile.
		await groupState(group);
		step.proceed();
		await settled;
		expect(order).toEqual(["revoked", "closed"]);
		expect(wire.sent.filter(isLeave), "no member to leave").toHaveLength(0);
		expect(await it.next()).toEqual({ done: true, value: undefined });
	});
});

describe("SDK consumer close() while a rebalance's callback that throws runs", { timeout: 30_000 }, () => {
	/** A callback held until `proceed()`, which then throws `failure`; `entered` resolves once it runs. */
	function heldThrowing() {
		const failure = new Error("onRevoke failed");
		const step = heldStep();
		const run = async () => {
			await step.hold();
			throw failure;
		};
		return { failure, proceed: step.proceed, entered: step.entered, run };
	}

	it("a lost membership's onRevoke: closed rejects with its error, though the leave finds no member to leave", async () => {
		const held = heldThrowing();
		const { group, wire, consumer, it } = await handedBothRevoking("close-lost-revoke-throws", held.run, {
			sessionTimeoutMs: 6_000,
			...HEARTBEAT_SOON,
		});
		const member = consumer.memberId as string;
		expect((await call("DELETE", `/v1/groups/${group}/members/${member}?auto_commit=false`)).ok).toBe(true);
		await held.entered; // the heartbeat found the member gone: onRevoke on the partitions lost
		void consumer.close(); // returns at once while a rebalance's callback runs
		held.proceed();
		await expect(consumer.closed, "closed rejects with the callback's error").rejects.toBe(held.failure);
		expect(wire.sent.filter(isLeave), "no member to leave").toHaveLength(0);
		await expect(it.next(), "the loop's next turn throws the same error").rejects.toBe(held.failure);
	});

	it("a rebalance's onRevoke, the loop not running: closed rejects with its error, and the member still leaves", async () => {
		const held = heldThrowing();
		const { group, options, wire, consumer, it, revoked } = await handedBothRevoking(
			"close-rebalance-throws",
			async (_, partitions) => {
				if (partitions.length === 1 && partitions[0] === 1) await held.run();
			},
			{ sessionTimeoutMs: 6_000, ...HEARTBEAT_SOON },
		);
		const other = wiredClient().client.consumer({ ...options, instanceId: `z-${group}` });
		await other.join(); // takes partition 1: the heartbeat follows, its onRevoke held
		await held.entered;
		void consumer.close(); // returns at once while a rebalance's callback runs
		held.proceed();
		await expect(consumer.closed, "closed rejects with the callback's error").rejects.toBe(held.failure);
		expect(revoked, "then the leave's onRevoke").toEqual([[1], [0]]);
		expect(wire.sent.filter(isLeave), "the member left").toHaveLength(1);
		expect((await groupState(group)).members).toHaveLength(1);
		await expect(it.next()).rejects.toBe(held.failure);
		await other.close();
	});

	it("one the loop already threw: close() and closed reject with that same error, once the member left", async () => {
		const failure = new Error("onRevoke failed");
		const { topic, wire, consumer, revoked, rebalance } = await handedBothRevoking("loop-threw-close", async (_, partitions) => {
			if (partitions.length === 1 && partitions[0] === 1) throw failure;
		});
		const { other, next } = await rebalance();
		await expect.poll(() => revoked.length, UNTIL_SEEN).toBe(1);
		await produce(topic, [{ value: 2, partition: 0 }]); // a record the loop waits for the callbacks to hand out
		await expect(next, "the loop ends with the callback's error").rejects.toBe(failure);
		expect(wire.sent.filter(isLeave), "the loop's end left the group").toHaveLength(1);
		await expect(consumer.close(), "a shutdown path's close() after it").rejects.toBe(failure);
		await expect(consumer.closed).rejects.toBe(failure);
		expect(revoked).toEqual([[1], [0]]);
		expect(wire.sent.filter(isLeave)).toHaveLength(1);
		await other.close();
	});
});

describe("SDK consumer recovering from a lost poll answer while a rebalance is followed", { timeout: 30_000 }, () => {
	it("the leaving member's partition taken meanwhile is revoked once, by the recovery's onRevoke; the next member's onAssign runs", async () => {
		const leaveRevoke = heldStep();
		const assigned: number[][] = [];
		const heartbeat = heartbeatOnDemand();
		const handed = await handedBothRevoking(
			"recovery-rebalance-rejoin",
			async (_, partitions) => {
				// The recovery's onRevoke, held until a heartbeat followed the rebalance.
				if (partitions.length === 2) await leaveRevoke.hold();
			},
			{ onAssign: (tps) => void assigned.push(tps.map((tp) => tp.partition)) },
		);
		const { consumer, revoked } = handed;
		const { other, next } = await recoveryWhileRebalanced(handed, leaveRevoke, heartbeat);
		leaveRevoke.proceed();
		const record = (await next).value as ConsumerRecord;
		expect(`${record.partition}:${record.offset}`, "the next member reads partition 0 from its last commit").toBe("0:0");
		expect(revoked, "partition 1 revoked once, by the recovery's onRevoke").toEqual([[0, 1]]);
		expect(assigned, "the first member's, then the next member's").toEqual([[0, 1], [0]]);
		await consumer.close();
		await other.close();
	});
});

describe("SDK consumer close() during a recovery's leave, a rebalance followed during its onRevoke", { timeout: 30_000 }, () => {
	it("no callback runs for the member that left, and nothing joins a member nothing would leave", async () => {
		const leaveRevoke = heldStep();
		const heartbeat = heartbeatOnDemand();
		const handed = await handedBothRevoking("recovery-rebalance-commit", async (_, partitions) => {
			// The recovery's onRevoke (it gives up both partitions), held until a heartbeat followed a rebalance.
			if (partitions.length === 2) await leaveRevoke.hold();
		});
		const { group, wire, consumer, revoked } = handed;
		const { other, next } = await recoveryWhileRebalanced(handed, leaveRevoke, heartbeat);
		const releaseLeave = wire.hold(isLeave);
		leaveRevoke.proceed();
		await expect.poll(() => wire.sent.filter(isLeave).length, UNTIL_SEEN).toBe(1);
		expect(consumer.memberId, "the recovery's leave dropped the member").toBeNull();
		void consumer.close(); // a signal handler's, while the recovery's leave is under way
		releaseLeave();
		await consumer.closed;
		// Not [[0, 1], [1]]: the rebalance's onRevoke([1]), queued by that heartbeat, was for the member that left.
		expect(revoked).toEqual([[0, 1]]);
		expect(wire.sent.filter(isLeave), "the recovery's leave, once").toHaveLength(1);
		expect(consumer.memberId).toBeNull();
		expect((await groupState(group)).members, "only the other member is left").toHaveLength(1);
		expect(await next).toEqual({ done: true, value: undefined });
		await other.close();
	});
});

describe("SDK consumer close() and a callback queued as its leave stops waiting", { timeout: 30_000 }, () => {
	it("the callback runs before the leave's onRevoke, not beside it", async () => {
		const log: string[] = [];
		let group = "";
		const { consumer, ...rest } = await handedBothRevoking(
			"close-gap-queued",
			async (_, partitions) => {
				log.push(`revoke ${partitions.join("+")}`);
				await groupState(group); // a real round trip: a callback started meanwhile would run beside it
				log.push(`revoked ${partitions.join("+")}`);
			},
			{
				onAssign: async (tps) => {
					log.push(`assign ${tps.map((tp) => tp.partition).join("+")}`);
					if (group !== "") await groupState(group);
					log.push(`assigned ${tps.map((tp) => tp.partition).join("+")}`);
				},
			},
		);
		group = rest.group;
		// A heartbeat's answer read in the microtasks between the leave's wait for the callbacks and their end:
		// queued then, as such an answer would queue the onAssign of a partition given back.
		const allRan = RebalanceCallbacks.prototype.allRan;
		let slipped = false;
		const spy = vi.spyOn(RebalanceCallbacks.prototype, "allRan").mockImplementation(async function (this: RebalanceCallbacks) {
			await allRan.call(this);
			if (slipped) return;
			slipped = true;
			queueMicrotask(() => this.queue([], [{ topic: "t", partition: 9 }]));
		});
		try {
			await consumer.close();
		} finally {
			spy.mockRestore();
		}
		expect(slipped).toBe(true);
		expect(log.slice(log.indexOf("assign 9"))).toEqual(["assign 9", "assigned 9", "revoke 0+1", "revoked 0+1"]);
	});
});

describe("SDK consumer close(): a rebalance the heartbeat follows while the leave waits for a callback queued as it stopped waiting", {
	timeout: 30_000,
}, () => {
	it("a partition taken meanwhile is revoked once, not zero times", async () => {
		const log: string[] = [];
		const step = heldStep();
		const heartbeat = heartbeatOnDemand();
		const { consumer, options } = await handedBoth("close-gap-rebalance", {
			onRevoke: async (tps) => {
				log.push(`revoke ${tps.map((tp) => tp.partition).join("+")}`);
			},
			onAssign: async (tps) => {
				log.push(`assign ${tps.map((tp) => tp.partition).join("+")}`);
				if (tps.some((tp) => tp.partition === 9)) await step.hold();
			},
		});
		const allRan = RebalanceCallbacks.prototype.allRan;
		let slipped = false;
		const spy = vi.spyOn(RebalanceCallbacks.prototype, "allRan").mockImplementation(async function (this: RebalanceCallbacks) {
			await allRan.call(this);
			if (slipped) return;
			slipped = true;
			queueMicrotask(() => this.queue([], [{ topic: "t", partition: 9 }]));
		});
		let other: ReturnType<ReturnType<typeof wiredClient>["client"]["consumer"]> | null = null;
		try {
			const closing = consumer.close();
			await step.entered;
			other = wiredClient().client.consumer({ ...options, instanceId: `z-${options.group}` });
			await other.join();
			await heartbeat.now();
			await expect.poll(() => consumer.assignment.map((tp) => tp.partition), { ...UNTIL_SEEN, message: "heartbeat followed" }).toEqual([0]);
			step.proceed();
			await closing.catch((e) => log.push(`close failed ${e}`));
		} finally {
			spy.mockRestore();
			step.proceed();
		}
		const revokedOne = log.filter((l) => l.startsWith("revoke") && l.split(" ")[1]?.split("+").includes("1"));
		expect(revokedOne, `partition 1 revoked once: ${JSON.stringify(log)}`).toHaveLength(1);
		await other?.close();
	});
});

describe("SDK consumer close() whose final auto-commit fails and a callback throws", { timeout: 30_000 }, () => {
	/** `beforeCommit` failing with `commitFailure` once `arm()` was called (the polls that handed the records commit). */
	function failingCommit(log: string[]) {
		const commitFailure = new Error("beforeCommit failed");
		let armed = false;
		const beforeCommit = () => {
			if (!armed) return;
			log.push("commit failed");
			throw commitFailure;
		};
		return { commitFailure, beforeCommit, arm: () => (armed = true) };
	}

	it("the callback threw first (a rebalance's onRevoke), the commit failed after: close() and closed reject with the callback's", async () => {
		const log: string[] = [];
		const callbackFailure = new Error("onRevoke failed");
		const commit = failingCommit(log);
		const { group, options, wire, consumer, revoked } = await handedBothRevoking(
			"close-commit-after-callback",
			async (_, partitions) => {
				if (partitions.length !== 1 || partitions[0] !== 1) return;
				log.push("callback threw");
				throw callbackFailure;
			},
			{ autoCommit: true, beforeCommit: commit.beforeCommit, sessionTimeoutMs: 6_000, ...HEARTBEAT_SOON },
		);
		const other = wiredClient().client.consumer({ ...options, instanceId: `z-${group}` });
		await other.join(); // takes partition 1: the heartbeat follows, and its onRevoke throws
		await expect.poll(() => revoked, UNTIL_SEEN).toEqual([[1]]);
		commit.arm();
		await expect(consumer.close(), "the rebalance listener's error, as Kafka's close() throws").rejects.toBe(callbackFailure);
		await expect(consumer.closed).rejects.toBe(callbackFailure);
		expect(log).toEqual(["callback threw", "commit failed"]);
		expect(revoked, "the leave's onRevoke ran").toEqual([[1], [0]]);
		expect(wire.sent.filter(isLeave), "the member left").toHaveLength(1);
		await other.close();
	});

	it("the commit failed first, the leave's onRevoke threw after: close() and closed reject with the callback's", async () => {
		const log: string[] = [];
		const callbackFailure = new Error("onRevoke failed");
		const commit = failingCommit(log);
		const { group, wire, consumer, revoked } = await handedBothRevoking(
			"close-callback-after-commit",
			async () => {
				log.push("callback threw");
				throw callbackFailure;
			},
			{ autoCommit: true, beforeCommit: commit.beforeCommit },
		);
		commit.arm();
		await expect(consumer.close(), "the rebalance listener's error, as Kafka's close() throws").rejects.toBe(callbackFailure);
		await expect(consumer.closed).rejects.toBe(callbackFailure);
		expect(log).toEqual(["commit failed", "callback threw"]);
		expect(revoked).toEqual([[0, 1]]);
		expect(wire.sent.filter(isLeave), "the member left").toHaveLength(1);
		expect((await groupState(group)).members).toEqual([]);
	});

	it("no callback threw: close() and closed reject with the commit's error, and the member leaves", async () => {
		const log: string[] = [];
		const commit = failingCommit(log);
		const { group, wire, consumer } = await handedBoth("close-commit-fails", { autoCommit: true, beforeCommit: commit.beforeCommit });
		commit.arm();
		await expect(consumer.close()).rejects.toBe(commit.commitFailure);
		await expect(consumer.closed).rejects.toBe(commit.commitFailure);
		expect(log).toEqual(["commit failed"]);
		expect(wire.sent.filter(isLeave)).toHaveLength(1);
		expect((await groupState(group)).members).toEqual([]);
	});
});

describe("SDK consumer whose loop failed and whose leave failed after it", { timeout: 30_000 }, () => {
	it("the loop throws its own error (beforeCommit's); close() and closed reject with the leave's (its onRevoke's)", async () => {
		const loopFailure = new Error("beforeCommit failed");
		const leaveFailure = new Error("onRevoke failed");
		let armed = false;
		const {
			group,
			consumer,
			it: records,
			wire,
		} = await handedBoth("loop-then-leave-fail", {
			autoCommit: true,
			beforeCommit: () => {
				if (armed) throw loopFailure;
			},
			onRevoke: () => {
				if (armed) throw leaveFailure;
			},
		});
		armed = true;
		await expect(records.next(), "what ended the loop, as Kafka's poll() throws it").rejects.toBe(loopFailure);
		await expect(consumer.close(), "the leave's, as Kafka's close() throws its listener's").rejects.toBe(leaveFailure);
		await expect(consumer.closed, "close()'s: one rule decides both").rejects.toBe(leaveFailure);
		expect(wire.sent.filter(isLeave), "the member left").toHaveLength(1);
		expect((await groupState(group)).members).toEqual([]);
	});
});

describe("SDK consumer recovering from a lost poll answer while a rebalance's callback runs", { timeout: 30_000 }, () => {
	it("a partition given back before the recovery's onRevoke is assigned, then revoked, once, in order", async () => {
		const log: string[] = [];
		const step = heldStep();
		const [dropped, drop] = latch();
		const parts = (tps: { partition: number }[]) => tps.map((tp) => tp.partition).join("+");
		const heartbeat = heartbeatOnDemand();
		const { wire, consumer, rebalance } = await handedBothRevoking(
			"recovery-queued-given-back",
			async (_, partitions) => {
				log.push(`revoke ${partitions.join("+")}`);
				if (log.filter((l) => l.startsWith("revoke")).length > 1) return;
				await step.hold(); // the rebalance's onRevoke([1]), held while the loop polls on
			},
			{ onAssign: (tps) => void log.push(`assign ${parts(tps)}`) },
		);
		const { other, next } = await rebalance(); // takes partition 1: its onRevoke runs, held
		await step.entered;
		// The loop polls on (a poll need not wait for the callbacks): one such poll's answer is lost, and the recovery
		// begins, queued behind the held onRevoke, owning partition 0 only.
		wire.dropAnswer((r) => {
			const poll = r.method === "POST" && r.path.endsWith("/poll");
			if (poll) drop();
			return poll;
		});
		await dropped;
		await other.close(); // partition 1 comes back at the next heartbeat, before the recovery's onRevoke
		await heartbeat.now();
		const followed = { ...UNTIL_SEEN, message: "a heartbeat followed the rebalance (partition 1 given back)" };
		await expect.poll(() => consumer.assignment.length, followed).toBe(2);
		step.proceed();
		expect((await next).done).toBe(false);
		expect(log.slice(log.indexOf("revoke 1")), "each ownership assigned then revoked once").toEqual([
			"revoke 1",
			"assign 1",
			"revoke 0+1",
			"assign 0+1",
		]);
		await consumer.close();
	});
});

describe("SDK consumer close() while a poll's refused carried commit is sent on its own and finds the member gone", {
	timeout: 30_000,
}, () => {
	it("the loop ends quietly at its next turn, not with closed, and no member joins", async () => {
		const { topic, group } = await filled("close-carried-commit-gone", 3);
		const methods: string[] = [];
		let refuseCarried = false;
		const [commitSent, sendCommit] = latch();
		const [commitReleased, releaseCommit] = latch();
		const fetch = async (request: Request) => {
			const body = request.method === "GET" ? "" : await request.clone().text();
			const path = new URL(request.url).pathname;
			methods.push(`${request.method} ${path.split("/").slice(-1)[0]}`);
			if (refuseCarried && path.endsWith("/poll") && JSON.parse(body).commit !== undefined) {
				// The broker's refusal of a commit of a generation that is over, answered unserved: the poll read nothing.
				refuseCarried = false;
				const error = { code: "rebalance_in_progress", message: "generation 1 is over", retriable: false };
				return Response.json({ error }, { status: 409 });
			}
			if (path.endsWith("/offsets")) {
				sendCommit();
				await commitReleased;
			}
			return workerFetch(request.body === null ? request : sized(request, body));
		};
		const client = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch });
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50 });
		const it = consumer[Symbol.asyncIterator]();
		for (let i = 0; i < 3; i++) expect(((await it.next()).value as ConsumerRecord).offset).toBe(i);
		refuseCarried = true;
		const next = it.next(); // moves past offset 2: the poll carries its commit, refused; sent on its own, held
		await commitSent;
		const member = consumer.memberId as string;
		expect((await call("DELETE", `/v1/groups/${group}/members/${member}?auto_commit=false`)).ok).toBe(true);
		const closing = consumer.close(); // a signal handler's, while that commit is under way
		releaseCommit(); // answered unknown_member: the membership is gone, and the consumer closing
		expect(await refusal(next), "the loop ends at its next turn").toBeNull();
		expect(await next).toEqual({ done: true, value: undefined });
		await closing;
		await consumer.closed;
		expect(
			methods.filter((m) => m === "POST members"),
			"no join once closing",
		).toHaveLength(1);
		expect((await groupState(group)).members).toEqual([]);
	});
});
