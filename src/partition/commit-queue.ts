/**
 * @module
 * Group commit, as databases do it for their log: a request that arrives while the previous group is being
 * committed waits, and every request waiting when that commit completes is written as the next group, by one
 * synchronous `write` (one transaction). A request that finds the queue idle is written at once: a lone producer
 * pays no added latency. Each request is answered with its own result; the caller's output gate holds the answer
 * until the group's commit is durable. Pure: the partition passes its writer and `storage.sync()`.
 */

import { assert } from "../shared/assert.ts";

interface Waiting<Req, Res> {
	readonly request: Req;
	readonly weight: number;
	readonly resolve: (result: Res) => void;
	readonly reject: (cause: unknown) => void;
}

export interface CommitQueueOptions<Req, Res> {
	/** Writes a group in order, in one transaction, and answers one result per request, in the same order. */
	readonly write: (requests: readonly Req[]) => readonly Res[];
	/** Resolves when everything written so far is durable (`ctx.storage.sync()`). */
	readonly durable: () => Promise<void>;
	/** A request's size (bytes), so a group stays under `groupWeightMax`; the first request of a group always fits. */
	readonly weigh: (request: Req) => number;
	readonly groupRequestsMax: number;
	readonly groupWeightMax: number;
}

export class CommitQueue<Req, Res> {
	private waiting: Waiting<Req, Res>[] = [];
	private committing = false;
	/** Groups written and the requests in them, since this object started: how much commits were shared. */
	readonly stats = { groups: 0, requests: 0, largestGroup: 0 };

	constructor(private readonly options: CommitQueueOptions<Req, Res>) {}

	/** Queues `request` and answers its result once its group is written (and, by the output gate, committed). */
	submit(request: Req): Promise<Res> {
		return new Promise<Res>((resolve, reject) => {
			this.waiting.push({ request, weight: this.options.weigh(request), resolve, reject });
			if (!this.committing) this.writeNext();
		});
	}

	/** Requests queued behind the commit in flight. */
	get queued(): number {
		return this.waiting.length;
	}

	private writeNext(): void {
		const group = this.takeGroup();
		if (group.length === 0) {
			this.committing = false;
			return;
		}
		this.committing = true;
		this.stats.groups++;
		this.stats.requests += group.length;
		this.stats.largestGroup = Math.max(this.stats.largestGroup, group.length);
		let results: readonly Res[];
		try {
			results = this.options.write(group.map((w) => w.request));
		} catch (cause) {
			for (const w of group) w.reject(cause);
			this.awaitCommit();
			return;
		}
		assert(results.length === group.length, "one result per request of a group");
		group.forEach((w, i) => {
			w.resolve(results[i] as Res);
		});
		this.awaitCommit();
	}

	/** Whatever queued while this commit was in flight becomes the next group once it is durable. */
	private awaitCommit(): void {
		this.options.durable().then(
			() => this.writeNext(),
			(cause: unknown) => {
				// The storage failed: nothing queued can be written; the runtime resets the object.
				const failed = this.waiting;
				this.waiting = [];
				this.committing = false;
				for (const w of failed) w.reject(cause);
			},
		);
	}

	private takeGroup(): Waiting<Req, Res>[] {
		let count = 0;
		let weight = 0;
		for (const w of this.waiting) {
			if (count > 0 && (count >= this.options.groupRequestsMax || weight + w.weight > this.options.groupWeightMax)) break;
			count++;
			weight += w.weight;
		}
		return this.waiting.splice(0, count);
	}
}
