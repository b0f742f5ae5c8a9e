/**
 * @module
 * `produce TOPIC`: one record per stdin line through the SDK's batching producer. The line is the value (a line
 * that is not UTF-8 goes as bytes, base64 on the wire);
 * `-K SEP` splits a key off at the first separator; `--json` reads each line as a record object. On a terminal a
 * progress line is kept up to date; a one-line summary always ends on stderr. A record the broker refuses is
 * reported with its line number and the exit status is 1; the other records are still written.
 */

import { parseArgs } from "node:util";
import type { Producer, ProducerRecord, Tributary } from "tributary/client";
import { exactJson } from "../json.ts";
import { errorLine } from "../output.ts";
import { integer, pairs, UsageError } from "../usage-error.ts";

/** Sends not yet acknowledged at most (the producer's buffer bounds their bytes): reading stdin pauses beyond this. */
const IN_FLIGHT_RECORDS_MAX = 20_000;
const PROGRESS_INTERVAL_MS = 250;
const BYTES_PER_MB = 1_000_000;

interface LineOptions {
	readonly separator: string | undefined;
	readonly json: boolean;
	readonly partition: number | undefined;
	readonly headers: Record<string, string | number>;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** `bytes` as text when they are UTF-8; otherwise the bytes themselves, which the SDK sends as base64. */
export function textOrBytes(bytes: Uint8Array): string | Uint8Array {
	try {
		return strictUtf8.decode(bytes);
	} catch {
		return bytes;
	}
}

/**
 * Stdin's lines as bytes, without their `\n` (or `\r\n`): decoding them as UTF-8 here would replace every byte
 * that is not UTF-8 by U+FFFD, and kcat passes a line's bytes through as they are.
 */
export async function* byteLines(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
	let rest: Buffer = Buffer.alloc(0);
	for await (const chunk of input) {
		let data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
		for (let at = data.indexOf(NEWLINE); at !== -1; at = data.indexOf(NEWLINE)) {
			yield withoutCarriageReturn(data.subarray(0, at));
			data = data.subarray(at + 1);
		}
		rest = data;
	}
	if (rest.length > 0) yield withoutCarriageReturn(rest);
}

function withoutCarriageReturn(line: Buffer): Buffer {
	return line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line;
}

/**
 * The record one stdin line stands for; throws (an error naming the line) when a --json line is not a record. A
 * line (or with -K its key or value) that is not UTF-8 goes as bytes.
 */
export function lineRecord(bytes: Uint8Array, lineNumber: number, o: LineOptions): ProducerRecord {
	const decoded = textOrBytes(bytes);
	if (typeof decoded !== "string") {
		if (o.json) throw new Error("not JSON: the line is not UTF-8 text");
		return withOptions(bytesRecord(Buffer.from(bytes), o.separator), o);
	}
	const line = decoded;
	let record: ProducerRecord;
	if (o.json) {
		let parsed: unknown;
		try {
			parsed = exactJson.parse(line);
		} catch (error) {
			throw new Error(`not JSON: ${(error as Error).message}`);
		}
		if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !("value" in parsed)) {
			throw new Error(`--json takes objects like {"key":…,"value":…,"headers":…} (line ${lineNumber})`);
		}
		const r = parsed as Record<string, unknown>;
		const bytes = (field: string) =>
			r[`${field}_encoding`] === "base64" && typeof r[field] === "string" ? Buffer.from(r[field], "base64") : r[field];
		record = {
			key: bytes("key"),
			value: bytes("value"),
			...(r.headers === undefined ? {} : { headers: r.headers as ProducerRecord["headers"] & object }),
			...(typeof r.partition === "number" ? { partition: r.partition } : {}),
			...(typeof r.timestamp === "number" ? { timestamp: r.timestamp } : {}),
		};
	} else if (o.separator !== undefined && line.includes(o.separator)) {
		const at = line.indexOf(o.separator);
		record = { key: line.slice(0, at), value: line.slice(at + o.separator.length) };
	} else {
		record = { value: line };
	}
	return withOptions(record, o);
}

/** A line that is not UTF-8: split at the first separator's bytes (with -K), each side text if it is UTF-8. */
function bytesRecord(line: Buffer, separator: string | undefined): ProducerRecord {
	const at = separator === undefined ? -1 : line.indexOf(separator);
	if (separator === undefined || at === -1) return { value: textOrBytes(line) };
	return { key: textOrBytes(line.subarray(0, at)), value: textOrBytes(line.subarray(at + Buffer.byteLength(separator))) };
}

