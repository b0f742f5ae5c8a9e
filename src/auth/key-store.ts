/**
 * @module
 * `KeyStore`: API keys, in two roles of one class, so that a deleted key is refused at once, everywhere.
 *
 * - The directory, named "global": every key, for listing and the `KEYS_MAX` count. Creates, quota changes and
 *   deletes run here, one at a time.
 * - One authority per key, named `key:<id>`: the single place that answers "does this key exist, and what may it
 *   do" when a request authenticates. The edge asks it on every request and caches nothing, so a delete takes
 *   effect for the next request in every isolate and location. Per-key objects keep that check off any single
 *   hot object: each key's traffic reaches only its own.
 *
 * The authority also holds the key's quota buckets (`chargeQuotas`, `chargeEach`), in memory: every isolate and
 * location charges the same buckets, so a quota is exact however a key's traffic is spread. An eviction only grants a
 * fresh burst.
 *
 * Streams outlive requests, so revocation reaches them too: an SSE stream re-checks its key before each write, and
 * a WebSocket tail (held by a PartitionLog) is registered with the key's authority before it is accepted
 * (`watchTail`); `revoke` then closes every tail the key has open, before the DELETE answers.
 *
 * A key exists when its authority holds it. Create writes the directory row, then installs the authority (and
 * removes the row if that fails); delete revokes the authority first, then drops the row. A crash between the
 * two steps leaves at worst a listed key that does not authenticate, which `DELETE /v1/keys/{id}` clears; never a
 * usable key that cannot be listed or deleted. A quota change, the authority first, marks its row behind until the row
 * follows (`key_rows_behind`), so the directory shows a key (`GET`, the listing) from its row and asks the authority
 * only about a row so marked: one whose change lost its answer or failed its row write, in force at the authority.
 * A change or read that fails (at the authority, or in the directory's own storage) answers a 503 to retry it on.
 */

import { MetricsReporter } from "../metrics/reporter.ts";
import type { PartitionLog } from "../partition/partition-log.ts";
import { DurableObject } from "../shared/durable-object.ts";
import { bare, err, type Failure, ok, type Result, settleEach, thrownUnless } from "../shared/errors.ts";
import { KEY_ROWS_CATCH_UP_MAX, KEY_TAIL_PARTITIONS_MAX, KEYS_MAX } from "../shared/limits.ts";
import { type Page, type PageKey, type PageRequest, pageOf } from "../shared/page.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import { keyAuthority, partitionLog } from "../shared/stubs.ts";
import type { AclEntry } from "./acl.ts";
import { unmatchedGrant } from "./grant-tag.ts";
import { mergeQuotas } from "./quota-patch.ts";
import { KEY_STORE_DDL, KEY_STORE_SCHEMA_VERSION, KEY_STORE_UPGRADES } from "./schema.ts";
import { newKeyId, newSecret, sha256Hex } from "./secret.ts";
import { type Bucket, charge, newBucket, rerate, waitMs } from "./token-bucket.ts";
import {
	type CreateKeyRequest,
	type KeyInfo,
	type KeyPatch,
	type KeyQuotas,
	type Quota,
	type QuotaCharge,
	type QuotaRefusal,
	type QuotasPatch,
	type StoredKey,
	toInfo,
} from "./types.ts";

/** A directory change or read (named by the request that retries it) that its authority or its storage failed. */
function unavailable(request: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", id: string, cause: unknown): Result<never> {
	console.error(`key store: ${request} of key ${id} failed: ${cause}`);
	return err("unavailable", `the key store did not answer; retry the ${request}`, { id });
}

function notFound(id: string): Result<never> {
	return err("key_not_found", `key "${id}" does not exist`, { id });
}

interface WatchedRow extends Record<string, SqlStorageValue> {
	topic_id: string;
	partition: number;
}

interface KeyRow extends Record<string, SqlStorageValue> {
	id: string;
	name: string;
	secret_sha256: string;
	acl: string;
	quotas: string;
	created_at_ms: number;
}

