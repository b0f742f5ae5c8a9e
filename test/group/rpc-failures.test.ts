/**
 * The group coordinator's methods answer a storage failure or a bug inside them as a failure Result (test/support/rpc-failure.ts), not a
 * rejection; the edge's answers for them are test/http/platform-failure's.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { answersWhenBroken, failureResults } from "../support/rpc-failure.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { throwOnce } from "../support/throw-once.ts";
import { createTopic } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

describe("the group coordinator's methods", () => {
	it("answer a storage failure or a bug as a failure Result", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const group = uniqueGroup();
		const member = (await join(group, { topics: [topic] })).member_id;
		const stub = coordinatorStub(group);
		const offsets = [{ topic, partition: 0, offset: 0 }];
		const commit = { memberId: member, generation: 1, offsets };
		const calls: [string, () => Promise<unknown>][] = [
			["join", () => stub.join(group, { subscription: { topics: [topic], pattern: null } } as never)],
			["heartbeat", () => stub.heartbeat(group, member)],
			["beginPoll", () => stub.beginPoll(group, member, 10, null, false)],
			["completePoll", () => stub.completePoll(group, member, 1, [], false, false)],
			["commit", () => stub.commit(group, commit as never, false)],
			["commitPositions", () => stub.commitPositions(group, member)],
			["describe", () => stub.describe(group)],
			["resetOffsets", () => stub.resetOffsets(group, offsets)],
			["refuseOffsets", () => stub.refuseOffsets(group, null, { ok: false, error: { code: "offset_out_of_range", message: "x" } })],
			["leave", () => stub.leave(group, member)],
			["deleteGroup", () => stub.deleteGroup(group)],
		];
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const answers = await answersWhenBroken(
			calls,
			(_, thrown) =>
				runInDurableObject(stub, (instance) =>
					throwOnce((instance as unknown as { store: { identify(): void } }).store, "identify", thrown),
				),
			new TypeError("x is not a function"),
		);
		expect(answers).toEqual(failureResults(calls.map(([name]) => name)));
	});
});
