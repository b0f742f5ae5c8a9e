/**
 * @module
 * Kafka's DeleteRecords (KIP-107): the log start offset moves up to a given offset at once, durably, and reads below
 * it are refused from then on (`offset_out_of_range`, as any read below the log start). The records below are
 * deleted later, in bounded steps, by retention (lifecycle.ts, tiering/manifest.ts), which drops every stored batch
 * and remote segment lying wholly below the log start: `partition_state.log_start_offset` is the one fact both go by.
 */

import { assert } from "../shared/assert.ts";
import { DELETE_TO_HIGH_WATERMARK } from "../shared/delete-records.ts";
import { err, ok, type Result } from "../shared/errors.ts";
import type { TopicConfig } from "../shared/topic-config.ts";
import type { LogView } from "./types.ts";

/**
 * Moves the log start to `beforeOffset` (`DELETE_TO_HIGH_WATERMARK`: the high watermark) and answers the new log
 * start (Kafka's low watermark). An offset at or below the log start changes nothing, so a retry answers the same.
 * Refused past the high watermark, and on a topic that only compacts (Kafka's POLICY_VIOLATION: its records leave by
 * key, not by offset). `config` is null while the partition is unconfigured, that is, empty.
 */
export function advanceLogStart(
	sql: SqlStorage,
	view: LogView,
	config: TopicConfig | null,
	beforeOffset: number,
): Result<{ logStartOffset: number }> {
	assert(Number.isSafeInteger(beforeOffset) && beforeOffset >= DELETE_TO_HIGH_WATERMARK, "offset checked");
	if (config?.["cleanup.policy"] === "compact") {
		return err("policy_violation", 'records of a topic with cleanup.policy "compact" are removed by compaction only');
	}
	const { logStartOffset, nextOffset: highWatermark } = view;
	const target = beforeOffset === DELETE_TO_HIGH_WATERMARK ? highWatermark : beforeOffset;
	if (target > highWatermark) {
		return err("offset_out_of_range", `offset ${target} is past the high watermark ${highWatermark}`, {
			log_start_offset: logStartOffset,
			high_watermark: highWatermark,
		});
	}
	if (target > logStartOffset) {
		sql.exec("UPDATE partition_state SET log_start_offset = ? WHERE id = 1", target);
		view.logStartOffset = target;
	}
	return ok({ logStartOffset: view.logStartOffset });
}
