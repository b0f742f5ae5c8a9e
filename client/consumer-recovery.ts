/**
 * @module
 * A group member's own leaves, apart from the membership they act on: the `onRevoke` a leave runs first (a close's,
 * or a recovery's), once per member, and the recovery from a poll that may have been served: `onRevoke` while
 * the member still owns its partitions, then a leave, then the loop's next poll joins again and carries what the loop
 * had processed (`MemberRecovery`). What a failed poll means is `pollFailure`'s. The membership itself, and the calls,
 * are `GroupMember`'s, in consumer-member.ts, which these reach through `RecoveryHost`.
 */

import type { TopicPartition } from "./admin.ts";
import type { RebalanceCallbacks } from "./consumer-callbacks.ts";
import { POLL_UNSENT_CODES } from "./consumer-calls.ts";
import type { ConsumerOptions } from "./consumer-options.ts";
import { TributaryError } from "./errors.ts";
import { backoffMs, mayHaveLanded, provedUnsent } from "./http.ts";

/** One membership of the group: the id the broker gave it, and the generation it follows. */
export interface Member {
	readonly id: string;
	generation: number;
}

/**
 * Whether a member call's refusal says the membership it was made for is no longer in the group: removed (its
 * session ran out, it left, it was removed) or its group deleted. The one test of the poll, the commit, the heartbeat
 * and the leave; nothing else proves it (a fence is a gone membership too, but stops the consumer: `#stopIfFenced`).
 */
export function membershipGone(error: unknown): boolean {
	return error instanceof TributaryError && (error.code === "unknown_member" || error.code === "group_not_found");
}

/**
 * The error a consumer replaced by another with its `instanceId` stops with, made of the broker's `fenced_instance`
 * refusal (`error`); null for any other error.
 */
export function staticFence(error: unknown, instanceId: string | undefined, group: string): TributaryError | null {
	if (!(error instanceof TributaryError) || error.code !== "fenced_instance") return null;
	const message = `static consumer fenced: another consumer with instanceId "${instanceId}" joined group "${group}" and took the instance; this one stops (${error.message})`;
	return new TributaryError("fenced_instance", message, { status: error.status, details: error.details, cause: error });
}

/**
 * What a failed poll (its retries spent) says of the membership, by the SDK's one rule (`mayHaveLanded`, with the
 * poll's `POLL_UNSENT_CODES`): `lost` (removed, or the group deleted meanwhile: join again); `answer_lost` (it may have
 * been served: no answer, a 5xx that proves nothing, wrangler dev's `not_forwarded`, an answer not the API's; the
 * broker may have moved the member's positions past records it never got, so leave and join again); `unsent` (it
 * proves the poll was not served: a 429, a 503 `unavailable` or `partition_unavailable`; back off and poll again as the
 * same member, no rebalance); or `other` (thrown to the loop: a refusal, or one the same poll meets again, `retriable:
 * false`, such as a 503 `not_configured`).
 */
export type PollFailure = "lost" | "answer_lost" | "unsent" | "other";

export function pollFailure(error: TributaryError): PollFailure {
	if (membershipGone(error)) return "lost";
	if (mayHaveLanded(error, POLL_UNSENT_CODES)) return "answer_lost";
	return error.retriable && provedUnsent(error, POLL_UNSENT_CODES) ? "unsent" : "other";
}

/**
 * The wait before a member polls again after a poll that was not served (`pollFailure`'s `unsent`): the HTTP retries'
 * backoff, growing with each such poll in a row and honouring `Retry-After`. The poll itself is sent once (its
 * proved-unsent refusals are waited here, not in `Http.request`'s retries): the member keeps its membership meanwhile
 * (its heartbeat goes on: `waiting`). A close cuts the wait short, and no wait starts after it (a poll under way when
 * the close came may be refused after the cut): it need not sit one out.
 */
export class PollBackoff {
	#inARow = 0;
	#cut: (() => void) | null = null;
	#stopped = false;

	/** Whether a wait is under way. */
	get waiting(): boolean {
		return this.#cut !== null;
	}