function toStored(row: KeyRow): StoredKey {
	return {
		id: row.id,
		name: row.name,
		acl: JSON.parse(row.acl) as AclEntry[],
		quotas: JSON.parse(row.quotas) as KeyQuotas,
		createdAtMs: row.created_at_ms,
		secretSha256: row.secret_sha256,
	};
}

export class KeyStore extends DurableObject<Env> {
	private readonly sql: SqlStorage;
	/** Authority: this key's token buckets, one per quota. */
	readonly #buckets = new Map<Quota, Bucket>();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		// Meters every statement from here on, for the storage rows and bytes /metrics shows per class.
		new MetricsReporter(env, ctx, "KeyStore", () => ({ gauges: {} }));
		this.sql = ctx.storage.sql;
		migrateSchema(ctx.storage, KEY_STORE_SCHEMA_VERSION, KEY_STORE_DDL, KEY_STORE_UPGRADES);
	}

	/** Directory: creates a key and answers its secret, the only time the secret exists outside the caller. */
	async createKey(request: CreateKeyRequest): Promise<Result<KeyInfo & { secret: string }>> {
		const id = newKeyId();
		return this.#serial("POST", id, async () => {
			const count = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM api_keys").one().n;
			if (count >= KEYS_MAX) return err("key_limit_reached", `at most ${KEYS_MAX} keys may exist`);
			const secret = newSecret(id);
			const stored: StoredKey = {
				id,
				name: request.name,
				acl: request.acl,
				quotas: request.quotas,
				createdAtMs: Date.now(),
				secretSha256: await sha256Hex(secret),
			};
			this.#insert(stored);
			try {
				bare(await this.#authority(id).install(stored));
			} catch (cause) {
				// Undone, so a retried POST creates one key; if this fails too, the row is a listed key that does not
				// authenticate, and the 503 names its id for a DELETE.
				this.sql.exec("DELETE FROM api_keys WHERE id = ?", id);
				throw cause;
			}
			return ok({ ...toInfo(stored), secret });
		});
	}

	/**
	 * Directory: `change`, one at a time with every other change; a throw (an authority's, or this object's storage's)
	 * answers 503 `unavailable` naming `request` to retry, and never leaves blockConcurrencyWhile (that would reset this
	 * object and answer a 500).
	 */
	#serial<T>(request: Parameters<typeof unavailable>[0], id: string, change: () => Promise<Result<T>>): Promise<Result<T>> {
		return this.ctx.blockConcurrencyWhile(async () => {
			try {
				return await change();
			} catch (cause) {
				return unavailable(request, id, cause);
			}
		});
	}

	/**
	 * Directory: gives every listed key its authority, once, for keys created before authorities existed (an
	 * upgrade from schema v1). Runs like create and delete, one at a time with them, so a key deleted meanwhile is
	 * never installed again. The edge calls it at most once per isolate, after an authority did not know a key.
	 * In steps of KEY_ROWS_CATCH_UP_MAX keys in creation order, each held on its own: one hold for them all passed
	 * blockConcurrencyWhile's 30 s at 1,000 keys, reset the object (a 500) and was started again by the next miss. A
	 * key changed between steps changes its row, which a later step installs; one created meanwhile installs itself. A
	 * row never goes over an authority that holds its key or revoked it (`install`): a step tried again after a change
	 * whose row write failed, or after a DELETE that revoked the key and failed to drop its row, undoes neither.
	 */
	async ensureAuthorities(): Promise<boolean | Failure> {
		let after: PageKey | null = null;
		while (!this.#authoritiesInstalled()) {
			// A failure is logged ("PUT of key authorities"), and the upgrade is tried again by the next miss.
			const step: Result<PageKey | null> = await this.#serial("PUT", "authorities", async () => {
				const rows = this.#authoritiesInstalled() ? [] : this.#page({ after, limit: KEY_ROWS_CATCH_UP_MAX });
				const stepped = rows.slice(0, KEY_ROWS_CATCH_UP_MAX);
				// One at a time: a failure answered while another install is on its way would let a DELETE run before it
				// lands, and a deleted key be held again, usable and unlisted.
				for (const row of stepped) bare(await this.#authority(row.id).install(toStored(row), true));
				const last = stepped.at(-1);
				if (rows.length > KEY_ROWS_CATCH_UP_MAX && last !== undefined) return ok([last.created_at_ms, last.id]);
				this.sql.exec("UPDATE key_store_meta SET authorities_installed = 1 WHERE id = 1");
				return ok(null);
			});
			if (!step.ok) break;
			after = step.value;
		}
		return this.#authoritiesInstalled();
	}

	#authoritiesInstalled(): boolean {
		return !this.sql.exec("SELECT 1 FROM key_store_meta WHERE authorities_installed = 1").next().done;
	}

	/**
	 * Directory: one page of keys, without secrets, oldest first, after `page.after` (a seek on `api_keys_by_creation`).
	 * Rows a change may have left behind are caught up from their authorities first, up to `KEY_ROWS_CATCH_UP_MAX`
	 * (normally none is: `key_rows_behind` joined to the page); one whose authority does not answer, or past that
	 * bound, is listed as its row says, and stays behind.
	 */
	async listKeys(page: PageRequest): Promise<Page<KeyInfo> | Failure> {
		let rows = this.#page(page);
		const behind = rows.filter((row) => row.behind).slice(0, KEY_ROWS_CATCH_UP_MAX);
		if (behind.length > 0) {
			await this.ctx.blockConcurrencyWhile(() => Promise.allSettled(behind.map((row) => this.#caughtUp(row.id))));
			rows = this.#page(page);
		}
		return pageOf(rows.map(toStored).map(toInfo), page.limit, (key) => [key.createdAtMs, key.id]);
	}

	/**
	 * A page of rows, each with whether it is marked in `key_rows_behind` (`behind`, 0 or 1), in one read. The first
	 * page seeks from before any key (`created_at_ms` is a time, never negative).
	 */
	#page(page: PageRequest): (KeyRow & { behind: number })[] {
		return this.sql
			.exec<KeyRow & { behind: number }>(
				"SELECT api_keys.*, key_rows_behind.id IS NOT NULL AS behind FROM api_keys LEFT JOIN key_rows_behind USING (id) " +
					"WHERE (created_at_ms, id) > (?, ?) ORDER BY created_at_ms, id LIMIT ?",
				page.after?.[0] ?? -1,
				page.after?.[1] ?? "",
				page.limit + 1,
			)
			.toArray();
	}

	/** Directory: revokes the key at its authority, then forgets it. */
	async deleteKey(id: string): Promise<Result<void>> {
		return this.#serial("DELETE", id, async () => {
			if (!this.#row(id)) return notFound(id);
			// Its storage failing is thrown, and answered `unavailable` as a rejection was.
			const revoked = thrownUnless(await this.#authority(id).revoke(id), "unavailable");
			// Until every tail is closed (and the row is gone) the key stays listed, so a retried DELETE finishes the job.
			if (!revoked.ok) return revoked;
			this.sql.exec("DELETE FROM api_keys WHERE id = ?", id);
			this.sql.exec("DELETE FROM key_rows_behind WHERE id = ?", id);
			return ok(undefined);
		});
	}

	/** Directory: key `id`, with the grant its authority holds it to: its row, caught up first if it may be behind. */
	async describeKey(id: string): Promise<Result<KeyInfo>> {
		return this.#serial("GET", id, async () => {
			const row = await this.#caughtUp(id);
			return row ? ok(toInfo(toStored(row))) : notFound(id);
		});
	}

	/**
	 * Directory: key `id`'s row, brought in step with the grant its authority holds it to when a change may have left it
	 * behind (`key_rows_behind`: marked before the change asks the authority, cleared once the row follows). Not the
	 * row alone then: a change whose answer was lost, or whose row write failed, is in force at the authority only, and
	 * a tag taken from the row would not move for it, and a write held to that tag would undo it unseen. Where the
	 * authority holds none (a key made before authorities existed, or one being deleted) the row is the key. Runs one
	 * at a time with the changes, so none lands between the authority's answer and the row's write; throws when the
	 * authority does not answer.
	 */
	async #caughtUp(id: string): Promise<KeyRow | undefined> {
		if (this.#behind(id)) {
			const held = bare(await this.#authority(id).getKey(id));
			if (held !== null) this.#writeQuotas(id, held.quotas);
			this.sql.exec("DELETE FROM key_rows_behind WHERE id = ?", id);
		}
		return this.#row(id);
	}

	#behind(id: string): boolean {
		return !this.sql.exec("SELECT 1 FROM key_rows_behind WHERE id = ?", id).next().done;
	}

	#row(id: string): KeyRow | undefined {
		return this.sql.exec<KeyRow>("SELECT * FROM api_keys WHERE id = ?", id).toArray()[0];
	}

	/**
	 * Directory: replaces key `id`'s quotas (all of them, as at creation), or with `patch` changes only those it names
	 * (RFC 7396: a number sets one, null removes it), merged here, where changes run one at a time, so two concurrent
	 * patches of one key both apply (as Kafka's AlterClientQuotas changes single quota keys). The authority first, as
	 * it is what requests are held to; the listing follows. A key its authority no longer holds is being deleted: not
	 * found. The grant changed and held to `ifMatch` (an If-Match's strong tags) is the authority's (`caughtUp`), read
	 * here, where changes run one at a time, so none lands between the check and the write; a change in force already
	 * passes it (`unmatchedGrant`). Its row is marked behind until it follows, so a change in force at the authority
	 * whose answer or row write failed (a 503: retrying it, with its If-Match, finds it in force) is what every read shows.
	 */
	async setQuotas(id: string, quotas: QuotasPatch, patch = false, ifMatch?: readonly string[]): Promise<Result<KeyInfo>> {
		return this.#serial(patch ? "PATCH" : "PUT", id, async () => {
			const row = await this.#caughtUp(id);
			if (!row) return notFound(id);
			const held = toStored(row);
			const next = mergeQuotas(patch ? held.quotas : {}, quotas);
			// A PATCH naming nothing asks for no change, so finds none in force.
			const refused = unmatchedGrant(held, ifMatch, patch && !Object.keys(quotas).length ? undefined : { ...held, quotas: next });
			if (refused !== null) return refused;
			this.sql.exec("INSERT OR IGNORE INTO key_rows_behind (id) VALUES (?)", id);
			// A key made before authorities existed gets its authority from this row later, new quotas included.
			// False: the authority holds no key (not installed yet, before the v1 upgrade ends); null: revoked there.
			const replaced = bare(await this.#authority(id).replaceQuotas(id, next));
			if (replaced === null || (!replaced && this.#authoritiesInstalled())) return notFound(id);
			this.#writeQuotas(id, next);
			this.sql.exec("DELETE FROM key_rows_behind WHERE id = ?", id);
			return ok(toInfo({ ...held, quotas: next }));
		});
	}

	/**
	 * Authority: holds `key` from now on; `fromRow` (a directory's row), only where it holds no key and revoked none: a
	 * key it holds is as new as its row or newer (a change is made here first), and a key revoked stays revoked.
	 */
	async install(key: StoredKey, fromRow = false): Promise<undefined | Failure> {
		if (fromRow && !this.sql.exec("SELECT 1 FROM api_keys UNION ALL SELECT 1 FROM revoked_keys").next().done) return;
		this.#install(key);
	}

	#install(key: StoredKey): void {
		this.#rebucket(key.id, key.quotas);
		this.sql.exec("DELETE FROM api_keys");
		this.#insert(key);
	}

	/**
	 * Authority: changes the key it holds by `change` (made to `key` instead with `whole`, or when it holds none yet),
	 * and answers it as stored. Read and written with no await between, so no other change of it runs in between and
	 * is lost. With `ifMatch` (the strong tags of an If-Match), only while the grant held is one of them or already is
	 * the change (`unmatchedGrant`), else a refusal. The key changed is answered bare, not as a `Result`: an edge of an
	 * earlier version, still running during a deploy, reads it so (and never sends `ifMatch`).
	 */
	async changeKey(key: StoredKey, change: KeyPatch, whole: boolean, ifMatch?: readonly string[]): Promise<StoredKey | Failure> {
		const stored = this.#key(key.id) ?? key;
		const held = whole ? key : stored;
		const next = { ...held, acl: change.acl ?? held.acl, quotas: mergeQuotas(held.quotas, change.quotas ?? {}) };
		// A PATCH naming nothing asks for no change, so finds none in force.
		const asked = whole || change.acl || Object.keys(change.quotas ?? {}).length;
		const refused = unmatchedGrant(stored, ifMatch, asked ? next : undefined);
		if (refused !== null) return refused;
		this.#install(next);
		return next;
	}

	/**
	 * Authority: key `id`'s quotas are `quotas` from the next charge on; false when it does not hold the key, null when it
	 * revoked it (an older directory, during a deploy, reads both as false).
	 */
	async replaceQuotas(id: string, quotas: KeyQuotas): Promise<boolean | null | Failure> {
		if (!this.sql.exec("SELECT 1 FROM revoked_keys WHERE id = ?", id).next().done) return null;
		this.#rebucket(id, quotas);
		return this.#writeQuotas(id, quotas);
	}

	#writeQuotas(id: string, quotas: KeyQuotas): boolean {
		return this.sql.exec("UPDATE api_keys SET quotas = ? WHERE id = ?", JSON.stringify(quotas), id).rowsWritten > 0;
	}

	/**
	 * Authority: checks each charge in order and pays it, as one token bucket per quota; the first quota in debt
	 * refuses the request (charges before it stay paid, as they were already let through). Null when the request
	 * may go, or when the key is gone (authentication refuses that). Quotas the key does not have are free. `owed`:
	 * for what was already served (a fetch's bytes, measured once its answer was built), which is charged whatever the
	 * debt, as another request may have put the key in debt since this one was let through.
	 */
	async chargeQuotas(id: string, charges: readonly QuotaCharge[], owed = false): Promise<QuotaRefusal | null | Failure> {
		return this.#chargeEach(id, [charges], owed)[0] as QuotaRefusal | null;
	}

	/**
	 * Authority: `chargeQuotas` for each request's charges in turn, in one call (a run of streamed messages): each
	 * answered as if the requests were sent one after another, so a later one never takes a bucket an earlier one was
	 * refused.
	 */
	async chargeEach(id: string, each: readonly (readonly QuotaCharge[])[]): Promise<(QuotaRefusal | null)[] | Failure> {
		return this.#chargeEach(id, each);
	}

	#chargeEach(id: string, each: readonly (readonly QuotaCharge[])[], owed?: boolean): (QuotaRefusal | null)[] {
		const key = this.#key(id);
		const nowMs = Date.now();
		return each.map((charges) => {
			for (const { quota, amount } of key === null ? [] : charges) {
				const rate = (key as StoredKey).quotas[quota];
				if (rate === undefined) continue;
				let bucket = this.#buckets.get(quota);
				if (bucket === undefined) {
					bucket = newBucket(rate, nowMs);
					this.#buckets.set(quota, bucket);
				}
				const wait = waitMs(bucket, rate, nowMs);
				if (wait > 0 && !owed) return { quota, waitMs: wait };
				charge(bucket, rate, amount, nowMs);
			}
			return null;
		});
	}

	/**
	 * Authority: carries the buckets over key `id`'s change to `quotas` (`rerate`: a debt never outlasts what the old
	 * rate implied). A quota removed, or set where there was none, starts afresh: a debt left under a removed quota
	 * is not charged.
	 */
	#rebucket(id: string, quotas: KeyQuotas): void {
		const before = this.#key(id)?.quotas;
		for (const [quota, bucket] of this.#buckets) {
			const was = before?.[quota];
			const rate = quotas[quota];
			if (was === undefined || rate === undefined) this.#buckets.delete(quota);
			else rerate(bucket, was, rate, Date.now());
		}
	}

	/** Authority: the key, or null once it is revoked (or was never installed here). */
	async getKey(id: string): Promise<StoredKey | null | Failure> {
		return this.#key(id);
	}

	#key(id: string): StoredKey | null {
		const row = this.#row(id);
		return row === undefined ? null : toStored(row);
	}

	/**
	 * Authority: the key no longer authenticates, and every WebSocket tail it opened is closed. A tail registering
	 * while this runs finds the key gone (watchTail answers false), so none slips through.
	 */
	async revoke(id: string): Promise<Result<void>> {
		this.sql.exec("INSERT OR IGNORE INTO revoked_keys (id) VALUES (?)", id);
		this.sql.exec("DELETE FROM api_keys WHERE id = ?", id);
		const watched = this.#watchedPartitions();
		const settled = await Promise.allSettled(watched.map((w) => this.#partition(w).revokeTails(id)));
		let failed = 0;
		settled.forEach((outcome, i) => {
			const w = watched[i] as WatchedRow;
			if (outcome.status === "fulfilled") {
				this.sql.exec("DELETE FROM watched_partitions WHERE topic_id = ? AND partition = ?", w.topic_id, w.partition);
			} else failed++;
		});
		if (failed === 0) return ok(undefined);
		return err("unavailable", `the key is revoked, but ${failed} partition(s) holding its tails did not answer; retry the DELETE`, {
			id,
		});
	}

	/**
	 * Authority: registers a partition about to accept a WebSocket tail for key `id`, so `revoke` can close it.
	 * False when the key does not exist (any more) or tails on too many partitions; the tail is refused then.
	 */
	async watchTail(id: string, topicId: string, partition: number): Promise<boolean | Failure> {
		if (this.#key(id) === null) return false;
		if (!this.#watching(topicId, partition) && this.#watchedCount() >= KEY_TAIL_PARTITIONS_MAX) {
			await this.#pruneWatched(id);
			if (this.#key(id) === null || this.#watchedCount() >= KEY_TAIL_PARTITIONS_MAX) return false;
		}
		this.sql.exec("INSERT OR IGNORE INTO watched_partitions (topic_id, partition) VALUES (?, ?)", topicId, partition);
		return true;
	}

	#watchedPartitions(): WatchedRow[] {
		return this.sql.exec<WatchedRow>("SELECT topic_id, partition FROM watched_partitions").toArray();
	}

	#watching(topicId: string, partition: number): boolean {
		return !this.sql.exec("SELECT 1 FROM watched_partitions WHERE topic_id = ? AND partition = ?", topicId, partition).next().done;
	}

	#watchedCount(): number {
		return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM watched_partitions").one().n;
	}

	/** Forgets the watched partitions where the key has no tail open any more. */
	async #pruneWatched(id: string): Promise<void> {
		const watched = this.#watchedPartitions();
		const open = await Promise.all(watched.map((w) => this.#partition(w).hasTailsOf(id)));
		watched.forEach((w, i) => {
			if (!open[i]) this.sql.exec("DELETE FROM watched_partitions WHERE topic_id = ? AND partition = ?", w.topic_id, w.partition);
		});
	}

	#partition(w: WatchedRow): DurableObjectStub<PartitionLog> {
		return partitionLog(this.env, w.topic_id, w.partition);
	}

	#insert(key: StoredKey): void {
		this.sql.exec(
			"INSERT INTO api_keys (id, name, secret_sha256, acl, quotas, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
			key.id,
			key.name,
			key.secretSha256,
			JSON.stringify(key.acl),
			JSON.stringify(key.quotas),
			key.createdAtMs,
		);
	}

	#authority(id: string): DurableObjectStub<KeyStore> {
		return keyAuthority(this.env, id);
	}
}

// Storage failing (or a bug) in any of them is answered a failure Result, not a rejection crossing RPC; the directory's
// changes answer theirs themselves (`#serial`).
settleEach(KeyStore, [
	"ensureAuthorities",
	"listKeys",
	"install",
	"changeKey",
	"replaceQuotas",
	"chargeQuotas",
	"chargeEach",
	"getKey",
	"revoke",
	"watchTail",
]);
