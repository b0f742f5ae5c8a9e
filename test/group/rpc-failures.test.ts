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
import { throwOnce } from "../support/throw-once.ts";
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

/** The next SQL statement of the group directory `stub` (the Worker's, by default) throws `thrown`. */
function directoryFailsOnce(stub = groupDirectory(env), thrown: string | Error = "SQLITE_IOERR: disk I/O error"): Promise<void> {
	return runInDurableObject(stub, (_, state) => throwOnce(state.storage.sql, "exec", thrown));
}

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
		const answers = await answersWhenBroken(calls, (_, thrown) => directoryFailsOnce(stub, thrown), new TypeError("x is not a function"));
		expect(answers).toEqual(failureResults(calls.map(([name]) => name)));
	});

	it("answer a new group's join 503 when its admission failed, and the listings 503 in each mount's dialect", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await directoryFailsOnce();
		await expectError("POST", `/v1/groups/${uniqueGroup()}/members`, 503, "service_unavailable", { body: { topics: [topic] } });
		await directoryFailsOnce();
		await expectError("GET", "/v1/groups", 503, "service_unavailable");
		await directoryFailsOnce();
		const confluent = await call("GET", "/kafka/v3/clusters/tributary/consumer-groups");
		expect([confluent.status, (await confluent.json<{ error_code: number }>()).error_code]).toEqual([503, 50003]);
		await directoryFailsOnce();
		expect((await call("GET", "/upstash/consumers")).status).toBe(503);
	});

	it("leave a publish that failed to the coordinator's alarm, which publishes it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		const group = uniqueGroup();
		const member = (await join(group, { topics: [topic] })).member_id;
		expect((await listed(group))?.members).toBe(1);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		await directoryFailsOnce();
		expect((await call("DELETE", `/v1/groups/${group}/members/${member}`)).status).toBe(204);
		expect((await listed(group))?.members, "the publish failed").toBe(1);
		await runDurableObjectAlarm(coordinatorStub(group));
		expect((await listed(group))?.members, "published by the alarm").toBe(0);
	});
});
