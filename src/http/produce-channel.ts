/**
 * @module
 * The streaming produce channel behind `…/records/stream` (WebSocket and NDJSON): one connection, many messages
 * in flight, one acknowledgement per message, in the order the messages arrived. Wire-format free: the route
 * hands it each message's text and a way to write reports.
 *
 * A message is one record (an element of a produce body's `records`) or `{"records":[…]}`, optionally with an
 * idempotent producer's `producer_id`, `epoch` and `sequence`. All of a message's records land in one partition,
 * so a message is written whole or not at all. Its report is what `POST …/records` answers (`{"offsets":[…]}`)
 * or one JSON error (`{"error":{…}}`); a bad message gets its error, its neighbours are unaffected.
 *
 * Coalescing: each partition has one append in flight; messages that arrive meanwhile wait in the partition's
 * queue and go together as the next append, taken once the runtime has delivered what is already on the
 * connection (see `yieldToIo`): Kafka's producer batches, done at the edge, so one client sending one record per
 * message needs one partition write per round trip, not per record. Consecutive messages of one
 * idempotent producer whose sequences follow on are merged under the first one's sequence: the partition then
 * remembers one batch covering them all, and a retry of any of them is recognised inside it.
 */

import * as z from "zod/mini";
import { assert } from "../shared/assert.ts";
import { utf8Encoder } from "../shared/bytes.ts";
import { ApiError, type DomainError, isBug, partitionUnavailable } from "../shared/errors.ts";
import { utf8ByteLength } from "../shared/json.ts";
import {
	STREAM_APPEND_CHARS_MAX,
	STREAM_APPEND_RECORDS_MAX,
	STREAM_ASCII_PROBE_CHARS_MAX,
	STREAM_IN_FLIGHT_BYTES_MAX,
	STREAM_IN_FLIGHT_MESSAGES_MAX,
	STREAM_KEY_RECHECK_MS,
	STREAM_MESSAGE_CHARS_MAX,
} from "../shared/limits.ts";
import { partitionForKey } from "../shared/partitioner.ts";
import { sequenceAfter } from "../shared/producer-sequence.ts";
import { keyBytes } from "../shared/record-codec.ts";
import { type ProduceInput, type ProduceOptions, produce, type RecordPosition } from "../topic/produce.ts";
import { cachedTopic, describeTopic } from "../topic/topic-cache.ts";
import type { TopicMeta } from "../topic/types.ts";
import { parseJson, validate } from "./body.ts";
import { errorBody, statusOf, withRequestId } from "./errors.ts";
import { fastProduceRecord, fastProduceRecords } from "./produce-fast-path.ts";
import { BATCH_FIELDS, ProduceRecordBody, toProduceInput } from "./schemas.ts";
import { plainStreamRecord, StreamedRecord } from "./stream-record-text.ts";

/** WebSocket close codes (4000–4999 are the application's, RFC 6455 §7.4.2). */
export const STREAM_CLOSE = {
	/** More than `STREAM_IN_FLIGHT_MESSAGES_MAX` messages (or `STREAM_IN_FLIGHT_BYTES_MAX` bytes) unanswered. */
	tooManyInFlight: 4429,
	/** The key was deleted while the stream was open. */
	unauthorized: 4401,
	/** A binary frame: messages are JSON text. */
	unsupportedData: 1003,
} as const;

/** `{"records":[…]}` in a stream: records plus an idempotent producer's claim; other options need `POST …/records`. */
export const StreamBatchMessage = z.strictObject(BATCH_FIELDS).check(
	z.superRefine((body, ctx) => {
		const given = [body.producer_id, body.epoch, body.sequence].filter((v) => v !== undefined).length;
		if (given !== 0 && given !== 3) {
			ctx.addIssue({ code: "custom", path: ["producer_id"], message: "an idempotent message needs producer_id, epoch and sequence" });
		}
	}),
);

interface Claim {
	readonly producerId: number;
	readonly epoch: number;
	readonly sequence: number;
}

/** A message waiting for its report. `report` is set once known; reports leave strictly in arrival order. */
interface Slot {
	readonly chars: number;
	report: string | null;
}

/** A parsed message on its way to a partition. */
interface Entry {
	readonly slot: Slot;
	readonly records: ProduceInput[];
	readonly claim: Claim | null;
	/**
	 * The message, kept until its append (the in-flight bounds count it meanwhile) so that its UTF-8 bytes, what a
	 * produce quota is charged (as a request its Content-Length), are measured only when a quota asks for them.
	 */
	readonly text: string;
}

