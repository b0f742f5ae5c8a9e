/**
 * The coordinator's answer to a commit over RPC: the generation alone when the edge asks, read back to what the
 * object said; the object itself when it does not (an edge of an earlier version, during a deploy), and for every
 * refusal or bounds check.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commitAnswer, commitResultOf } from "../../src/group/commit-answer.ts";
import type { CommitOutcome } from "../../src/group/types.ts";
import { err, ok, type Result } from "../../src/shared/errors.ts";
import { heartbeat, join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { createTopic } from "../support/worker.ts";

const partition = fc.record({ topic: fc.string({ minLength: 1, maxLength: 12 }), partition: fc.nat({ max: 255 }) });

describe("a commit's answer over RPC", () => {
	it("sends a stored commit as its generation when asked, read back to the object's generation", () => {
		fc.assert(
			fc.property(fc.maxSafeNat(), fc.array(partition, { maxLength: 4 }), (generation, assignment) => {
				const stored: Result<CommitOutcome> = ok({ committed: true, generation, assignment });
				expect(commitAnswer(stored)).toBe(stored);
				const answer = commitAnswer(stored, true);
				expect(answer).toBe(generation);
				expect(commitResultOf(answer)).toEqual(ok({ committed: true, generation }));
				expect(commitResultOf(stored)).toEqual(ok({ committed: true, generation }));
			}),
		);
	});

	it("sends every other answer as it is", () => {
		const refused: Result<CommitOutcome> = err("rebalance_in_progress", "generation 1 is over");
		const held: Result<CommitOutcome> = ok({ committed: false, unverified: [{ topic: "t", partition: 0 }] });
		for (const answer of [refused, held]) {
			expect(commitAnswer(answer, true)).toBe(answer);
			expect(commitResultOf(answer)).toBe(answer);
		}
	});

	it("refuses a number that is not a generation", () => {
		for (const n of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => commitResultOf(n)).toThrow();
	});

	it("comes from the coordinator as a number only when the caller asks for it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const { member_id: memberId } = await join(group, { topics: [topic] });
		const { generation, assignment } = await heartbeat(group, memberId);
		const request = { memberId, generation, offsets: assignment.map((tp) => ({ ...tp, offset: 0, metadata: null })) };
		const coordinator = coordinatorStub(group);
		const object = await coordinator.commit(group, request, true);
		const number = await coordinator.commit(group, request, true, true);
		expect(object).toEqual(ok({ committed: true, generation, assignment }));
		expect(number).toBe(generation);
		const stale = await coordinator.commit(group, { ...request, generation: generation + 1 }, true, true);
		expect(stale).toMatchObject({ ok: false, error: { code: "rebalance_in_progress" } });
	});
});
