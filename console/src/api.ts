/**
 * @module
 * The console's client for Tributary's public `/v1` API, built on the SDK (`tributary/client`, bundled for the
 * browser): `Authorization: Bearer`, JSON in and out, every failure a `TributaryError` carrying the API's code.
 * Server-Sent Events are read from a streamed `fetch` body, because `EventSource` cannot send an `Authorization`
 * header.
 */

import { preconditionRetry, Tributary, TributaryError } from "tributary/client";
import type { QuotasPatch } from "../../src/auth/types.ts";
import { parseJsonExact } from "../../src/shared/json.ts";
import type { RecordHeader, StoredRecord } from "../../src/shared/record-codec.ts";
import { serverSentEvents } from "./sse.ts";

export type Encoding = "json" | "base64";

export interface TopicConfig {
	readonly "retention.ms": number;
	readonly "retention.bytes": number;
	readonly "cleanup.policy": string;
	readonly "max.message.bytes": number;
	readonly [name: string]: unknown;
}

export interface TopicSummary {
	readonly name: string;
	/** New each time a topic of this name is created (Kafka's topic id). */
	readonly topic_id: string;
	readonly partitions: number;
	readonly config: TopicConfig;
}

export interface PartitionInfo {
	readonly partition: number;
	readonly log_start_offset: number;
	/** Below it the partition's log is in R2 (tiered storage). */
	readonly local_log_start_offset?: number;
	readonly high_watermark: number;
	readonly bytes: number;
	readonly remote_bytes?: number;
	/** Records stored locally; with `remote_records`, all the records the partition holds. */
	readonly records: number;
	/** Records in the partition's segments in R2 (tiered storage). */
	readonly remote_records?: number;
}

export interface TopicDetail {
	readonly name: string;
	/** The incarnation's id, as in TopicSummary. */
	readonly topic_id: string;
	readonly config: TopicConfig;
	readonly location_hint?: string | null;
	readonly partitions: readonly PartitionInfo[];
}

export type { RecordHeader, StoredRecord };

export interface FetchResult {
	readonly records: readonly StoredRecord[];
	readonly high_watermark: number;
	readonly log_start_offset: number;
	readonly next_offset: number;
}

export interface ProduceRecord {
	readonly key?: unknown;
	readonly value: unknown;
	readonly headers?: readonly RecordHeader[];
	readonly partition?: number;
	readonly key_encoding?: Encoding;
	readonly value_encoding?: Encoding;
}

export interface ProducedOffset {
	readonly partition: number;
	readonly offset: number;
	readonly timestamp: number;
}

export interface GroupSummary {
	readonly group: string;
	readonly state: string;
	readonly members: number;
}

export interface TopicPartitionRef {
	readonly topic: string;
	readonly partition: number;
}

export interface GroupMember {
	readonly member_id: string;
	readonly instance_id: string | null;
	readonly topics?: readonly string[];
	readonly topic_pattern?: string;
	readonly session_timeout_ms: number;
	readonly assignment: readonly TopicPartitionRef[];
}

export interface PartitionLag extends TopicPartitionRef {
	readonly committed: number | null;
	readonly high_watermark: number;
	readonly lag: number;
}

export interface GroupDetail {
	readonly group: string;
	readonly state: string;
	readonly generation: number;
	readonly strategy: string | null;
	readonly members: readonly GroupMember[];
	readonly offsets: readonly PartitionLag[];
}

export type ResetTarget = "earliest" | "latest" | { readonly timestamp: number } | { readonly offset: number };

export interface Subscription {
	readonly id: string;
	readonly topic: string;
	readonly url: string;
	readonly status: "active" | "paused" | "disabled";
	readonly disabled_reason: string | null;
	readonly max_attempts: number;
	readonly retry_schedule_ms: readonly number[];
	readonly batch_max_records: number;
	readonly dead_letter_topic: string;
	readonly created_at: number;
	readonly secret?: string;
}

export interface Lane {
	readonly partition: number;
	readonly next_offset: number;
	readonly pending: {
		readonly webhook_id: string;
		readonly first_offset: number;
		readonly last_offset: number;
		readonly record_count: number;
		readonly attempts: number;
		readonly next_attempt_at: number;
		readonly last_error: string | null;
	} | null;
}