/** The command line's headers and partition added to a line's record. */
function withOptions(record: ProducerRecord, o: LineOptions): ProducerRecord {
	const extra = Object.entries(o.headers).map(([key, value]) => ({ key, value: String(value) }));
	const own =
		record.headers === undefined
			? []
			: Array.isArray(record.headers)
				? record.headers
				: Object.entries(record.headers).map(([key, value]) => ({ key, value }));
	return {
		...record,
		...(own.length + extra.length > 0 ? { headers: [...own, ...extra] } : {}),
		...(o.partition === undefined ? {} : { partition: o.partition }),
	};
}

export async function produce(client: Tributary, args: string[]): Promise<number> {
	const { values, positionals } = parseArgs({
		args,
		allowPositionals: true,
		options: {
			"key-separator": { type: "string", short: "K" },
			partition: { type: "string", short: "p" },
			header: { type: "string", short: "H", multiple: true },
			json: { type: "boolean", short: "J" },
			"linger-ms": { type: "string" },
		},
	});
	const topic = positionals[0];
	if (topic === undefined) throw new UsageError("produce needs a topic");
	if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
	if (values.json && values["key-separator"] !== undefined) throw new UsageError("give -K or --json, not both");
	if (values["key-separator"] === "") throw new UsageError("-K needs a non-empty separator");
	const options: LineOptions = {
		separator: values["key-separator"],
		json: values.json === true,
		partition: integer("--partition", values.partition),
		headers: pairs("--header", values.header),
	};
	const lingerMs = integer("--linger-ms", values["linger-ms"]);
	const producer = client.producer(lingerMs === undefined ? {} : { lingerMs });
	return pump(producer, topic, options);
}

async function pump(producer: Producer, topic: string, options: LineOptions): Promise<number> {
	const stats = { records: 0, bytes: 0, failed: 0, startedMs: Date.now() };
	const inFlight = new Set<Promise<unknown>>();
	const progress = process.stderr.isTTY
		? setInterval(() => process.stderr.write(`\r${summary(stats)}\u001b[K`), PROGRESS_INTERVAL_MS)
		: null;
	const fail = (error: unknown, lineNumber: number) => {
		stats.failed++;
		process.stderr.write(`${progress === null ? "" : "\r\u001b[K"}line ${lineNumber}: ${errorLine(error)}\n`);
	};
	let lineNumber = 0;
	try {
		for await (const line of byteLines(process.stdin)) {
			lineNumber++;
			if (line.length === 0) continue;
			const at = lineNumber;
			let record: ProducerRecord;
			try {
				record = lineRecord(line, at, options);
			} catch (error) {
				fail(error, at);
				continue;
			}
			// Reading stdin waits while the producer's buffer is full, so long lines cannot pile up past it (nor wait
			// there past its maxBlockMs). A wait that times out is reported by the send that follows, with its line.
			await producer.ready().catch(() => {});
			const sent: Promise<void> = producer.send(topic, record).then(
				() => {
					stats.records++;
					stats.bytes += line.length;
				},
				(error: unknown) => fail(error, at),
			);
			inFlight.add(sent);
			sent.finally(() => inFlight.delete(sent));
			if (inFlight.size >= IN_FLIGHT_RECORDS_MAX) await Promise.race(inFlight);
		}
		await Promise.all(inFlight);
		// Every failure was reported with its line already.
		await producer.close().catch(() => {});
	} finally {
		if (progress !== null) {
			clearInterval(progress);
			process.stderr.write("\r\u001b[K");
		}
	}
	process.stderr.write(`${summary(stats)} to ${topic}${stats.failed > 0 ? `, ${stats.failed} failed` : ""}\n`);
	return stats.failed > 0 ? 1 : 0;
}

function summary(stats: { records: number; bytes: number; startedMs: number }): string {
	const seconds = Math.max((Date.now() - stats.startedMs) / 1000, 0.001);
	const rate = Math.round(stats.records / seconds);
	const mb = (stats.bytes / BYTES_PER_MB / seconds).toFixed(2);
	return `produced ${stats.records} records (${(stats.bytes / BYTES_PER_MB).toFixed(2)} MB) in ${seconds.toFixed(1)} s: ${rate} records/s, ${mb} MB/s`;
}
