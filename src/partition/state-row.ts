/**
 * @module
 * The partition's state row (`partition_state`, one row: docs/storage-schema.md): who the partition is, its config
 * and its log's bounds, as a wake-up loads it and a configure writes it.
 */

import type { PartitionAssignment } from "./types.ts";

export type PartitionStatus = "unconfigured" | "active" | "deleted";

export interface StateRow extends Record<string, SqlStorageValue> {
	status: PartitionStatus;
	topic_id: string | null;
	partition: number | null;
	config_version: number;
	config: string | null;
	log_start_offset: number;
	next_offset_floor: number;
	local_log_start_offset: number;
	remote_bytes: number;
	remote_records: number;
}

/** Makes the partition `assignment`'s, active under its config. */
export function saveAssignment(sql: SqlStorage, assignment: PartitionAssignment): void {
	sql.exec(
		"UPDATE partition_state SET status = 'active', topic = ?, topic_id = ?, partition = ?, config_version = ?, config = ? WHERE id = 1",
		assignment.topic,
		assignment.topicId,
		assignment.partition,
		assignment.configVersion,
		JSON.stringify(assignment.config),
	);
}
