// @ts-check
/**
 * @module
 * Small formatting and arithmetic helpers for the report and the scenarios' own tables.
 */

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
 * " (noisy)" for a row measured while other processes were busy.
 * @param {import("../scenarios/types.js").Row} row
 */
export function noisy(row) {
	return (row.cpu?.otherPercent ?? 0) > NOISY_PERCENT ? " (noisy)" : "";
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
