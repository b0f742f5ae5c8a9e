/**
 * @module
 * The `commits` table (schema.ts): a group's committed offsets, each on the incarnation of its topic the group
 * subscribed to when it was written, and when it was committed, which offsets retention reads (offsets-retention.ts,
 * KIP-496). Every method is one statement with no await, composed by the rules inside the coordinator's
 * `transactionSync` like the rest of the store. In memory a copy of each committed offset, without its metadata
 * (`offsetCopy`), which the store drops with its live state after a rolled-back transaction (`forget`). Reached through
 * `GroupStore.offsets`.
 */

import { assert } from "../shared/assert.ts";
import { comparePartitions, keyOf } from "./assignors.ts";
import type { CommittedOffset, TopicPartition } from "./types.ts";

/** Offsets that may expire (KIP-496): of topics no member subscribes to, nor in the JSON array bound to it. */
const EXPIRABLE = "topic NOT IN (SELECT topic FROM subscribed_topics) AND topic NOT IN (SELECT value FROM json_each(?))";

/** A committed offset as the metrics hub joins it into lag. */
type Reported = { readonly topic: string; readonly partition: number; readonly offset: number };

export class CommitStore {
	/**
	 * Every committed offset by partition key, without its metadata: read once (after a start or `forget`), then kept by
	 * each statement here that writes or deletes one. The metrics report, sent a second after any change (so every
	 * second while members commit), a poll's start from the committed offsets and an auto-commit's check of them, and
	 * the group's count of committed partitions so read no row however many partitions the group has committed on.
	 */
	#copy: Map<string, Reported> | null = null;

	readonly #sql: SqlStorage;

	constructor(sql: SqlStorage) {
		this.#sql = sql;
	}

	#offsetCopy(): Map<string, Reported> {
		this.#copy ??= new Map(
			this.#sql
				.exec<Reported>('SELECT topic, partition, committed_offset AS "offset" FROM commits')
				.toArray()
				.map((r) => [keyOf(r), r]),
		);
		return this.#copy;
	}

	/** The committed offsets, from memory (see `copy`), for the metrics report. */
	reported(): Reported[] {
		return [...this.#offsetCopy().values()];
	}

	/** Drops the copy of the offsets, to be read again: after a rolled-back transaction, or commits deleted all at once. */
	forget(): void {
		this.#copy = null;
	}

	/** The offset committed on `tp`, or null; from memory (see `copy`). Its metadata is read with `commits`. */
	committedOffset(tp: TopicPartition): number | null {
		return this.#offsetCopy().get(keyOf(tp))?.offset ?? null;
	}

	/**
	 * Whether each of `offsets` is committed there with no metadata and on no topic incarnation: written while the group
	 * did not subscribe to its topic (a reset of the group when empty), not by a member since.
	 */
	resetInForce(offsets: readonly (TopicPartition & { readonly offset: number })[]): boolean {
		return offsets.every(
			(o) =>
				this.#sql
					.exec(
						"SELECT 1 FROM commits WHERE topic = ? AND partition = ? AND committed_offset = ? AND metadata IS NULL AND topic_id IS NULL",
						o.topic,
						o.partition,
						o.offset,
					)
					.toArray().length > 0,
		);
	}

	commits(): CommittedOffset[] {
		return this.#sql
			.exec<{ topic: string; partition: number; committed_offset: number; metadata: string | null }>(
				"SELECT topic, partition, committed_offset, metadata FROM commits",
			)
			.toArray()
			.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.committed_offset, metadata: r.metadata }))
			.sort(comparePartitions);
	}

	/** How many partitions have a committed offset; from memory (see `copy`). */
	commitCount(): number {
		return this.#offsetCopy().size;
	}

	/**
	 * The oldest commit time of the offsets that may expire: those of topics neither subscribed to nor in `kept` (JSON
	 * array). Reads every commit: only the offsets-retention alarm asks, once offsets were due (offsets-retention.ts).
	 */
	oldestCommitMs(kept: string): number | null {
		return this.#sql.exec<{ ms: number | null }>(`SELECT MIN(committed_at_ms) AS ms FROM commits WHERE ${EXPIRABLE}`, kept).one().ms;
	}

	/** Deletes up to `limit` offsets that may expire (see `oldestCommitMs`) last committed at or before `cutoffMs`. */
	expireCommits(cutoffMs: number, limit: number, kept: string): void {
		this.#dropCopied(
			this.#sql.exec<Omit<Reported, "offset">>(
				`DELETE FROM commits WHERE rowid IN (SELECT rowid FROM commits WHERE committed_at_ms <= ? AND ${EXPIRABLE} LIMIT ?) RETURNING topic, partition`,
				cutoffMs,
				kept,
				limit,
			),
		);
	}

	/** Starts the retention of `topics`' offsets (JSON array) at `nowMs`, unless they were committed later. */
	restartRetention(topics: string, nowMs: number): void {
		this.#sql.exec(
			"UPDATE commits SET committed_at_ms = ? WHERE committed_at_ms < ? AND topic IN (SELECT value FROM json_each(?))",
			nowMs,
			nowMs,
			topics,
		);
	}

	/**
	 * Writes a commit, on the incarnation of its topic the group subscribes to now (`topic_id`; none: NULL). One equal
	 * to the stored commit (offset, metadata and incarnation) writes no row, so leaves its generation and time as
	 * first written, unless `touch`: a Kafka consumer's auto-commit sends its offsets again every interval while it
	 * is idle, each a billed row and a storage commit, and a member's commit time matters only once its topic leaves
	 * the subscriptions, which restarts it (`restartRetention`). A commit with no member is `touch`ed: its time is its
	 * expiry's start.
	 */
	writeCommit(commit: CommittedOffset, generation: number, nowMs: number, touch = false): void {
		assert(Number.isSafeInteger(commit.offset) && commit.offset >= 0, "commit offset >= 0");
		this.#sql.exec(
			"INSERT INTO commits (topic, partition, committed_offset, metadata, generation, committed_at_ms, topic_id) VALUES (?, ?, ?, ?, ?, ?, (SELECT topic_id FROM subscribed_topics WHERE topic = ?)) ON CONFLICT (topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset, metadata = excluded.metadata, generation = excluded.generation, committed_at_ms = excluded.committed_at_ms, topic_id = excluded.topic_id WHERE committed_offset IS NOT excluded.committed_offset OR metadata IS NOT excluded.metadata OR topic_id IS NOT excluded.topic_id OR ?",
			commit.topic,
			commit.partition,
			commit.offset,
			commit.metadata,
			generation,
			nowMs,
			commit.topic,
			Number(touch),
		);
		this.#copy?.set(keyOf(commit), { topic: commit.topic, partition: commit.partition, offset: commit.offset });
	}

	/** Deletes the offsets committed on another incarnation of `topic` than `topicId` (it was deleted and created again). */
	forgetOtherIncarnations(topic: string, topicId: string): void {
		this.#dropCopied(
			this.#sql.exec<Omit<Reported, "offset">>(
				"DELETE FROM commits WHERE topic = ? AND topic_id IS NOT NULL AND topic_id <> ? RETURNING topic, partition",
				topic,
				topicId,
			),
		);
	}

	/** Takes the offsets a DELETE returned out of `copy`; reads the cursor to its end either way. */
	#dropCopied(deleted: Iterable<TopicPartition>): void {
		for (const tp of deleted) this.#copy?.delete(keyOf(tp));
	}
}
