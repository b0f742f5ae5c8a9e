/**
 * @module
 * Administration over the public API: topics, consumer groups, API keys and webhook subscriptions. Field names
 * are the API's (snake_case), so what the SDK returns is what `curl` shows and what the docs describe.
 */

import { TributaryError } from "./errors.ts";
import { type ConditionalChange, GrantTags } from "./grant-tags.ts";
import type { Http } from "./http.ts";
import { seg } from "./http.ts";
import { CLUSTER_ID, type TopicToCreate, unlikeAsked } from "./topic-create.ts";

/** `before_offset` for "up to the high watermark", Kafka's -1 (the SDK takes no code from the Worker). */
const DELETE_TO_HIGH_WATERMARK = -1;

/**
 * Every item of a listing, page after page: the server answers at most 1,000 per page and a `next_cursor` for the
 * rest (null on the last page).
 */
async function allPages<T>(http: Http, path: string, field: string): Promise<T[]> {
	const items: T[] = [];
	let cursor: string | undefined;
	do {
		const page = await http.request<Record<string, unknown> & { next_cursor?: string | null }>("GET", path, { query: { cursor } });
		items.push(...(page[field] as T[]));
		cursor = page.next_cursor ?? undefined;
	} while (cursor !== undefined);
	return items;
}

export type TopicConfig = Readonly<Record<string, string | number | boolean | null>>;

/** A topic's incarnation: new when a topic of the same name is deleted and created again (Kafka's topic id, KIP-516). */
export type TopicId = string;

export interface TopicSummary {
	readonly name: string;
	readonly topic_id: TopicId;
	readonly partitions: number;
	readonly config: TopicConfig;
}

export interface PartitionOffsets {
	readonly partition: number;
	readonly log_start_offset: number;
	/** First offset held in the partition's own storage; below it (tiered storage), segments in R2. */
	readonly local_log_start_offset: number;
	readonly high_watermark: number;
	/** Bytes of the partition's records stored locally. */
	readonly bytes: number;
	/** Bytes of the partition's segments in R2; `bytes` + `remote_bytes` is what `retention.bytes` limits. */
	readonly remote_bytes: number;
	/** Records stored locally (after compaction, fewer than high watermark minus log start). */
	readonly records: number;
	/** Records in the partition's segments in R2; `records` + `remote_records` are all the records it holds. */
	readonly remote_records: number;
}

/** Cloudflare's Durable Object location hints, for `location_hint` at topic creation. */
export type LocationHint = "wnam" | "enam" | "sam" | "weur" | "eeur" | "apac" | "oc" | "afr" | "me";

export interface TopicDescription {
	readonly name: string;
	readonly topic_id: TopicId;
	readonly config: TopicConfig;
	readonly location_hint: LocationHint | null;
	readonly partitions: PartitionOffsets[];
}

export interface TopicPartition {
	readonly topic: string;
	readonly partition: number;
}

export interface GroupSummary {
	readonly group: string;
	readonly state: string;
	readonly members: number;
}

export interface GroupDescription {
	readonly group: string;
	readonly state: string;
	readonly generation: number;
	readonly strategy: string | null;
	readonly members: Array<{ member_id: string; instance_id: string | null; assignment: TopicPartition[]; [field: string]: unknown }>;
	readonly offsets: Array<{
		topic: string;
		partition: number;
		committed: number | null;
		metadata: string | null;
		high_watermark: number;
		lag: number | null;
	}>;
}

/** Where to move a group's committed offsets: an end of the log, a time (ms), or an offset. */
export type ResetTarget = "earliest" | "latest" | { readonly timestamp: number } | { readonly offset: number };

export interface AclEntry {
	readonly resource: string;
	readonly operations: readonly string[];
}

export interface KeyInfo {
	readonly id: string;
	readonly name: string;
	readonly acl: AclEntry[];
	readonly quotas: Record<string, number>;
	readonly created_at_ms: number;
}

export interface Subscription {
	readonly id: string;
	readonly url: string;
	readonly status: string;
	readonly [field: string]: unknown;
}

