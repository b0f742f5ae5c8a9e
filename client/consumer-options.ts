/**
 * @module
 * What a group consumer may be told (`ConsumerOptions`), each option's default, `consumerSettings`, which checks
 * the options once, when the consumer is made, and what the options make of the join's and the polls' bodies.
 */

import type { TopicPartition } from "./admin.ts";
import { TributaryError } from "./errors.ts";

export const POLL_RECORDS_DEFAULT = 500;
export const POLL_WAIT_MS_DEFAULT = 1_000;
export const SESSION_TIMEOUT_MS_DEFAULT = 45_000;
/** By default heartbeats go out at a third of the session timeout, as Kafka's `heartbeat.interval.ms` suggests. */
const HEARTBEATS_PER_SESSION = 3;
/** Kafka's default `max.poll.interval.ms`: five minutes for the loop body between two records. */
export const MAX_POLL_INTERVAL_MS_DEFAULT = 300_000;
/** Kafka's bound on `max.poll.interval.ms` (an int), which is also the longest delay a timer keeps. */
export const MAX_POLL_INTERVAL_MS_MAX = 2 ** 31 - 1;

export interface ConsumerOptions {
	readonly group: string;
	/** The topics to read; or `topicPattern`, a whole-name regular expression. */
	readonly topics?: readonly string[];
	readonly topicPattern?: string;
	/** Where a partition with no committed offset starts. Default `latest`, as Kafka. */
	readonly from?: "earliest" | "latest";
	/** Commit what the loop has moved past, before each poll and on close. Default true. */
	readonly autoCommit?: boolean;
	/**
	 * With `autoCommit`: commit at most this often (Kafka's `auto.commit.interval.ms`, kafkajs's
	 * `autoCommitInterval`), by the broker's auto-commit. Closing still commits everything handed out; a rebalance that
	 * takes a partition, or a session that runs out, commits what the loop moved past first, so the next owner reads
	 * again one poll; a restart of the group's coordinator in between reads again up to this long. Default 0: the
	 * consumer commits with every poll itself.
	 */
	readonly autoCommitIntervalMs?: number;
	readonly sessionTimeoutMs?: number;
	/**
	 * How often the member's timer heartbeats while nothing else went out (Kafka's `heartbeat.interval.ms`, kafkajs's
	 * `heartbeatInterval`): shorter than `sessionTimeoutMs`, so a beat keeps the session alive. Default a third of it.
	 */
	readonly heartbeatIntervalMs?: number;
	/**
	 * How long the loop body may keep a record before it comes back for the next one (Kafka's `max.poll.interval.ms`,
	 * default 5 min). Past it the member leaves the group, although its heartbeat would keep it alive: its partitions
	 * go to other members, which read from the last commit (what this one processed and had not committed is read
	 * again), and `commit()` is refused with `rebalance_in_progress` until the loop comes back (its next turn, or
	 * `join()`: Kafka's next poll()), which joins again and times a turn still in progress afresh.
	 */
	readonly maxPollIntervalMs?: number;
	/** Static membership (KIP-345): a restarted instance takes back its partitions without a rebalance. */
	readonly instanceId?: string;
	readonly strategy?: "sticky" | "range" | "round-robin";
	/** Records per poll at most (shared by the member's partitions). Default 500. */
	readonly maxRecords?: number;
	readonly maxBytes?: number;
	/** How long a poll waits for records when there are none. Default 1 s. */
	readonly waitMs?: number;
	/** End the iteration at the first poll that finds nothing new (kcat's `-e`), with no partition paused. */
	readonly stopWhenIdle?: boolean;
	/**
	 * Runs before each commit. Flush a producer here, so what the loop sent is written before the records that
	 * caused it are committed (as Kafka Streams does). If it throws, this consumer commits nothing more: the
	 * iteration ends with that error and closing leaves without committing, so those records are delivered again.
	 */
	readonly beforeCommit?: () => void | Promise<void>;
	/**
	 * Partitions this member now owns (newly added ones only). The rebalance callbacks run one at a time, in order,
	 * and the loop's next record waits for them; one that throws ends the loop with its error. They may await
	 * `stop()` or `close()` (Kafka's close() from the rebalance listener); while the `onRevoke` that a close() itself
	 * runs is under way, they return at once, called from anywhere, and the member leaves once that callback returns.
	 */
	readonly onAssign?: (partitions: TopicPartition[]) => void | Promise<void>;
	/** Partitions taken from this member; their uncommitted records go to the new owner. As `onAssign`. */
	readonly onRevoke?: (partitions: TopicPartition[]) => void | Promise<void>;
}

/** The options the consumer reads on every poll, checked, with their defaults filled in. */
export interface ConsumerSettings {
	readonly autoCommit: boolean;
	readonly autoCommitIntervalMs: number;
	/** Whether the broker auto-commits this consumer's polls on the interval (see consumer-member.ts's module comment). */
	readonly brokerCommits: boolean;
	readonly sessionTimeoutMs: number;
	readonly heartbeatIntervalMs: number;
	readonly maxPollIntervalMs: number;
}

