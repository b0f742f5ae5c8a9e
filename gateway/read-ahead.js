// @ts-check
/**
 * @module
 * Read-ahead for Fetch. A Kafka consumer fetches, then decodes and processes what it got, then fetches the next
 * offset: nothing overlaps. When a partition's page came back full of records and short of the high watermark,
 * the gateway starts reading the next pages (from `next_offset`, same byte cap, no long-poll; up to
 * READ_AHEAD_PAGES_MAX ahead) and builds their Kafka batches while the client is still busy; the next Fetch for
 * exactly the first one's offset takes it, as a broker answers from its page cache. Each page starts as soon as
 * the one before it has arrived and said where it ends, before the gateway parses it and builds its batch, so the
 * Worker reads one page while the gateway builds the one before; and a page the client took while it was still
 * being read is followed all the same (the client mostly asks before the page is ready). Starting a page only once
 * the one before it was built, and from the Fetch that took it, left Worker and gateway taking turns: 921-record
 * pages came every 6.5 ms, the Fetch waiting 5 of them. A page read for a Fetch whose `maxBytes` it did not fit starts a read-ahead too, with that page
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

/**
 * Reads one page from `offset`; calls `next` with where the page after it starts as soon as it knows (before it
 * builds the page, so the Worker reads the next page meanwhile), or never when there is none to read now.
 * Resolves to the page to hand over, or null when there is none worth keeping (a rejection counts as null).
 * @template T
 * @typedef {(offset: number, signal: AbortSignal, next: (offset: number) => void) => Promise<T | null>} PageRead
 */

/**
 * A partition's read-ahead: its pages not yet taken, in offset order, and how to read more.
 * @template T
 * @typedef {object} Chain
 * @property {Pending<T>[]} entries
 * @property {Pending<T> | null} last the page read last (taken or not): only its reader's `next` extends the chain
 * @property {number} reading reads under way, taken ones included
 * @property {number | null} next where the page after `last` starts, known and not yet read (no room until a take)
 * @property {object} tributary @property {number} maxBytes @property {PageRead<T>} read
 */

/** @template T */
export class ReadAhead {
	constructor() {
		/** @type {Map<string, Chain<T>>} each partition's read-ahead */
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
		const first = chain?.entries[0];
		if (chain === undefined || first === undefined) return null;
		const fresh = performance.now() - first.startedAt <= READ_AHEAD_AGE_MS_MAX;
		if (!fresh || first.tributary !== tributary || first.offset !== offset || first.maxBytes !== maxBytes) {
			this.pending.delete(key);
			return null;
		}
		// The chain stays the partition's even when this was its last page and is still being read: the client
		// takes pages as soon as it asks, mostly before they are read, and the page after this one must still start
		// as soon as this one's reader knows where.
		chain.entries.shift();
		this.advance(key, chain);
		return first.result;
	}

	/**
	 * Reads ahead from `offset` unless the partition's read-ahead is under way from there already (one from
	 * elsewhere is dropped) or the pending pages may hold READ_AHEAD_BYTES_MAX. Read-aheads nobody took in time are
	 * dropped here.
	 * @param {object} tributary @param {string} topic @param {number} partition @param {number} offset @param {number} maxBytes
	 * @param {PageRead<T>} read
	 */
	start(tributary, topic, partition, offset, maxBytes, read) {
		const key = `${partition}:${topic}`;
		if (this.pending.get(key)?.entries[0]?.offset === offset) return;
		/** @type {Chain<T>} */
		const chain = { entries: [], last: null, reading: 0, next: offset, tributary, maxBytes, read };
		this.pending.set(key, chain);
		this.advance(key, chain);
		if (chain.entries.length === 0 && this.pending.get(key) === chain) this.pending.delete(key);
	}

	/**
	 * Starts reading the page after the chain's last one, once it is known where it starts, while the chain is still
	 * the partition's and has room: up to READ_AHEAD_PAGES_MAX pages not taken, and READ_AHEAD_BYTES_MAX in all.
	 * @param {string} key @param {Chain<T>} chain
	 */
	advance(key, chain) {
		if (chain.next === null || this.controller.signal.aborted || this.pending.get(key) !== chain) return;
		if (chain.entries.length >= READ_AHEAD_PAGES_MAX) return;
		// bytesHeld drops stale chains, this one too perhaps.
		if (this.bytesHeld() + chain.maxBytes > READ_AHEAD_BYTES_MAX || this.pending.get(key) !== chain) return;
		const offset = chain.next;
		chain.next = null;
		/** @type {Pending<T>} */
		const entry = {
			tributary: chain.tributary,
			offset,
			maxBytes: chain.maxBytes,
			startedAt: performance.now(),
			result: Promise.resolve(null),
		};
		chain.entries.push(entry);
		chain.last = entry;
		chain.reading += 1;
		let told = false;
		/** @param {number} nextOffset */
		const next = (nextOffset) => {
			if (told || chain.last !== entry) return;
			told = true;
			chain.next = nextOffset;
			this.advance(key, chain);
		};
		const done = () => {
			chain.reading -= 1;
			// A page without a next, or that failed: the chain ends here.
			if (chain.last === entry && !told) chain.next = null;
		};
		entry.result = chain.read(offset, this.controller.signal, next).then(
			(page) => {
				done();
				return page;
			},
			() => {
				done();
				return null;
			},
		);
	}

	/**
	 * The byte caps of every pending page; stale chains, and empty ones with nothing being read or to read, are
	 * dropped first.
	 */
	bytesHeld() {
		const now = performance.now();
		let bytes = 0;
		for (const [key, chain] of this.pending) {
			const first = chain.entries[0];
			const stale = first === undefined ? chain.reading === 0 && chain.next === null : now - first.startedAt > READ_AHEAD_AGE_MS_MAX;
			if (stale) this.pending.delete(key);
			else for (const entry of chain.entries) bytes += entry.maxBytes;
		}
		return bytes;
	}

	/** Cancels every pending read (the connection closed). */
	close() {
		this.controller.abort();
		this.pending.clear();
	}
}
