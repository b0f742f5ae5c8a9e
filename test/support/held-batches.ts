/**
 * What a batch cache holds (src/partition/batch-cache.ts), read from its fields: the Worker asks no cache for it.
 */

import type { BatchCache, CachedBatch } from "../../src/partition/batch-cache.ts";

/** A cache's fields tests read. */
interface CacheFields {
	readonly window: readonly (CachedBatch | undefined)[];
	readonly paging: CachedBatch | null;
}

/**
 * The window as its array references it, oldest first: its evicted slots are empty, so these are every batch the
 * array still references (a test that a window holds only what it counts compares their bytes with the cache's).
 */
export function windowBatches(cache: BatchCache): CachedBatch[] {
	return (cache as unknown as CacheFields).window.filter((batch) => batch !== undefined);
}

/** What the cache holds: the paging batch, if any, then the window, oldest first. */
export function heldBatches(cache: BatchCache): CachedBatch[] {
	const { paging } = cache as unknown as CacheFields;
	return [...(paging === null ? [] : [paging]), ...windowBatches(cache)];
}
