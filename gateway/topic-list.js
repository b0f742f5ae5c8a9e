// @ts-check
/**
 * @module
 * A connection's topic list for Metadata, read again at most every `METADATA_CACHE_MS`: listing every topic takes
 * Tributary up to `TOPIC_PAGES_MAX` calls, and clients ask for it often (kafkajs before every admin call, librdkafka
 * on each refresh). A Kafka broker's metadata lags the controller's by as much; a topic named in a Metadata request
 * but missing from the list is still looked up on its own, so a topic just created anywhere is found at once. Any
 * create or delete through this gateway marks every connection's list stale (`TopicChanges`), so its own clients
 * see their change on their next Metadata. Topic ids (KIP-516: Metadata v12, Fetch v13+, DeleteTopics v6) are
 * resolved from the same list (`byId`).
 */

import { errorMessage } from "./errors.js";
import { METADATA_CACHE_MS, TOPIC_ID_RELIST_MS } from "./limits.js";

/** Kafka's "no topic id" (Uuid.ZERO_UUID): a topic's id in an answer that names no topic. */
export const NO_TOPIC_ID = "0".repeat(32);

/**
 * A topic id on Kafka's wire (32 hex digits) from Tributary's `topic_id`, a UUID new with each incarnation of a name,
 * as Kafka's (KIP-516). @param {string | undefined} topicId
 */
export const wireTopicId = (topicId) => (topicId === undefined ? NO_TOPIC_ID : topicId.replaceAll("-", ""));

/** @typedef {{ name: string, topic_id?: string, partitions: number }} ListedTopic a topic of Tributary's listing */

/** The gateway's count of topic changes made through it, shared by its connections' lists. */
export class TopicChanges {
	count = 0;
}

export class TopicList {
	/** @param {TopicChanges} changes @param {() => number} [now] */
	constructor(changes, now = Date.now) {
		this.changes = changes;
		this.now = now;
		/** @type {{ tributary: object, changes: number, atMs: number, answer: import("./tributary.js").Answer } | null} */
		this.entry = null;
	}

	/**
	 * Every topic these credentials may see (`Tributary.listAllTopics`), reused while fresh. Only a complete
	 * listing is kept; a failed one is answered as it came.
	 * @param {import("./tributary.js").Tributary} tributary
	 * @param {boolean} [missing] what was asked is not in the list: list again unless it is younger than
	 * TOPIC_ID_RELIST_MS, so that asking again and again for what does not exist lists only that often
	 * @returns {Promise<import("./tributary.js").Answer>}
	 */
	async read(tributary, missing = false) {
		const e = this.entry;
		const nowMs = this.now();
		const ageMsMax = missing ? TOPIC_ID_RELIST_MS : METADATA_CACHE_MS;
		if (e !== null && e.tributary === tributary && e.changes === this.changes.count && nowMs - e.atMs < ageMsMax) return e.answer;
		const changes = this.changes.count;
		const answer = await tributary.listAllTopics();
		this.entry = answer.status === 200 ? { tributary, changes, atMs: nowMs, answer } : null;
		return answer;
	}

	/**
	 * The listed topics by wire id. An id the list does not hold lists again (`read` with `missing`): the topic
	 * may be newer than the list. Throws when Tributary cannot list.
	 * @param {import("./tributary.js").Tributary} tributary @param {string[]} ids wire ids
	 * @returns {Promise<Map<string, ListedTopic>>}
	 */
	async byId(tributary, ids) {
		/** @param {boolean} missing */
		const known = async (missing) => {
			const listed = await this.read(tributary, missing);
			if (listed.status !== 200) throw new Error(`listing topics: ${listed.status} ${errorMessage(listed)}`);
			return new Map(listed.body.topics.map((/** @type {ListedTopic} */ t) => [wireTopicId(t.topic_id), t]));
		};
		const held = await known(false);
		return ids.every((id) => held.has(id)) ? held : known(true);
	}

	/** Marks every list of this gateway stale: a topic was created or deleted through it. */
	forget() {
		this.changes.count += 1;
		this.entry = null;
	}
}
