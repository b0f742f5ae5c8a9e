/**
 * @module
 * Who follows a partition's log as it grows, besides readers waiting in a long poll (waiters.ts): the WebSocket tails
 * (tail.ts: accepted with the hibernation API, pushed every append) and the append watchers (webhook dispatchers that
 * sleep until the log holds an offset they asked for, then get one poke). Apart from the log's writes: the log tells
 * it when a group committed (`committed`), and asks whether anyone follows (`following`), so the batch cache keeps
 * a group's batches as they are.
 */

import { hasQuota, payLive } from "../auth/live-quota.ts";
import { assert } from "../shared/assert.ts";
import { bare, caughtFailure, type DomainError, type Failure, ok, type Result } from "../shared/errors.ts";
import { TAIL_RESUME_MS } from "../shared/limits.ts";
import { keyAuthority, webhookDispatcher } from "../shared/stubs.ts";
import {
	acknowledge,
	keyTag,
	pushTail,
	sendsInBackground,
	TAIL_CLOSE,
	type TailLog,
	type TailSource,
	type TailState,
	tailCapacity,
} from "./tail.ts";
import type { LogView } from "./types.ts";

export interface FollowersOptions {
	readonly ctx: DurableObjectState;
	readonly env: Env;
	readonly view: LogView;
	/** What a tail reads: the view, local reads, reads across R2 (paying a key's fetch quota is added here). */
	readonly tailLog: TailSource;
	/** Null when `topicId` is this partition's (or it is not configured yet); the refusal otherwise. */
	readonly identity: (topicId: string) => Failure | null;
	/** Null when `offset` is inside the log; the refusal otherwise. */
	readonly range: (offset: number) => Failure | null;
	/** This partition's number, for log lines (−1 before it is configured). */
	readonly partition: () => number;
	/** Has the object's alarm come by `atMs` at the latest; the alarm pushes every tail (`committed`). */
	readonly alarmBy: (atMs: number) => void;
}

export class Followers {
	/**
	 * Keys revoked while this object is in memory: a tail whose registration raced the revocation is refused by
	 * this check after it registered. An eviction forgets it, but also ends any registration in flight.
	 */
	readonly #revokedKeys = new Set<string>();
	/** `append_watchers`, in memory: watcher → the offset past which it wants a poke. */
	readonly #watchers = new Map<string, number>();
	/** Watchers with a poke in flight, so a burst of appends sends one. */
	readonly #poking = new Set<string>();
	/**
	 * At least the number of WebSocket tails open here: set from the runtime's list when the object starts (a wake
	 * from hibernation included) and after each group, raised on each accept, so a group on a partition without
	 * tails (the usual case) does not ask the runtime for its sockets. Never below the true count: a close is
	 * learned from the list, never guessed.
	 */
	#tailsOpenMax: number;
	private readonly tailLog: TailLog;

	constructor(private readonly o: FollowersOptions) {
		this.#tailsOpenMax = o.ctx.getWebSockets().length;
		// While a tail sends in the background (reads from R2, or pays for its messages), the alarm comes at least every
		// `TAIL_RESUME_MS`: set when a send starts, and again after each group and each alarm run while one is in
		// flight (`committed`). Should the object be evicted meanwhile, the alarm pushes the tail on from its attachment.
		this.tailLog = {
			...o.tailLog,
			background: (work) => {
				o.alarmBy(Date.now() + TAIL_RESUME_MS);
				o.tailLog.background(work);
			},
			payFetch: (keyId, bytes, wanted) => payLive(o.env, keyId, "fetch_bytes_per_sec", bytes, wanted),
			hasFetchQuota: (keyId) => hasQuota(o.env, keyId, "fetch_bytes_per_sec"),
		};
	}

	/** Reads the stored watchers (one per topic's webhook dispatcher): after a start, a rollback or a deletion. */
	load(): void {
		this.#watchers.clear();
		const rows = this.o.ctx.storage.sql.exec<{ watcher: string; from_offset: number }>("SELECT watcher, from_offset FROM append_watchers");
		for (const w of rows) this.#watchers.set(w.watcher, w.from_offset);
	}

