/**
 * @module
 * A group consumer as an async iterable: the loop, turn by turn. It joins the group, keeps its membership alive (every
 * call is a heartbeat, and a timer sends one while the loop body is slow, up to `maxPollIntervalMs` on one record: past
 * it the member leaves, and the loop's next turn joins again), long-polls, follows rebalances, and commits at least
 * once: an offset is committed only after the loop has moved past its record (before the next poll). `break` commits
 * what was handed out, the record in hand included, then leaves the group; from outside the loop, `stop()`
 * waits for the record in hand first, and `close()` leaves at once, without committing that record. Those commits
 * are `autoCommit`'s: without it, leaving commits nothing but what the leave's `onRevoke` commits. The membership,
 * polls and commits (and the commit modes) are `GroupMember`'s, in consumer-member.ts.
 */

import type { TopicPartition } from "./admin.ts";
import { tpKey } from "./consumer-fetched.ts";
import { closedError, GroupMember } from "./consumer-member.ts";
import { type ConsumerOptions, consumerSettings } from "./consumer-options.ts";
import { LoopTurn } from "./consumer-turn.ts";
import { TributaryError } from "./errors.ts";
import type { Http } from "./http.ts";
import type { ConsumerRecord } from "./records.ts";

export {
	type ConsumerOptions,
	MAX_POLL_INTERVAL_MS_DEFAULT,
	POLL_RECORDS_DEFAULT,
	POLL_WAIT_MS_DEFAULT,
	SESSION_TIMEOUT_MS_DEFAULT,
} from "./consumer-options.ts";

/**
 * @example
 * const consumer = client.consumer({ group: "billing", topics: ["orders"], from: "earliest" });
 * for await (const record of consumer) {
 *   await bill(record.value);          // committed once the loop moves on
 *   if (done) break;                   // commits what was handed out and leaves the group
 * }
 */
export class Consumer implements AsyncIterable<ConsumerRecord> {
	readonly group: string;
	readonly #stopWhenIdle: boolean;
	readonly #sessionTimeoutMs: number;
	/** The record in hand, what waits for the loop to move past it, and how long the loop keeps it. */
	readonly #turn: LoopTurn;
	readonly #member: GroupMember;
	#stopping: Promise<void> | null = null;
	#closed = false;
	#closing: Promise<void> | null = null;
	#iterating = false;
	/** The error that ended the loop, the first one (what `closed` rejects with when the leave did not fail). */
	#failure: { readonly error: unknown } | null = null;
	#settleLeft!: (left: Promise<void>) => void;
	readonly #left = new Promise<void>((resolve) => (this.#settleLeft = resolve));

