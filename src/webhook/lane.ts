/**
 * @module
 * One delivery lane: a subscription's view of one partition. Each step reloads its row, so a pause, a replay or
 * a deletion made meanwhile takes effect at the next step; every write is guarded by the lane's `epoch`, so an
 * attempt that was in flight during a replay or deletion changes nothing when it ends.
 */

import type { ReadResult } from "../partition/types.ts";
import type { Waiters } from "../partition/waiters.ts";
import type { DomainError } from "../shared/errors.ts";
import {
	WEBHOOK_BATCH_BYTES_MAX,
	WEBHOOK_CHANGE_GRACE_MS,
	WEBHOOK_DEAD_LETTER_RETRY_MS,
	WEBHOOK_LANE_STEPS_MAX,
} from "../shared/limits.ts";
import { readRecords } from "../shared/log-reader.ts";
import { lineOffset, lineTimestamp, RECORD_SEPARATOR } from "../shared/record-codec.ts";
import { topicRegistry } from "../shared/stubs.ts";
import { produce } from "../topic/produce.ts";
import { sendAttempt } from "./deliver.ts";
import type { ReportedLanes } from "./metrics.ts";
import { deadLetterInputs, matches, splitLines } from "./records.ts";
import { retryDelayMs, verdictOf } from "./retry-policy.ts";
import { generateMessageId } from "./signing.ts";
import { type DeliveryRecord, type LaneRow, type PendingBatch, pendingOf, type SubscriptionRow } from "./store.ts";
import type { RecordFilter } from "./types.ts";
import { allowPrivate, checkUrlSyntax } from "./url-policy.ts";

/**
 * What a lane needs from its `WebhookDispatcher`: a narrow object the dispatcher builds, so none of this is on
 * the dispatcher's RPC surface.
 */
export interface LaneHost {
	readonly sql: SqlStorage;
	readonly storage: DurableObjectStorage;
	/**
	 * What the metrics report carries: each write of a lane's position or staged batch is told to it, last in its
	 * transaction, so a write rolled back never is.
	 */
	readonly reported: ReportedLanes;
	readonly env: Env;
	readonly deadlineMs: number;
	readonly pollWaitMs: number;
	readonly changed: Waiters;
	subscription(id: string): SubscriptionRow | null;
	lane(subscriptionId: string, partition: number): LaneRow | null;
	disableAll(reason: string): void;
	/** Appends to the attempt log and counts the outcome for metrics. */
	logDelivery(entry: DeliveryRecord, nowMs: number): void;
}

const CLEAR_BATCH =
	"batch_id = NULL, batch_first_offset = NULL, batch_last_offset = NULL, batch_next_offset = NULL, batch_record_count = NULL, batch_records = NULL, attempts = 0, next_attempt_at_ms = NULL, last_error = NULL";

export class Lane {
	readonly #host: LaneHost;
	readonly #topic: { readonly topic: string; readonly topicId: string };
	readonly #subscriptionId: string;
	readonly #partition: number;

	constructor(host: LaneHost, topic: { readonly topic: string; readonly topicId: string }, subscriptionId: string, partition: number) {
		this.#host = host;
		this.#topic = topic;
		this.#subscriptionId = subscriptionId;
		this.#partition = partition;
	}

