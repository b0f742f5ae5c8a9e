/**
 * @module
 * The dispatcher's SQLite rows and their API views. Synchronous, like the storage API: callers combine these in
 * `transactionSync` where two writes must land together.
 */

import { assert } from "../shared/assert.ts";
import { WEBHOOK_DELIVERY_LOG_MAX } from "../shared/limits.ts";
import type {
	DeliveryOutcome,
	DeliveryView,
	LaneView,
	RecordFilter,
	StartPosition,
	SubscriptionStatus,
	SubscriptionView,
} from "./types.ts";

export interface SubscriptionRow extends Record<string, SqlStorageValue> {
	id: string;
	url: string;
	secret: string;
	previous_secret: string | null;
	previous_secret_until_ms: number | null;
	status: SubscriptionStatus;
	disabled_reason: string | null;
	start: string;
	batch_max_records: number;
	batch_max_wait_ms: number;
	max_attempts: number;
	retry_schedule_ms: string;
	filter: string | null;
	dead_letter_topic: string;
	created_at_ms: number;
	updated_at_ms: number;
}

export interface LaneRow extends Record<string, SqlStorageValue> {
	subscription_id: string;
	partition: number;
	next_offset: number;
	epoch: number;
	batch_id: string | null;
	batch_first_offset: number | null;
	batch_last_offset: number | null;
	batch_next_offset: number | null;
	batch_record_count: number | null;
	batch_records: string | null;
	attempts: number;
	next_attempt_at_ms: number | null;
	last_error: string | null;
}

/** A lane's pending batch, read back and checked (TIGER_STYLE: assert what was written when it is read). */
export interface PendingBatch {
	readonly id: string;
	readonly firstOffset: number;
	readonly lastOffset: number;
	readonly nextOffset: number;
	readonly recordCount: number;
	readonly records: string;
	readonly attempts: number;
	readonly nextAttemptAtMs: number;
}

export function pendingOf(lane: LaneRow): PendingBatch | null {
	if (lane.batch_id === null) return null;
	const batch = {
		id: lane.batch_id,
		firstOffset: lane.batch_first_offset as number,
		lastOffset: lane.batch_last_offset as number,
		nextOffset: lane.batch_next_offset as number,
		recordCount: lane.batch_record_count as number,
		records: lane.batch_records as string,
		attempts: lane.attempts,
		nextAttemptAtMs: lane.next_attempt_at_ms as number,
	};
	assert(batch.recordCount > 0 && batch.records.length > 0, "pending batch has records");
	assert(
		lane.next_offset <= batch.firstOffset && batch.firstOffset <= batch.lastOffset && batch.lastOffset < batch.nextOffset,
		"batch ahead of lane",
	);
	return batch;
}

export function subscriptionView(row: SubscriptionRow, topic: string): SubscriptionView {
	return {
		id: row.id,
		topic,
		url: row.url,
		status: row.status,
		disabled_reason: row.disabled_reason,
		start: JSON.parse(row.start) as StartPosition,
		batch_max_records: row.batch_max_records,
		batch_max_wait_ms: row.batch_max_wait_ms,
		max_attempts: row.max_attempts,
		retry_schedule_ms: JSON.parse(row.retry_schedule_ms) as number[],
		filter: row.filter === null ? null : (JSON.parse(row.filter) as RecordFilter),
		dead_letter_topic: row.dead_letter_topic,
		created_at: row.created_at_ms,
		updated_at: row.updated_at_ms,
	};
}

export function laneView(lane: LaneRow): LaneView {
	const pending = pendingOf(lane);
	return {
		partition: lane.partition,
		next_offset: lane.next_offset,
		pending:
			pending === null
				? null
				: {
						webhook_id: pending.id,
						first_offset: pending.firstOffset,
						last_offset: pending.lastOffset,
						record_count: pending.recordCount,
						attempts: pending.attempts,
						next_attempt_at: pending.nextAttemptAtMs,
						last_error: lane.last_error,
					},
	};
}

export interface DeliveryRecord {
	readonly subscriptionId: string;
	readonly partition: number;
	readonly batch: PendingBatch;
	readonly attempt: number;
	readonly outcome: DeliveryOutcome;
	readonly responseStatus: number | null;
	readonly latencyMs: number;
	readonly error: string | null;
}

/** Appends to the attempt log, keeping the newest `WEBHOOK_DELIVERY_LOG_MAX` entries per subscription. */
export function logDelivery(sql: SqlStorage, entry: DeliveryRecord, nowMs: number): void {
	sql.exec(
		"INSERT INTO deliveries (subscription_id, partition, webhook_id, first_offset, last_offset, record_count, attempt, outcome, response_status, latency_ms, error, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		entry.subscriptionId,
		entry.partition,
		entry.batch.id,
		entry.batch.firstOffset,
		entry.batch.lastOffset,
		entry.batch.recordCount,
		entry.attempt,
		entry.outcome,
		entry.responseStatus,
		entry.latencyMs,
		entry.error,
		nowMs,
	);
	sql.exec(
		"DELETE FROM deliveries WHERE subscription_id = ?1 AND id < (SELECT id FROM deliveries WHERE subscription_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
		entry.subscriptionId,
		WEBHOOK_DELIVERY_LOG_MAX - 1,
	);
}

interface DeliveryRow extends Record<string, SqlStorageValue> {
	id: number;
	partition: number;
	webhook_id: string;
	first_offset: number;
	last_offset: number;
	record_count: number;
	attempt: number;
	outcome: DeliveryOutcome;
	response_status: number | null;
	latency_ms: number;
	error: string | null;
	at_ms: number;
}

/** The newest `limit` attempts of a subscription, newest first. */
export function recentDeliveries(sql: SqlStorage, subscriptionId: string, limit: number): DeliveryView[] {
	return sql
		.exec<DeliveryRow>("SELECT * FROM deliveries WHERE subscription_id = ? ORDER BY id DESC LIMIT ?", subscriptionId, limit)
		.toArray()
		.map((row) => ({
			id: row.id,
			partition: row.partition,
			webhook_id: row.webhook_id,
			first_offset: row.first_offset,
			last_offset: row.last_offset,
			record_count: row.record_count,
			attempt: row.attempt,
			outcome: row.outcome,
			response_status: row.response_status,
			latency_ms: row.latency_ms,
			error: row.error,
			at: row.at_ms,
		}));
}

export function subscriptionRow(sql: SqlStorage, id: string): SubscriptionRow | null {
	return sql.exec<SubscriptionRow>("SELECT * FROM subscriptions WHERE id = ?", id).toArray()[0] ?? null;
}

export function laneRow(sql: SqlStorage, subscriptionId: string, partition: number): LaneRow | null {
	return (
		sql.exec<LaneRow>("SELECT * FROM lanes WHERE subscription_id = ? AND partition = ?", subscriptionId, partition).toArray()[0] ?? null
	);
}

/** Stops every active subscription, saying why (a deleted topic): they stay listed, and a PATCH resumes them. */
export function disableAll(sql: SqlStorage, reason: string, nowMs: number): void {
	sql.exec("UPDATE subscriptions SET status = 'disabled', disabled_reason = ?, updated_at_ms = ? WHERE status = 'active'", reason, nowMs);
}
