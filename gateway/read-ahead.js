// @ts-check
/**
 * @module
 * Read-ahead for Fetch. A Kafka consumer fetches, then decodes and processes what it got, then fetches the next
 * offset: nothing overlaps. When a partition's page came back full of records and short of the high watermark,
 * the gateway starts reading the next page (from `next_offset`, same byte cap, no long-poll) at once, and builds
 * its Kafka batch, while the client is still busy; the next Fetch for exactly that offset takes it, as a broker
 * answers from its page cache. Anything else — another offset (a seek), another byte cap, other credentials, an
 * error or an empty page, or a page older than READ_AHEAD_AGE_MS_MAX — is dropped and the Fetch reads afresh, so
 * a read-ahead never changes what a client is answered, only when the bytes were read.
 *
 * One per connection: a read-ahead is only ever handed to the connection (and credentials) that caused it.
 */

import { READ_AHEAD_AGE_MS_MAX, READ_AHEAD_BYTES_MAX } from "./limits.js";

/**
 * @template T
 * @typedef {{ tributary: object, offset: number, maxBytes: number, startedAt: number, result: Promise<T | null> }} Pending
 */

/** @template T */
export class ReadAhead {
	constructor() {
		/** @type {Map<string, Pending<T>>} keyed by topic and partition */
		this.pending = new Map();
		this.controller = new AbortController();
	}

	/**
	 * The read-ahead for exactly this read, or null; any other read-ahead of the partition is dropped.
	 * @param {object} tributary @param {string} topic @param {number} partition @param {number} offset @param {number} maxBytes
	 * @returns {Promise<T | null> | null}
	 */
	take(tributary, topic, partition, offset, maxBytes) {
		const key = `${partition}:${topic}`;
		const found = this.pending.get(key);
		if (found === undefined) return null;
		this.pending.delete(key);
		const fresh = performance.now() - found.startedAt <= READ_AHEAD_AGE_MS_MAX;
		if (!fresh || found.tributary !== tributary || found.offset !== offset || found.maxBytes !== maxBytes) return null;
		return found.result;
	}

	/**
	 * Starts `read` for the partition's next page unless one is pending for it or the pending ones may already
	 * hold READ_AHEAD_BYTES_MAX. `read` resolves to the answer to hand over, or null when there is none worth
	 * keeping; a rejection counts as null. Read-aheads nobody took in time are dropped here.
	 * @param {object} tributary @param {string} topic @param {number} partition @param {number} offset @param {number} maxBytes
	 * @param {(signal: AbortSignal) => Promise<T | null>} read
	 */
	start(tributary, topic, partition, offset, maxBytes, read) {
		if (this.controller.signal.aborted) return;
		const key = `${partition}:${topic}`;
		const now = performance.now();
		let bytes = maxBytes;
		for (const [k, other] of this.pending) {
			if (now - other.startedAt > READ_AHEAD_AGE_MS_MAX) this.pending.delete(k);
			else bytes += other.maxBytes;
		}
		if (this.pending.has(key) || bytes > READ_AHEAD_BYTES_MAX) return;
		const result = read(this.controller.signal).catch(() => null);
		this.pending.set(key, { tributary, offset, maxBytes, startedAt: now, result });
	}

	/** Cancels every pending read (the connection closed). */
	close() {
		this.controller.abort();
		this.pending.clear();
	}
}
