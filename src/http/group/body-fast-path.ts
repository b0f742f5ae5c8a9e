/**
 * @module
 * Fast paths for the group bodies members send on every loop: the poll's and the commit's. Each is small and
 * nearly always plain — a page size, `auto_commit`, the offsets the last poll returned; a member id, a generation
 * and those offsets — yet validating it with the schema (`PollBody`, `CommitBody` in routes/groups.ts) was about
 * 2 % of a poll's isolate time in the profile of 4 members polling 500 × 1 KiB records. It is checked here by hand
 * against the same rules. Anything a fast path is not sure of — another field, a value of another type or out of
 * range, a partition named twice — answers `null`, and the caller takes the schema path, which gives the same value
 * or the error a user should see. So a fast path never decides what is refused.
 */

import type * as z from "zod/mini";
import { isPlainObject, utf8ByteLength } from "../../shared/json.ts";
import {
	AUTO_COMMIT_INTERVAL_MS_MAX,
	COMMIT_METADATA_BYTES_MAX,
	FETCH_BYTES_MAX,
	FETCH_RECORDS_MAX,
	FETCH_WAIT_MS_MAX,
	GROUP_PARTITIONS_MAX,
	MEMBER_ID_LENGTH_MAX,
	PARTITIONS_MAX,
} from "../../shared/limits.ts";
import type { CommitBody, PollBody } from "../routes/groups.ts";
import { isGroupId, isTopicName, KAFKA_NAME_PATTERN } from "../schemas.ts";
import { POLL_LAYOUTS } from "./consume.ts";

export type PollBodyValue = z.output<typeof PollBody>;
export type CommitBodyValue = z.output<typeof CommitBody>;
type CommitOffsetValue = NonNullable<PollBodyValue["commit"]>["offsets"][number];

/** A safe integer from `min` on: the schema's `int(min, Number.MAX_SAFE_INTEGER)`. */
function isIntFrom(value: unknown, min: number): value is number {
	return Number.isSafeInteger(value) && (value as number) >= min;
}

/** The limits a poll may set, each `[min, max]`: the server caps a value above `max` (`capped` in routes/groups.ts). */
const LIMITS = new Map<string, readonly [number, number]>([
	["max_records", [1, FETCH_RECORDS_MAX]],
	["max_bytes", [1, FETCH_BYTES_MAX]],
	["wait_ms", [0, FETCH_WAIT_MS_MAX]],
	["auto_commit_interval_ms", [0, AUTO_COMMIT_INTERVAL_MS_MAX]],
]);

/** One offset to commit, as given (its fields need no transform), or null if any field is unusual. */
function commitOffsetOf(value: unknown): CommitOffsetValue | null {
	if (!isPlainObject(value)) return null;
	for (const name in value) if (name !== "topic" && name !== "partition" && name !== "offset" && name !== "metadata") return null;
	const { topic, partition, offset, metadata } = value;
	if (typeof topic !== "string" || !isTopicName(topic)) return null;
	if (!isIntFrom(partition, 0) || partition >= PARTITIONS_MAX || !isIntFrom(offset, 0)) return null;
	const metadataOk =
		metadata === undefined || metadata === null || (typeof metadata === "string" && utf8ByteLength(metadata) <= COMMIT_METADATA_BYTES_MAX);
	return metadataOk ? (value as CommitOffsetValue) : null;
}

/** The offsets to commit, or null if anything in them is unusual (a partition named twice included). */
function commitOffsetsOf(value: unknown): CommitOffsetValue[] | null {
	if (!Array.isArray(value) || value.length === 0 || value.length > GROUP_PARTITIONS_MAX) return null;
	const seen = new Set<string>();
	const taken: CommitOffsetValue[] = [];
	for (const item of value) {
		const offset = commitOffsetOf(item);
		if (offset === null) return null;
		// Topic names hold no '/', so the key names one partition.
		const key = `${offset.topic}/${offset.partition}`;
		if (seen.has(key)) return null;
		seen.add(key);
		taken.push(offset);
	}
	return taken;
}

/** The poll's carried commit, or null if anything in it is unusual. */
function commitOf(value: unknown): PollBodyValue["commit"] | null {
	if (!isPlainObject(value)) return null;
	for (const name in value) if (name !== "generation" && name !== "offsets") return null;
	const { generation } = value;
	const offsets = commitOffsetsOf(value.offsets);
	return isIntFrom(generation, 0) && offsets !== null ? { generation, offsets } : null;
}

/** A poll body parsed from JSON, as `PollBody` would give it, or null: then validate it with the schema. */
export function fastPollBody(value: unknown): PollBodyValue | null {
	if (!isPlainObject(value)) return null;
	const body: { -readonly [K in keyof PollBodyValue]: PollBodyValue[K] } = {};
	for (const name in value) {
		const field = value[name];
		const limit = LIMITS.get(name);
		if (limit !== undefined) {
			if (!isIntFrom(field, limit[0])) return null;
			body[name as "max_records" | "max_bytes" | "wait_ms" | "auto_commit_interval_ms"] = Math.min(field, limit[1]);
		} else if (name === "auto_commit") {
			if (typeof field !== "boolean") return null;
			body.auto_commit = field;
		} else if (name === "layout") {
			const layout = POLL_LAYOUTS.find((known) => known === field);
			if (layout === undefined) return null;
			body.layout = layout;
		} else if (name === "commit") {
			const commit = commitOf(field);
			if (commit === null) return null;
			body.commit = commit;
		} else if (name === "instance_id") {
			if (!isGroupId(field)) return null;
			body.instance_id = field;
		} else return null;
	}
	return body;
}

/** A commit body parsed from JSON, as `CommitBody` would give it, or null: then validate it with the schema. */
export function fastCommitBody(value: unknown): CommitBodyValue | null {
	if (!isPlainObject(value)) return null;
	for (const name in value) if (name !== "member_id" && name !== "generation" && name !== "offsets" && name !== "instance_id") return null;
	const { member_id, generation, instance_id } = value;
	// `MemberId`: at most MEMBER_ID_LENGTH_MAX characters of the Kafka name charset, which needs at least one.
	if (typeof member_id !== "string" || member_id.length > MEMBER_ID_LENGTH_MAX || !KAFKA_NAME_PATTERN.test(member_id)) return null;
	if (instance_id !== undefined && !isGroupId(instance_id)) return null;
	// Every field checked is taken as given (none has a transform): the body is the schema's value.
	return isIntFrom(generation, 0) && commitOffsetsOf(value.offsets) !== null ? (value as CommitBodyValue) : null;
}
