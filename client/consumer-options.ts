/**
 * @module
 * What a group consumer may be told (`ConsumerOptions`), each option's default, and `consumerSettings`, which checks
 * the options once, when the consumer is made.
 */

import type { TopicPartition } from "./admin.ts";
import { TributaryError } from "./errors.ts";

export const POLL_RECORDS_DEFAULT = 500;
export const POLL_WAIT_MS_DEFAULT = 1_000;
export const SESSION_TIMEOUT_MS_DEFAULT = 45_000;

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
	/** Static membership (KIP-345): a restarted instance takes back its partitions without a rebalance. */
	readonly instanceId?: string;
	readonly strategy?: "sticky" | "range" | "round-robin";
	/** Records per poll at most (shared by the member's partitions). Default 500. */
	readonly maxRecords?: number;
	readonly maxBytes?: number;
	/** How long a poll waits for records when there are none. Default 1 s. */
	readonly waitMs?: number;
	/** End the iteration at the first poll that finds nothing new (kcat's `-e`). */
	readonly stopWhenIdle?: boolean;
	/**
	 * Runs before each commit. Flush a producer here, so what the loop sent is written before the records that
	 * caused it are committed (as Kafka Streams does). If it throws, this consumer commits nothing more: the
	 * iteration ends with that error and closing leaves without committing, so those records are delivered again.
	 */
	readonly beforeCommit?: () => void | Promise<void>;
	/** Partitions this member now owns (newly added ones only). */
	readonly onAssign?: (partitions: TopicPartition[]) => void | Promise<void>;
	/** Partitions taken from this member; their uncommitted records go to the new owner. */
	readonly onRevoke?: (partitions: TopicPartition[]) => void | Promise<void>;
}

/** The options the consumer reads on every poll, checked, with their defaults filled in. */
export interface ConsumerSettings {
	readonly autoCommit: boolean;
	readonly autoCommitIntervalMs: number;
	/** Whether the broker auto-commits this consumer's polls on the interval (see consumer.ts's module comment). */
	readonly brokerCommits: boolean;
	readonly sessionTimeoutMs: number;
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
	return {
		autoCommit,
		autoCommitIntervalMs,
		brokerCommits: autoCommit && autoCommitIntervalMs > 0 && options.beforeCommit === undefined,
		sessionTimeoutMs: options.sessionTimeoutMs ?? SESSION_TIMEOUT_MS_DEFAULT,
	};
}