interface PartitionQueue {
	readonly entries: Entry[];
	busy: boolean;
}

export interface ChannelOptions {
	/**
	 * Writes reports now due, in order (JSON texts, no newlines): one call for all that became due together, so
	 * a transport can send them as one chunk. Awaited, so a slow reader slows the stream down.
	 */
	readonly write: (reports: readonly string[]) => void | Promise<void>;
	/**
	 * Called before an append; resolves when the key's quota allows the bytes about to be written, which `size()`
	 * measures when asked: only while the key pays a produce quota (see src/auth/live-quota.ts).
	 */
	readonly charge?: (size: () => number) => Promise<void>;
	/** Whether the caller may still produce (its key not deleted); checked before appends. */
	readonly stillAuthorized?: () => Promise<boolean>;
	/**
	 * In place of `charge` and `stillAuthorized`: asked before an append, what a `POST …/records` of each of its
	 * messages (their UTF-8 bytes: `sizes`) would be refused now, or null to let it through.
	 */
	readonly admit?: (sizes: ReadonlyArray<() => number>) => Promise<ReadonlyArray<DomainError | null>>;
	/**
	 * Logs and counts a thrown failure of the channel's work (the route's `failedAfterStart`); answers a bug with it. A
	 * call that failed, not a bug, answers its run's messages as the channel says, and the stream goes on.
	 */
	readonly failed: (cause: unknown) => DomainError;
	/** The channel failed on a bug (`error`: `failed`'s answer, every unanswered message's): the transport ends the stream. */
	readonly ended?: (error: DomainError) => void;
	/** The request's id, which a 5xx report names (`withRequestId`), as the request's own 5xx answer would. */
	readonly requestId?: string;
}

/** The answer to a message of `chars` characters, over `STREAM_MESSAGE_CHARS_MAX`. */
export function messageTooLong(chars: number): DomainError {
	return {
		code: "request_too_large",
		message: `a message is ${chars} characters; at most ${STREAM_MESSAGE_CHARS_MAX} are read`,
		details: { max_message_chars: STREAM_MESSAGE_CHARS_MAX },
	};
}

/**
 * One message's text as records and claim, or the error that answers it. For the usual message (one plain record of
 * 1 KiB) it costs what `JSON.parse` alone does, which the channel's floor pays (workerd, 256 messages a call: 1.07
 * against 1.05 µs a message, medians of 7 rounds); putting `JSON.parse` and a fixed record in its place moved
 * bench:ab's streaming shape by −1.86 µs a record (−3.43 to +0.02, lower in 3 of 4 rounds), inside its A/A spread.
 */
export function parseMessage(text: string): { records: ProduceInput[]; claim: Claim | null } | DomainError {
	try {
		if (text.length > STREAM_MESSAGE_CHARS_MAX) return messageTooLong(text.length);
		const fast = fastMessage(text);
		if (fast !== null) return { records: fast, claim: null };
		const data = parseJson(text, "message");
		if (typeof data === "object" && data !== null && !Array.isArray(data) && "records" in data) {
			const body = validate(StreamBatchMessage, data, "message");
			const claim =
				body.producer_id === undefined
					? null
					: { producerId: body.producer_id, epoch: body.epoch as number, sequence: body.sequence as number };
			return { records: body.records.map(toProduceInput), claim };
		}
		return { records: [toProduceInput(validate(ProduceRecordBody, data, "message"))], claim: null };
	} catch (cause) {
		if (cause instanceof ApiError) return cause.error;
		throw cause;
	}
}

/** Scratch space a message is UTF-8 encoded into to learn whether it is all ASCII (see `fastMessage`). */
const asciiScratch = new Uint8Array(STREAM_ASCII_PROBE_CHARS_MAX);

/**
 * The records of a plain message (one record, or `{"records":[…]}` alone) checked by hand, or null: then the
 * schema path parses it again and answers the same records or the error (see produce-fast-path.ts). A message
 * whose UTF-8 encoding fills exactly its length is all ASCII (a longer one cannot fill the scratch space to its
 * length), so its records are as many bytes as characters: one native pass instead of a regular expression over
 * each encoded record, which costs several times more. Nor does one regular expression for "all printable ASCII"
 * (`/[^\x20-\x7e]/`) pay in place of this pass and the plain reader's own search for control characters: on a
 * one-byte string V8 checks that negated class at about twice the cost of the reader's (workerd, 100 messages of
 * 1 KiB: 70 µs against 37 µs, the probe 17-20 µs); `parseMessage` was no faster (153 against 143 µs).
 */
