/**
 * @module
 * The RPC vocabulary of a topic's `WebhookDispatcher`: subscriptions as the edge sends and reads them, and the
 * delivery log. Field names are the wire's (snake_case) where a value goes straight into a response.
 */

import type { LogPosition } from "../shared/log-reader.ts";

/** Where a new subscription (or a replay) starts in each partition. */
export type StartPosition = LogPosition;

/** Records a subscription delivers: all, or those whose key is listed and/or whose headers match. */
export interface RecordFilter {
	/** String keys to deliver; absent: any key. */
	readonly keys?: readonly string[];
	/** Header values every delivered record must carry; absent: any headers. */
	readonly headers?: Readonly<Record<string, string>>;
}

export type SubscriptionStatus = "active" | "paused" | "disabled";

export interface SubscriptionSettings {
	readonly url: string;
	readonly batchMaxRecords: number;
	readonly batchMaxWaitMs: number;
	readonly maxAttempts: number;
	readonly retryScheduleMs: readonly number[];
	readonly filter: RecordFilter | null;
}

export interface CreateSubscription extends SubscriptionSettings {
	readonly start: StartPosition;
}

export interface UpdateSubscription extends Partial<SubscriptionSettings> {
	readonly status?: "active" | "paused";
	readonly rotateSecret?: boolean;
}

/** Which topic a dispatcher serves, as the edge resolved it. */
export interface TopicRef {
	readonly topic: string;
	readonly topicId: string;
	readonly partitions: number;
}

/** A subscription as the API shows it; `secret` only on create and rotation. */
export interface SubscriptionView {
	readonly id: string;
	readonly topic: string;
	readonly url: string;
	readonly status: SubscriptionStatus;
	readonly disabled_reason: string | null;
	readonly start: StartPosition;
	readonly batch_max_records: number;
	readonly batch_max_wait_ms: number;
	readonly max_attempts: number;
	readonly retry_schedule_ms: number[];
	readonly filter: RecordFilter | null;
	readonly dead_letter_topic: string;
	readonly created_at: number;
	readonly updated_at: number;
	readonly secret?: string;
}

export interface LaneView {
	readonly partition: number;
	/** The first offset not yet acknowledged, dead-lettered or skipped. */
	readonly next_offset: number;
	readonly pending: {
		readonly webhook_id: string;
		readonly first_offset: number;
		readonly last_offset: number;
		readonly record_count: number;
		readonly attempts: number;
		readonly next_attempt_at: number;
		readonly last_error: string | null;
	} | null;
}

export type DeliveryOutcome = "delivered" | "failed" | "gone" | "dead_lettered" | "skipped";

export interface DeliveryView {
	readonly id: number;
	readonly partition: number;
	readonly webhook_id: string;
	readonly first_offset: number;
	readonly last_offset: number;
	readonly record_count: number;
	readonly attempt: number;
	readonly outcome: DeliveryOutcome;
	readonly response_status: number | null;
	readonly latency_ms: number;
	readonly error: string | null;
	readonly at: number;
}
