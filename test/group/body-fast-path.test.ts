/**
 * The group bodies' fast paths (`fastPollBody`, `fastCommitBody`) agree with their schemas (`PollBody`,
 * `CommitBody`): whatever one answers, the schema accepts and gives the same value; whatever the schema refuses, it
 * leaves to the schema (null). And each does answer the plain bodies members send, or it would save nothing.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJson, validate } from "../../src/http/body.ts";
import { fastCommitBody, fastPollBody } from "../../src/http/group/body-fast-path.ts";
import { CommitBody, PollBody } from "../../src/http/routes/groups.ts";
import {
	AUTO_COMMIT_INTERVAL_MS_MAX,
	COMMIT_METADATA_BYTES_MAX,
	FETCH_BYTES_MAX,
	FETCH_RECORDS_MAX,
	FETCH_WAIT_MS_MAX,
	GROUP_PARTITIONS_MAX,
	MEMBER_ID_LENGTH_MAX,
	PARTITIONS_MAX,
	TOPIC_NAME_LENGTH_MAX,
} from "../../src/shared/limits.ts";

/** The schema path as a route takes it: the parsed body, validated; null where it answers a 400. */
function schemaPath(schema: typeof PollBody | typeof CommitBody) {
	return (value: unknown) => {
		try {
			return validate(schema, value);
		} catch {
			return null;
		}
	};
}
const schemaBody = schemaPath(PollBody);
const schemaCommitBody = schemaPath(CommitBody);

/** The offsets a member's last poll returned, each partition once. */
const plainOffsets = fc.uniqueArray(
	fc.record(
		{
			topic: fc.constantFrom("orders", "t.1", "a_b-C"),
			partition: fc.integer({ min: 0, max: 7 }),
			offset: fc.nat(),
			metadata: fc.oneof(fc.string(), fc.constant(null)),
		},
		{ requiredKeys: ["topic", "partition", "offset"] },
	),
	{ minLength: 1, maxLength: GROUP_PARTITIONS_MAX, selector: (o) => `${o.topic}/${o.partition}` },
);

/** A static member's instance id, as it names it on its polls and commits. */
const instanceId = fc.stringMatching(/^[a-zA-Z0-9._-]{1,64}$/).filter((id) => id !== "." && id !== "..");

/** What members send: a page size, `auto_commit`, the offsets their last poll returned. */
const plainBody = fc.record(
	{
		max_records: fc.integer({ min: 1, max: FETCH_RECORDS_MAX * 2 }),
		max_bytes: fc.integer({ min: 1, max: FETCH_BYTES_MAX }),
		wait_ms: fc.integer({ min: 0, max: FETCH_WAIT_MS_MAX }),
		auto_commit: fc.boolean(),
		auto_commit_interval_ms: fc.integer({ min: 0, max: AUTO_COMMIT_INTERVAL_MS_MAX * 2 }),
		layout: fc.constantFrom("records", "partitions"),
		commit: fc.record({ generation: fc.nat(), offsets: plainOffsets }),
		instance_id: instanceId,
	},
	{ requiredKeys: [] },
);

/** What members commit on its own: their id (as the coordinator makes them, or a short name), a generation, offsets. */
const plainCommitBody = fc.record(
	{
		member_id: fc.oneof(fc.uuid(), fc.stringMatching(/^[a-zA-Z0-9._-]{1,64}$/)),
		generation: fc.nat(),
		offsets: plainOffsets,
		instance_id: instanceId,
	},
	{ requiredKeys: ["member_id", "generation", "offsets"] },
);

/** Values at every field's edges, and of every other kind: any one of them may land in any field. */
const edge = fc.constantFrom<unknown>(
	-1,
	0,
	1,
	1.5,
	-0,
	PARTITIONS_MAX - 1,
	PARTITIONS_MAX,
	FETCH_RECORDS_MAX + 1,
	FETCH_BYTES_MAX + 1,
	FETCH_WAIT_MS_MAX + 1,
	AUTO_COMMIT_INTERVAL_MS_MAX + 1,
	Number.MAX_SAFE_INTEGER,
	2 ** 53,
	"10",
	"",
	".",
	"..",
	"a/b",
	"tøpic",
	"records ",
	"Partitions",
	"x".repeat(MEMBER_ID_LENGTH_MAX),
	"x".repeat(MEMBER_ID_LENGTH_MAX + 1),
	"x".repeat(TOPIC_NAME_LENGTH_MAX),
	"x".repeat(TOPIC_NAME_LENGTH_MAX + 1),
	"é".repeat(COMMIT_METADATA_BYTES_MAX / 2),
	"é".repeat(COMMIT_METADATA_BYTES_MAX / 2 + 1),
	null,
	true,
	false,
	[],
	[{ topic: "t", partition: 0, offset: 0 }],
	{},
);

type Body = Record<string, unknown>;

type CommitLike = Body & { offsets: Body[] };

/**
 * Changes one thing of a commit (a poll's `commit`, or a commit body): a field of its own (`own`), a partition named
 * twice, one offset too many, or a field of its first offset.
 */