	wait(error: TributaryError): Promise<void> {
		if (this.#stopped) return Promise.resolve();
		const ms = backoffMs(this.#inARow++, error.details.retry_after_ms);
		return new Promise((resolve) => {
			const timer = setTimeout(() => this.#cut?.(), ms);
			this.#cut = () => {
				clearTimeout(timer);
				this.#cut = null;
				resolve();
			};
		});
	}

	/** A poll was served: the next refusal waits the shortest again. */
	served(): void {
		this.#inARow = 0;
	}

	/** Ends the wait under way, if any, and any later one before it starts (a close). */
	cut(): void {
		this.#stopped = true;
		this.#cut?.();
	}
}

/** What a recovery needs of the membership it leaves. */
export interface RecoveryHost {
	/** Whether `member` is still this consumer's membership. */
	isMember(member: Member): boolean;
	/** Whether the consumer closes (`GroupMember.leave()` was called): its leave is the close's. */
	closing(): boolean;
	/** The partitions the membership owns now. */
	owned(): TopicPartition[];
	/** Drops the membership, keeping what the loop moved past to be committed by the next member. */
	dropKeepingProcessed(): void;
	/** Sends `member`'s leave. */
	leave(member: Member): Promise<unknown>;
}

export class MemberRecovery {
	readonly #host: RecoveryHost;
	readonly #callbacks: RebalanceCallbacks;
	readonly #options: Pick<ConsumerOptions, "onRevoke">;
	readonly #autoCommit: boolean;
	/**
	 * The `onRevoke` of a member leaving, a close's or a recovery's (`revokeBeforeLeave`): run once per member, whoever
	 * asks first, and awaited by the other. While it runs, a close awaited there would wait for itself (`Consumer.close`).
	 */
	#revoke: { readonly member: Member; running: boolean; done: Promise<void> } | null = null;
	/**
	 * Set from a failed poll until its recovery's `onRevoke` ran and the member left (`start`); for good once that
	 * `onRevoke` threw, so the loop awaits the callbacks, which reject with that error, instead of polling on.
	 */
	#recovering = false;
	/** The DELETE of a recovery's leave under way: a close's leave waits for it, so `closed` means left. */
	#leave: Promise<unknown> | null = null;
	/** Set by a recovery from a failed poll: the next poll carries what was processed, whatever the commit mode. */
	carryKept = false;
	/** Set by that recovery and by an answer skipping a generation: kept offsets are checked against the group's commits first. */
	checkKept = false;

	constructor(host: RecoveryHost, callbacks: RebalanceCallbacks, options: Pick<ConsumerOptions, "onRevoke">, autoCommit: boolean) {
		this.#host = host;
		this.#callbacks = callbacks;
		this.#options = options;
		this.#autoCommit = autoCommit;
	}

	/** Whether a recovery from a failed poll is under way: the loop polls again once the callbacks ran (`start`). */
	get recovering(): boolean {
		return this.#recovering;
	}

	/** Whether `onRevoke` runs on the partitions a leave gives up (a close's, or a recovery's: `start`). */
	get revoking(): boolean {
		return this.#revoke?.running === true;
	}

	/** The DELETE of a recovery's leave, while under way or once answered (never rejects); null before any. */
	get leaving(): Promise<unknown> | null {
		return this.#leave;
	}

	/** Whether `member`'s leave ran its `onRevoke` (or runs it): callbacks queued for it since are not run. */
	revokedOnLeave(member: Member | null): boolean {
		return member !== null && this.#revoke?.member === member;
	}

	/**
	 * Runs `onRevoke` on what a leave gives up while the member still owns it, as Kafka's onPartitionsRevoked before
	 * the leave: a commit() there stores what the loop moved past, and a close() there returns at once. Once per
	 * member: a close during a recovery's leave awaits the callback that one runs, queued or under way.
	 */
	revokeBeforeLeave(member: Member, partitions: TopicPartition[]): Promise<void> {
		if (this.#revoke?.member === member) return this.#revoke.done;
		if (partitions.length === 0) return Promise.resolve();
		const revoke = { member, running: true, done: Promise.resolve() };
		this.#revoke = revoke;
		revoke.done = (async () => {
			try {
				await this.#options.onRevoke?.(partitions);
			} finally {
				revoke.running = false;
			}
		})();
		return revoke.done;
	}

	/**
	 * A poll of `member` whose answer was lost: the broker may have moved this member's positions past records it
	 * never got, so it starts again from the committed offsets under a new member id. What the loop processed is kept,
	 * and the next member's first poll commits it on the partitions it gets back (where no other member's commit
	 * overtook it meanwhile: `checkKept`), so only what was never processed is read again. Kafka revokes nothing on a
	 * failed poll; this consumer leaves on its own, as on close(): onRevoke runs on what the member owns while it still
	 * owns it (a commit() there stores what the loop moved past under it), then it leaves. Queued, not awaited here: a
	 * close() awaited in a callback waits for this poll. The loop waits for it (`recovering`). Behind every callback,
	 * those a rebalance followed while it waited queued too (`queueLast`): they ran for this member, so its onRevoke,
	 * given what it owns then, revokes each partition once per ownership, one given back meanwhile after its onAssign.
	 */
	start(member: Member): void {
		this.#recovering = true;
		this.#callbacks.queueLast(async () => {
			// Not if lost meanwhile; once with a close's leave (which leaves instead, once it returned). One that
			// throws ends the loop (`recovering` stays set), whose close leaves as this member.
			// No await when it owns nothing: a rebalance followed in that await would queue an onAssign nothing revokes.
			const owned = this.#host.isMember(member) ? this.#host.owned() : [];
			if (owned.length > 0) await this.revokeBeforeLeave(member, owned);
			try {
				if (!this.#host.isMember(member) || this.#host.closing()) return;
				this.#host.dropKeepingProcessed();
				this.carryKept = this.#autoCommit;
				this.checkKept = true;
				this.#leave = this.#host.leave(member).catch(() => {});
				await this.#leave;
			} finally {
				this.#recovering = false;
			}
		});
	}
}
