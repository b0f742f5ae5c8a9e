// @ts-check
/**
 * @module
 * Read-ahead for Fetch. A Kafka consumer fetches, then decodes and processes what it got, then fetches the next
 * offset: nothing overlaps. When a partition's page came back full of records and short of the high watermark,
 * the gateway starts reading the next pages (from `next_offset`, same byte cap, no long-poll; up to
 * READ_AHEAD_PAGES_MAX ahead, each starting when the one before it is read) and builds their Kafka batches while
 * the client is still busy; the next Fetch for exactly the first one's offset takes it, as a broker answers from
 * its page cache. A page read for a Fetch whose `maxBytes` it did not fit starts a read-ahead too, with that page
 * first (handlers/records.js), so it is not read twice. Anything else — another offset (a seek), another byte
 * cap, other credentials, an error or an empty page, or a page older than READ_AHEAD_AGE_MS_MAX — drops the
 * partition's read-ahead and the Fetch reads afresh, so a read-ahead never changes what a client is answered,
 * only when the bytes were read.
 *
 * One per connection: a read-ahead is only ever handed to the connection (and credentials) that caused it.
 */

import { READ_AHEAD_AGE_MS_MAX, READ_AHEAD_BYTES_MAX, READ_AHEAD_PAGES_MAX } from "./limits.js";

/**
 * @template T
 * @typedef {{ tributary: object, offset: number, maxBytes: number, startedAt: number, result: Promise<T | null> }} Pending
 */

/** @template T */
export class ReadAhead {
	/** @param {(page: T) => number | null} nextOffsetOf where the page after a read one starts, or null at the end */
	constructor(nextOffsetOf) {
		this.nextOffsetOf = nextOffsetOf;
		/** @type {Map<string, Pending<T>[]>} each partition's pages read ahead, in offset order */
		this.pending = new Map();
		this.controller = new AbortController();
	}

	/**
	 * The read-ahead for exactly this read, or null; on any other read the partition's read-ahead is dropped.
	 * @param {object} tributary @param {string} topic @param {number} partition @param {number} offset @param {number} maxBytes
	 * @returns {Promise<T | null> | null}
	 */
	take(tributary, topic, partition, offset, maxBytes) {
		const key = `${partition}:${topic}`;
		const chain = this.pending.get(key);
		const first = chain?.[0];
		if (chain === undefined || first === undefined) return null;
		const fresh = performance.now() - first.startedAt <= READ_AHEAD_AGE_MS_MAX;
		if (!fresh || first.tributary !== tributary || first.offset !== offset || first.maxBytes !== maxBytes) {
			this.pending.delete(key);
			return null;
		}
		chain.shift();
		if (chain.length === 0) this.pending.delete(key);
		return first.result;
	}

	/**
	 * Reads ahead from `offset` unless the partition's read-ahead is under way from there already (one from
	 * elsewhere is dropped) or the pending pages may hold READ_AHEAD_BYTES_MAX. `read` resolves to the page to hand over, or null when there is none worth keeping
	 * (a rejection counts as null). Read-aheads nobody took in time are dropped here.
	 * @param {object} tributary @param {string} topic @param {number} partition @param {number} offset @param {number} maxBytes
	 * @param {(offset: number, signal: AbortSignal) => Promise<T | null>} read
	 */
	start(tributary, topic, partition, offset, maxBytes, read) {
		const key = `${partition}:${topic}`;
		if (this.pending.get(key)?.[0]?.offset === offset) return;
		this.pending.delete(key);
		this.extend(key, [], tributary, offset, maxBytes, read);
	}

	/**
	 * Appends the read of `offset` to a partition's chain; once read, the page after it follows, up to
	 * READ_AHEAD_PAGES_MAX, while this chain is still the partition's and ends with it.
	 * @param {string} key @param {Pending<T>[]} chain @param {object} tributary @param {number} offset @param {number} maxBytes
	 * @param {(offset: number, signal: AbortSignal) => Promise<T | null>} read
	 */
	extend(key, chain, tributary, offset, maxBytes, read) {
		if (this.controller.signal.aborted || chain.length >= READ_AHEAD_PAGES_MAX) return;
		if (this.bytesHeld() + maxBytes > READ_AHEAD_BYTES_MAX) return;
		// Dropped as stale just now: a chain that is no longer the partition's is not revived.
		if (chain.length > 0 && this.pending.get(key) !== chain) return;
		/** @type {Pending<T>} */
		const entry = { tributary, offset, maxBytes, startedAt: performance.now(), result: Promise.resolve(null) };
		entry.result = read(offset, this.controller.signal).then(
			(page) => {
				const next = page === null ? null : this.nextOffsetOf(page);
				if (next !== null && this.pending.get(key) === chain && chain.at(-1) === entry) {
					this.extend(key, chain, tributary, next, maxBytes, read);
				}
				return page;
			},
			() => null,
		);
		chain.push(entry);
		this.pending.set(key, chain);
	}

	/** The byte caps of every pending page; stale ones are dropped first. */
	bytesHeld() {
		const now = performance.now();
		let bytes = 0;
		for (const [key, chain] of this.pending) {
			if (chain.length === 0 || now - chain[0].startedAt > READ_AHEAD_AGE_MS_MAX) this.pending.delete(key);
			else for (const entry of chain) bytes += entry.maxBytes;
		}
		return bytes;
	}

	/** Cancels every pending read (the connection closed). */
	close() {
		this.controller.abort();
		this.pending.clear();
	}
}
