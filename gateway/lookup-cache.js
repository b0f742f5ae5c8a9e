// @ts-check
/**
 * @module
 * What the gateway looks up from Tributary and shares among its connections: the topic listings of
 * gateway/topic-list.js and the timestamp types of gateway/topic-config.js. Each lookup is reused while younger than
 * its time to live, one lookup per key is in flight for every request that asks meanwhile, only an answer worth
 * keeping is reused, and the gateway drops what it has itself just changed (`forget`). Lookups are numbered in the
 * order they begin, over every cache of the process, so that a connection can refuse those begun before it opened
 * (`since`).
 */

/** Lookups begun so far in this process, by every cache. */
let begun = 0;

/** How many lookups have begun: a connection takes it when it opens, as the `since` of its requests. */
export const lookupsBegun = () => begun;

/**
 * @template V
 * @typedef {{ atMs: number, seq: number, value: Promise<V>, kept?: V }} Lookup one lookup, from when it began (`seq`:
 * how many lookups had begun before it): in flight until `value` settles, so that requests asking meanwhile wait for
 * it; `kept` once it settled on an answer worth reusing
 */

/** @template K, V */
export class LookupCache {
	/**
	 * @param {number} ttlMs how long a lookup is reused, from when it began
	 * @param {(value: V) => boolean} keep whether an answer is reused: one that is not (and a lookup that rejects)
	 * answers the requests that waited for it, and the next request looks up again
	 * @param {() => number} now
	 */
	constructor(ttlMs, keep, now) {
		this.ttlMs = ttlMs;
		this.keep = keep;
		this.now = now;
		/** @type {Map<K, Lookup<V>>} */
		this.lookups = new Map();
		/** When lookups older than `ttlMs` were last dropped: a key no longer asked about stays till then. */
		this.sweptAtMs = now();
	}

	/**
	 * `key`'s value: the held lookup's, or a new lookup's (`load`) when none is held that began since `since` lookups
	 * had begun and is younger than `ageMsMax`.
	 * @param {K} key @param {() => Promise<V>} load
	 * @param {{ since?: number, ageMsMax?: number }} [options] `ageMsMax`: `ttlMs` unless a caller needs younger
	 * @returns {Promise<V>}
	 */
	get(key, load, { since = 0, ageMsMax = this.ttlMs } = {}) {
		const nowMs = this.now();
		const held = this.lookups.get(key);
		if (held !== undefined && held.seq >= since && nowMs - held.atMs < ageMsMax) return held.value;
		this.sweep(nowMs);
		/** @type {Lookup<V>} */
		const lookup = { atMs: nowMs, seq: begun++, value: load() };
		this.lookups.set(key, lookup);
		const drop = () => {
			if (this.lookups.get(key) === lookup) this.lookups.delete(key);
		};
		lookup.value.then((value) => {
			if (this.keep(value)) lookup.kept = value;
			else drop();
		}, drop);
		return lookup.value;
	}

	/**
	 * Drops `key`'s lookup if it settled on `value`, not a newer one: that answer turned out to be behind.
	 * @param {K} key @param {V} value
	 */
	outdated(key, value) {
		if (this.lookups.get(key)?.kept === value) this.lookups.delete(key);
	}

	/**
	 * Drops the lookups of the keys `match` takes, or every lookup: the gateway changed what they describe. One still in
	 * flight answers the requests already waiting for it, not later ones.
	 * @param {(key: K) => boolean} [match]
	 */
	forget(match) {
		if (match === undefined) this.lookups.clear();
		else for (const key of this.lookups.keys()) if (match(key)) this.lookups.delete(key);
	}

	/** Drops expired lookups, at most once every `ttlMs`: a sweep reads every one. @param {number} nowMs */
	sweep(nowMs) {
		if (nowMs - this.sweptAtMs < this.ttlMs) return;
		this.sweptAtMs = nowMs;
		for (const [key, lookup] of this.lookups) if (nowMs - lookup.atMs >= this.ttlMs) this.lookups.delete(key);
	}
}
