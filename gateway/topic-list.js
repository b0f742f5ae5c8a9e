// @ts-check
/**
 * @module
 * The gateway's topic lists for Metadata and topic ids, one per credentials, read again at most every
 * `METADATA_CACHE_MS`: listing every topic takes Tributary up to `TOPIC_PAGES_MAX` calls, and clients ask for it
 * often (kafkajs before every admin call, librdkafka on each refresh, a consumer on Fetch v13+ to name its topics'
 * ids). The gateway's connections that speak with the same credentials share one list and one listing in flight;
 * other credentials never see it, as their ACLs may let them see other topics. A Kafka broker's metadata lags the
 * controller's by as much; a topic named in a Metadata request but missing from the list is still looked up on its
 * own, so a topic just created anywhere is found at once, and the list is then dropped (`outdated`) so that its id
 * is too. Any create or delete through this gateway marks every list stale (`forget`), so its clients see the change
 * on their next Metadata. Topic ids (KIP-516: Metadata v12, Fetch v13+, DeleteTopics v6) are resolved from the same
 * list (`byId`). Produce and Fetch, which need one topic's timestamp type, never list: they look that topic up alone
 * (`TimestampTypes`, gateway/topic-config.js), which the same creates and deletes, and config changes, make stale.
 */

import { errorMessage } from "./errors.js";
import { METADATA_CACHE_MS, TOPIC_ID_RELIST_MS } from "./limits.js";
import { LookupCache, lookupsBegun } from "./lookup-cache.js";
import { TimestampTypes } from "./topic-config.js";

/** Kafka's "no topic id" (Uuid.ZERO_UUID): a topic's id in an answer that names no topic. */
export const NO_TOPIC_ID = "0".repeat(32);

/**
 * A topic id on Kafka's wire (32 hex digits) from Tributary's `topic_id`, a UUID new with each incarnation of a name,
 * as Kafka's (KIP-516). @param {string | undefined} topicId
 */
export const wireTopicId = (topicId) => (topicId === undefined ? NO_TOPIC_ID : topicId.replaceAll("-", ""));

/**
 * @typedef {{ name: string, topic_id?: string, partitions: number, config?: Record<string, unknown> }} ListedTopic a
 * topic of Tributary's listing
 */

/**
 * @typedef {object} ListingIndex one listing's topics, looked up as each request needs them
 * @property {Map<string, ListedTopic>} byName in the listing's order (Metadata answers all topics so)
 * @property {Map<string, ListedTopic>} byId by wire id (Metadata v12, Fetch v13+, DeleteTopics v6)
 */

/**
 * Each listing's index, built in one pass once per listing rather than on every request that asks: Fetch v13+ names
 * its topics by id, and a listing may hold up to
 * `TOPIC_PAGE_LIMIT` × `TOPIC_PAGES_MAX` topics. Kept as long as the listing's answer is.
 * @type {WeakMap<import("./tributary.js").Answer, ListingIndex>}
 */
const indexes = new WeakMap();

/** @param {import("./tributary.js").Answer} listed a listing answered 200 @returns {ListingIndex} */
export function listingIndex(listed) {
	let index = indexes.get(listed);
	if (index === undefined) {
		index = { byName: new Map(), byId: new Map() };
		for (const t of /** @type {ListedTopic[]} */ (listed.body.topics)) {
			index.byName.set(t.name, t);
			index.byId.set(wireTopicId(t.topic_id), t);
		}
		indexes.set(listed, index);
	}
	return index;
}

export class TopicList {
	/** @param {() => number} [now] */
	constructor(now = Date.now) {
		/**
		 * By credentials (`Authorization`), never shared across them: a key lists only the topics its ACLs let it see.
		 * Only a complete listing is kept; a failed one is answered as it came, to every request that waited for it.
		 * @type {LookupCache<string | null, import("./tributary.js").Answer>}
		 */
		this.listings = new LookupCache(METADATA_CACHE_MS, (answer) => answer.status === 200, now);
		/** Each topic's timestamp type, for Produce and Fetch, looked up on its own rather than listed. */
		this.timestampTypes = new TimestampTypes(now);
	}