	/** Whether a watcher or a WebSocket tail waits at the tail of the log. */
	following(): boolean {
		if (this.#watchers.size > 0) return true;
		return this.#tailsOpenMax > 0 && this.o.ctx.getWebSockets().length > 0;
	}

	/** After a group's commit: every tail is pushed what it has not seen, and watchers the log grew past are poked. */
	committed(): void {
		if (this.#tailsOpenMax > 0) {
			const tails = this.o.ctx.getWebSockets();
			this.#tailsOpenMax = tails.length;
			// An alarm run's reschedule knows only the log's own work: a send still in flight needs its alarm again.
			if (tails.some(sendsInBackground)) this.o.alarmBy(Date.now() + TAIL_RESUME_MS);
			for (const ws of tails) pushTail(ws, this.tailLog);
		}
		this.#pokeWatchers();
	}

	/**
	 * A WebSocket tail (`GET …/records` with `Upgrade: websocket`, forwarded by the edge after it validated the
	 * request): accepted with the hibernation API, sent the backlog from `offset`, then pushed every append. Whatever
	 * throws in it (a bug, the key's authority's call, the runtime refusing the socket) is a refusal answered, as the
	 * others: thrown, it would reject this fetch. The edge answers it by its code (500 for `internal`), whatever the
	 * status here.
	 */
	openTail(request: Request): Promise<Response> {
		return this.#openTail(request).catch((cause: unknown) => refusal(caughtFailure(cause).error, 503));
	}

	async #openTail(request: Request): Promise<Response> {
		const { ctx, env, view } = this.o;
		const url = new URL(request.url);
		const topicId = url.searchParams.get("topic_id") ?? "";
		const keyId = url.searchParams.get("key_id");
		const refusedFirst = this.o.identity(topicId) ?? tailCapacity(ctx.getWebSockets().length);
		if (refusedFirst !== null) return refusal(refusedFirst.error, 409);
		if (keyId !== null) {
			// Registered with the key's authority before it is accepted, so revoking the key closes it.
			// The edge names the partition: an object not configured yet does not know its own number.
			const partition = Number(url.searchParams.get("partition"));
			assert(Number.isSafeInteger(partition) && partition >= 0, "tail partition");
			const alive = await keyAuthority(env, keyId).watchTail(keyId, topicId, partition);
			if (typeof alive === "object") return refusal(alive.error, 503);
			if (!alive || this.#revokedKeys.has(keyId)) {
				return Response.json({ error: { code: "unauthorized", message: "invalid credentials" } }, { status: 401 });
			}
			// The wait let other events in: the topic may be gone, or the tails full, by now.
			const refusedAfter = this.o.identity(topicId) ?? tailCapacity(ctx.getWebSockets().length);
			if (refusedAfter !== null) return refusal(refusedAfter.error, 409);
		}
		const offsetParam = url.searchParams.get("offset");
		const offset = offsetParam === null || offsetParam === "" ? view.logStartOffset : Number(offsetParam);
		const range = this.o.range(offset);
		if (range !== null) return refusal(range.error, 416);
		const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
		// The edge names whose fetch quota, if any, each message pays (`fetch_payer`: a key, or anonymous, which has no key_id).
		const payer = url.searchParams.get("fetch_payer");
		const paying = payer === null ? {} : { payer };
		// Its state first: a socket accepted without it would stay listed, never pushed, counting against the tails' cap.
		server.serializeAttachment({ topicId, next: offset, acked: offset, unackedBytes: 0, ...paying } satisfies TailState);
		ctx.acceptWebSocket(server, keyId === null ? [] : [keyTag(keyId)]);
		this.#tailsOpenMax++;
		pushTail(server, this.tailLog);
		return new Response(null, { status: 101, webSocket: client });
	}

	/** A tail's message: an acknowledgement, after which a catch-up from R2 paused for acknowledgements resumes. */
	tailMessage(ws: WebSocket, message: string | ArrayBuffer): void {
		acknowledge(ws, message);
		pushTail(ws, this.tailLog);
	}

	/**
	 * Asks for a poke (`WebhookDispatcher.poke`) once the log holds an offset at or past `fromOffset`, so an idle
	 * dispatcher can sleep rather than long-poll. `behind: true` when it already does (no watch is kept then).
	 */
	watch(topicId: string, watcher: string, fromOffset: number): Result<{ behind: boolean }> {
		const identity = this.o.identity(topicId);
		if (identity !== null) return identity;
		if (this.o.view.nextOffset > fromOffset) return ok({ behind: true });
		this.o.ctx.storage.sql.exec(
			"INSERT INTO append_watchers (watcher, from_offset) VALUES (?, ?) ON CONFLICT (watcher) DO UPDATE SET from_offset = excluded.from_offset",
			watcher,
			fromOffset,
		);
		this.#watchers.set(watcher, fromOffset);
		return ok({ behind: false });
	}

	/** Closes every tail key `keyId` opened here, and refuses any it is opening: the key was revoked. */
	revoke(keyId: string): void {
		this.#revokedKeys.add(keyId);
		for (const ws of this.o.ctx.getWebSockets(keyTag(keyId))) ws.close(TAIL_CLOSE.keyRevoked, "the API key was revoked");
	}

	/** Whether key `keyId` has a tail open here (for its authority's pruning). */
	hasTailsOf(keyId: string): boolean {
		return this.o.ctx.getWebSockets(keyTag(keyId)).length > 0;
	}

	/** Closes every tail: the topic was deleted. */
	closeAll(): void {
		for (const ws of this.o.ctx.getWebSockets()) ws.close(TAIL_CLOSE.topicDeleted, "the topic was deleted");
	}

	/** Pokes each watcher the log has grown past; its row goes once the poke succeeded (a failed one is retried next append). */
	#pokeWatchers(): void {
		const { ctx, env, view } = this.o;
		for (const [watcher, fromOffset] of this.#watchers) {
			if (view.nextOffset <= fromOffset || this.#poking.has(watcher)) continue;
			this.#poking.add(watcher);
			const poke = webhookDispatcher(env, watcher)
				.poke()
				.then((answer) => {
					bare(answer); // a failure is tried again at the next append, as a rejection is
					if (this.#watchers.get(watcher) !== fromOffset) return; // watching again, from a later offset
					this.#watchers.delete(watcher);
					ctx.storage.sql.exec("DELETE FROM append_watchers WHERE watcher = ? AND from_offset = ?", watcher, fromOffset);
				})
				.catch((cause: unknown) => console.warn(`partition ${this.o.partition()}: poke of ${watcher} failed: ${String(cause)}`))
				.finally(() => this.#poking.delete(watcher));
			ctx.waitUntil(poke);
		}
	}
}

/**
 * A refused tail, answered to the edge (`tailRecords`), which throws it as the error it names: the error's details
 * sit beside its code and message, as the edge renders every error, not in a `details` member of their own.
 */
function refusal({ code, message, details }: DomainError, status: number): Response {
	return Response.json({ error: { code, message, ...details } }, { status });
}