function fastMessage(text: string): ProduceInput[] | null {
	const probe = utf8Encoder.encodeInto(text, asciiScratch);
	const ascii = probe.read === text.length && probe.written === text.length;
	if (text.startsWith('{"records"')) return fastProduceRecords(text, ascii ? text.length : null);
	const plain = plainStreamRecord(text, ascii);
	if (plain !== null) return [plain];
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch {
		return null;
	}
	const record = fastProduceRecord(data, text, ascii);
	return record === null ? null : [record];
}

/**
 * Produces the messages of one connection. `accept` each message as it arrives (synchronously, in order);
 * `room()` resolves while fewer than the bounds are unanswered; `finish()` resolves once every report is written.
 */
export class ProduceChannel {
	readonly #env: Env;
	readonly #topic: string;
	readonly #options: ChannelOptions;
	readonly #slots: Slot[] = [];
	/** Characters of the messages accepted whose reports are not yet written. */
	#unansweredChars = 0;
	/** Messages answered whose reports are not yet written (`write` has not resolved). */
	#unwritten = 0;
	/** Messages accepted and not yet routed to a partition (the topic's metadata is being read). */
	#intake: Array<{ slot: Slot; text: string | DomainError }> = [];
	#routing = false;
	readonly #queues = new Map<number, PartitionQueue>();
	readonly #sticky = Math.random();
	#writing: Promise<void> = Promise.resolve();
	#roomWaiters: Array<() => void> = [];
	#idleWaiters: Array<() => void> = [];
	#authorizedUntilMs = 0;
	#revoked = false;
	/** A flush of due reports is queued for the end of this turn. */
	#flushQueued = false;
	/** What the channel's failure answered (see `ChannelOptions.failed`); null while it works. */
	#failure: DomainError | null = null;

	constructor(env: Env, topic: string, options: ChannelOptions) {
		this.#env = env;
		this.#topic = topic;
		this.#options = options;
	}

	/**
	 * Whether one more message would go past the in-flight bounds. A message counts until its report is written, not
	 * only answered: a client that does not read its reports stops the transport reading its body, instead of
	 * having its messages written and their reports held in memory without end.
	 */
	get full(): boolean {
		return this.#slots.length + this.#unwritten >= STREAM_IN_FLIGHT_MESSAGES_MAX || this.#unansweredChars >= STREAM_IN_FLIGHT_BYTES_MAX;
	}

	/** Whether the key behind the stream was found deleted (the stream should end). */
	get revoked(): boolean {
		return this.#revoked;
	}

