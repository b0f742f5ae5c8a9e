/**
 * @module
 * A partition's tiered storage (after Kafka's KIP-405): closed stored batches, oldest first, go to R2 as segment
 * objects once local retention says so; the manifest (`remote_segments`) says which offsets each object holds.
 *
 * An offload is ordered so that a crash at any step loses nothing and leaves no offset readable twice or missing:
 * 1. read the batches (synchronously) and encode the segment;
 * 2. PUT it to R2 under a fresh key, and await R2's confirmation (a failure changes nothing: retried later);
 * 3. in one transaction, re-check the batches (retention or a topic deletion may have run during the await),
 *    insert the manifest row, delete the batches, move the local log start and the running totals.
 * A crash between 2 and 3 leaves an object no manifest row names: an orphan, deleted by the sweep once older than
 * `ORPHAN_GRACE_MS`. Retention drops manifest rows first and deletes their objects after that commit, so a
 * crash there leaves orphans too, never a manifest row without its object.
 */

import { assert } from "../../shared/assert.ts";
import {
	OFFLOAD_CHECK_INTERVAL_MS,
	OFFLOAD_RETRY_MS,
	OFFLOAD_SEGMENTS_PER_RUN,
	ORPHAN_GRACE_MS,
	ORPHAN_SWEEP_INTERVAL_MS,
	R2_KEYS_PER_CALL_MAX,
} from "../../shared/limits.ts";
import type { TopicConfig } from "../../shared/topic-config.ts";
import type { BatchCache } from "../batch-cache.ts";
import type { HeadBatch } from "../retention.ts";
import type { LogView } from "../types.ts";
import { commitOffload, dropExpiredSegments, manifestKeys, readSegmentSource, remoteHead } from "./manifest.ts";
import { encodeSegment, parseSegmentKey, segmentKey, segmentPrefix } from "./segment.ts";
import { offloadDueMs, type RemoteSegment } from "./tiering-plan.ts";

/** What tiered storage needs of its partition. */
export interface TieringHost {
	readonly storage: DurableObjectStorage;
	readonly view: LogView;
	/** The partition's hot batches: an offload deletes the rows it moved to R2. */
	readonly cache: BatchCache;
	/** The bucket segments go to (the `SEGMENTS` binding; tests may wrap it to inject failures). */
	bucket(): R2Bucket;
	/** Who this partition is while it is active; null otherwise (nothing is offloaded then). */
	identity(): { readonly topicId: string; readonly partition: number } | null;
	/** Runs in the transaction that deletes offloaded batch rows, before it: rows may name producers' batches. */
	beforeDeletingBatches(): void;
	/** Reads the partition's view back from SQLite (a rolled-back commit may have moved it already); never throws. */
	reload(): void;
}

/** How an offload attempt ended. */
type OffloadOutcome = "idle" | "committed" | "failed" | "raced";

