// @ts-check
/**
 * @module
 * Small formatting and arithmetic helpers for the report and the scenarios' own tables.
 */

import { DISK_SLOW_FSYNC_MS } from "./disk.mjs";
import { QUIET_OTHER_PERCENT, round } from "./load.mjs";

/** CPU used by processes that are not the bench's during a measurement; over NOISY_PERCENT a row is flagged. */
export const NOISY_PERCENT = QUIET_OTHER_PERCENT;

/**
 * Text fit for one markdown table cell.
 * @param {unknown} text
 * @param {number} max
 */
export function oneLine(text, max) {
	const flat = String(text).replace(/\s+/g, " ").replaceAll("|", "\\|").trim();
	return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * A whole number with thousands separators, or "—".
 * @param {unknown} n
 */
export function fmt(n) {
	return typeof n === "number" ? Math.round(n).toLocaleString("en-US") : "—";
}

/**
 * Whether the disk was slow as `row`'s measurement started (its fsync probe, bench/lib/disk.mjs).
 * @param {import("../scenarios/types.js").Row} row
 */
export function slowDisk(row) {
	return (row.cpu?.fsyncMs ?? 0) > DISK_SLOW_FSYNC_MS;
}

/**
 * " (noisy)" for a row measured while other processes were busy, " (slow disk)" for one measured while the disk
 * was slow: each a figure not to compare with the rest of the run.
 * @param {import("../scenarios/types.js").Row} row
 */
export function noisy(row) {
	if ((row.cpu?.otherPercent ?? 0) > NOISY_PERCENT) return " (noisy)";
	return slowDisk(row) ? " (slow disk)" : "";
}

/**
 * The fsync-probe cell of the details table: bold and marked when the disk was slow.
 * @param {import("../scenarios/types.js").Row} row
 */
export function fsyncCell(row) {
	const ms = row.cpu?.fsyncMs;
	if (ms === null || ms === undefined) return "—";
	return slowDisk(row) ? `**${ms}** (slow disk)` : String(ms);
}

/**
 * The other-CPU cell: bold and marked when noisy.
 * @param {import("../scenarios/types.js").Row} row
 */
export function otherCpu(row) {
	const other = row.cpu?.otherPercent;
	if (other === null || other === undefined) return "—";
	return other > NOISY_PERCENT ? `**${other}** (noisy)` : String(other);
}

/**
 * `value` as a percentage of `base` (one decimal), or null when either is missing.
 * @param {unknown} value
 * @param {unknown} base
 */
export function percentOf(value, base) {
	return typeof value === "number" && typeof base === "number" && base > 0 ? round((value / base) * 100, 1) : null;
}

/**
 * A row's result as one console line.
 * @param {import("../scenarios/types.js").Row} result
 */
export function throughputSummary(result) {
	return `${fmt(result.recordsPerSec)} records/s, p50 ${result.latencyMs?.p50} ms${result.aborted ? ", ABORTED" : ""}`;
}
