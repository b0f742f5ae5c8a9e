// @ts-check
/**
 * @module
 * A connection's topic list for Metadata, read again at most every `METADATA_CACHE_MS`: listing every topic takes
 * Tributary up to `TOPIC_PAGES_MAX` calls, and clients ask for it often (kafkajs before every admin call, librdkafka
 * on each refresh). A Kafka broker's metadata lags the controller's by as much; a topic named in a Metadata request
 * but missing from the list is still looked up on its own, so a topic just created anywhere is found at once. Any
 * create or delete through this gateway marks every connection's list stale (`TopicChanges`), so its own clients
 * see their change on their next Metadata.
 */

import { METADATA_CACHE_MS } from "./limits.js";

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
	 * @param {boolean} [fresh] list again even when the list is fresh: what was asked is not in it
	 * @returns {Promise<import("./tributary.js").Answer>}
	 */
	async read(tributary, fresh = false) {
		const e = this.entry;
		const nowMs = this.now();
		if (!fresh && e !== null && e.tributary === tributary && e.changes === this.changes.count && nowMs - e.atMs < METADATA_CACHE_MS)
			return e.answer;
		const changes = this.changes.count;
		const answer = await tributary.listAllTopics();
		this.entry = answer.status === 200 ? { tributary, changes, atMs: nowMs, answer } : null;
		return answer;
	}

	/** Marks every list of this gateway stale: a topic was created or deleted through it. */
	forget() {
		this.changes.count += 1;
		this.entry = null;
	}
}
