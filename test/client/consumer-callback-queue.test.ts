/**
 * The rebalance callbacks' queue and a recovery's step on it, driven directly: orders of microtasks the Worker cannot
 * be made to produce on demand (a heartbeat's answer read in the one await of a step).
 */
import { describe, expect, it } from "vitest";
import { RebalanceCallbacks } from "../../client/consumer-callbacks.ts";
import { type Member, MemberRecovery } from "../../client/consumer-recovery.ts";

const tp = (partition: number) => ({ topic: "t", partition });

describe("RebalanceCallbacks.queueLast", () => {
	it("runs two steps queued at once, in order: each moves behind callbacks queued after it, not behind the other", async () => {
		const callbacks = new RebalanceCallbacks({});
		const ran: string[] = [];
		const step = (name: string) => () => {
			ran.push(name);
		};
		// A step re-queued over and over, in microtasks, never lets a timer run: bounded, so the test fails instead of hanging.
		let turns = 0;
		const queueLast = callbacks.queueLast.bind(callbacks);
		callbacks.queueLast = (s) => {
			if (++turns > 100) throw new Error(`re-queued ${turns} times, no step ran`);
			queueLast(s);
		};
		callbacks.queueLast(step("A"));
		callbacks.queueLast(step("B"));
		await callbacks.allRan().catch((error: unknown) => ran.push(String(error)));
		expect(ran).toEqual(["A", "B"]);
	});

	it("moves a step behind a callback queued while it waited", async () => {
		const log: string[] = [];
		const callbacks = new RebalanceCallbacks({ onAssign: (tps) => void log.push(`assign ${tps[0]?.partition}`) });
		callbacks.queue([], [tp(0)]);
		callbacks.queueLast(() => void log.push("step"));
		callbacks.queue([], [tp(1)]);
		await callbacks.allRan();
		expect(log).toEqual(["assign 0", "assign 1", "step"]);
	});
});

describe("a recovery's step for a member that owns nothing", () => {
	it("drops the member with no await, so an onAssign a heartbeat would queue meanwhile is not queued for a member that left", async () => {
		const log: string[] = [];
		const callbacks = new RebalanceCallbacks({ onAssign: (tps) => void log.push(`assign ${tps.map((t) => t.partition)}`) });
		const member: Member = { id: "m1", generation: 1 };
		let current: Member | null = member;
		const recovery = new MemberRecovery(
			{
				isMember: (m) => current === m,
				closing: () => false,
				owned: () => [],
				dropKeepingProcessed: () => {
					log.push("dropped");
					current = null;
				},
				leave: async () => {
					log.push("DELETE");
				},
			},
			callbacks,
			{ onRevoke: (tps) => void log.push(`revoke ${tps.map((t) => t.partition)}`) },
			false,
		);
		recovery.start(member);
		await Promise.resolve();
		// What the member's #follow does with a heartbeat's answer read here: queues only while it is the member.
		if (current === member) callbacks.queue([], [tp(7)], () => recovery.revokedOnLeave(member));
		await callbacks.allRan();
		expect(log).toEqual(["dropped", "DELETE"]);
	});
});
