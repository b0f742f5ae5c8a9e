/**
 * The coordinator's poll answers over RPC: as text when the edge asks, read back to what the objects said; as the
 * objects themselves when it does not (an edge of an earlier version, during a deploy) and for every refusal.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pollCompletionAnswer, pollStartAnswer, pollStartOf, settlementOf } from "../../src/group/poll-answer.ts";
import type { PollCompletion, PollPlan, PollStart } from "../../src/group/types.ts";
import { err, ok, type Result } from "../../src/shared/errors.ts";
import { join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { createTopic } from "../support/worker.ts";

const topicName = fc.oneof(fc.constantFrom("orders", "a.b_c-1"), fc.string({ minLength: 1, maxLength: 12 }));
const partition = fc.record({ topic: topicName, partition: fc.nat({ max: 255 }) });
const offsetOrNull = fc.oneof(fc.maxSafeNat(), fc.constant(null));
const plan: fc.Arbitrary<PollPlan> = fc.record({
	generation: fc.maxSafeNat(),
	assignment: fc.array(partition, { maxLength: 4 }),
	autoOffsetReset: fc.constantFrom("earliest", "latest", "none"),
	waitMsMax: fc.nat(),
	fetches: fc.array(
		fc.record({
			topic: topicName,
			partition: fc.nat({ max: 255 }),
			topicId: fc.uuid(),
			offset: offsetOrNull,
			expectedPosition: offsetOrNull,
		}),
		{ maxLength: 4 },
	),
});
const completion: fc.Arbitrary<PollCompletion> = fc.record({
	generation: fc.maxSafeNat(),
	assignment: fc.array(partition, { maxLength: 4 }),
	accepted: fc.array(fc.boolean(), { maxLength: 64 }),
});

describe("a poll's answers over RPC", () => {
	it("send a started plan as text when asked, read back to the same plan", () => {
		fc.assert(
			fc.property(plan, (p) => {
				const start: Result<PollStart> = ok({ started: true, plan: p });
				expect(pollStartAnswer(start)).toBe(start);
				const answer = pollStartAnswer(start, true);
				expect(typeof answer).toBe("string");
				expect(pollStartOf(answer)).toEqual(start);
			}),
		);
	});

	it("send a settlement as text when asked, read back to what the object says", () => {
		fc.assert(
			fc.property(completion, (c) => {
				const settled: Result<PollCompletion> = ok(c);
				expect(pollCompletionAnswer(settled)).toBe(settled);
				const answer = pollCompletionAnswer(settled, true);
				expect(typeof answer).toBe("string");
				const expected = { accepted: c.accepted, generation: c.generation, assignmentJson: JSON.stringify(c.assignment) };
				expect(settlementOf(answer)).toEqual(ok(expected));
				expect(settlementOf(settled)).toEqual(ok(expected));
			}),
		);
	});

	it("send every other answer as it is", () => {
		const refused = err("unknown_member", 'member "m" is not in the group');
		const held: Result<PollStart> = ok({ started: false, unverified: [{ topic: "t", partition: 0 }] });
		for (const start of [refused, held]) {
			expect(pollStartAnswer(start, true)).toBe(start);
			expect(pollStartOf(start)).toBe(start);
		}
		expect(pollCompletionAnswer(refused, true)).toBe(refused);
		expect(settlementOf(refused)).toBe(refused);
	});

	it("refuse text that is not a settlement", () => {
		for (const text of ["", "5", "5 1", "x 1 []", "5 2 []", " 1 []"]) expect(() => settlementOf(text)).toThrow();
	});

	it("come from the coordinator as text only when the caller asks for it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const { member_id: member } = await join(group, { topics: [topic], auto_offset_reset: "earliest" });
		const coordinator = coordinatorStub(group);
		/** One poll's two calls, reading nothing from where the plan says; answers the raw answers. */
		const pollOnce = async (asText: boolean) => {
			const begun = asText
				? await coordinator.beginPoll(group, member, 64, null, false, true)
				: await coordinator.beginPoll(group, member, 64, null, false);
			const started = pollStartOf(begun);
			if (!started.ok || !started.value.started) throw new Error("the poll did not start");
			const { generation, fetches } = started.value.plan;
			const outcomes = fetches.map((f) => ({ ...f, nextOffset: f.offset ?? 0, recordCount: 0 }));
			const settled = asText
				? await coordinator.completePoll(group, member, generation, outcomes, false, false, true)
				: await coordinator.completePoll(group, member, generation, outcomes, false, false);
			return { begun, settled, plan: started.value.plan };
		};
		const objects = await pollOnce(false);
		const texts = await pollOnce(true);
		expect(typeof objects.begun).toBe("object");
		expect(typeof objects.settled).toBe("object");
		expect(typeof texts.begun).toBe("string");
		expect(typeof texts.settled).toBe("string");
		// The second poll starts where the first left the positions.
		expect(texts.plan).toEqual({ ...objects.plan, fetches: objects.plan.fetches.map((f) => ({ ...f, offset: 0, expectedPosition: 0 })) });
		const { generation, assignment } = texts.plan;
		const expected = ok({ accepted: [true, true], generation, assignmentJson: JSON.stringify(assignment) });
		expect(settlementOf(objects.settled)).toEqual(expected);
		expect(settlementOf(texts.settled)).toEqual(expected);
	});
});