function changeCommit(commit: CommitLike, own: boolean, field: string, value: unknown): void {
	if (own) commit[field] = value;
	else if (field === "twice") commit.offsets.push({ ...commit.offsets[0], offset: 1 });
	else if (field === "too many")
		commit.offsets = Array.from({ length: GROUP_PARTITIONS_MAX + 1 }, (_, i) => ({
			topic: `t${i % 100}`,
			partition: Math.floor(i / 100),
			offset: 0,
		}));
	else (commit.offsets[0] as Body)[field] = value;
}

/**
 * A plain body with one thing changed: a field (at the top, of the commit, or of its first offset) set to an edge
 * value, a partition named twice, or one offset too many.
 */
const changedBody = fc
	.tuple(
		plainBody,
		fc.constantFrom<[string, string]>(
			...["max_records", "max_bytes", "wait_ms", "auto_commit", "auto_commit_interval_ms", "layout", "commit", "instance_id", "extra"].map(
				(f): [string, string] => ["top", f],
			),
			...["generation", "offsets", "extra"].map((f): [string, string] => ["commit", f]),
			...["topic", "partition", "offset", "metadata", "extra"].map((f): [string, string] => ["offset", f]),
			["offsets", "twice"],
			["offsets", "too many"],
		),
		edge,
	)
	.map(([plain, [where, field], value]) => {
		const body = structuredClone(plain) as Body;
		const commit = body.commit as CommitLike | undefined;
		if (where === "top") body[field] = value;
		else if (commit === undefined) body.commit = value;
		else changeCommit(commit, where === "commit", field, value);
		return body;
	});

const body = fc.oneof(
	{ weight: 2, arbitrary: plainBody },
	{ weight: 8, arbitrary: changedBody },
	fc.constantFrom<unknown>([], null, "poll", 1),
);

/** A plain commit body with one thing changed, as `changedBody` changes a poll's. */
const changedCommitBody = fc
	.tuple(
		plainCommitBody,
		fc.constantFrom<[string, string]>(
			...["member_id", "generation", "offsets", "instance_id", "extra"].map((f): [string, string] => ["top", f]),
			...["topic", "partition", "offset", "metadata", "extra"].map((f): [string, string] => ["offset", f]),
			["offsets", "twice"],
			["offsets", "too many"],
			["top", "no member_id"],
		),
		edge,
	)
	.map(([plain, [where, field], value]) => {
		const body = structuredClone(plain) as CommitLike;
		if (field === "no member_id") delete body.member_id;
		else changeCommit(body, where === "top", field, value);
		return body;
	});

const commitBody = fc.oneof(
	{ weight: 2, arbitrary: plainCommitBody },
	{ weight: 8, arbitrary: changedCommitBody },
	fc.constantFrom<unknown>([], null, {}, "commit", 1),
);

/**
 * The same three checks for each body: a fast path answers only what its schema accepts, with the schema's value;
 * it answers every plain body; and the texts given (numbers a double cannot hold, a partition named twice) it leaves
 * to the schema, which refuses them.
 */
function fastPathSuite(
	name: string,
	fast: (value: unknown) => unknown,
	schema: (value: unknown) => unknown,
	bodies: fc.Arbitrary<unknown>,
	plainBodies: fc.Arbitrary<unknown>,
	leftToSchema: readonly string[],
): void {
	describe(`the ${name} body's fast path`, () => {
		it("answers only what the schema accepts, with the value the schema gives", () => {
			fc.assert(
				fc.property(bodies, (sent) => {
					const text = JSON.stringify(sent);
					const answer = fast(parseJson(text));
					if (answer !== null) expect(answer).toStrictEqual(schema(parseJson(text)));
				}),
				{ numRuns: 3000 },
			);
		});

		it("answers every plain body", () => {
			fc.assert(
				fc.property(plainBodies, (sent) => {
					const text = JSON.stringify(sent);
					const answer = fast(parseJson(text));
					expect(answer).not.toBeNull();
					expect(answer).toStrictEqual(schema(parseJson(text)));
				}),
				{ numRuns: 1000 },
			);
		});

		it("leaves numbers a double cannot hold, and partitions named twice, to the schema", () => {
			for (const text of leftToSchema) {
				expect(fast(parseJson(text))).toBeNull();
				expect(schema(parseJson(text))).toBeNull();
			}
		});
	});
}

fastPathSuite("poll", fastPollBody, schemaBody, body, plainBody, [
	'{"max_records":123456789012345678901}',
	'{"commit":{"generation":1,"offsets":[{"topic":"t","partition":0,"offset":9007199254740993}]}}',
	'{"commit":{"generation":1,"offsets":[{"topic":"t","partition":0,"offset":1},{"topic":"t","partition":0,"offset":2}]}}',
]);

fastPathSuite("commit", fastCommitBody, schemaCommitBody, commitBody, plainCommitBody, [
	'{"member_id":"m","generation":123456789012345678901,"offsets":[{"topic":"t","partition":0,"offset":1}]}',
	'{"member_id":"m","generation":1,"offsets":[{"topic":"t","partition":0,"offset":9007199254740993}]}',
	'{"member_id":"m","generation":1,"offsets":[{"topic":"t","partition":0,"offset":1},{"topic":"t","partition":0,"offset":2}]}',
]);