	/** Takes one message; its report follows those of every message accepted before it. None once the channel failed. */
	accept(text: string): void {
		if (this.#failure !== null) return;
		const slot: Slot = { chars: text.length, report: null };
		this.#slots.push(slot);
		this.#unansweredChars += text.length;
		if (!this.#routing && this.#intake.length === 0) {
			// Nothing accepted before it is still unplaced, so with the metadata at hand it is placed now, in order.
			const meta = cachedTopic(this.#topic);
			if (meta !== null) {
				try {
					this.#place(meta, slot, text);
				} catch (cause) {
					this.#fail(cause);
				}
				return;
			}
		}
		this.#intake.push({ slot, text });
		if (!this.#routing) void this.#route();
	}

	/** Takes a message already known to be refused (one the transport could not read); answered in its turn. */
	refuse(error: DomainError): void {
		if (this.#failure !== null) return;
		const slot: Slot = { chars: 0, report: null };
		this.#slots.push(slot);
		this.#intake.push({ slot, text: error });
		if (!this.#routing) void this.#route();
	}

	/** Resolves once the connection is under its in-flight bounds. */
	room(): Promise<void> {
		if (!this.full) return Promise.resolve();
		return new Promise((resolve) => this.#roomWaiters.push(resolve));
	}

	/** Resolves once every accepted message has been answered and its report written. */
	async finish(): Promise<void> {
		if (this.#slots.length > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
		await this.#writing;
	}

	/** Routes what arrived to partition queues, in arrival order, reading the topic's metadata once per round. */
	async #route(): Promise<void> {
		this.#routing = true;
		try {
			while (this.#intake.length > 0) {
				const batch = this.#intake;
				this.#intake = [];
				const described = await describeTopic(this.#env, this.#topic).catch((cause: unknown) => ({
					ok: false as const,
					error: this.#failedCall(cause, UNAVAILABLE),
				}));
				for (const { slot, text } of batch) {
					if (typeof text !== "string") this.#answer(slot, text);
					else if (!described.ok) this.#answer(slot, described.error);
					else this.#place(described.value, slot, text);
				}
			}
		} catch (cause) {
			this.#fail(cause);
		} finally {
			this.#routing = false;
		}
	}

	/** Queues one message on its partition, or answers its error. */
	#place(meta: TopicMeta, slot: Slot, text: string): void {
		const prepared = this.#prepare(meta, text);
		if ("code" in prepared) {
			this.#answer(slot, prepared);
			return;
		}
		let queue = this.#queues.get(prepared.partition);
		if (queue === undefined) {
			queue = { entries: [], busy: false };
			this.#queues.set(prepared.partition, queue);
		}
		queue.entries.push({ slot, records: prepared.records, claim: prepared.claim, text });
		if (!queue.busy) void this.#drain(queue);
	}

	/**
	 * Parses a message and chooses its partition: an explicit one, else the key's murmur2, else the connection's
	 * sticky partition.
	 */
	#prepare(meta: TopicMeta, text: string): { partition: number; records: ProduceInput[]; claim: Claim | null } | DomainError {
		const parsed = parseMessage(text);
		if ("code" in parsed) return parsed;
		const sticky = Math.floor(this.#sticky * meta.partitions);
		const records = parsed.records.map((record): ProduceInput => {
			if (record.partition !== null) return record;
			const bytes = keyBytes(record.key, record.keyEncoding);
			const partition = bytes === null ? sticky : partitionForKey(bytes, meta.partitions);
			return record instanceof StreamedRecord ? record.withPartition(partition) : { ...record, partition };
		});
		const partition = (records[0] as ProduceInput).partition as number;
		if (records.some((r) => r.partition !== partition)) {
			return {
				code: "invalid_request",
				message: "a streamed message's records must land in one partition (one key, or one partition); send them as separate messages",
				details: { partitions: [...new Set(records.map((r) => r.partition as number))] },
			};
		}
		if (partition >= meta.partitions) {
			return {
				code: "partition_not_found",
				message: `topic "${meta.name}" has partitions 0 to ${meta.partitions - 1}`,
				details: { topic: meta.name, partition, partitions: meta.partitions },
			};
		}
		// Sizes, keys on compacted topics and the claim are checked by `produce` for the whole coalesced append; a
		// refused append is retried message by message (see #append), so a bad message still gets its own error.
		return { partition, records, claim: parsed.claim };
	}

	/**
	 * Appends the partition's queued messages, a coalesced run at a time, until the queue is empty. One run in
	 * flight, not two (the next sent while the partition commits the last), measured and dropped: full streaming
	 * runs, alternating, took 34.1k and 19.6k records/s (p99 34 and 47 ms, 22.9 and 27.0 µs of server CPU a record)
	 * one at a time, 23.3k and 12.4k (p99 40 and 86 ms, 23.4 and 30.1 µs) two at a time, whose runs were smaller
	 * (the floor, ceiling+sqlite+parse, swung 11.2k to 30.4k in the same runs: no gain to see); and a run refused and
	 * retried message by message would land after the next run, its offsets out of order.
	 */
	async #drain(queue: PartitionQueue): Promise<void> {
		queue.busy = true;
		try {
			while (queue.entries.length > 0) {
				await yieldToIo();
				// The channel failed meanwhile: what was queued, or placed since (a message that waited for the topic's
				// metadata), is answered, and never written.
				if (this.#failure !== null) return;
				const run = takeRun(queue.entries);
				const refusals = await this.#gate(run).catch((cause: unknown) => {
					// The key's authority did not answer: nothing of the run was written; each message may be sent again.
					const error = this.#failedCall(cause, UNAVAILABLE);
					return run.map(() => error);
				});
				if (refusals.every((r) => r === null)) await this.#append(run);
				else {
					// Each message alone, in order: one let through after one refused is no longer the next of a coalesced run.
					for (const [i, entry] of run.entries()) {
						const refused = refusals[i];
						if (refused) this.#answer(entry.slot, refused);
						else await this.#append([entry]);
					}
				}
			}
		} catch (cause) {
			this.#fail(cause);
		} finally {
			queue.busy = false;
		}
	}

	/**
	 * What answers the messages of a call that threw: `answer`, the failure logged and counted, unless it is a bug
	 * (`isBug`: ours, or an object's `internal` passed on), thrown on to end the channel (`#fail`), as `onError` and
	 * `failed` count it: it would fail again the same way.
	 */
	#failedCall(cause: unknown, answer: DomainError): DomainError {
		if (isBug(cause)) throw cause;
		this.#options.failed(cause);
		return answer;
	}

