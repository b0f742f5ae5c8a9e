/**
 * @module
 * `consume TOPIC`: prints records as they arrive. Without `--group` it reads partitions directly (nothing is
 * committed); with `--group` it is a member of that consumer group and commits what it printed. `--exit` stops
 * once every partition is caught up (kcat's `-e`), `--max N` after N records; Ctrl-C stops cleanly (a group
 * member commits and leaves first).
 */

import { once } from "node:events";
import { parseArgs } from "node:util";
import { type ConsumerRecord, type Tributary, TributaryError } from "tributary/client";
import { formatter, recordJson, text } from "../output.ts";
import { integer, timeMs, UsageError } from "../usage-error.ts";

const FETCH_RECORDS = 500;
/** Long-poll while following a topic; a short one when only catching up (`--exit`). */
const FOLLOW_WAIT_MS = 5_000;
const CATCH_UP_WAIT_MS = 300;

/** Where a partition read starts: an end of the log, an offset, N before the end, or a time. */
export type StartAt = "earliest" | "latest" | { offset: number } | { fromEnd: number } | { timestampMs: number };

export function parseStart(textValue: string): StartAt {
	if (textValue === "earliest" || textValue === "beginning") return "earliest";
	if (textValue === "latest" || textValue === "end") return "latest";
	if (/^-\d+$/.test(textValue)) return { fromEnd: Number(textValue.slice(1)) };
	const ms = timeMs(textValue);
	if (ms !== null) return { timestampMs: ms };
	if (/^\d+$/.test(textValue)) return { offset: Number(textValue) };
	throw new UsageError(`--from takes earliest, latest, an offset, -N (N before the end), epoch ms or an ISO-8601 time, not "${textValue}"`);
}

interface Sink {
	write(record: ConsumerRecord): Promise<void>;
	count: number;
	readonly max: number | undefined;
	stopped: boolean;
}

/** `print` gives a record's whole output, its line end included: a `--format` has one only where it says `\n`. */
function sink(print: (r: ConsumerRecord) => string, max: number | undefined): Sink {
	return {
		count: 0,
		max,
		stopped: false,
		async write(record) {
			if (this.stopped) return;
			this.count++;
			if (this.max !== undefined && this.count >= this.max) this.stopped = true;
			if (!process.stdout.write(print(record))) await once(process.stdout, "drain");
		},
	};
}

/**
 * `--from -5` and `-o -5` as one argument (`--from=-5`): node's parseArgs takes a value that starts with "-" for an
 * option and refuses it, but N before the end is spelled so in the usage (and kcat's `-o -5`).
 */
export function joinFromEnd(args: readonly string[]): string[] {
	const out: string[] = [];
	for (let i = 0; i < args.length; i++) {
		const arg = args[i] as string;
		const next = args[i + 1];
		if ((arg === "--from" || arg === "-o") && next !== undefined && /^-\d+$/.test(next)) {
			out.push(`--from=${next}`);
			i++;
		} else out.push(arg);
	}
	return out;
}

export async function consume(client: Tributary, args: string[]): Promise<number> {
	const { values, positionals } = parseArgs({
		args: joinFromEnd(args),
		allowPositionals: true,
		options: {
			group: { type: "string", short: "G" },
			from: { type: "string", short: "o" },
			partition: { type: "string", short: "p" },
			max: { type: "string", short: "c" },
			exit: { type: "boolean", short: "e" },
			json: { type: "boolean", short: "J" },
			format: { type: "string", short: "f" },
		},
	});
	const topic = positionals[0];
	if (topic === undefined) throw new UsageError("consume needs a topic");
	if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
	if (values.json && values.format !== undefined) throw new UsageError("give --json or --format, not both");
	const print =
		values.format !== undefined ? formatter(values.format) : (r: ConsumerRecord) => `${values.json ? recordJson(r) : text(r.value)}\n`;
	const out = sink(print, integer("--max", values.max, 1));
	const start = parseStart(values.from ?? "earliest");
	const exit = values.exit === true;
	if (values.group !== undefined) {
		if (values.partition !== undefined)
			throw new UsageError("--partition reads outside a group: drop --group, or let the group assign partitions");
		if (start !== "earliest" && start !== "latest") {
			throw new UsageError("with --group, --from is earliest or latest (where a new group starts); move a group with `groups reset`");
		}
		await consumeGroup(client, topic, values.group, start, exit, out);
	} else {
		await consumePartitions(client, topic, integer("--partition", values.partition), start, exit, out);
	}
	process.stderr.write(`consumed ${out.count} records from ${topic}\n`);
	return 0;
}