	/**
	 * Every topic these credentials may see (`Tributary.listAllTopics`), reused while fresh, and one listing at a time
	 * for all of the gateway's connections with these credentials.
	 * @param {import("./tributary.js").Tributary} tributary
	 * @param {boolean} [missing] what was asked is not in the list: list again unless it is younger than
	 * TOPIC_ID_RELIST_MS, so that asking again and again for what does not exist lists only that often
	 * @param {number} [since] reuse only a listing begun since this many lookups had begun (`ConnectionTopics`)
	 * @returns {Promise<import("./tributary.js").Answer>}
	 */
	read(tributary, missing = false, since = 0) {
		const ageMsMax = missing ? TOPIC_ID_RELIST_MS : METADATA_CACHE_MS;
		return this.listings.get(tributary.credentials.authorization, () => tributary.listAllTopics(), { since, ageMsMax });
	}

	/**
	 * Drops these credentials' listing `listed` (not a newer one): it lacks a topic that exists, found by name, whose id
	 * the client is about to use (Metadata, then Fetch v13+ by that id), so reusing it would answer UNKNOWN_TOPIC_ID.
	 * @param {import("./tributary.js").Tributary} tributary @param {import("./tributary.js").Answer} listed as `read` answered
	 */
	outdated(tributary, listed) {
		this.listings.outdated(tributary.credentials.authorization, listed);
	}

	/**
	 * The listed topics by wire id. An id the list does not hold lists again (`read` with `missing`): the topic
	 * may be newer than the list. Throws when Tributary cannot list.
	 * @param {import("./tributary.js").Tributary} tributary @param {string[]} ids wire ids @param {number} [since] as `read`'s
	 * @returns {Promise<Map<string, ListedTopic>>}
	 */
	async byId(tributary, ids, since = 0) {
		/** @param {boolean} missing */
		const known = async (missing) => {
			const listed = await this.read(tributary, missing, since);
			if (listed.status !== 200) throw new Error(`listing topics: ${listed.status} ${errorMessage(listed)}`);
			return listingIndex(listed).byId;
		};
		const held = await known(false);
		return ids.every((id) => held.has(id)) ? held : known(true);
	}

	/**
	 * Whether `topic` stamps its records with their append time (`TimestampTypes.appendTimed`).
	 * @param {import("./tributary.js").Tributary} tributary @param {string} topic @param {number} [since] as `read`'s
	 * @returns {Promise<boolean | undefined>}
	 */
	appendTimed(tributary, topic, since = 0) {
		return this.timestampTypes.appendTimed(tributary, topic, since);
	}

	/** A topic's configs were changed through this gateway: its timestamp type is looked up again. @param {string} topic */
	configsChanged(topic) {
		this.timestampTypes.forget(topic);
	}

	/**
	 * Marks every listing stale, and every topic's timestamp type: a topic was created or deleted through this gateway.
	 * One still in flight answers the requests already waiting for it, not later ones.
	 */
	forget() {
		this.listings.forget();
		this.timestampTypes.forget();
	}
}

/**
 * One connection's use of the gateway's shared topic lists and timestamp types: never a lookup begun before the
 * connection opened. A client that creates a topic (over HTTP, or through another gateway) and then connects must find
 * it in its first Metadata, as it would on a broker: librdkafka subscribing by pattern takes a first answer without a
 * match as the subscription's error and kcat stops there. One that alters a topic's timestamp type and then connects
 * gets the new type on its first Produce or Fetch (`TimestampTypes` says why). Later requests share the credentials'
 * lookups as `TopicList` says.
 */
export class ConnectionTopics {
	/** @param {TopicList} lists the gateway's */
	constructor(lists) {
		this.lists = lists;
		this.since = lookupsBegun();
	}

	/** @param {import("./tributary.js").Tributary} tributary @param {boolean} [missing] */
	read(tributary, missing = false) {
		return this.lists.read(tributary, missing, this.since);
	}

	/** @param {import("./tributary.js").Tributary} tributary @param {string[]} ids */
	byId(tributary, ids) {
		return this.lists.byId(tributary, ids, this.since);
	}

	/** @param {import("./tributary.js").Tributary} tributary @param {string} topic */
	appendTimed(tributary, topic) {
		return this.lists.appendTimed(tributary, topic, this.since);
	}

	/** @param {string} topic */
	configsChanged(topic) {
		this.lists.configsChanged(topic);
	}

	/** @param {import("./tributary.js").Tributary} tributary @param {import("./tributary.js").Answer} listed */
	outdated(tributary, listed) {
		this.lists.outdated(tributary, listed);
	}

	forget() {
		this.lists.forget();
	}
}