export class Topics {
	readonly #http: Http;
	constructor(http: Http) {
		this.#http = http;
	}

	/**
	 * Creates the topic; `topic_exists` if one of the name exists. A try that may have landed (its answer lost) is sent
	 * again, as a repeat cannot make a second topic: its `topic_exists` is then this call's topic if the topic is as
	 * asked (`unlikeAsked`: no config set that the call did not give), answered as created, and thrown otherwise, saying
	 * how it differs. A create answered 2xx with a body that cannot be read (or none) made the topic, as its status says:
	 * the topic is read back and answered if as asked; else (gone since, or not as asked) the unreadable answer is thrown.
	 * `signal` ends its retries and read-backs once aborted (a deadline), a try under way cut off (`aborted`): it then
	 * throws what it met so far, as spent retries do (`RequestOptions.signal`), with no timer of its own left pending.
	 * @example await client.topics.create({ name: "orders", partitions: 3, config: { "retention.ms": 86_400_000 } })
	 */
	async create(topic: TopicToCreate, options: { readonly signal?: AbortSignal } = {}): Promise<TopicSummary> {
		const { signal } = options;
		try {
			const sent = { body: topic, retry: "always", refusesRepeat: "topic_exists", signal } as const;
			const created = await this.#http.request<TopicSummary | undefined>("POST", "/v1/topics", sent);
			// A 2xx with no body at all (`request`'s undefined, as a 204's) made the topic as one cut off did: read back
			// below. Its status is the create's one 2xx.
			if (created === undefined)
				throw new TributaryError("unexpected_response", "POST /v1/topics: the answer has no body", { status: 201 });
			return created;
		} catch (error) {
			if (!(error instanceof TributaryError) || signal?.aborted) throw error;
			if (error.code === "unexpected_response" && error.status >= 200 && error.status < 300) {
				const made = await this.#asAsked(topic, signal);
				if (made === null || typeof made === "string") throw error;
				return made;
			}
			const exists = error.cause instanceof TributaryError ? error.cause : null;
			if (exists?.code !== "topic_exists") throw error;
			const found = await this.#asAsked(topic, signal);
			if (found === null) throw error;
			if (typeof found !== "string") return found;
			const { status, retriable, details } = exists;
			throw new TributaryError(exists.code, `${exists.message}, not as asked: ${found}`, { status, retriable, details, cause: error });
		}
	}