async function consumeGroup(client: Tributary, topic: string, group: string, from: "earliest" | "latest", exit: boolean, out: Sink) {
	const consumer = client.consumer({ group, topics: [topic], from, stopWhenIdle: exit, waitMs: exit ? CATCH_UP_WAIT_MS : FOLLOW_WAIT_MS });
	const stop = () => {
		out.stopped = true;
		// After the record being written: it is committed once written, not before.
		void consumer.stop().catch(() => {});
	};
	process.once("SIGINT", stop);
	process.once("SIGTERM", stop);
	try {
		for await (const record of consumer) {
			await out.write(record);
			if (out.stopped) break;
		}
	} finally {
		process.off("SIGINT", stop);
		process.off("SIGTERM", stop);
		await consumer.close();
	}
}

async function consumePartitions(client: Tributary, topic: string, only: number | undefined, start: StartAt, exit: boolean, out: Sink) {
	const described = await client.topics.describe(topic);
	if (only !== undefined && only >= described.partitions.length) {
		throw new TributaryError("partition_not_found", `topic "${topic}" has partitions 0 to ${described.partitions.length - 1}`, {
			status: 404,
		});
	}
	const partitions = described.partitions.filter((p) => only === undefined || p.partition === only);
	const stop = () => {
		out.stopped = true;
		process.stderr.write(`consumed ${out.count} records from ${topic}\n`);
		process.exit(0);
	};
	process.once("SIGINT", stop);
	process.once("SIGTERM", stop);
	try {
		await Promise.all(
			partitions.map(async (p) => {
				let offset = await startOffset(client, topic, p, start);
				while (!out.stopped) {
					let read: Awaited<ReturnType<Tributary["fetch"]>>;
					try {
						read = await client.fetch(topic, p.partition, { offset, maxRecords: FETCH_RECORDS, waitMs: exit ? 0 : FOLLOW_WAIT_MS });
					} catch (error) {
						const reset = error instanceof TributaryError ? resetOffset(error, offset) : null;
						if (reset === null) throw error;
						offset = reset;
						continue;
					}
					for (const record of read.records) await out.write(record);
					offset = read.nextOffset;
					if (exit && offset >= read.highWatermark) return;
				}
			}),
		);
	} finally {
		process.off("SIGINT", stop);
		process.off("SIGTERM", stop);
	}
}

/**
 * Where a read refused as out of range goes on, as Kafka's consumer resets: below the log start (retention took
 * the records, or the offset was given so) from the log start; past the high watermark from the high watermark,
 * where new records will come, never back over the whole log. Null when `error` is not such a refusal.
 */
export function resetOffset(error: TributaryError, offset: number): number | null {
	const logStart = error.details.log_start_offset;
	const highWatermark = error.details.high_watermark;
	if (error.code !== "offset_out_of_range" || typeof logStart !== "number" || typeof highWatermark !== "number") return null;
	return offset < logStart ? logStart : highWatermark;
}

async function startOffset(
	client: Tributary,
	topic: string,
	p: { partition: number; log_start_offset: number; high_watermark: number },
	start: StartAt,
): Promise<number> {
	if (start === "earliest") return p.log_start_offset;
	if (start === "latest") return p.high_watermark;
	if ("offset" in start) return start.offset;
	if ("fromEnd" in start) return Math.max(p.log_start_offset, p.high_watermark - start.fromEnd);
	return (await client.topics.offsetFor(topic, p.partition, start.timestampMs)) ?? p.high_watermark;
}
