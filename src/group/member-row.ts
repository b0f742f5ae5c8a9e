/**
 * @module
 * A `members` row (schema.ts) and the `Member` it stores: the one place that reads a member's columns.
 */

import type { Member, OffsetReset, Subscription } from "./types.ts";

export interface MemberRow extends Record<string, SqlStorageValue> {
	member_id: string;
	instance_id: string | null;
	topics: string | null;
	topic_pattern: string | null;
	session_timeout_ms: number;
	auto_offset_reset: OffsetReset;
	auto_commit: string | null;
	deadline_ms: number;
	rejoined_generation: number | null;
	rebalance_timeout_ms: number | null;
	rejoin_deadline_ms: number | null;
}

export function toMember(row: MemberRow): Member {
	const subscription: Subscription =
		row.topics !== null
			? { topics: JSON.parse(row.topics) as string[], pattern: null }
			: { topics: null, pattern: row.topic_pattern as string };
	return {
		memberId: row.member_id,
		instanceId: row.instance_id,
		subscription,
		sessionTimeoutMs: row.session_timeout_ms,
		autoOffsetReset: row.auto_offset_reset,
		autoCommit: row.auto_commit === null ? null : (JSON.parse(row.auto_commit) as Member["autoCommit"]),
		deadlineMs: row.deadline_ms,
		rejoinedGeneration: row.rejoined_generation,
		rebalanceTimeoutMs: row.rebalance_timeout_ms ?? row.session_timeout_ms,
	};
}
