/**
 * @module
 * Group commit, as databases do it for their log: a request that arrives while the previous group is being
 * committed waits, and every request waiting when that commit completes is written as the next group, by one
 * synchronous `write` (one transaction). A lone producer pays no added latency: while recent groups held one request
 * each, a request that finds the queue idle is written at once. Once producers arrive concurrently (recent groups
 * held several), the first request of a group lingers for the others (see `lingerMs`) whether it found a commit in
 * flight or the queue idle: otherwise every commit that drains the queue is followed by a group of one, its own
 * transaction and row, while the rest of the producers queue behind it. Once as many as recent groups held are
 * queued, the group still waits while requests keep arriving, one turn of the event loop at a time, and is written
 * after the first turn that brought none: an isolate busy with the edge's share of other producers' requests (one
 * thread serves both under workerd) delivers them a few per turn, and a commit costs about as much CPU as a whole
 * small request, so every producer that joins saves one. Each request is answered with its own
 * result; the caller's output gate holds the answer until the group's commit is durable. Pure: the partition passes
 * its writer and `storage.sync()`.
 *
 * A measured lead, dropped: the wait (`durable`, the partition's `storage.sync()` and the turn that resumes the queue)
 * is what a lone producer pays for group commit, its answer being held by the output gate anyway. Not waiting at all
 * cost 0.16-0.80 µs less a record (of ~30, bench:ab produce-1c-1p on a busy machine, lower in 4 of 4 rounds); not
 * waiting while recent groups held one request (waiting one group in 16, and for a request that came in the
 * millisecond of an unwaited group) −1.22 and −0.75 in two runs (lower in 5 and 4 of 6). But without the wait a
 * producer arriving while a commit is in flight looks like a lone one: concurrent produces a few milliseconds apart
 * were written as groups of one (batch-cache.test.ts's property run, whose concurrent requests then never shared a
 * group). It needs a cheaper sign that a commit is still in flight than waiting for it.
 */

import { assert } from "../shared/assert.ts";
import { APPEND_GROUP_SIZES_RECENT } from "../shared/limits.ts";

interface Waiting<Req, Res> {
	readonly request: Req;
	readonly weight: number;
	readonly resolve: (result: Res) => void;
	readonly reject: (cause: unknown) => void;
}

export interface CommitQueueOptions<Req, Res> {
	/** Writes a group in order, in one transaction, and answers one result per request, in the same order. */
	readonly write: (requests: readonly Req[]) => readonly Res[];
	/**
	 * A request's answer when its group's `write` threw (its transaction rolled back) or a commit before it failed
	 * (nothing queued can be written), given the cause: a result, not a rejection, which workerd reports as uncaught
	 * from a Durable Object's method even when its caller catches it.
	 */
	readonly failed: (request: Req, cause: unknown) => Res;
	/** Resolves when everything written so far is durable (`ctx.storage.sync()`). */
	readonly durable: () => Promise<void>;
	/** A request's size (bytes), so a group stays under `groupWeightMax`; the first request of a group always fits. */
	readonly weigh: (request: Req) => number;
	readonly groupRequestsMax: number;
	readonly groupWeightMax: number;
	/**
	 * When producers arrive concurrently (recent groups held more than one request), a group waits up to this long
	 * for them before it is written: fewer, larger groups. Until as many are queued as the largest recent group held it
	 * waits on one timer; from then on turn by turn, only while each turn of the event loop brings more. Timers are
	 * one per group plus one per turn that brought requests, never one per request. A lone producer never waits: its
	 * groups hold one request.
	 */
	readonly lingerMs: number;
}

export class CommitQueue<Req, Res> {
	#waiting: Waiting<Req, Res>[] = [];
	/** The weights of `waiting`, summed. */
	#waitingWeight = 0;
	/** A group is lingering, being written or being committed: a request that arrives now waits for it. */
	#committing = false;
	/** The pending end of a linger (see `lingerMs`), or null. */
	#lingering: ReturnType<typeof setTimeout> | null = null;
	/** While a linger waits turn by turn (see `lingerByTurns`): how many were queued when the turn began; else null. */
	#lingerTurns: number | null = null;
	/** When the current linger ends at the latest (ms since the epoch). */
	#lingerEndsMs = 0;
	/** Sizes of the last `APPEND_GROUP_SIZES_RECENT` groups, and the largest of them (at least one): see `expected`. */
	readonly #recent: number[] = [];
	#recentMax = 1;

	readonly #options: CommitQueueOptions<Req, Res>;

	constructor(options: CommitQueueOptions<Req, Res>) {
		this.#options = options;
	}

