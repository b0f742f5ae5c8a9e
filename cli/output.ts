/**
 * @module
 * How the CLI prints: records (value only, JSON lines, or a kcat-style format string), tables for people, and
 * the API's JSON for scripts.
 */

import { type ConsumerRecord, TributaryError } from "tributary/client";
import { exactJson, prettyJson } from "./json.ts";
import { UsageError } from "./usage-error.ts";

/** Text of a key or value: strings as they are, bytes as base64, anything else as JSON; null as empty. */
export function text(data: unknown): string {
	if (data === null || data === undefined) return "";
	if (typeof data === "string") return data;
	if (data instanceof Uint8Array) return Buffer.from(data).toString("base64");
	return exactJson.stringify(data);
}

/** A record as one JSON object: the API's fields; bytes go back to base64 with their `*_encoding`. */
export function recordJson(record: ConsumerRecord): string {
	const out: Record<string, unknown> = {
		topic: record.topic,
		partition: record.partition,
		offset: record.offset,
		timestamp: record.timestamp,
		key: record.key instanceof Uint8Array ? text(record.key) : record.key,
		value: record.value instanceof Uint8Array ? text(record.value) : record.value,
		headers: record.headers,
	};
	if (record.key instanceof Uint8Array) out.key_encoding = "base64";
	if (record.value instanceof Uint8Array) out.value_encoding = "base64";
	return exactJson.stringify(out);
}

/** A key's or value's size as kcat prints it: its bytes (binary decoded, text as UTF-8), -1 when it is null. */
function byteSize(data: unknown): number {
	if (data === null || data === undefined) return -1;
	if (data instanceof Uint8Array) return data.byteLength;
	return Buffer.byteLength(text(data));
}

const TOKENS: Record<string, (r: ConsumerRecord) => string> = {
	t: (r) => r.topic,
	p: (r) => String(r.partition),
	o: (r) => String(r.offset),
	T: (r) => String(r.timestamp),
	k: (r) => text(r.key),
	s: (r) => text(r.value),
	K: (r) => String(byteSize(r.key)),
	S: (r) => String(byteSize(r.value)),
	h: (r) => r.headers.map((h) => `${h.key}=${h.value ?? ""}`).join(","),
	"%": () => "%",
};

/** A format's escapes, as kcat's: `\n`, `\r`, `\t`, `\\`, and `\xHH`, the ASCII character of two hex digits. */
const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\" };
const HEX_ESCAPE = /^x[0-7][0-9a-fA-F]/;

/**
 * kcat's format strings (`-f`): `%t` topic, `%p` partition, `%o` offset, `%T` timestamp, `%k` key, `%s` value,
 * `%K`/`%S` their sizes in bytes (-1 for null), `%h` headers, `%%`, and the escapes above. As kcat does, a record
 * prints exactly the format: nothing is added, so a format ends in `\n` to put each record on its own line.
 */
export function formatter(format: string): (record: ConsumerRecord) => string {
	const parts: Array<string | ((r: ConsumerRecord) => string)> = [];
	let literal = "";
	for (let i = 0; i < format.length; i++) {
		const c = format[i] as string;
		const next = format[i + 1];
		if (c === "%" && next !== undefined && TOKENS[next] !== undefined) {
			parts.push(literal, TOKENS[next] as (r: ConsumerRecord) => string);
			literal = "";
			i++;
		} else if (c === "\\" && next !== undefined && ESCAPES[next] !== undefined) {
			literal += ESCAPES[next];
			i++;
		} else if (c === "\\" && HEX_ESCAPE.test(format.slice(i + 1, i + 4))) {
			literal += String.fromCharCode(Number.parseInt(format.slice(i + 2, i + 4), 16));
			i += 3;
		} else if (c === "%") {
			throw new UsageError(`unknown format token %${next ?? ""} (use %t %p %o %T %k %s %K %S %h %%)`);
		} else literal += c;
	}
	parts.push(literal);
	return (record) => parts.map((p) => (typeof p === "string" ? p : p(record))).join("");
}

/** Columns padded to their widest cell. */
export function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null>>): string {
	const cells = [header, ...rows.map((row) => row.map((c) => (c === null ? "-" : String(c))))];
	const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
	return cells.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")).join("\n");
}

export function printJson(value: unknown): void {
	process.stdout.write(`${prettyJson(value)}\n`);
}

/**
 * What to do about a 412, by the command that had it. A grant is written If-Match by `keys quotas|alter --if-match`,
 * `anonymous set|alter|close --if-match`, and by anonymous's `close`, `grant` and `revoke`, which read the grant again
 * on a 412 and fail with it only on an entry added meanwhile (`close`) or after their last attempt.
 */
const PRECONDITION_ADVICE: Readonly<Record<string, string>> = {
	anonymous:
		" (another admin changed anonymous access since it was read, and nothing was written: run `tributary anonymous show` to see it and its etag, then decide again)",
	keys: " (another admin changed the key since it was read, and nothing was written: run `tributary keys describe ID` to see it and its etag, then decide again)",
};

/**
 * One line for stderr: the API's code and message, never a stack. `url`: where the command went; `command`: the
 * command word, which a connection flag written after it is told to stand before.
 */
export function errorLine(error: unknown, url?: string, command?: string): string {
	if (error instanceof TributaryError) {
		const status = error.status === 0 ? "" : ` (HTTP ${error.status})`;
		// The broker may run, just not where the CLI looked (npm start on another PORT): say where it went and how to redirect it.
		const advice =
			error.code === "network_error" && url !== undefined
				? ` (no broker answered at ${url}: start one with \`npm start\`, or name yours with --url or TRIBUTARY_URL)`
				: "";
		const todo = error.code === "precondition_failed" ? (PRECONDITION_ADVICE[command ?? ""] ?? "") : "";
		return `error: ${error.code}${status}: ${error.message}${advice}${todo}`;
	}
	if (isUsageError(error)) return `usage: ${usageMessage(error as Error, command)} (see tributary --help)`;
	return `error: ${error instanceof Error ? error.message : String(error)}`;
}

/** The option parseArgs' message names: `--from` in "Option '-o, --from <value>' argument missing". */
const PARSE_ARGS_OPTION = /'(?:-\w, )?(-{1,2}[\w-]+)/;

/**
 * A usage mistake in the CLI's words. parseArgs' own ("Option '-o, --from <value>' argument missing", "Unknown option
 * '--url'. To specify a positional argument starting with a '-', place it at the end of the command after '--' …")
 * become the option named and what to do: a connection flag after a command that has none of its own belongs before it.
 */
function usageMessage(error: Error, command: string | undefined): string {
	const option = PARSE_ARGS_OPTION.exec(error.message)?.[1];
	const code = (error as { code?: unknown }).code;
	if (option === undefined) return error.message;
	if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && error.message.endsWith("argument missing")) return `${option} needs a value`;
	if (code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") return error.message;
	if ((option === "--url" || option === "--token") && command !== undefined) {
		return `${option} goes before the command: tributary ${option} ${option === "--url" ? "URL" : "TOKEN"} ${command} …`;
	}
	return `unknown option ${option}`;
}

/** A mistake on the command line: ours, or one node:util parseArgs found (unknown option, missing value). */
export function isUsageError(error: unknown): boolean {
	const code = (error as { code?: unknown } | null)?.code;
	return error instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
}
