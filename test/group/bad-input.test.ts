/**
 * Bad input to the group API gets a clear 4xx JSON error, and changes nothing: after the table runs, the group
 * still has its one member, its generation and no committed offsets.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { COMMIT_METADATA_BYTES_MAX, GROUP_ID_LENGTH_MAX, SESSION_TIMEOUT_MS_MAX, SESSION_TIMEOUT_MS_MIN } from "../../src/shared/limits.ts";
import { describeGroup, type Joined, join } from "../support/group.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { call, createTopic } from "../support/worker.ts";

const topic = uniqueTopic("bad");
const group = uniqueGroup("bad");
let member: Joined;

interface Case {
	readonly name: string;
	readonly method: string;
	readonly path: () => string;
	readonly body?: unknown;
	readonly raw?: string;
	readonly contentType?: string;
	readonly status: number;
	readonly code: string;
}

const members = () => `/v1/groups/${group}/members`;
const joinCase = (name: string, body: unknown, status = 400, code = "invalid_request"): Case => ({
	name,
	method: "POST",
	path: members,
	body,
	status,
	code,
});
const commitCase = (name: string, body: (m: Joined) => unknown, code = "invalid_request", status = 400): Case => ({
	name,
	method: "POST",
	path: () => `/v1/groups/${group}/offsets`,
	get body() {
		return body(member);
	},
	status,
	code,
});

const cases: Case[] = [
	joinCase("neither topics nor topic_pattern", {}),
	joinCase("both topics and topic_pattern", { topics: ["x"], topic_pattern: "x.*" }),
	joinCase("an empty topic list", { topics: [] }),
	joinCase("an illegal topic name", { topics: ["no spaces"] }),
	joinCase("an unknown field", { topics: ["x"], sesion_timeout_ms: 1 }),
	joinCase("a session timeout under the minimum", { topics: ["x"], session_timeout_ms: SESSION_TIMEOUT_MS_MIN - 1 }),
	joinCase("a session timeout over the maximum", { topics: ["x"], session_timeout_ms: SESSION_TIMEOUT_MS_MAX + 1 }),
	joinCase("a fractional session timeout", { topics: ["x"], session_timeout_ms: 10_000.5 }),
	joinCase("an unknown strategy", { topics: ["x"], strategy: "cooperative" }),
	joinCase("an unknown auto_offset_reset", { topics: ["x"], auto_offset_reset: "smallest" }),
	joinCase("an instance id with a slash", { topics: ["x"], instance_id: "a/b" }),
	joinCase("a pattern that is not a regular expression", { topic_pattern: "orders-(" }),
	joinCase("a pattern that could backtrack exponentially", { topic_pattern: "(a+)+b" }),
	joinCase("a pattern with a repeated alternation", { topic_pattern: "(a|aa)*" }),
	joinCase("a pattern with a backreference", { topic_pattern: "(a)\\1" }),
	joinCase("a topic that does not exist", { topics: ["does-not-exist"] }, 404, "topic_not_found"),
	{ name: "malformed JSON", method: "POST", path: members, raw: '{"topics":[', status: 400, code: "invalid_json" },
	{ name: "a JSON array", method: "POST", path: members, body: [topic], status: 400, code: "invalid_request" },
	{
		name: "a non-JSON content type",
		method: "POST",
		path: members,
		raw: "topics=x",
		contentType: "text/plain",
		status: 415,
		code: "unsupported_media_type",
	},
	{
		name: "a group id with a bad character",
		method: "POST",
		path: () => "/v1/groups/bad%20group/members",
		body: { topics: [topic] },
		status: 400,
		code: "invalid_request",
	},
	{
		name: "a group id that is too long",
		method: "GET",
		path: () => `/v1/groups/${"g".repeat(GROUP_ID_LENGTH_MAX + 1)}`,
		status: 400,
		code: "invalid_request",
	},
	{
		name: "a member id that is too long",
		method: "POST",
		path: () => `${members()}/${"m".repeat(65)}/heartbeat`,
		status: 400,
		code: "invalid_request",
	},
	{
		name: "an unknown poll field",
		method: "POST",
		path: () => `${members()}/${member.member_id}/poll`,
		body: { max_record: 5 },
		status: 400,
		code: "invalid_request",
	},
	{
		name: "a zero max_records",
		method: "POST",
		path: () => `${members()}/${member.member_id}/poll`,
		body: { max_records: 0 },
		status: 400,
		code: "invalid_request",
	},
	{
		name: "a negative wait_ms",
		method: "POST",
		path: () => `${members()}/${member.member_id}/poll`,
		body: { wait_ms: -1 },
		status: 400,
		code: "invalid_request",
	},
	{
		name: "a string auto_commit",
		method: "POST",
		path: () => `${members()}/${member.member_id}/poll`,
		body: { auto_commit: "yes" },
		status: 400,
		code: "invalid_request",
	},
	{
		name: "a fractional auto_commit_interval_ms",
		method: "POST",
		path: () => `${members()}/${member.member_id}/poll`,
		body: { auto_commit_interval_ms: 1.5 },
		status: 400,
		code: "invalid_request",
	},
	{
		name: "a heartbeat with a body",
		method: "POST",
		path: () => `${members()}/${member.member_id}/heartbeat`,
		body: { generation: 1 },
		status: 400,
		code: "invalid_request",
	},
	// A member's commit of no offset is judged and commits nothing (offsets.test.ts); one with no member has nothing to do.
	commitCase("a standalone commit without offsets", () => ({ offsets: [] })),
	{
		name: "a poll's commit without offsets",
		method: "POST",
		path: () => `${members()}/${member.member_id}/poll`,
		body: { commit: { generation: 1, offsets: [] } },
		status: 400,
		code: "invalid_request",
	},
	commitCase("a commit without a generation", (m) => ({ member_id: m.member_id, offsets: [{ topic, partition: 0, offset: 1 }] })),
	commitCase("a negative offset", (m) => ({
		member_id: m.member_id,
		generation: m.generation,
		offsets: [{ topic, partition: 0, offset: -1 }],
	})),
	commitCase("an unsafe offset", (m) => ({
		member_id: m.member_id,
		generation: m.generation,
		offsets: [{ topic, partition: 0, offset: 2 ** 60 }],
	})),
	commitCase("a partition twice", (m) => ({
		member_id: m.member_id,
		generation: m.generation,
		offsets: [
			{ topic, partition: 0, offset: 1 },
			{ topic, partition: 0, offset: 2 },
		],
	})),
	commitCase("metadata over the limit", (m) => ({
		member_id: m.member_id,
		generation: m.generation,
		offsets: [{ topic, partition: 0, offset: 1, metadata: "é".repeat(COMMIT_METADATA_BYTES_MAX / 2 + 1) }],
	})),
	commitCase(
		"a stale generation",
		(m) => ({ member_id: m.member_id, generation: m.generation + 7, offsets: [{ topic, partition: 0, offset: 0 }] }),
		"rebalance_in_progress",
		409,
	),
	commitCase(
		"an offset past the high watermark",
		(m) => ({ member_id: m.member_id, generation: m.generation, offsets: [{ topic, partition: 0, offset: 1 }] }),
		"offset_out_of_range",
		416,
	),
	{
		name: "a reset to a bad target",
		method: "POST",
		path: () => `/v1/groups/${group}/offsets/reset`,
		body: { topic, to: "beginning" },
		status: 400,
		code: "invalid_request",
	},
	{
		name: "a reset with both time and offset",
		method: "POST",
		path: () => `/v1/groups/${group}/offsets/reset`,
		body: { topic, to: { offset: 1, timestamp: 2 } },
		status: 400,
		code: "invalid_request",
	},
	{ name: "PUT on a group", method: "PUT", path: () => `/v1/groups/${group}`, status: 405, code: "method_not_allowed" },
	{ name: "GET on members", method: "GET", path: members, status: 405, code: "method_not_allowed" },
	{ name: "GET on poll", method: "GET", path: () => `${members()}/${member.member_id}/poll`, status: 405, code: "method_not_allowed" },
	{ name: "DELETE on offsets", method: "DELETE", path: () => `/v1/groups/${group}/offsets`, status: 405, code: "method_not_allowed" },
	{ name: "POST on the group list", method: "POST", path: () => "/v1/groups", body: {}, status: 405, code: "method_not_allowed" },
	{ name: "a request without a token", method: "GET", path: () => `/v1/groups/${group}`, status: 401, code: "unauthorized" },
];

describe("bad input to /v1/groups", () => {
	beforeAll(async () => {
		await createTopic(topic, 2);
		member = await join(group, { topics: [topic] });
	});

	it.each(cases)("$name → $status $code", async (c) => {
		const headers: Record<string, string> = {};
		if (c.contentType !== undefined) headers["Content-Type"] = c.contentType;
		else if (c.raw !== undefined) headers["Content-Type"] = "application/json";
		const response = await call(c.method, c.path(), {
			...(c.body !== undefined ? { body: c.body } : {}),
			...(c.raw !== undefined ? { raw: c.raw } : {}),
			headers,
			...(c.code === "unauthorized" ? { token: null } : {}),
		});
		const text = await response.text();
		expect(response.status, text).toBe(c.status);
		const error = (JSON.parse(text) as { error: { code: string; message: string; retriable: boolean } }).error;
		expect(error.code).toBe(c.code);
		expect(error.message.length).toBeGreaterThan(0);
		expect(typeof error.retriable).toBe("boolean");
	});

	it("left the group as it was", async () => {
		const described = await describeGroup(group);
		expect(described.generation).toBe(member.generation);
		expect(described.members.map((m) => m.member_id)).toEqual([member.member_id]);
		expect(described.offsets.every((o) => o.committed === null)).toBe(true);
	});
});