/** A random, URL-safe suffix, so every attempt writes its own object and a retry never overwrites an orphan. */
function nonce(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(8));
	return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class TieredStorage {
	readonly #sql: SqlStorage;
	/** Objects whose manifest rows retention dropped, to delete after that commit. */
	#droppedKeys: string[] = [];
	/** How many of `droppedKeys` the open alarm transaction dropped: forgotten if it rolls back (`rolledBack`). */
	#droppedInRun = 0;
	/** The offload in flight, if any: one at a time, and `destroy` waits for it. */
	#inFlight: Promise<unknown> | null = null;
	/** After a failed PUT, no new attempt before this. */
	private retryAtMs: number | null = null;
	/** A run stopped at its step limit with work left. */
	#moreWork = false;
	/**
	 * Whether orphans may exist: true after a wake-up (a crash may have left one), after a failed PUT or delete, and
	 * while a pass found objects the manifest does not name; false after a full pass found none, so an idle
	 * partition is not woken to list its objects.
	 */
	private sweepNeeded = true;
	/** Where the orphan sweep goes on (an R2 list cursor), and when it is next due; null: at the next alarm. */
	#sweepCursor: string | undefined;
	private sweepDueMs: number | null = null;
	/** The current pass met objects the manifest does not name. */
	#sweepMetUnknown = false;
	/** The oldest remote segment, cached (it is read on every append for retention's due time); undefined: unknown. */
	#head: RemoteSegment | null | undefined;
	/** A field rather than the constant so tests can shorten it. */
	orphanGraceMs = ORPHAN_GRACE_MS;

	constructor(private readonly host: TieringHost) {
		this.#sql = host.storage.sql;
	}

	/** Whether part of the log lies in R2 (segments wholly below the log start count until retention drops them). */
	hasRemote(): boolean {
		return this.host.view.remoteBytes > 0;
	}

	/** The oldest remote segment (for retention's due time); null when nothing is remote. */
	remoteHead(): RemoteSegment | null {
		if (!this.hasRemote()) return null;
		if (this.#head === undefined) this.#head = remoteHead(this.#sql);
		return this.#head;
	}

	/** Retention over the remote segments; call inside the alarm's transaction, before local retention. */
	applyRetention(config: TopicConfig, nowMs: number): void {
		this.#moreWork = false;
		this.#droppedInRun = 0;
		if (!this.hasRemote()) return;
		const { droppedKeys, more } = dropExpiredSegments(this.#sql, this.host.view, config, nowMs);
		if (droppedKeys.length === 0) return;
		this.#head = undefined;
		this.#droppedKeys.push(...droppedKeys);
		this.#droppedInRun = droppedKeys.length;
		this.#moreWork = more;
	}

	/**
	 * The alarm's transaction that ran `applyRetention` rolled back: the manifest still names the segments it dropped,
	 * so they must not be deleted (the next run drops them again if they are still due).
	 */
	rolledBack(): void {
		this.#droppedKeys.splice(this.#droppedKeys.length - this.#droppedInRun, this.#droppedInRun);
		this.#droppedInRun = 0;
		this.#head = undefined;
	}

	/** After an append: when the alarm must come for an offload (a little later than due, to batch a burst). */
	afterAppendDueMs(head: HeadBatch | null, config: TopicConfig, nowMs: number): number | null {
		const due = offloadDueMs(head, this.host.view.storedBatches, this.host.view.totalBytes, config, nowMs);
		return due === null ? null : Math.max(due, nowMs + OFFLOAD_CHECK_INTERVAL_MS, this.retryAtMs ?? 0);
	}

	/** When tiered storage next has work: offload (or its retry), deletes, the sweep. Retention's is the lifecycle's. */
	dueMs(head: HeadBatch | null, config: TopicConfig, nowMs: number): number | null {
		const view = this.host.view;
		const offload = offloadDueMs(head, view.storedBatches, view.totalBytes, config, nowMs);
		const candidates = [
			this.#moreWork || this.#droppedKeys.length > 0 ? nowMs : null,
			offload === null ? null : Math.max(offload, this.retryAtMs ?? 0),
			this.sweepNeeded && this.#usesRemote(config) ? (this.sweepDueMs ?? nowMs + ORPHAN_SWEEP_INTERVAL_MS) : null,
		].filter((due): due is number => due !== null);
		return candidates.length === 0 ? null : Math.min(...candidates);
	}

	/** The alarm's asynchronous part: delete dropped objects, offload what is due (bounded), sweep orphans. */
	async run(config: TopicConfig, nowMs: number): Promise<void> {
		await this.#deleteDropped();
		if (this.#inFlight === null && (this.retryAtMs === null || this.retryAtMs <= nowMs)) {
			const offloads = this.#offloadSome(config);
			this.#inFlight = offloads;
			try {
				await offloads;
			} finally {
				this.#inFlight = null;
			}
		}
		if (this.sweepNeeded && this.#usesRemote(config) && (this.sweepDueMs === null || this.sweepDueMs <= nowMs)) await this.#sweepStep();
	}

	/** Waits for an offload in flight to settle (committed, or its object deleted). */
	async settle(): Promise<void> {
		await this.#inFlight?.catch(() => undefined);
	}

	/** Deletes every object under the partition's prefix (topic deletion), in pages of R2's maximum. */
	async destroyObjects(topicId: string, partition: number): Promise<void> {
		await this.settle();
		const prefix = segmentPrefix(topicId, partition);
		let cursor: string | undefined;
		do {
			const page = await this.host.bucket().list({ prefix, cursor, limit: R2_KEYS_PER_CALL_MAX });
			if (page.objects.length > 0) await this.host.bucket().delete(page.objects.map((o) => o.key));
			cursor = page.truncated ? page.cursor : undefined;
		} while (cursor !== undefined);
		this.#droppedKeys = [];
		this.#head = undefined;
	}

	#usesRemote(config: TopicConfig): boolean {
		return config["remote.storage.enable"] || this.hasRemote();
	}

	async #offloadSome(config: TopicConfig): Promise<void> {
		if (!config["remote.storage.enable"]) return;
		for (let i = 0; i < OFFLOAD_SEGMENTS_PER_RUN; i++) {
			const outcome = await this.#offloadOne(config, Date.now());
			if (outcome !== "committed") return;
		}
		// The run's limit: if more is due, the alarm comes again now.
		this.#moreWork ||= readSegmentSource(this.#sql, this.host.view, config, Date.now()) !== null;
	}

	/** One segment: read, PUT, then commit in one transaction (or delete the object if the batches moved). */
	async #offloadOne(config: TopicConfig, nowMs: number): Promise<OffloadOutcome> {
		const identity = this.host.identity();
		if (identity === null) return "idle";
		const source = readSegmentSource(this.#sql, this.host.view, config, nowMs);
		if (source === null) return "idle";
		const { body, entries } = encodeSegment(source.batches);
		const key = segmentKey(identity.topicId, identity.partition, source.baseOffset, nonce());
		try {
			await this.host.bucket().put(key, body);
		} catch (cause) {
			// Nothing local changed. The PUT may still have written the object: then it is an orphan for the sweep.
			console.error(`partition ${identity.partition}: segment PUT failed, retrying in ${OFFLOAD_RETRY_MS} ms: ${String(cause)}`);
			this.retryAtMs = Date.now() + OFFLOAD_RETRY_MS;
			this.sweepNeeded = true;
			return "failed";
		}
		this.retryAtMs = null;
		let committed: boolean;
		try {
			committed = this.host.storage.transactionSync(() => {
				this.host.beforeDeletingBatches();
				return commitOffload(this.#sql, this.host.view, identity.topicId, source, entries, key, Date.now());
			});
		} catch (cause) {
			// Rolled back: the batches are still local, but the view in memory says they moved. The object is an orphan.
			this.host.reload();
			this.sweepNeeded = true;
			throw cause;
		}
		if (committed) {
			this.host.cache.forgetThrough(this.host.view.localLogStartOffset - 1);
			if (this.#head === null) this.#head = undefined;
			return "committed";
		}
		await this.#deleteQuietly([key]);
		return "raced";
	}

	async #deleteDropped(): Promise<void> {
		const keys = this.#droppedKeys;
		this.#droppedKeys = [];
		this.#droppedInRun = 0;
		await this.#deleteQuietly(keys);
	}

	/** Deletes objects in chunks; a failure is logged and left to the orphan sweep (the manifest no longer names them). */
	async #deleteQuietly(keys: readonly string[]): Promise<void> {
		for (let i = 0; i < keys.length; i += R2_KEYS_PER_CALL_MAX) {
			try {
				await this.host.bucket().delete(keys.slice(i, i + R2_KEYS_PER_CALL_MAX));
			} catch (cause) {
				console.error(`segment delete failed; the orphan sweep will remove them: ${String(cause)}`);
				this.sweepNeeded = true;
				return;
			}
		}
	}

	/**
	 * One page of the orphan sweep: objects under the partition's prefix that no manifest row names and that are
	 * older than the grace are deleted. Bounded: one list page (R2's maximum) per alarm; a long listing goes on at
	 * the next alarm, set for now. Passes repeat every `ORPHAN_SWEEP_INTERVAL_MS` until one finds no such object.
	 */
	async #sweepStep(): Promise<void> {
		const identity = this.host.identity();
		if (identity === null) return;
		const prefix = segmentPrefix(identity.topicId, identity.partition);
		try {
			const page = await this.host.bucket().list({ prefix, cursor: this.#sweepCursor, limit: R2_KEYS_PER_CALL_MAX });
			const nowMs = Date.now();
			const segments = page.objects.flatMap((o) => {
				const parsed = parseSegmentKey(o.key);
				return parsed === null ? [] : [{ key: o.key, baseOffset: parsed.baseOffset, uploadedMs: o.uploaded.getTime() }];
			});
			const bases = segments.map((s) => s.baseOffset);
			const known = segments.length === 0 ? new Set<string>() : manifestKeys(this.#sql, Math.min(...bases), Math.max(...bases));
			const unknown = segments.filter((s) => !known.has(s.key));
			const orphans = unknown.filter((s) => s.uploadedMs + this.orphanGraceMs <= nowMs).map((s) => s.key);
			// Objects still in their grace are deleted by a later pass; deleted ones are checked again by it too.
			this.#sweepMetUnknown ||= unknown.length > 0;
			assert(
				orphans.every((key) => key.startsWith(prefix)),
				"sweep own objects",
			);
			if (orphans.length > 0) {
				console.warn(`partition ${identity.partition}: deleting ${orphans.length} orphaned segment objects`);
				await this.host.bucket().delete(orphans);
			}
			this.#sweepCursor = page.truncated ? page.cursor : undefined;
			this.sweepDueMs = page.truncated ? nowMs : nowMs + ORPHAN_SWEEP_INTERVAL_MS;
			if (!page.truncated) {
				this.sweepNeeded = this.#sweepMetUnknown;
				this.#sweepMetUnknown = false;
			}
		} catch (cause) {
			console.error(`partition ${identity.partition}: orphan sweep failed: ${String(cause)}`);
			this.sweepDueMs = Date.now() + OFFLOAD_RETRY_MS;
		}
	}
}