	async run(): Promise<void> {
		for (let step = 0; step < WEBHOOK_LANE_STEPS_MAX; step++) {
			const sub = this.#host.subscription(this.#subscriptionId);
			const lane = this.#host.lane(this.#subscriptionId, this.#partition);
			if (sub === null || lane === null || sub.status !== "active") return;
			const pending = pendingOf(lane);
			const nowMs = Date.now();
			if (pending !== null) {
				const waitMs = pending.nextAttemptAtMs - nowMs;
				if (waitMs > 0) {
					if (nowMs + waitMs > this.#host.deadlineMs) return;
					await this.#host.changed.wait(waitMs);
				} else if (pending.attempts >= sub.max_attempts) await this.#deadLetter(sub, lane, pending);
				else await this.#attempt(sub, lane, pending);
				continue;
			}
			if (nowMs >= this.#host.deadlineMs) return;
			await this.#fill(sub, lane);
		}
	}

	/** Tells the metrics report the lane's new position and staged batch (none unless `stagedAtMs`). */
	#moved(nextOffset: number, stagedAtMs?: number): void {
		this.#host.reported.set(this.#subscriptionId, this.#partition, nextOffset, stagedAtMs);
	}

	/** Moves the lane past its staged batch (delivered, or dead-lettered): the batch cleared, `nextOffset` next. */
	#pastBatch(nextOffset: number, subscriptionId: string): void {
		this.#host.sql.exec(
			`UPDATE lanes SET next_offset = ?, ${CLEAR_BATCH} WHERE subscription_id = ? AND partition = ?`,
			nextOffset,
			subscriptionId,
			this.#partition,
		);
		this.#moved(nextOffset);
	}

	/** Whether the lane is still the one this step read: not replayed, not deleted. */
	#current(lane: LaneRow): boolean {
		return this.#host.lane(this.#subscriptionId, this.#partition)?.epoch === lane.epoch;
	}

	#read(offset: number, maxRecords: number, maxBytes: number, waitMs: number) {
		return readRecords(this.#host.env, this.#topic.topicId, this.#partition, {
			topicId: this.#topic.topicId,
			offset,
			maxRecords,
			maxBytes,
			waitMs,
		});
	}

	/** Reads the next batch (waiting for appends up to the poll or `batch_max_wait_ms`) and stores it as pending. */
	async #fill(sub: SubscriptionRow, lane: LaneRow): Promise<void> {
		const waitMs = Math.max(0, Math.min(this.#host.pollWaitMs, this.#host.deadlineMs - Date.now()));
		// A change to the subscription (replay, pause, deletion) ends the wait; the abandoned read just times out.
		const first = await Promise.race([
			this.#read(lane.next_offset, sub.batch_max_records, WEBHOOK_BATCH_BYTES_MAX, waitMs),
			this.#host.changed.wait(waitMs + WEBHOOK_CHANGE_GRACE_MS).then(() => null),
		]);
		if (first === null) return;
		if (!first.ok) return this.#readFailed(lane, first.error);
		const read = await this.#topUp(sub, first.value);
		if (read.nextOffset === lane.next_offset) return;
		const filter = sub.filter === null ? null : (JSON.parse(sub.filter) as RecordFilter);
		const lines = splitLines(read.records).filter((line) => filter === null || matches(filter, line));
		this.#host.storage.transactionSync(() => {
			if (!this.#current(lane)) return;
			if (lines.length === 0) {
				// Nothing the subscription wants (or a compaction gap): move past it without a delivery.
				this.#host.sql.exec(
					"UPDATE lanes SET next_offset = ? WHERE subscription_id = ? AND partition = ?",
					read.nextOffset,
					sub.id,
					this.#partition,
				);
				this.#moved(read.nextOffset);
				return;
			}
			this.#host.sql.exec(
				"UPDATE lanes SET batch_id = ?, batch_first_offset = ?, batch_last_offset = ?, batch_next_offset = ?, batch_record_count = ?, batch_records = ?, attempts = 0, next_attempt_at_ms = ?, last_error = NULL WHERE subscription_id = ? AND partition = ?",
				generateMessageId(),
				lineOffset(lines[0] as string),
				lineOffset(lines.at(-1) as string),
				read.nextOffset,
				lines.length,
				lines.join(RECORD_SEPARATOR),
				Date.now(),
				sub.id,
				this.#partition,
			);
			this.#moved(lane.next_offset, lineTimestamp(lines[0] as string));
		});
	}

	/** With `batch_max_wait_ms`, keeps reading until the batch is full or the wait is over. */
	async #topUp(sub: SubscriptionRow, first: ReadResult): Promise<ReadResult> {
		if (sub.batch_max_wait_ms === 0 || first.recordCount === 0) return first;
		const untilMs = Math.min(Date.now() + sub.batch_max_wait_ms, this.#host.deadlineMs);
		let merged = first;
		let bytes = first.records.length;
		while (merged.recordCount < sub.batch_max_records && bytes < WEBHOOK_BATCH_BYTES_MAX && Date.now() < untilMs) {
			const more = await this.#read(
				merged.nextOffset,
				sub.batch_max_records - merged.recordCount,
				WEBHOOK_BATCH_BYTES_MAX - bytes,
				untilMs - Date.now(),
			);
			if (!more.ok || more.value.nextOffset === merged.nextOffset) break;
			const records =
				more.value.records === ""
					? merged.records
					: merged.records === ""
						? more.value.records
						: `${merged.records}${RECORD_SEPARATOR}${more.value.records}`;
			merged = { ...more.value, records, recordCount: merged.recordCount + more.value.recordCount };
			bytes = records.length;
		}
		return merged;
	}

	/** Records gone before delivery (retention) are skipped and logged; a deleted topic disables delivery. */
	#readFailed(lane: LaneRow, error: DomainError): void {
		if (error.code === "topic_not_found") {
			this.#host.disableAll("the topic was deleted");
			return;
		}
		if (error.code !== "offset_out_of_range") throw new Error(`read failed: ${error.code}: ${error.message}`);
		const logStart = Number(error.details?.log_start_offset ?? 0);
		const highWatermark = Number(error.details?.high_watermark ?? 0);
		const to = lane.next_offset < logStart ? logStart : highWatermark;
		this.#host.storage.transactionSync(() => {
			if (!this.#current(lane)) return;
			const gap: PendingBatch = {
				id: "",
				firstOffset: lane.next_offset,
				lastOffset: Math.max(lane.next_offset, to - 1),
				nextOffset: to,
				recordCount: 0,
				records: "",
				attempts: 0,
				nextAttemptAtMs: 0,
			};
			const error = `offsets ${lane.next_offset}..${to - 1} left the log before delivery`;
			this.#host.logDelivery(
				{
					subscriptionId: this.#subscriptionId,
					partition: this.#partition,
					batch: gap,
					attempt: 0,
					outcome: "skipped",
					responseStatus: null,
					latencyMs: 0,
					error,
				},
				Date.now(),
			);
			this.#host.sql.exec(
				"UPDATE lanes SET next_offset = ? WHERE subscription_id = ? AND partition = ?",
				to,
				this.#subscriptionId,
				this.#partition,
			);
			this.#moved(to);
		});
	}

	#secrets(sub: SubscriptionRow, nowMs: number): string[] {
		const previous = sub.previous_secret !== null && (sub.previous_secret_until_ms ?? 0) > nowMs ? [sub.previous_secret] : [];
		return [sub.secret, ...previous];
	}

	/** Sends the pending batch once and records the verdict: acknowledged, gone (disable) or retry later. */
	async #attempt(sub: SubscriptionRow, lane: LaneRow, batch: PendingBatch): Promise<void> {
		const body = `{"topic":${JSON.stringify(this.#topic.topic)},"partition":${this.#partition},"records":[${batch.records}]}`;
		const url = checkUrlSyntax(sub.url, allowPrivate(this.#host.env));
		const result = url.ok
			? await sendAttempt({ url: sub.url, webhookId: batch.id, body, secrets: this.#secrets(sub, Date.now()) })
			: { status: null, latencyMs: 0, error: url.error.message, retryAfterMs: null };
		const verdict = verdictOf(result.status);
		const attempt = batch.attempts + 1;
		const nowMs = Date.now();
		this.#host.storage.transactionSync(() => {
			if (!this.#current(lane)) return;
			const outcome = verdict === "acknowledged" ? "delivered" : verdict === "gone" ? "gone" : "failed";
			this.#host.logDelivery(
				{
					subscriptionId: sub.id,
					partition: this.#partition,
					batch,
					attempt,
					outcome,
					responseStatus: result.status,
					latencyMs: result.latencyMs,
					error: result.error,
				},
				nowMs,
			);
			if (verdict === "acknowledged") {
				this.#pastBatch(batch.nextOffset, sub.id);
				return;
			}
			if (verdict === "gone") {
				this.#host.sql.exec(
					"UPDATE subscriptions SET status = 'disabled', disabled_reason = ?, updated_at_ms = ? WHERE id = ?",
					`the receiver answered 410 Gone at ${sub.url}`,
					nowMs,
					sub.id,
				);
				// A 410 is the receiver saying stop, not a failed delivery: it costs the batch no attempt, so resuming
				// sends it again (on its last attempt it would be dead-lettered unsent).
				this.#host.sql.exec(
					"UPDATE lanes SET next_attempt_at_ms = ?, last_error = ? WHERE subscription_id = ? AND partition = ?",
					nowMs,
					result.error,
					sub.id,
					this.#partition,
				);
				return;
			}
			const schedule = JSON.parse(sub.retry_schedule_ms) as number[];
			const delayMs =
				attempt >= sub.max_attempts
					? 0
					: retryDelayMs({ attemptsMade: attempt, scheduleMs: schedule, retryAfterMs: result.retryAfterMs, random: Math.random });
			this.#host.sql.exec(
				"UPDATE lanes SET attempts = ?, next_attempt_at_ms = ?, last_error = ? WHERE subscription_id = ? AND partition = ?",
				attempt,
				nowMs + delayMs,
				result.error,
				sub.id,
				this.#partition,
			);
		});
	}

	/** After `max_attempts`, the batch goes to the subscription's dead-letter topic and the lane moves on. */
	async #deadLetter(sub: SubscriptionRow, lane: LaneRow, batch: PendingBatch): Promise<void> {
		const name = sub.dead_letter_topic;
		const created = await topicRegistry(this.#host.env).createTopic({ name, partitions: 1 });
		const context = { topic: this.#topic.topic, subscriptionId: sub.id, attempts: batch.attempts, lastError: lane.last_error };
		// The idempotency key makes a dead-letter write that is retried after a crash land once.
		const write = (maxMessageBytes?: number, appendTime = false) =>
			produce(this.#host.env, name, deadLetterInputs(batch.records, context, maxMessageBytes, appendTime), {
				idempotencyKey: `dlq-${batch.id}`,
			});
		let produced = created.ok || created.error.code === "topic_exists" ? await write() : created;
		const limit = produced.ok ? undefined : produced.error.details?.max_message_bytes;
		// Refused before anything was written: the copies are made again to fit the dead-letter topic's limit.
		if (!produced.ok && produced.error.code === "record_too_large" && typeof limit === "number") produced = await write(limit);
		// A record's own time outside the dead-letter topic's timestamp window: the copies take their append time.
		if (!produced.ok && produced.error.code === "invalid_timestamp")
			produced = await write(typeof limit === "number" ? limit : undefined, true);
		const nowMs = Date.now();
		this.#host.storage.transactionSync(() => {
			if (!this.#current(lane)) return;
			if (!produced.ok) {
				console.error(`webhook ${sub.id}: dead-letter write to "${name}" failed: ${produced.error.message}`);
				this.#host.sql.exec(
					"UPDATE lanes SET next_attempt_at_ms = ? WHERE subscription_id = ? AND partition = ?",
					nowMs + WEBHOOK_DEAD_LETTER_RETRY_MS,
					sub.id,
					this.#partition,
				);
				return;
			}
			this.#host.logDelivery(
				{
					subscriptionId: sub.id,
					partition: this.#partition,
					batch,
					attempt: batch.attempts,
					outcome: "dead_lettered",
					responseStatus: null,
					latencyMs: 0,
					error: lane.last_error,
				},
				nowMs,
			);
			this.#pastBatch(batch.nextOffset, sub.id);
		});
	}
}
