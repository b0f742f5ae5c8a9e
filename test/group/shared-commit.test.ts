/**
 * Members' commits that reach the coordinator together run their transactions in one turn, so they share one
 * storage commit (src/group/shared-turn.ts); a member alone does not wait, nor a commit of no offsets. Seen from inside
 * the object: each transaction notes how many shared turns had ended when it ran.
 */

import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { GroupCoordinator } from "../../src/group/group-coordinator.ts";
import type { SharedTurn } from "../../src/group/shared-turn.ts";
import type { CommitRequest } from "../../src/group/types.ts";
import { heartbeat, join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { createTopic } from "../support/worker.ts";

/** Each member's commit of offset 0 on every partition it owns now. */
async function commitsOf(group: string, members: readonly string[]): Promise<CommitRequest[]> {
	return Promise.all(
		members.map(async (memberId) => {
			const { generation, assignment } = await heartbeat(group, memberId);
			return { memberId, generation, offsets: assignment.map((tp) => ({ ...tp, offset: 0, metadata: null })) };
		}),
	);
}

type Call = (instance: GroupCoordinator, request: CommitRequest) => Promise<{ ok: boolean }>;

/** A commit on its own (`POST …/offsets`). */
const commitCall =
	(group: string): Call =>
	async (instance, r) => {
		const answer = await instance.commit(group, r, true, true);
		return typeof answer === "number" ? { ok: true } : answer;
	};
/** A poll that carries the commit, or (`carry` false) carries none and has nothing of its own to commit. */
const pollCall =
	(group: string, carry = true): Call =>
	async (instance, r) => {
		const answer = await instance.beginPoll(group, r.memberId, 64, carry ? { generation: r.generation, offsets: r.offsets } : null, true);
		return typeof answer === "string" ? { ok: true } : answer;
	};

/** Runs the calls at once inside the coordinator; answers, per transaction, how many shared turns had ended. */
async function turnsOfCommits(
	group: string,
	requests: readonly CommitRequest[],
	call: Call = commitCall(group),
): Promise<{ before: number; atWrites: number[] }> {
	return runInDurableObject(coordinatorStub(group), async (instance: GroupCoordinator, state) => {
		const turn = (instance as unknown as { commitTurn: SharedTurn }).commitTurn;
		const before = turn.ended;
		const atWrites: number[] = [];
		const transactionSync = state.storage.transactionSync.bind(state.storage);
		state.storage.transactionSync = <T>(work: () => T): T => {
			atWrites.push(turn.ended);
			return transactionSync(work);
		};
		try {
			const answers = await Promise.all(requests.map((r) => call(instance, r)));
			for (const answer of answers) expect(answer).toMatchObject({ ok: true });
		} finally {
			state.storage.transactionSync = transactionSync;
		}
		return { before, atWrites };
	});
}

describe("members' commits that arrive together", () => {
	it("are written in one turn, after the turn they waited for", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const members: string[] = [];
		for (let i = 0; i < 3; i++) members.push((await join(group, { topics: [topic] })).member_id);
		const { before, atWrites } = await turnsOfCommits(group, await commitsOf(group, members));
		expect(atWrites).toEqual([before + 1, before + 1, before + 1]);
	});

	it("are written in one turn when polls carry them", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 4);
		const group = uniqueGroup();
		const members: string[] = [];
		for (let i = 0; i < 2; i++) members.push((await join(group, { topics: [topic] })).member_id);
		const requests = await commitsOf(group, members);
		const { before, atWrites } = await turnsOfCommits(group, requests, pollCall(group));
		expect(atWrites).toEqual([before + 1, before + 1]);
		// A poll with nothing to commit writes nothing, so it does not wait.
		const plain = await turnsOfCommits(group, requests, pollCall(group, false));
		expect(plain.atWrites).toEqual([plain.before, plain.before]);
	});

	it("do not wait when they hold no offsets: a commit of nothing writes nothing", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const members: string[] = [];
		for (let i = 0; i < 2; i++) members.push((await join(group, { topics: [topic] })).member_id);
		const requests = (await commitsOf(group, members)).map((r) => ({ ...r, offsets: [] }));
		const { before, atWrites } = await turnsOfCommits(group, requests);
		expect(atWrites).toEqual([before, before]);
	});

	it("are not held back for a member alone", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const group = uniqueGroup();
		const { member_id: member } = await join(group, { topics: [topic] });
		const { before, atWrites } = await turnsOfCommits(group, await commitsOf(group, [member]));
		expect(atWrites).toEqual([before]);
	});
});
