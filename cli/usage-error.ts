/**
 * @module
 * A mistake on the command line: reported as one line with exit status 2, like other Unix tools.
 */

export class UsageError extends Error {
	override readonly name = "UsageError";
}

/** A non-negative integer option, or a usage error naming the option. */
export function integer(name: string, text: string | undefined, min = 0): number | undefined {
	if (text === undefined) return undefined;
	if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`${name} must be an integer of at least ${min}, not "${text}"`);
	return Number(text);
}

/** `k=v` pairs (repeatable options) as an object; `v` is kept a string unless `numbers` and it is all digits. */
export function pairs(name: string, items: readonly string[] | undefined, numbers = false): Record<string, string | number> {
	const out: Record<string, string | number> = {};
	for (const item of items ?? []) {
		const at = item.indexOf("=");
		if (at <= 0) throw new UsageError(`${name} takes key=value, not "${item}"`);
		const value = item.slice(at + 1);
		out[item.slice(0, at)] = numbers && /^-?\d+$/.test(value) ? Number(value) : value;
	}
	return out;
}

/** A time given as epoch milliseconds or an ISO-8601 date, as epoch milliseconds; null if it is neither. */
export function timeMs(text: string): number | null {
	if (/^\d{12,}$/.test(text)) return Number(text);
	if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
	const ms = Date.parse(text);
	return Number.isNaN(ms) ? null : ms;
}
