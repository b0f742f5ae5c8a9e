/**
 * A group poll's answer is built, its records handed out (the member's positions move past them), and only then are
 * its fetch bytes charged (`owed`). When the key's authority fails that charge, the failure is logged and the answer
 * kept: replaced by a 503, the records it held would be skipped by the member's next poll.
 */

import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { keyAuthority } from "../../src/shared/stubs.ts";
import type { Joined, Polled } from "../support/group.ts";
import { createKey, failKeyStatement } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { call, createTopic, json, produce } from "../support/worker.ts";

afterEach(() => vi.restoreAllMocks());

describe("a group poll whose owed fetch charge fails at the key's authority", () => {
	it("keeps the records it handed out: answered, or polled again", async () => {
		const topic = uniqueTopic("owed");
		const group = uniqueTopic("owed-g");
		await createTopic(topic, 1);
		await produce(topic, [{ value: "a" }, { value: "b" }]);
		const key = await createKey(
			[
				{ resource: `topic:${topic}`, operations: ["consume", "describe"] },
				{ resource: `group:${group}`, operations: ["consume", "describe"] },
			],
			{ fetch_bytes_per_sec: 10_000_000 },
		);
		const token = key.secret;
		const { member_id: member } = await json<Joined>("POST", `/v1/groups/${group}/members`, 200, {
			body: { topics: [topic], auto_offset_reset: "earliest" },
			token,
		});
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		// The poll's reads of the key: authentication's, the up-front charge's, then the owed charge's.
		await failKeyStatement(keyAuthority(env, key.id), "SELECT * FROM api_keys WHERE id", 3);
		const first = await call("POST", `/v1/groups/${group}/members/${member}/poll`, { body: {}, token });
		const firstValues = first.status === 200 ? ((await first.json()) as Polled).records.map((r) => r.value) : [];
		const again = await json<Polled>("POST", `/v1/groups/${group}/members/${member}/poll`, 200, { body: {}, token });
		expect([...firstValues, ...again.records.map((r) => r.value)], `the records seen (first poll ${first.status})`).toEqual(["a", "b"]);
	});
});