	constructor(http: Http, options: ConsumerOptions) {
		const settings = consumerSettings(options);
		this.group = options.group;
		this.#stopWhenIdle = options.stopWhenIdle === true;
		this.#sessionTimeoutMs = settings.sessionTimeoutMs;
		this.#turn = new LoopTurn(settings.maxPollIntervalMs, () => {
			if (!this.#closed) this.#member.leaveOnPollTimeout();
		});
		this.#member = new GroupMember(http, options, settings, this.#turn);
		// Handled, as a stream reader's `closed` is: a consumer nobody asks it of must not crash the process on a failure.
		this.#left.catch(() => {});
	}

	/** The partitions this member owns now. */
	get assignment(): TopicPartition[] {
		return [...this.#member.assigned.values()];
	}

	/** The member id, once joined. */
	get memberId(): string | null {
		return this.#member.memberId;
	}

	async *[Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord, void, undefined> {
		if (this.#iterating) throw new TributaryError("invalid_argument", "a consumer can be iterated by one loop at a time");
		this.#iterating = true;
		let failed = false;
		try {
			for (;;) {
				const record = await this.#nextRecord().catch((error: unknown) => {
					this.#failure ??= { error };
					failed = true;
					throw error;
				});
				if (record === null) return;
				this.#member.handOut(record);
				yield record;
				this.#member.moveOn();
			}
		} finally {
			// Leaving the loop (break, return, a throw in its body) is moving past the record in hand.
			this.#member.moveOn();
			this.#iterating = false;
			// The leave itself, not close()'s early return while a callback runs: the loop ends once the member left. A
			// loop that failed throws its own error, as Kafka's poll() does; the leave's is close()'s and `closed`'s.
			const leaving = this.#leave();
			await (failed ? leaving.catch(() => {}) : leaving);
		}
	}

	/**
	 * Joins the group now instead of at the first iteration (Kafka's `subscribe` + first `poll`). Members that
	 * all join before any of them reads start on their final assignment, without a rebalance under way. Called while the
	 * consumer recovers from a lost poll answer (it leaves and joins again), it returns once joined again, unless
	 * the consumer leaves on `maxPollIntervalMs` meanwhile. Rejects with `closed` once the consumer is closing
	 * (`close()`, `stop()`, `break`), also when that came while it joined: the member it joined as has left.
	 */
	async join(): Promise<void> {
		if (this.#closed) throw closedError();
		await this.#member.comeBack();
		await this.#member.join();
		if (this.#closed) throw closedError();
	}

	/**
	 * Reads `offset` of a partition this member owns next (Kafka's `seek`): records of it already fetched are dropped,
	 * and the next poll reads from there (an offset outside the log follows `from`). Nothing is committed by it.
	 */
	seek(to: TopicPartition & { readonly offset: number }): void {
		const key = tpKey(to.topic, to.partition);
		if (!Number.isSafeInteger(to.offset) || to.offset < 0)
			throw new TributaryError("invalid_argument", "offset must be a whole number, 0 or more");
		if (!this.#member.assigned.has(key))
			throw new TributaryError("invalid_argument", `${to.topic}/${to.partition} is not assigned to this consumer`);
		this.#member.fetched.seeks.set(key, { topic: to.topic, partition: to.partition, offset: to.offset });
		this.#member.fetched.holdBack(key);
	}

	/**
	 * Stops handing out and reading records of these partitions, which this member keeps (Kafka's `pause`): records of
	 * them already fetched are handed out after `resume`. The heartbeat and the other partitions go on.
	 */
	pause(partitions: readonly TopicPartition[]): void {
		for (const { topic, partition } of partitions) {
			const key = tpKey(topic, partition);
			this.#member.fetched.paused.set(key, { topic, partition });
			this.#member.fetched.holdBack(key);
		}
	}

	/** Reads paused partitions again, from the first record not handed out. */
	resume(partitions: readonly TopicPartition[]): void {
		for (const tp of partitions) this.#member.fetched.paused.delete(tpKey(tp.topic, tp.partition));
	}

	/** The partitions paused now; a partition no longer assigned to this member is no longer paused (as in Kafka). */
	paused(): TopicPartition[] {
		return [...this.#member.fetched.paused.values()];
	}

	/**
	 * Commits every record handed out so far, the one the loop is processing included (manual commits; with
	 * `autoCommit` this also happens on its own). Rejects with `rebalance_in_progress` (Kafka's
	 * `CommitFailedException`) when the offsets could not be stored because the membership they were handed out in
	 * ended: after a leave on `maxPollIntervalMs`, until the loop comes back; after the membership was lost (session
	 * expired, removed, group deleted), until the consumer joined again and the loss's `onRevoke` ran (a consumer fenced
	 * by its `instanceId` rejects with its `fenced_instance` error). Those records are delivered again. A poll whose
	 * answer was lost loses no membership: the consumer leaves on its own, and no commit() is refused. Once the
	 * consumer is closing (`close()`, `break`, or `stop()` once the loop's turn ended) it rejects with `closed`, as Java's
	 * `commitSync()` after `close()` throws and kafkajs's `commitOffsets()` after `stop()` rejects, but for the commit
	 * in the leave's own `onRevoke` (a close's, or a recovery's from a lost poll answer: one callback per member), and
	 * the one while a rebalance's `onRevoke` or `onAssign` runs, which the leave waits for (`close()`): those store
	 * what the loop moved past, under the member still in the group. One that would need the member a recovery's
	 * leave is to join next rejects with `closed` too: a closing consumer joins no more to store what that recovery kept.
	 */
	commit(): Promise<void> {
		if (this.#closing !== null && !this.#member.inCallback) return Promise.reject(closedError());
		return this.#member.commit();
	}

	/**
	 * Settles once the member has left the group for good, after `stop()`, `close()`, `break`, a throw in the loop's
	 * body, or an error of the consumer's own that ended the loop: rejects with the leave's error, as `close()` does (a
	 * callback's before its commit's), else the first one the loop met (a poll's, an `onAssign` or `onRevoke` that
	 * threw, which the loop threw), as a stream reader's `closed`; resolves otherwise, also when the loop's body threw
	 * (the loop throws that; the consumer sees only its iterator's `return()`, as for `break`).
	 * What a shutdown path awaits: a `stop()` or `close()` made while the leave's `onRevoke` or a rebalance's callback
	 * runs returns at once. Never await it inside `onAssign` or `onRevoke`: the leave waits for that callback, which
	 * would wait for the leave. Never settles while the consumer runs; a rejection nobody awaits is not an unhandled one.
	 * @example process.once("SIGINT", async () => { await consumer.stop(); await consumer.closed; process.exit(0); });
	 */
	get closed(): Promise<void> {
		return this.#left;
	}

	/**
	 * Commits what the loop moved past (with `autoCommit`), and leaves the group, at once. Safe to call more than
	 * once, and from anywhere. Called from outside the loop (a signal handler) while the loop processes a record,
	 * that record is not committed: the process may end before it is done, so the group delivers it again. The
	 * loop's next turn ends it. `break` instead counts the record in hand as processed. Called while the close under
	 * way (or the recovery from a lost poll answer, which leaves too) runs `onRevoke`, it returns at once, from
	 * anywhere: JavaScript has no async context to tell a call from that callback (Kafka's close() from the rebalance
	 * listener), which waiting would deadlock, from one of a signal handler. The member leaves once the callback
	 * returns, so a shutdown path awaits `closed`, which settles once it has left. An `onRevoke` that throws there does
	 * not keep the member in the group: it still leaves, and the close rejects with that error (so does `closed`). The
	 * leave also waits for the rebalance callbacks running or queued (a rebalance's `onRevoke` or `onAssign`), as
	 * Kafka's close() runs on the poll thread after its listener returned: a `commit()` there (allowed while one runs)
	 * finds the member still in the group instead of racing its leave; one of them that threw (even one the loop threw
	 * already) fails the close the same way, also when the close's own commit failed before it (Kafka's close() throws
	 * its rebalance listener's error): the commit's error is the close's only when no callback threw. While such a
	 * callback runs, close() returns at once too, for the same reason: one awaited in it would wait for itself;
	 * `closed` settles once the member left.
	 */
	close(): Promise<void> {
		const leaving = this.#leave();
		return this.#member.inCallback ? Promise.resolve() : leaving;
	}

	/** Starts the leave, once: what `close()` waits for when it can. */
	#leave(): Promise<void> {
		this.#closed = true;
		// A stop() waiting for the loop waits for this close instead: the member it would have committed under leaves.
		this.#turn.release();
		if (this.#closing === null) {
			this.#closing = this.#shutdown();
			this.#settleLeft(this.#leftAfter(this.#closing));
		}
		return this.#closing;
	}

	/**
	 * Stops after the record the loop is processing, even one whose partition a rebalance took meanwhile (kafkajs's
	 * `consumer.stop()`): no record is handed out any more, the loop ends at its next turn, and once it got there, what
	 * it processed (that record included, if still this member's) is committed (with `autoCommit`) and the member leaves. Meant for outside the loop (a signal handler). The loop's next turn is waited for at most
	 * one session (`sessionTimeoutMs`), as long as the group would wait for this member had its process died: awaited
	 * inside the loop, or on an iterator driven by hand that is not advanced again, no turn comes, so past that stop()
	 * leaves as `close()` does, and the record in hand, not known to be done, is delivered again. Inside the loop,
	 * `break` leaves at once and counts that record as processed, and so does stop() not awaited there (the loop ends
	 * once its body returns). Once `close()` was called, stop() is that close. Called while the leave under way runs
	 * `onRevoke`, it returns at once, from anywhere, as `close()` does: only the stop (or close) that started that leave
	 * waits for it. A stop() once that callback returned waits for the leave again. In a rebalance's callback it waits
	 * for the loop's turn as from outside, then returns without waiting for the leave, which waits for that callback.
	 */
	stop(): Promise<void> {
		this.#closed = true;
		// Not kept as this stop: a stop() once the callback returned, from outside, waits for the member to leave.
		if (this.#member.revokingOnLeave) return Promise.resolve();
		this.#stopping ??= (async () => {
			// After a close() the member has left or is leaving: nothing the loop finishes can be committed any more.
			if (this.#turn.inTurn && this.#closing === null) await this.#turn.movesOn(this.#sessionTimeoutMs);
			await this.close();
		})();
		// Asked again of close() once the loop's turn is over: its answer depends on what runs then (a callback).
		return this.#stopping.then(() => this.close());
	}

	async #shutdown(): Promise<void> {
		this.#closed = true;
		this.#turn.stopTimer();
		await this.#member.leave();
	}

	/**
	 * What `closed` settles as, once `closing` (the leave, what `close()` answers) settled: rejected with the leave's
	 * error, so the two never disagree (Kafka's close() throws its own: its rebalance listener's, then its commit's);
	 * else with the error that ended the loop, which the loop threw.
	 */
	async #leftAfter(closing: Promise<void>): Promise<void> {
		await closing;
		if (this.#failure !== null) throw this.#failure.error;
	}

	async #nextRecord(): Promise<ConsumerRecord | null> {
		await this.#member.comeBack();
		const { callbacks, fetched } = this.#member;
		for (;;) {
			// A rebalance's callbacks run before a record is handed out under it and before the loop ends (a poll need
			// not wait for them): one that failed ends the loop with its error.
			// A recovery from a failed poll too: it leaves after its onRevoke, and the loop polls (joins) after that, and
			// after what was queued meanwhile (a rebalance followed then queues no callback that runs for the member leaving).
			if (this.#member.recovering) await callbacks.allRan();
			else if (!fetched.empty || this.#closed) await callbacks.ran;
			if (this.#closed) return null;
			const record = fetched.take(this.#member.assigned);
			if (record !== null) return record;
			const got = await this.#member.poll();
			const idle = got === 0 && this.#stopWhenIdle && this.#member.memberId !== null;
			if (idle && fetched.readToEnd(this.#member.assigned)) return callbacks.ran.then(() => null);
		}
	}
}

/** What a consumer that was closed (or is closing) throws when asked to join or commit. */
