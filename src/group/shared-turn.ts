/**
 * @module
 * One turn that calls arriving close together wait for, so that their writes run in the same turn of the
 * event loop. workerd commits the writes of one turn together (the output gate holds each answer until then), and
 * under Miniflare a commit costs far more than its statements: on a bare Durable Object, server CPU per call of one
 * UPSERT in its own transaction was 365–373 µs (medians of 8 rounds of 2,000 calls, 1 and 4 callers), 170 µs when
 * 4 callers waited for a shared turn first, and 90 µs for a call that writes nothing. A caller alone pays the wait
 * and gains nothing (395 µs), so the coordinator waits only when another member may be writing too.
 *
 * What else a commit costs under Miniflare: workerd fsyncs the object's WAL on its main thread, the one its event loop
 * runs the edge and every object on, so while it does no member's read, splice or answer runs. strace on the workerd of
 * `npm run bench:profile -- group` (4 members, a commit carried by every poll): about two pwrite64 and one fsync per
 * storage commit (those traced one by one: the coordinator's -wal file), 0.51 fsyncs a poll (144 in 5 s, at the
 * profiler's 56 polls/s), 1.76 ms each; bench:ab's servers filling their backlog at load 12-15 waited 3.3-7.1 ms a
 * fsync. Whether that is the group's "waiting" against a plain fetch (which writes nothing) is not settled: A/A runs of
 * bench:ab group-4m-4p (AB_UNCOUPLED) read 7,756-8,192 records/s a build at 9-11 % busy with their data on disk (1
 * round, load 12), and 5,637-6,788 at 7-8 % with it on tmpfs (2 rounds, load 20-29; TMPDIR=/dev/shm, no fsync to wait
 * for): there the machine, not the disk, held the servers back. Nor does a bound, on the same terms at load 10-23, with
 * no poll carrying its commit (no commit turn at all; not a change to keep): records/s 114.1 % (93.9 to 165.1 %, 3
 * rounds), -0.64 µs/record (-1.56 to +0.62). Measure again on a quiet machine before building on it.
 *
 * Why few calls share a turn: one thread serves the edge and the objects, so a timer turn ends only after whatever
 * the isolate was busy with (a member's poll reading 500 records, say), and the members' calls come apart in time.
 * Counted in a one-off build (4 members, 4 partitions, load 4-7): polls carrying commits arrived 5-20+ ms after the
 * previous turn ended and shared 1.5-1.7 calls per turn; commit requests between polls 1.24. So the turn goes on,
 * one timer turn at a time, while each brings more callers (up to `lingerMs`), and ends at once when every member
 * is waiting (no one else can join). Measured on commit requests alone (4 members in closed loops, both builds
 * served at once, 6 alternating rounds, load 4.5-6.6), server CPU per request against one timer turn: -37 µs
 * (-2.5 %) median, lower in 6 of 6; again -30 µs (-1.7 %), lower in 4 of 6, at 2.0-2.4 calls per turn against
 * 1.7-2.3. Measured and dropped: no wait at all (workerd's own write coalescing only), +201 µs per request (+8.3 %,
 * higher in 6 of 6); ending early alone, +25 µs (lower in 2 of 6: no gain, but it spares the going on its last
 * timer turn); going on alone, -30 µs (lower in 4 of 6). In the poll + commit loop the rule shares 1.7-1.9 calls per
 * turn against 1.5-1.7 and leaves CPU per record unchanged (-0.2 %, 4 rounds): a commit is a small part of a poll.
 *
 * Measured and dropped: the turn lasting `lingerMs` from its first caller unless every member is waiting (no early
 * end on a quiet timer turn), bench:ab against this rule, each build's members on their own (AB_UNCOUPLED): group-4m-4p
 * -0.61 µs/record of ~6.5 (-1.48 to +0.26, lower in 5 of 6), records/s 106.1 % (86.5 to 111.6 %, higher in 5 of 6);
 * group-4m-4p-partitions -0.26 of ~7.5 (-0.48 to +0.29, lower in 3 of 6), records/s 91.1 % (higher in 2 of 6) at
 * load 4-10, then -0.32 of ~4.6 (lower in 4 of 4), records/s 102.5 % (higher in 3 of 4) at load ~3; but
 * group-4m-4p-commit-request -0.06 of ~7.0 (-0.18 to +0.95, lower in 2 of 4), records/s 95.3 % (86.3 to 101.6 %,
 * higher in 1 of 4): a commit request waits the whole linger. Nor that for polls carrying a commit only (a turn with
 * a commit request in it ends on a quiet timer turn again; the commit "Group poll: a shared commit turn of polls
 * carrying a commit lasts its whole linger", reverted, with its test), on the same terms, group-4m-4p at load 4-14:
 * records/s 86.4 % (71.4 to 106 %, higher in 2 of 6), -0.53 µs/record of ~10.5 (-0.74 to +2.56, lower in 3 of 6);
 * again at load 0.3-3.2: records/s 96.9 % (94.1 to 100 %, higher in 0 of 6), +0.05 of ~5.3 (-0.04 to +0.24, lower
 * in 1 of 6); group-4m-4p-commit-request (no poll carries a commit: the turns are this rule's) records/s 100.1 %
 * (96.6 to 103.8 %, higher in 4 of 6), -0.14 of ~9.0 (lower in 3 of 6). Polls that wait out the linger lose more
 * than the storage commits it spares. Nor no turn for a poll's carried commit:
 * group-4m-4p +0.42 µs/record of ~7.6 (higher in 6 of 6), records/s 87.8 % (lower in 5 of 6); each storage commit a
 * turn spares is worth more than the wait. Nor `lingerMs` 0 (one timer turn): +0.48, -1.68, +0.62, +1.66 in 4 rounds
 * at load 6-12.
 *
 * Measured and dropped: the turn's calls run in one transaction, each in a savepoint of it, to make sure they share
 * one SQLite commit. A bare object, 4 callers through Miniflare's HTTP, 8 rounds of 4,000 calls (load ~4), server
 * CPU per call: a transaction each 1,044 µs, one for the turn 1,057, no transaction 1,022, no write 581; under
 * strace the fsyncs per answer sent did not differ either (0.27-0.31). The cost is the storage commit itself.
 */

