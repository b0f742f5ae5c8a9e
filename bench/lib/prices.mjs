// @ts-check
/**
 * Cloudflare's published Durable Objects prices (Workers Paid plan, beyond the included amounts), the one place
 * the bench's cost figures take them from. Source: https://developers.cloudflare.com/durable-objects/platform/pricing/
 * as published in April 2026 (SQLite storage billed since January 2026). Update the date with the numbers.
 */
export const PRICES_AS_OF = "2026-04";
export const PRICES_SOURCE = "https://developers.cloudflare.com/durable-objects/platform/pricing/";

export const PRICES = {
	/** Every RPC method call on a stub, HTTP request, WebSocket message or alarm is one request. */
	requestsPerMillion: 0.15,
	/** Wall-clock time an object is active, at 128 MB: GB-s = seconds × 0.125. */
	durationPerMillionGbSeconds: 12.5,
	objectMemoryGb: 0.125,
	rowsReadPerMillion: 0.001,
	rowsWrittenPerMillion: 1.0,
	storagePerGbMonth: 0.2,
};

/**
 * Dollars for the figures given (per whatever unit of work they were measured for).
 * @param {{ requests: number, activeSeconds: number, rowsRead: number, rowsWritten: number }} work
 */
export function costOf(work) {
	const requests = (work.requests / 1e6) * PRICES.requestsPerMillion;
	const duration = ((work.activeSeconds * PRICES.objectMemoryGb) / 1e6) * PRICES.durationPerMillionGbSeconds;
	const rowsRead = (work.rowsRead / 1e6) * PRICES.rowsReadPerMillion;
	const rowsWritten = (work.rowsWritten / 1e6) * PRICES.rowsWrittenPerMillion;
	return { requests, duration, rowsRead, rowsWritten, total: requests + duration + rowsRead + rowsWritten };
}

/**
 * Dollars to keep `bytes` stored for one day.
 * @param {number} bytes
 */
export function storagePerDay(bytes) {
	return ((bytes / 1e9) * PRICES.storagePerGbMonth) / 30;
}