	/**
	 * Ends the channel on a bug (its own code threw, or a call's failure `isBug`): every message not yet answered is
	 * answered with what `failed` makes of it, in order, and what waits in the queues is dropped unwritten. An append in
	 * flight may still land after its message's report: a 500 does not say that nothing was written.
	 */
	#fail(cause: unknown): void {
		if (this.#failure !== null) return;
		const failure = this.#options.failed(cause);
		this.#failure = failure;
		this.#intake = [];
		for (const queue of this.#queues.values()) queue.entries.length = 0;
		for (const slot of this.#slots) if (slot.report === null) this.#answer(slot, failure);
		this.#options.ended?.(failure);
	}

	/**
	 * Before writing, each message's refusal or null: with `admit`, its answer; else the key must still exist, and its
	 * produce quota must allow the run's bytes (waiting if need be).
	 */
	async #gate(run: readonly Entry[]): Promise<ReadonlyArray<DomainError | null>> {
		const { stillAuthorized, charge, admit } = this.#options;
		if (admit !== undefined) return admit(run.map((e) => () => utf8ByteLength(e.text)));
		if (stillAuthorized !== undefined && !this.#revoked && Date.now() >= this.#authorizedUntilMs) {
			if (await stillAuthorized()) this.#authorizedUntilMs = Date.now() + STREAM_KEY_RECHECK_MS;
			else this.#revoked = true;
		}
		if (charge !== undefined && !this.#revoked) await charge(() => run.reduce((sum, e) => sum + utf8ByteLength(e.text), 0));
		return run.map(() => (this.#revoked ? REVOKED : null));
	}

	/**
	 * One append for the run; a run refused as a whole is retried message by message, so each gets its own answer.
	 * The channel's own work per message is small beside reading it: gathering the run's records with a loop instead
	 * of `flatMap`, and skipping the partition choice's `map` when every record names its partition, measured
	 * 235 → 225 and 225 → 220 µs per 100 messages of 1 KiB through the channel (workerd, RPC stubbed), within noise.
	 */
	async #append(run: readonly Entry[]): Promise<void> {
		// Answered by the channel's failure while earlier messages were appended: not written.
		if (this.#failure !== null) return;
		const records = run.length === 1 ? (run[0] as Entry).records : run.flatMap((e) => e.records);
		const head = (run[0] as Entry).claim;
		const options: ProduceOptions =
			head === null ? {} : { producer: { producerId: head.producerId, epoch: head.epoch, sequences: { single: head.sequence } } };
		const result = await produce(this.#env, this.#topic, records, options).catch((cause: unknown) =>
			// The append may have landed: the partition's 503 says so, as produce() answers a partition's call that threw.
			({ ok: false as const, error: this.#failedCall(cause, partitionUnavailable(records[0]?.partition as number).error) }),
		);
		if (!result.ok) {
			// The partition's bug, answered: it ends the channel as one thrown does.
			if (result.error.code === "internal") throw ApiError.from(result.error);
			if (run.length > 1 && !PARTITION_WIDE.has(result.error.code)) {
				for (const entry of run) await this.#append([entry]);
				return;
			}
			for (const entry of run) this.#answer(entry.slot, result.error);
			return;
		}
		const positions = result.value.positions;
		assert(positions.length === records.length, "position per appended");
		let at = 0;
		for (const entry of run) {
			this.#settle(entry.slot, offsetsReport(positions, at, entry.records.length));
			at += entry.records.length;
		}
	}

	/** An error report: the error body any route answers, plus the status that route would have answered with. */
	#answer(slot: Slot, error: DomainError): void {
		const { requestId } = this.#options;
		const named = requestId === undefined ? error : withRequestId(error, requestId);
		this.#settle(slot, JSON.stringify({ ...errorBody(named), status: statusOf(error.code) }));
	}

	/** Records a report; the reports it makes due are written together with the others settled in the same turn. */
	#settle(slot: Slot, report: string): void {
		// An append that landed after the channel's failure answered its messages: that answer stands.
		if (slot.report !== null && this.#failure !== null) return;
		assert(slot.report === null, "answered once");
		slot.report = report;
		if (this.#flushQueued) return;
		this.#flushQueued = true;
		queueMicrotask(() => this.#flush());
	}

	/** Writes every report now due, in arrival order, as one call of `write`. */
	#flush(): void {
		this.#flushQueued = false;
		let due = 0;
		while (due < this.#slots.length && (this.#slots[due] as Slot).report !== null) due++;
		if (due === 0) return;
		const reports = this.#slots.splice(0, due);
		const texts: string[] = new Array(due);
		let chars = 0;
		for (let i = 0; i < due; i++) {
			const s = reports[i] as Slot;
			chars += s.chars;
			texts[i] = s.report as string;
		}
		this.#unwritten += due;
		const write = this.#options.write;
		// A reader that went away fails the write; the messages it sent are still written, and nobody waits for words.
		this.#writing = this.#writing
			.then(() => write(texts))
			.catch(() => undefined)
			.then(() => {
				this.#unwritten -= due;
				this.#unansweredChars -= chars;
				if (!this.full) for (const wake of this.#roomWaiters.splice(0)) wake();
			});
		if (this.#slots.length === 0) {
			const idle = this.#idleWaiters.splice(0);
			void this.#writing.then(() => {
				for (const wake of idle) wake();
			});
		}
	}
}

/**
 * The report of a message whose `count` records start at `positions[from]`: `{"offsets":[…]}`, as
 * `JSON.stringify` would write it, without an object per report.
 */
function offsetsReport(positions: readonly RecordPosition[], from: number, count: number): string {
	let out = '{"offsets":[';
	for (let i = from; i < from + count; i++) {
		const p = positions[i] as RecordPosition;
		out += `${i === from ? "" : ","}{"partition":${p.partition},"offset":${p.offset},"timestamp":${p.timestamp}}`;
	}
	return `${out}]}`;
}

/**
 * Resolves after the runtime has delivered the messages already waiting on the connection. workerd hands a
 * socket's messages over one per turn of its event loop, interleaved with the partition RPC's own turns, so an
 * append started as soon as the previous one returns finds only the two or three messages delivered meanwhile
 * (measured: 2.8 per append with 256 in flight). A timer fires only after pending I/O, so waiting for one lets
 * the queue fill with everything already sent: Kafka's `linger.ms = 0`, batching what has arrived and no more.
 * Waiting on, turn by turn while each turn brought more messages (up to 2 ms), was measured and dropped: runs of one
 * message still follow most runs of 256 (a burst reaches the edge over several turns), but under Miniflare the
 * isolate's thread is held by each commit's fsync anyway, and the extra turns cost more than the commits they
 * saved (8 alternating pairs, one client, 256 in flight: 40.1 against 33.7 µs of server CPU per record, medians).
 * The cost it leaves: with 256 in flight, 23 % of appends carried 1-8 messages (0.3 % of the records), most right
 * after a full run: the first turn of the client's refill. `ceiling+sqlite` coalesces the same way and showed 22 %.
 */
function yieldToIo(): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, 0));
}

const UNAVAILABLE: DomainError = { code: "unavailable", message: "nothing was written; send it again" };

const REVOKED: DomainError = { code: "unauthorized", message: "the API key was deleted; the stream ends" };

/** Failures of the partition or topic, not of a message: every message of the run shares them. */
const PARTITION_WIDE: ReadonlySet<string> = new Set(["partition_unavailable", "partition_full", "topic_not_found", "unavailable"]);

/**
 * The next coalesced run of a partition's queue: messages in order, up to the record and size limits; an
 * idempotent producer's messages only with the same producer's next sequences, plain messages only with plain.
 */
function takeRun(entries: Entry[]): Entry[] {
	const first = entries[0] as Entry;
	let records = first.records.length;
	let chars = first.slot.chars;
	let count = 1;
	let nextSequence = first.claim === null ? null : sequenceAfter(first.claim.sequence, first.records.length);
	while (count < entries.length) {
		const next = entries[count] as Entry;
		if (records + next.records.length > STREAM_APPEND_RECORDS_MAX || chars + next.slot.chars > STREAM_APPEND_CHARS_MAX) break;
		if (first.claim === null ? next.claim !== null : !follows(first.claim, nextSequence as number, next.claim)) break;
		records += next.records.length;
		chars += next.slot.chars;
		if (nextSequence !== null) nextSequence = sequenceAfter(nextSequence, next.records.length);
		count++;
	}
	return entries.splice(0, count);
}

function follows(first: Claim, nextSequence: number, claim: Claim | null): boolean {
	return claim !== null && claim.producerId === first.producerId && claim.epoch === first.epoch && claim.sequence === nextSequence;
}