	/**
	 * The topic of `topic`'s name as a create answers it, read back, if it is as `topic` asks; else how it differs, or
	 * null when it cannot be read (gone since, or the reads failed): what the create did is then unknown.
	 */
	async #asAsked(topic: TopicToCreate, signal: AbortSignal | undefined): Promise<TopicSummary | string | null> {
		const found = await this.#describe(topic.name, signal).catch(() => null);
		const setConfigs = await this.#setConfigs(topic.name, signal).catch(() => null);
		if (found === null || setConfigs === null) return null;
		const unlike = unlikeAsked(found, topic, setConfigs);
		if (unlike !== null) return unlike;
		return { name: found.name, topic_id: found.topic_id, partitions: found.partitions.length, config: found.config };
	}

	/**
	 * The configs the topic holds other than at their defaults, as the broker's DescribeConfigs tells them (its
	 * Confluent REST `is_default`): the broker keeps the defaults, in one place. One call, with the right `describe`
	 * the create's `admin` implies: `/v1`'s describe answers every config's value, not which are defaults.
	 */
	async #setConfigs(name: string, signal: AbortSignal | undefined): Promise<string[]> {
		type Listed = { data: { name: string; is_default: boolean }[] };
		const path = `/kafka/v3/clusters/${CLUSTER_ID}/topics/${seg(name)}/configs`;
		const configs = (await this.#http.request<Listed>("GET", path, { signal })).data;
		return configs.filter((config) => !config.is_default).map((config) => config.name);
	}

	async list(): Promise<TopicSummary[]> {
		return allPages(this.#http, "/v1/topics", "topics");
	}

	/** The topic with each partition's log start offset and high watermark. */
	describe(name: string): Promise<TopicDescription> {
		return this.#describe(name, undefined);
	}

	#describe(name: string, signal: AbortSignal | undefined): Promise<TopicDescription> {
		return this.#http.request("GET", `/v1/topics/${seg(name)}`, { signal });
	}

	/** Adds partitions (never removes) and changes configs; a config set to `null` returns to its default. */
	alter(name: string, change: { partitions?: number; config?: TopicConfig }): Promise<TopicSummary> {
		return this.#http.request("PATCH", `/v1/topics/${seg(name)}`, { body: change, retry: "always" });
	}

	async delete(name: string): Promise<void> {
		await this.#http.request("DELETE", `/v1/topics/${seg(name)}`);
	}

	/** The first offset at or after `at` (epoch ms), or the log start (`earliest`) or high watermark (`latest`). */
	async offsetFor(name: string, partition: number, at: "earliest" | "latest" | number): Promise<number | null> {
		const path = `/v1/topics/${seg(name)}/partitions/${seg(partition)}/offsets`;
		return (await this.#http.request<{ offset: number | null }>("GET", path, { query: { at } })).offset;
	}

	/**
	 * Deletes the partition's records before `beforeOffset` (Kafka's DeleteRecords; `"latest"`: every record, up to the
	 * high watermark) and answers its new log start offset. Reads below it fail with `offset_out_of_range` from then
	 * on; an offset below the log start changes nothing. Needs `admin` on the topic.
	 * @example await client.topics.deleteRecords("orders", 0, 1_000) // → 1000
	 */
	async deleteRecords(name: string, partition: number, beforeOffset: number | "latest"): Promise<number> {
		const path = `/v1/topics/${seg(name)}/partitions/${seg(partition)}/delete-records`;
		const latest = beforeOffset === "latest";
		// An offset is idempotent to resend; "latest" is not: resolved again, it would delete the records produced since
		// the first landed (as a group's reset to "latest" would skip them: `Groups.resetOffsets`).
		const body = { before_offset: latest ? DELETE_TO_HIGH_WATERMARK : beforeOffset };
		const retry = latest ? "unsent" : "always";
		return (await this.#http.request<{ log_start_offset: number }>("POST", path, { body, retry })).log_start_offset;
	}
}

export class Groups {
	readonly #http: Http;
	constructor(http: Http) {
		this.#http = http;
	}

	async list(): Promise<GroupSummary[]> {
		return allPages(this.#http, "/v1/groups", "groups");
	}

	/** Members, assignment, and per partition the committed offset, high watermark and lag. */
	describe(group: string): Promise<GroupDescription> {
		return this.#http.request("GET", `/v1/groups/${seg(group)}`);
	}

	/**
	 * Moves the group's committed offsets on `topic` (only while the group has no members, unless they are still where
	 * an earlier reset put them and no member read past them: the repeat of one whose answer was lost).
	 */
	resetOffsets(group: string, topic: string, to: ResetTarget): Promise<{ group: string; offsets: unknown[] }> {
		// An offset, a time or the log's start is the same place when resolved again; "latest" is the end of the log when
		// the broker reads it, so a repeat after a lost answer would skip the records produced since the first landed.
		const retry = to === "latest" ? "unsent" : "always";
		return this.#http.request("POST", `/v1/groups/${seg(group)}/offsets/reset`, { body: { topic, to }, retry });
	}

	async delete(group: string): Promise<void> {
		await this.#http.request("DELETE", `/v1/groups/${seg(group)}`);
	}
}

/**
 * API keys. One key, and the answer of a change of its quotas, carry its grant's ETag (`etagOf`), as anonymous's: a
 * change sent `{ ifMatch }` applies only while the key is still the one read (see `ConditionalChange`).
 */
export class Keys {
	readonly #http: Http;
	readonly #grants: GrantTags;
	constructor(http: Http) {
		this.#http = http;
		this.#grants = new GrantTags(http);
	}

	/** Creates a key; its `secret` is in this answer and nowhere else, ever. */
	create(key: { name: string; acl: AclEntry[]; quotas?: Record<string, number> }): Promise<KeyInfo & { secret: string }> {
		return this.#http.request("POST", "/v1/keys", { body: key });
	}

	async list(): Promise<KeyInfo[]> {
		return allPages(this.#http, "/v1/keys", "keys");
	}

	/** One key, as `list` shows it (never its secret); `key_not_found` when there is none. Its ETag: `etagOf`. */
	get(id: string): Promise<KeyInfo> {
		return this.#grants.send("GET", `/v1/keys/${seg(id)}`, undefined);
	}

	/**
	 * The ETag of a key that `get`, `setQuotas` or `updateQuotas` answered, as the API sent it; undefined for any other
	 * object (a key `list` or `create` answered included).
	 * @example
	 * const key = await client.keys.get(id);
	 * await client.keys.updateQuotas(id, { requests_per_sec: 50 }, { ifMatch: client.keys.etagOf(key) });
	 */
	etagOf(key: object): string | undefined {
		return this.#grants.etagOf(key);
	}

	/**
	 * Replaces a key's quotas, all of them (one left out is removed): its next request is held to them. With `ifMatch`,
	 * only while the key is still that one (see `ConditionalChange`).
	 * @example await client.keys.setQuotas(id, { produce_bytes_per_sec: 1_048_576 })
	 */
	setQuotas(id: string, quotas: Record<string, number>, options: ConditionalChange = {}): Promise<KeyInfo> {
		return this.#grants.send("PUT", `/v1/keys/${seg(id)}/quotas`, quotas, options.ifMatch);
	}

	/**
	 * Changes only the quotas named, at once (a JSON Merge Patch, as Kafka's AlterClientQuotas): a rate sets one, `null`
	 * removes it, one not named is kept, even when another admin changes it meanwhile. Answers the key with its quotas
	 * now. With `ifMatch`, only while the key is still that one (see `ConditionalChange`): send it when the values were
	 * decided on a key read earlier, so another admin's change since is refused (412), not overwritten.
	 * @example await client.keys.updateQuotas(id, { fetch_bytes_per_sec: 4_194_304, requests_per_sec: null })
	 */
	updateQuotas(id: string, patch: Record<string, number | null>, options: ConditionalChange = {}): Promise<KeyInfo> {
		return this.#grants.send("PATCH", `/v1/keys/${seg(id)}/quotas`, patch, options.ifMatch);
	}

	async delete(id: string): Promise<void> {
		await this.#http.request("DELETE", `/v1/keys/${seg(id)}`);
	}
}

export class Subscriptions {
	readonly #http: Http;
	constructor(http: Http) {
		this.#http = http;
	}

	/** A webhook subscription: the topic's records are POSTed to `url` in batches, with retries. */
	create(topic: string, subscription: { url: string; [setting: string]: unknown }): Promise<Subscription & { secret?: string }> {
		return this.#http.request("POST", `/v1/topics/${seg(topic)}/subscriptions`, { body: subscription });
	}

	async list(topic: string): Promise<Subscription[]> {
		return allPages(this.#http, `/v1/topics/${seg(topic)}/subscriptions`, "subscriptions");
	}

	get(topic: string, id: string): Promise<Subscription> {
		return this.#http.request("GET", `/v1/topics/${seg(topic)}/subscriptions/${seg(id)}`);
	}

	update(topic: string, id: string, change: Record<string, unknown>): Promise<Subscription> {
		// A rotation repeated after a lost answer would rotate again, making the unseen first secret the previous one and
		// ending at once the grace of the secret the receiver holds; any other change set twice is the change once.
		const retry = change.rotate_secret === true ? "unsent" : "always";
		return this.#http.request("PATCH", `/v1/topics/${seg(topic)}/subscriptions/${seg(id)}`, { body: change, retry });
	}

	async delete(topic: string, id: string): Promise<void> {
		await this.#http.request("DELETE", `/v1/topics/${seg(topic)}/subscriptions/${seg(id)}`);
	}
}