export interface Delivery {
	readonly id: number;
	readonly partition: number;
	readonly webhook_id: string;
	readonly first_offset: number;
	readonly last_offset: number;
	readonly record_count: number;
	readonly attempt: number;
	readonly outcome: "delivered" | "failed" | "gone" | "dead_lettered" | "skipped";
	readonly response_status: number | null;
	readonly latency_ms: number;
	readonly error: string | null;
	readonly at: number;
}

export interface AclEntry {
	readonly resource: string;
	readonly operations: readonly string[];
}

/** A key's rates, each in its unit per second; one not there is no quota. */
export type KeyQuotas = Partial<Record<"produce_bytes_per_sec" | "fetch_bytes_per_sec" | "requests_per_sec", number>>;

export type { QuotasPatch };

export interface ApiKey {
	readonly id: string;
	readonly name: string;
	readonly acl: readonly AclEntry[];
	readonly quotas: Readonly<KeyQuotas>;
	readonly created_at_ms: number;
	readonly secret?: string;
}

/** What a request without credentials may do: anonymous's ACL and quotas (an empty ACL is no access). */
export interface AnonymousAccess {
	readonly acl: readonly AclEntry[];
	readonly quotas: Readonly<KeyQuotas>;
}

/**
 * A quota change refused, nothing written: another admin changed a quota it names (`names`) since the form showed it.
 * `grant`: anonymous's grant, or the key, as stored now, for the page to show and the admin to decide on again.
 */
export class QuotaConflict extends Error {
	override readonly name = "QuotaConflict";
	readonly names: readonly (keyof KeyQuotas)[];
	readonly grant: AnonymousAccess;
	constructor(names: readonly (keyof KeyQuotas)[], grant: AnonymousAccess) {
		super(`another admin changed ${names.join(", ")} meanwhile: nothing was saved`);
		this.names = names;
		this.grant = grant;
	}
}

/** A grant (anonymous's, or a key's) read, its ETag, and a change of it sent If-Match one. */
interface ConditionalGrant<G> {
	get(): Promise<G>;
	update(ifMatch: string | undefined): Promise<G>;
	etagOf(grant: G): string | undefined;
}

/** The quotas `patch` names whose value in `read` is no longer the one the form showed (`shown`). */
function changedQuotas(patch: QuotasPatch, shown: Readonly<KeyQuotas>, read: { readonly quotas: Readonly<KeyQuotas> }) {
	return (Object.keys(patch) as (keyof KeyQuotas)[]).filter((name) => (read.quotas[name] ?? null) !== (shown[name] ?? null));
}

/**
 * Closing public access refused, nothing written: another admin granted anonymous an entry since the page showed its
 * ACL. The SDK's (`closeAnonymous` is the SDK's `anonymous.close`), so the console and the CLI decide alike.
 */
/** A failed call: the API's error code and message, and the HTTP status (0 when there was no answer). */
export { AclConflict, TributaryError as ApiError } from "tributary/client";

/** Retries of a failed read (network error, 429, 503): a console should answer fast rather than wait long. */
const RETRIES = 2;

/** The error an API answer carries (`{"error":{"code","message"}}`), or the status line when it carries none. */
function errorFromResponse(status: number, body: string): TributaryError {
	try {
		const { error } = JSON.parse(body) as { error?: { code?: string; message?: string } };
		if (typeof error?.code === "string") return new TributaryError(error.code, error.message ?? error.code, { status });
	} catch {
		// Not JSON: fall through to the status.
	}
	return new TributaryError("unexpected_response", `HTTP ${status}`, { status });
}

const path = (...parts: (string | number)[]) => parts.map((p) => encodeURIComponent(String(p))).join("/");

/**
 * One signed-in session's API client. Administration goes through the SDK (`tributary/client`); what it does not
 * cover (raw record pages with their wire encodings, a single produce, delivery attempts, replay, the SSE tail)
 * is called here through the same `fetch`. `onUnauthorized` runs on any 401 (the token is wrong or was revoked).
 */
export class Api {
	readonly #client: Tributary;
	readonly #fetch: (request: Request) => Promise<Response>;

