/**
 * @module
 * When to try a webhook batch again: pure, so the schedule is tested without clocks or I/O.
 *
 * A schedule lists the delay before each attempt, Svix-style (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 10 h); attempts past its end reuse its last delay. Delays get ± jitter so receivers that failed together are
 * not retried in lockstep, and a receiver's `Retry-After` is honoured when it asks for longer.
 *
 * @example
 * retryDelayMs({ attemptsMade: 1, scheduleMs: [0, 5_000], retryAfterMs: null, random: Math.random }); // ≈ 5 s
 */

import { assert } from "../shared/assert.ts";
import { WEBHOOK_RETRY_DELAY_MS_MAX, WEBHOOK_RETRY_JITTER_RATIO } from "../shared/limits.ts";

/** What a receiver's answer means for the batch. */
export type Verdict = "acknowledged" | "gone" | "retry";

/** Any 2xx acknowledges; 410 Gone disables the subscription; everything else (and no answer) is retried. */
export function verdictOf(status: number | null): Verdict {
	if (status !== null && status >= 200 && status <= 299) return "acknowledged";
	if (status === 410) return "gone";
	return "retry";
}

export interface RetryInput {
	/** Attempts already made for this batch (at least 1: retries follow a failure). */
	readonly attemptsMade: number;
	readonly scheduleMs: readonly number[];
	/** The receiver's `Retry-After`, in ms from now; null when it sent none. */
	readonly retryAfterMs: number | null;
	/** A number in [0, 1); injected so tests are deterministic. */
	readonly random: () => number;
}

/** The delay before the next attempt: scheduled, jittered, at least `Retry-After`, at most a day. */
export function retryDelayMs(input: RetryInput): number {
	assert(input.attemptsMade >= 1, "retry after attempt");
	assert(input.scheduleMs.length > 0, "schedule has delays");
	const index = Math.min(input.attemptsMade, input.scheduleMs.length - 1);
	const scheduled = input.scheduleMs[index] as number;
	const jitter = 1 + WEBHOOK_RETRY_JITTER_RATIO * (2 * input.random() - 1);
	const jittered = Math.round(scheduled * jitter);
	const delay = Math.max(jittered, input.retryAfterMs ?? 0);
	const bounded = Math.min(Math.max(delay, 0), WEBHOOK_RETRY_DELAY_MS_MAX);
	assert(bounded >= 0 && bounded <= WEBHOOK_RETRY_DELAY_MS_MAX, "delay bounded");
	return bounded;
}

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, in ms from `nowMs`. Null when absent or
 * unparseable; a date in the past is 0.
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | null {
	if (header === null) return null;
	const trimmed = header.trim();
	if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed) * 1000;
	const dateMs = Date.parse(trimmed);
	if (Number.isNaN(dateMs)) return null;
	return Math.max(0, dateMs - nowMs);
}
