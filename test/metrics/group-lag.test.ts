/**
 * A group's series in `/metrics` (members, committed offsets, lag) stay what `GET /v1/groups/{group}` shows through
 * everything that moves a committed offset: a coordinator reports what it keeps in memory, not what it reads back
 * from SQLite for each report, so each place that writes or deletes commits must keep that copy right, and a
 * restarted coordinator must rebuild it.
 */

import { abortAllDurableObjects, env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { metricsHub } from "../../src/shared/stubs.ts";
import { commit, type Described, heartbeat, join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { call, createTopic, json, produce } from "../support/worker.ts";
import { scrapeUntil } from "./exposition.ts";

/** The series labelled with `group` in a scrape, by series key, in key order. */
function seriesOf(samples: Map<string, number>, group: string): Record<string, number> {
	return Object.fromEntries([...samples].filter(([key]) => key.includes(`{group="${group}"`)).sort(([x], [y]) => x.localeCompare(y)));
}

/** What `/metrics` should show for the group, from the API: its members, and each committed partition's offset and lag. */
async function expectedSeries(group: string): Promise<Record<string, number>> {
	const described = await json<Described>("GET", `/v1/groups/${group}`, 200);
	const expected: Record<string, number> = { [`tributary_group_members{group="${group}"}`]: described.members.length };
	for (const o of described.offsets) {
		if (o.committed === null) continue;
		const labels = `{group="${group}",topic="${o.topic}",partition="${o.partition}"}`;
		expected[`tributary_group_committed_offset${labels}`] = o.committed;
		expected[`tributary_group_lag${labels}`] = o.lag as number;
	}
	return seriesOf(new Map(Object.entries(expected)), group);
}

/** Scrapes until the group's series are what the API shows (figures reach the hub within a report interval). */
async function expectAsApi(group: string, step: string): Promise<Record<string, number>> {
	const expected = await expectedSeries(group);
	const samples = await scrapeUntil((s) => JSON.stringify(seriesOf(s, group)) === JSON.stringify(expected));
	expect(seriesOf(samples, group), step).toEqual(expected);
	return expected;
}

/** Commits `offset` on every partition each member owns, in its current generation. */
async function commitOwned(group: string, members: readonly string[], offset: number): Promise<void> {
	for (const member of members) {
		const { generation, assignment } = await heartbeat(group, member);
		if (assignment.length > 0)
			await commit(
				group,
				member,
				generation,
				assignment.map((tp) => ({ ...tp, offset })),
			);
	}
}

describe("a group's lag in /metrics", () => {
	it("stays what the API shows through commits, leaves, a reset, a topic deleted and created again, and a restart", async () => {
		const a = uniqueTopic();
		const b = uniqueTopic();
		await createTopic(a, 2);
		await createTopic(b, 1);
		await produce(a, [
			{ value: 1, partition: 0 },
			{ value: 2, partition: 0 },
			{ value: 3, partition: 1 },
		]);
		await produce(b, [{ value: 1 }, { value: 2 }]);
		const group = uniqueGroup();
		const first = await join(group, { topics: [a, b] });
		const second = await join(group, { topics: [a] });
		await commitOwned(group, [first.member_id, second.member_id], 1);
		const committed = await expectAsApi(group, "after commits");
		expect(Object.keys(committed).filter((k) => k.startsWith("tributary_group_lag"))).toHaveLength(3);

		await produce(a, [{ value: 4, partition: 0 }]);
		expect((await call("DELETE", `/v1/groups/${group}/members/${second.member_id}`)).status).toBe(204);
		await expectAsApi(group, "after a member left");
		expect((await call("DELETE", `/v1/groups/${group}/members/${first.member_id}`)).status).toBe(204);
		await json("POST", `/v1/groups/${group}/offsets/reset`, 200, { body: { topic: a, to: "earliest" } });
		const reset = await expectAsApi(group, "after an offsets reset");
		expect(reset[`tributary_group_committed_offset{group="${group}",topic="${a}",partition="0"}`]).toBe(0);

		expect((await call("DELETE", `/v1/topics/${b}`)).status).toBe(204);
		await expectAsApi(group, "after a topic was deleted");
		await createTopic(b, 1);
		await produce(b, [{ value: 1 }, { value: 2 }, { value: 3 }]);
		await expectAsApi(group, "after the topic was created again");
		// Subscribed again, the topic's new incarnation drops the offsets committed on the old one.
		const third = await join(group, { topics: [b] });
		const resubscribed = await expectAsApi(group, "after the new topic was subscribed to");
		expect(Object.keys(resubscribed).some((k) => k.includes(`topic="${b}"`))).toBe(false);
		await commitOwned(group, [third.member_id], 1);
		await expectAsApi(group, "after a commit on the new topic");

		// A restart: the hub writes what it holds first (its alarm), so only the coordinator's figures are rebuilt.
		for (let runs = 0; runs < 100 && (await runDurableObjectAlarm(metricsHub(env))); runs++);
		await abortAllDurableObjects();
		await commitOwned(group, [third.member_id], 2);
		const restarted = await expectAsApi(group, "after a restart and a commit");
		expect(Object.keys(restarted).filter((k) => k.startsWith("tributary_group_lag"))).toHaveLength(3);
	});
});