import { assert } from "../shared/assert.ts";

export class SharedTurn {
	#next: Promise<void> | null = null;
	#resolveNext: () => void = () => {};
	/** Callers waiting for the turn, and how many were waiting when its current timer turn began. */
	#waiting = 0;
	#waitingAtTimer = 0;
	#startedMs = 0;
	#timer: ReturnType<typeof setTimeout> | null = null;
	/** Turns that have ended so far (tests read it to see which calls shared one). */
	ended = 0;

	readonly #lingerMs: number;

	constructor(lingerMs: number) {
		assert(lingerMs >= 0, "linger >= 0");
		this.#lingerMs = lingerMs;
	}

	/**
	 * Resolves when the turn ends, together with every other call that waits before then: at once if `expected`
	 * callers are waiting, else after the next timer turn that brings no caller (or `lingerMs` after the first).
	 */
	wait(expected: number): Promise<void> {
		if (this.#next === null) {
			this.#next = new Promise((resolve) => {
				this.#resolveNext = resolve;
			});
			this.#waiting = 0;
			this.#waitingAtTimer = 1;
			this.#startedMs = Date.now();
			this.#timer = setTimeout(() => this.#timerTurnEnded(), 0);
		}
		const next = this.#next;
		if (++this.#waiting >= expected) this.#end();
		return next;
	}

	#timerTurnEnded(): void {
		const brought = this.#waiting > this.#waitingAtTimer;
		this.#waitingAtTimer = this.#waiting;
		if (brought && Date.now() - this.#startedMs < this.#lingerMs) this.#timer = setTimeout(() => this.#timerTurnEnded(), 0);
		else this.#end();
	}

	#end(): void {
		if (this.#timer !== null) clearTimeout(this.#timer);
		this.#timer = null;
		this.#next = null;
		this.ended++;
		this.#resolveNext();
	}
}
