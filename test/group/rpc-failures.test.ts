/**
 * The group coordinator's methods answer a storage failure or a bug inside them as a failure Result (test/support/rpc-failure.ts), not a
 * rejection; the edge's answers for them are test/http/platform-failure's. So do the group directory's, whose callers
 * answer 503 or, for a publish, leave it to the coordinator's alarm as they did the rejection.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { GroupSummary } from "../../src/group/types.ts";
import { bare } from "../../src/shared/errors.ts";
import { groupDirectory } from "../../src/shared/stubs.ts";
import { join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { answersWhenBroken, failureResults } from "../support/rpc-failure.ts";
import { coordinatorStub } from "../support/stubs.ts";
import { failStatementOnce, throwOnce } from "../support/throw-once.ts";
import { call, createTopic, expectError } from "../support/worker.ts";

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

/**
 * The Worker's group directory fails its next statement matching `statement` (bound to `boundTo`, if given). Every file
 * of the directory shares it, and their coordinators' alarms publish into it meanwhile: failing its next statement,
 * whatever it was, let such a publish use the failure up (a join then answered "expected 200 to be 503").
 */
function directoryFailsOnce(statement: RegExp, boundTo?: string): Promise<void> {
	return runInDurableObject(groupDirectory(env), (_, state) =>
		failStatementOnce(state.storage.sql, statement, "SQLITE_IOERR: disk I/O error", boundTo),
	);
}

/** The directory's statements of admit (a group's row), list and listPage, and of a publish (its upsert). */
const ADMIT = /^SELECT \* FROM groups WHERE group_id = \?/;
const LIST = /^SELECT \* FROM groups WHERE state != 'dead' ORDER BY/;
const LIST_PAGE = /^SELECT \* FROM groups WHERE group_id > \?/;
const PUBLISH = /^INSERT INTO groups/;

/** `group` as the directory lists it. */
async function listed(group: string): Promise<GroupSummary | undefined> {
	return bare(await groupDirectory(env).list()).find((g) => g.group === group);
}

describe("the group directory's methods", () => {
	it("answer a storage failure or a bug as a failure Result", async () => {
		// A directory of its own: the Worker's is every file's.
		const stub = env.GROUP_DIRECTORY.getByName(uniqueGroup());
		const group = uniqueGroup();
		const calls: [string, () => Promise<unknown>][] = [
			["admit", () => stub.admit(group, 0)],
			["publish", () => stub.publish({ group, state: "empty", members: 0, generation: 1 })],
			["list", () => stub.list()],
			["listPage", () => stub.listPage({ after: null, limit: 10 })],
		];
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const breakNext = (_: string, thrown: string | Error) =>
			runInDurableObject(stub, (_, state) => throwOnce(state.storage.sql, "exec", thrown));
		const answers = await answersWhenBroken(calls, breakNext, new TypeError("x is not a function"));
		expect(answers).toEqual(failureResults(calls.map(([name]) => name)));
	});

	it("answer a new group's join 503 when its admission failed, and the listings 503 in each mount's dialect", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const group = uniqueGroup();
		await directoryFailsOnce(ADMIT, group);
		await expectError("POST", `/v1/groups/${group}/members`, 503, "service_unavailable", { body: { topics: [topic] } });
		await directoryFailsOnce(LIST_PAGE);
		await expectError("GET", "/v1/groups", 503, "service_unavailable");
		await directoryFailsOnce(LIST);
		const confluent = await call("GET", "/kafka/v3/clusters/tributary/consumer-groups");
		expect([confluent.status, (await confluent.json<{ error_code: number }>()).error_code]).toEqual([503, 50003]);
		await directoryFailsOnce(LIST);
		expect((await call("GET", "/upstash/consumers")).status).toBe(503);
	});

	it("leave a publish that failed to the coordinator's alarm, which publishes it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const group = uniqueGroup();
		const member = (await join(group, { topics: [topic] })).member_id;
		expect((await listed(group))?.members).toBe(1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await directoryFailsOnce(PUBLISH, group);
		expect((await call("DELETE", `/v1/groups/${group}/members/${member}`)).status).toBe(204);
		expect((await listed(group))?.members, "the publish failed").toBe(1);
		await runDurableObjectAlarm(coordinatorStub(group));
		expect((await listed(group))?.members, "published by the alarm").toBe(0);
	});
});