	/** Queues `request` and answers its result once its group is written (and, by the output gate, committed). */
	submit(request: Req): Promise<Res> {
		return new Promise<Res>((resolve, reject) => {
			let weight: number;
			try {
				weight = this.#options.weigh(request);
			} catch (cause) {
				// A bug: answered as a failed write is, never a rejection (see `failed`).
				console.error(cause);
				resolve(this.#options.failed(request, cause));
				return;
			}
			this.#waiting.push({ request, weight, resolve, reject });
			this.#waitingWeight += weight;
			if (this.#lingering === null) {
				if (!this.#committing) this.#startNext();
			} else if (this.#full()) this.#endLinger();
			else if (this.#lingerTurns === null && this.#waiting.length >= this.#expected()) this.#lingerByTurns();
		});
	}

	/** Starts the next group: at once, or after a linger when more requests are expected than are queued. */
	#startNext(): void {
		if (this.#waiting.length === 0) {
			this.#committing = false;
			return;
		}
		const expected = this.#expected();
		if (this.#options.lingerMs <= 0 || expected <= 1 || this.#full()) {
			this.#writeNext();
			return;
		}
		// Nothing is written while lingering, but nothing may start another group either.
		this.#committing = true;
		this.#lingerEndsMs = Date.now() + this.#options.lingerMs;
		if (this.#waiting.length >= expected) this.#lingerByTurns();
		else this.#lingering = setTimeout(() => this.#endLinger(), this.#options.lingerMs);
	}

	/**
	 * As many as expected are queued: the group waits one turn of the event loop at a time for more, while each turn
	 * brings some (and the linger has time left), so producers still on their way join it rather than the next.
	 */
	#lingerByTurns(): void {
		if (this.#lingering !== null) clearTimeout(this.#lingering);
		this.#lingerTurns = this.#waiting.length;
		this.#lingering = setTimeout(() => this.#turnEnded(), 0);
	}

	#turnEnded(): void {
		const arrived = this.#waiting.length > (this.#lingerTurns ?? 0);
		if (arrived && Date.now() < this.#lingerEndsMs) this.#lingerByTurns();
		else this.#endLinger();
	}

	#writeNext(): void {
		const group = this.#takeGroup();
		if (group.length === 0) {
			this.#committing = false;
			return;
		}
		this.#committing = true;
		this.#recent.push(group.length);
		if (this.#recent.length > APPEND_GROUP_SIZES_RECENT) this.#recent.shift();
		this.#recentMax = Math.max(1, ...this.#recent);
		let results: readonly Res[] | undefined;
		try {
			results = this.#options.write(group.map((w) => w.request));
			assert(results.length === group.length, "result per request");
		} catch (cause) {
			// The writer logs its own failure; a count that disagrees is logged here. Either way every request is answered.
			if (results) console.error(cause);
			this.#fail(group, cause);
			this.#awaitCommit();
			return;
		}
		group.forEach((w, i) => {
			w.resolve(results[i] as Res);
		});
		this.#awaitCommit();
	}

	/**
	 * Whatever queued while this commit was in flight becomes the next group once it is durable. A `durable` that throws
	 * (only a bug in it could) is a commit that failed: else the queue would stay `committing`, every request after it waiting.
	 */
	#awaitCommit(): void {
		let commit: Promise<void>;
		try {
			commit = this.#options.durable();
		} catch (cause) {
			commit = Promise.reject(cause);
		}
		commit.then(
			() => this.#startNext(),
			(cause: unknown) => {
				// The storage failed: nothing queued can be written; the runtime resets the object. Logged here, as nothing
				// else sees it (the writer logs only a write that threw).
				console.error(cause);
				const failed = this.#waiting;
				this.#waiting = [];
				this.#waitingWeight = 0;
				this.#committing = false;
				this.#fail(failed, cause);
			},
		);
	}

	/**
	 * Answers each request of `group` with `failed`; one whose `failed` threw (a bug) with that throw, logged: the rest
	 * are still answered, and the queue goes on, where the throw would have left them waiting and the queue stuck.
	 */
	#fail(group: readonly Waiting<Req, Res>[], cause: unknown): void {
		for (const w of group) {
			try {
				w.resolve(this.#options.failed(w.request, cause));
			} catch (thrown) {
				console.error(thrown);
				w.reject(thrown);
			}
		}
	}

	#endLinger(): void {
		if (this.#lingering !== null) clearTimeout(this.#lingering);
		this.#lingering = null;
		this.#lingerTurns = null;
		this.#writeNext();
	}

	/** Requests the next group is expected to hold: as many as the largest recent group (at least one). */
	#expected(): number {
		return Math.min(this.#options.groupRequestsMax, this.#recentMax);
	}

	/** Whether what is queued already fills a group. */
	#full(): boolean {
		if (this.#waiting.length >= this.#options.groupRequestsMax) return true;
		return this.#waitingWeight >= this.#options.groupWeightMax;
	}

	#takeGroup(): Waiting<Req, Res>[] {
		let count = 0;
		let weight = 0;
		for (const w of this.#waiting) {
			if (count > 0 && (count >= this.#options.groupRequestsMax || weight + w.weight > this.#options.groupWeightMax)) break;
			count++;
			weight += w.weight;
		}
		this.#waitingWeight -= weight;
		return this.#waiting.splice(0, count);
	}
}