	constructor(
		private readonly token: string,
		onUnauthorized: (error: TributaryError) => void = () => {},
	) {
		this.#fetch = async (request) => {
			const response = await fetch(request);
			if (response.status === 401) onUnauthorized(new TributaryError("unauthorized", "the token was not accepted", { status: 401 }));
			return response;
		};
		this.#client = new Tributary({ url: location.origin, token, fetch: this.#fetch, retries: RETRIES });
	}

	private async send(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
		const init: RequestInit = { method, headers: { Authorization: `Bearer ${this.token}`, ...headers }, cache: "no-store" };
		if (body !== undefined) {
			init.body = JSON.stringify(body);
			(init.headers as Record<string, string>)["Content-Type"] = "application/json";
		}
		if (signal !== undefined) init.signal = signal;
		const response = await this.#fetch(new Request(new URL(url, location.origin), init));
		if (!response.ok) throw errorFromResponse(response.status, await response.text());
		return response;
	}

	private async json<T>(method: string, url: string, body?: unknown): Promise<T> {
		const response = await this.send(method, url, body);
		// Record values keep integers a double cannot hold (as JSON.rawJSON, which JSON.stringify writes back as is).
		return (response.status === 204 ? undefined : parseJsonExact(await response.text())) as T;
	}

	listTopics() {
		return this.#client.topics.list() as Promise<TopicSummary[]>;
	}
	topic(name: string) {
		return this.#client.topics.describe(name) as Promise<unknown> as Promise<TopicDetail>;
	}
	createTopic(body: { name: string; partitions: number; config: Record<string, string | number> }) {
		return this.#client.topics.create(body) as Promise<TopicSummary>;
	}
	alterTopic(name: string, body: { partitions?: number; config?: Record<string, string | number> }) {
		return this.#client.topics.alter(name, body) as Promise<TopicSummary>;
	}
	deleteTopic(name: string) {
		return this.#client.topics.delete(name);
	}

	/** One page of a partition as the API sends it (base64 stays base64, so the console can say so). */
	fetchRecords(topic: string, partition: number, offset: number, maxRecords: number) {
		const query = new URLSearchParams({ offset: String(offset), max_records: String(maxRecords) });
		return this.json<FetchResult>("GET", `/v1/topics/${path(topic, "partitions", partition, "records")}?${query}`);
	}
	async offsetAt(topic: string, partition: number, at: "earliest" | "latest" | number): Promise<number> {
		const offset = await this.#client.topics.offsetFor(topic, partition, at);
		if (offset === null) throw new TributaryError("unexpected_response", `no offset for ${topic}/${partition} at ${at}`);
		return offset;
	}
	produce(topic: string, records: readonly ProduceRecord[]) {
		return this.json<{ offsets: ProducedOffset[] }>("POST", `/v1/topics/${path(topic, "records")}`, { records }).then((r) => r.offsets);
	}

	/** Records of a partition as they are appended (SSE), from `offset`, until `signal` aborts. */
	async *tail(topic: string, partition: number, offset: number, signal: AbortSignal): AsyncGenerator<StoredRecord> {
		const url = `/v1/topics/${path(topic, "partitions", partition, "records")}?offset=${offset}`;
		const response = await this.send("GET", url, undefined, { Accept: "text/event-stream" }, signal);
		if (response.body === null) return;
		for await (const event of serverSentEvents(response.body, signal)) {
			if (event.event === "error") throw errorFromResponse(200, event.data);
			if (event.data !== "") yield parseJsonExact(event.data) as StoredRecord;
		}
	}

	listGroups() {
		return this.#client.groups.list();
	}
	group(id: string) {
		return this.#client.groups.describe(id) as Promise<unknown> as Promise<GroupDetail>;
	}
	resetOffsets(id: string, topic: string, to: ResetTarget) {
		return this.#client.groups.resetOffsets(id, topic, to) as Promise<{ offsets: { partition: number; offset: number }[] }>;
	}

	subscriptions(topic: string) {
		return this.#client.subscriptions.list(topic) as Promise<unknown> as Promise<Subscription[]>;
	}
	subscription(topic: string, id: string) {
		return this.#client.subscriptions.get(topic, id) as Promise<unknown> as Promise<Subscription & { partitions: Lane[] }>;
	}
	createSubscription(topic: string, body: { url: string; start: "earliest" | "latest" }) {
		return this.#client.subscriptions.create(topic, body) as Promise<unknown> as Promise<Subscription>;
	}
	updateSubscription(topic: string, id: string, body: { status: "active" | "paused" }) {
		return this.#client.subscriptions.update(topic, id, body);
	}
	deleteSubscription(topic: string, id: string) {
		return this.#client.subscriptions.delete(topic, id);
	}
	deliveries(topic: string, id: string, limit: number) {
		const url = `/v1/topics/${path(topic, "subscriptions", id, "deliveries")}?limit=${limit}`;
		return this.json<{ deliveries: Delivery[] }>("GET", url).then((r) => r.deliveries);
	}
	replay(topic: string, id: string, body: { offset: number; partition: number }) {
		return this.json<{ partitions: unknown }>("POST", `/v1/topics/${path(topic, "subscriptions", id, "replay")}`, body);
	}

	listKeys() {
		return this.#client.keys.list() as Promise<ApiKey[]>;
	}
	createKey(body: { name: string; acl: AclEntry[] }) {
		return this.#client.keys.create(body) as Promise<ApiKey & { secret: string }>;
	}
	/**
	 * Changes only the quotas `patch` names, in one step at the key's store, and answers the key as stored; each decided
	 * on the value `shown` had, as `updateAnonymousQuotas` (`#setQuotasIfMatch`): a quota another admin changed since the
	 * form showed it is a `QuotaConflict`, nothing written, even when the change lands between the read and the patch.
	 */
	updateKeyQuotas(id: string, patch: QuotasPatch, shown: Readonly<KeyQuotas>): Promise<ApiKey> {
		const keys = this.#client.keys;
		return this.#setQuotasIfMatch(patch, shown, {
			get: () => keys.get(id) as Promise<ApiKey>,
			update: (ifMatch) => keys.updateQuotas(id, patch, { ifMatch }) as Promise<ApiKey>,
			etagOf: (key) => keys.etagOf(key),
		});
	}
	deleteKey(id: string) {
		return this.#client.keys.delete(id);
	}

	anonymous() {
		return this.#client.anonymous.get() as Promise<AnonymousAccess>;
	}
	/** Sets the quotas `patch` names on anonymous's grant, each decided on the value `shown` had (`#setQuotasIfMatch`). */
	updateAnonymousQuotas(patch: QuotasPatch, shown: Readonly<KeyQuotas>): Promise<AnonymousAccess> {
		const anonymous = this.#client.anonymous;
		return this.#setQuotasIfMatch(patch, shown, {
			get: () => anonymous.get() as Promise<AnonymousAccess>,
			update: (ifMatch) => anonymous.update({ quotas: patch }, { ifMatch }) as Promise<AnonymousAccess>,
			etagOf: (grant) => anonymous.etagOf(grant),
		});
	}
	/**
	 * Closes public access (the ACL emptied, the quotas kept), decided on the grant the page showed (`shown`), as the
	 * SDK's `anonymous.close` does: an entry another admin added since is an `AclConflict` (nothing written, unless a
	 * close's answer was lost: `answerLost`), where an unconditional close would remove an entry the admin never saw;
	 * any other change is kept and the close sent again.
	 */
	closeAnonymous(shown: AnonymousAccess): Promise<AnonymousAccess> {
		return this.#client.anonymous.close(shown) as Promise<AnonymousAccess>;
	}
	/**
	 * Sets the quotas `patch` names on a grant (anonymous's, or a key's), each decided on the value `shown` had: the grant
	 * read (`get`), checked that those quotas are still as shown, and patched (`update`) If-Match the grant read. A 412
	 * (the grant changed in between) is read again: a change elsewhere (another quota, the ACL) is kept and the patch
	 * sent again, while the SDK's `preconditionRetry` allows; a change of a quota the patch names is a `QuotaConflict`,
	 * nothing written, where a plain patch would overwrite it unseen.
	 */
	async #setQuotasIfMatch<G extends AnonymousAccess>(
		patch: QuotasPatch,
		shown: Readonly<KeyQuotas>,
		grants: ConditionalGrant<G>,
	): Promise<G> {
		for (let attempt = 1; ; attempt++) {
			const read = await grants.get();
			const changed = changedQuotas(patch, shown, read);
			if (changed.length > 0) throw new QuotaConflict(changed, read);
			try {
				return await grants.update(grants.etagOf(read));
			} catch (error) {
				if (!preconditionRetry(error, attempt)) throw error;
			}
		}
	}
	/**
	 * Grants one entry's operations, or removes that one entry (a row of the page's table: another row of the same
	 * resource keeps its rights), made to the grant as stored then and sent If-Match it, again on another admin's
	 * change (the SDK's `grant` and `removeEntry`): every other entry and the quotas are kept.
	 */
	grantAnonymous(entry: AclEntry) {
		return this.#client.anonymous.grant(entry) as Promise<AnonymousAccess>;
	}
	removeAnonymousEntry(entry: AclEntry) {
		return this.#client.anonymous.removeEntry(entry) as Promise<AnonymousAccess>;
	}
}