/** `options` checked (`invalid_argument` naming what is wrong), defaults filled in. */
export function consumerSettings(options: ConsumerOptions): ConsumerSettings {
	if (typeof options.group !== "string" || options.group === "") throw new TributaryError("invalid_argument", "group is required");
	if ((options.topics === undefined) === (options.topicPattern === undefined)) {
		throw new TributaryError("invalid_argument", "give exactly one of topics or topicPattern");
	}
	const autoCommit = options.autoCommit ?? true;
	const autoCommitIntervalMs = options.autoCommitIntervalMs ?? 0;
	if (!Number.isSafeInteger(autoCommitIntervalMs) || autoCommitIntervalMs < 0) {
		throw new TributaryError("invalid_argument", "autoCommitIntervalMs must be a whole number of milliseconds, 0 or more");
	}
	const maxPollIntervalMs = options.maxPollIntervalMs ?? MAX_POLL_INTERVAL_MS_DEFAULT;
	if (!Number.isSafeInteger(maxPollIntervalMs) || maxPollIntervalMs < 1 || maxPollIntervalMs > MAX_POLL_INTERVAL_MS_MAX) {
		throw new TributaryError(
			"invalid_argument",
			`maxPollIntervalMs must be a whole number of milliseconds, 1 to ${MAX_POLL_INTERVAL_MS_MAX}`,
		);
	}
	const sessionTimeoutMs = options.sessionTimeoutMs ?? SESSION_TIMEOUT_MS_DEFAULT;
	const heartbeatIntervalMs = options.heartbeatIntervalMs ?? Math.floor(sessionTimeoutMs / HEARTBEATS_PER_SESSION);
	if (!Number.isSafeInteger(heartbeatIntervalMs) || heartbeatIntervalMs < 1 || heartbeatIntervalMs >= sessionTimeoutMs) {
		throw new TributaryError(
			"invalid_argument",
			`heartbeatIntervalMs must be a whole number of milliseconds, 1 or more, below sessionTimeoutMs (${sessionTimeoutMs})`,
		);
	}
	return {
		autoCommit,
		autoCommitIntervalMs,
		brokerCommits: autoCommit && autoCommitIntervalMs > 0 && options.beforeCommit === undefined,
		sessionTimeoutMs,
		heartbeatIntervalMs,
		maxPollIntervalMs,
	};
}

/** The join's body: the subscription and how this member is to be treated. */
export function joinBody(options: ConsumerOptions, sessionTimeoutMs: number) {
	return {
		...(options.topics === undefined ? { topic_pattern: options.topicPattern } : { topics: options.topics }),
		auto_offset_reset: options.from ?? "latest",
		session_timeout_ms: sessionTimeoutMs,
		// Proposed by the member, so a join retried after its answer was lost finds the member it made (KIP-394's
		// aim) instead of making a second one that holds partitions until its session ends.
		...(options.instanceId === undefined ? { member_id: crypto.randomUUID() } : { instance_id: options.instanceId }),
		...(options.strategy === undefined ? {} : { strategy: options.strategy }),
	};
}

/** What every poll's body says, whatever commit, seeks and pauses it carries. */
export function pollBase(options: ConsumerOptions, settings: ConsumerSettings) {
	return {
		max_records: options.maxRecords ?? POLL_RECORDS_DEFAULT,
		...(options.maxBytes === undefined ? {} : { max_bytes: options.maxBytes }),
		wait_ms: options.waitMs ?? POLL_WAIT_MS_DEFAULT,
		auto_commit: settings.brokerCommits,
		...(settings.brokerCommits ? { auto_commit_interval_ms: settings.autoCommitIntervalMs } : {}),
		// Grouped by partition, the broker sends each partition's records on as stored instead of writing the topic
		// into every one; the consumer puts the topic back, once per partition.
		layout: "partitions" as const,
	};
}

/**
 * What a static member's heartbeats, polls and commits name besides its member id: its instance id, so the broker
 * answers `fenced_instance` once another consumer with that `instanceId` replaced it (KIP-345), not `unknown_member`.
 */
export function instanceField(options: ConsumerOptions): { instance_id?: string } {
	return options.instanceId === undefined ? {} : { instance_id: options.instanceId };
}

/** A Worker from before `instance_id` on member calls: its strict bodies refuse the field with a 400 naming it. */
const INSTANCE_ID_REFUSED = /unknown fields? .*"instance_id"/;

/** Whether `error` is an older Worker's refusal of `instanceField` (see `MemberCalls`, in consumer-calls.ts). */
export function instanceRefused(error: unknown): boolean {
	return error instanceof TributaryError && error.status === 400 && INSTANCE_ID_REFUSED.test(error.message);
}
