/**
 * @module
 * A batching, idempotent producer, shaped like Kafka's: records wait up to `lingerMs` in a batch per partition
 * (Kafka's RecordAccumulator) and each partition has one request in flight at a time, so its batches are
 * written in order. Idempotence (KIP-98) is on by default: the producer gets an id and epoch from
 * `POST /v1/producers` and numbers each partition's records, so a request retried after a lost answer is
 * answered with its original offsets instead of being written twice.
 *
 * The producer picks every record's partition itself (sequences are per partition): an explicit partition, else
 * Kafka's murmur2 of the key, else a sticky partition that moves on each time a batch fills (KIP-480).
 */

import { errorFromResponse, invalidArgument, TributaryError } from "./errors.ts";
import { type Http, seg } from "./http.ts";
import { partitionForKey } from "./partitioner.ts";
import { ProduceStream, type StreamReport, streamingSupported } from "./produce-stream.ts";
import { keyBytes, type ProducerRecord, type RecordMetadata, toWire } from "./records.ts";

export const LINGER_MS_DEFAULT = 5;
export const BATCH_RECORDS_DEFAULT = 1_000;
/** The broker takes at most 10 000 records and 8 MiB per request. */
export const BATCH_RECORDS_MAX = 10_000;
export const BATCH_BYTES_DEFAULT = 1024 * 1024;
export const BATCH_BYTES_MAX = 7 * 1024 * 1024;
/** The broker's request body limit (8 MiB), less room for the envelope. */
const REQUEST_BYTES_MAX = 8 * 1024 * 1024 - 1024;
/** How old a topic's partition count may get before a send refreshes it (Kafka's `metadata.max.age.ms`). */
export const METADATA_MAX_AGE_MS = 60_000;
/**
 * Sends waiting in a partition's queue, with nothing in flight, from which its batches go over the topic's
 * streaming produce channel instead of one request each: many small sends in flight.
 */
export const STREAM_PENDING_SENDS_MIN = 32;
/** Batches of one partition in flight at once on the channel (Kafka's `max.in.flight.requests.per.connection`). */
export const STREAM_BATCHES_IN_FLIGHT = 5;

export interface ProducerOptions {
	/** How long a record may wait for others to share its request. Default 5 ms. */
	readonly lingerMs?: number;
	/** Records per request at most. Default 1 000. */
	readonly batchRecords?: number;
	/** JSON bytes per request at most (a larger record goes alone). Default 1 MiB. */
	readonly batchBytes?: number;
	/** Producer id + sequence numbers, so retries never duplicate. Default true. */
	readonly idempotent?: boolean;
	/** A stable id for this producer: re-initialising it fences any older instance (Kafka's `transactional.id`). */
	readonly transactionalId?: string;
}

/** A record waiting for its request. Its JSON is made when its batch is (so queued records hold no copies). */
interface Pending {
	readonly record: ProducerRecord;
	readonly partition: number;
	/** JSON text, made early only for values that must be serialised to be measured. */
	wire: string | null;
	readonly estimatedBytes: number;
	readonly resolve: (metadata: RecordMetadata) => void;
	readonly reject: (error: unknown) => void;
}

type Settle = Pick<Pending, "resolve" | "reject">;

interface PartitionQueue {
	readonly topic: TopicState;
	readonly partition: number;
	records: Pending[];
	/** Estimated JSON bytes of `records`. */
	bytes: number;
	/** When the oldest queued record arrived (or its wait restarted behind a request in flight). */
	firstAtMs: number;
	/** Batches sent and not yet answered: at most one over plain requests, `STREAM_BATCHES_IN_FLIGHT` streamed. */
	inFlight: number;
	/** Whether the batches in flight went over the channel; chosen when none is in flight, so order is kept. */
	streamed: boolean;
	/** Batches resent over plain requests after the channel broke, one after another in sequence order. */
	resends: Promise<unknown>;
	timer: ReturnType<typeof setTimeout> | null;
	/** The sequence of the next record, under producer identity `identityGeneration`. */
	nextSequence: number;
	identityGeneration: number;
}

interface TopicState {
	readonly name: string;
	partitions: number | null;
	loadedAtMs: number;
	loading: boolean;
	/** Sends that arrived before the partition count was known, in order. */
	readonly waiting: Array<{ record: ProducerRecord; settle: Settle }>;
	sticky: number;
	readonly queues: Map<number, PartitionQueue>;
}

interface Identity {
	readonly producerId: number;
	readonly epoch: number;
	readonly generation: number;
}

/**
 * @example
 * const producer = client.producer();
 * for (const order of orders) producer.send("orders", { key: order.id, value: order }); // batched
 * await producer.flush(); // every send above has committed (or flush throws the first failure)
 * await producer.close();
 */
export class Producer {
	readonly #http: Http;
	readonly #lingerMs: number;
	readonly #batchRecords: number;
	readonly #batchBytes: number;
	readonly #idempotent: boolean;
	readonly #transactionalId: string | undefined;
	readonly #topics = new Map<string, TopicState>();
	/** Each topic's streaming produce channel, opened when a partition first has many sends pending. */
	readonly #streams = new Map<string, ProduceStream>();
	#identity: Promise<Identity> | null = null;
	#identityGeneration = 0;
	#fatal: TributaryError | null = null;
	#outstanding = 0;
	#idleWaiters: Array<() => void> = [];
	#flushing = 0;
	#closed = false;
	/** The first failure since the last flush, which that flush reports (sends are often not awaited). */
	#failure: unknown = null;

	constructor(http: Http, options: ProducerOptions = {}) {
		this.#http = http;
		this.#lingerMs = bounded("lingerMs", options.lingerMs ?? LINGER_MS_DEFAULT, 0, 60_000);
		this.#batchRecords = bounded("batchRecords", options.batchRecords ?? BATCH_RECORDS_DEFAULT, 1, BATCH_RECORDS_MAX);
		this.#batchBytes = bounded("batchBytes", options.batchBytes ?? BATCH_BYTES_DEFAULT, 1, BATCH_BYTES_MAX);
		this.#idempotent = options.idempotent ?? true;
		this.#transactionalId = options.transactionalId;
	}

	/**
	 * Queues `record` for `topic`; resolves once it is written, with its partition and offset. Sends need not be
	 * awaited one by one: a failure is also reported by the next `flush()`.
	 */
	send(topic: string, record: ProducerRecord): Promise<RecordMetadata> {
		let settle!: Settle;
		const promise = new Promise<RecordMetadata>((resolve, reject) => {
			settle = { resolve, reject };
		});
		// Unawaited sends must not crash the process on failure: flush() reports it instead.
		promise.catch(() => {});
		const error = this.#closed ? new TributaryError("closed", "the producer is closed") : this.#fatal;
		if (error !== null) {
			settle.reject(error);
			return promise;
		}
		this.#outstanding++;
		const state = this.#topic(topic);
		if (state.partitions === null || state.waiting.length > 0) {
			state.waiting.push({ record, settle });
			this.#loadMetadata(state);
		} else {
			if (Date.now() - state.loadedAtMs > METADATA_MAX_AGE_MS) this.#loadMetadata(state);
			this.#enqueue(state, record, settle);
		}
		return promise;
	}

	/** Sends everything queued now and waits until every send so far has settled; throws the first failure. */
	async flush(): Promise<void> {
		this.#flushing++;
		try {
			for (const state of this.#topics.values()) for (const queue of state.queues.values()) this.#drain(queue);
			if (this.#outstanding > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
		} finally {
			this.#flushing--;
		}
		const failure = this.#failure;
		this.#failure = null;
		if (failure !== null) throw failure;
	}

	/** Flushes, then refuses further sends. */
	async close(): Promise<void> {
		this.#closed = true;
		await this.flush();
		for (const stream of this.#streams.values()) stream.close();
		this.#streams.clear();
	}

	#resolve(pending: Settle, metadata: RecordMetadata): void {
		pending.resolve(metadata);
		this.#settled();
	}

	#reject(pending: Settle, error: unknown): void {
		this.#failure ??= error;
		pending.reject(error);
		this.#settled();
	}

	#settled(): void {
		this.#outstanding--;
		if (this.#outstanding > 0) return;
		const waiters = this.#idleWaiters;
		this.#idleWaiters = [];
		for (const wake of waiters) wake();
	}

	#topic(name: string): TopicState {
		let state = this.#topics.get(name);
		if (state === undefined) {
			state = { name, partitions: null, loadedAtMs: 0, loading: false, waiting: [], sticky: -1, queues: new Map() };
			this.#topics.set(name, state);
		}
		return state;
	}

	#loadMetadata(state: TopicState): void {
		if (state.loading) return;
		state.loading = true;
		const path = `/v1/topics/${seg(state.name)}`;
		this.#http.request<{ partitions: unknown[] }>("GET", path).then(
			(topic) => {
				state.loading = false;
				state.partitions = Math.max(state.partitions ?? 0, topic.partitions.length);
				state.loadedAtMs = Date.now();
				if (state.sticky < 0) state.sticky = Math.floor(Math.random() * state.partitions);
				for (const { record, settle } of state.waiting.splice(0)) this.#enqueue(state, record, settle);
			},
			(error: unknown) => {
				state.loading = false;
				// A refresh that fails keeps the count it had; sends that were waiting for a first one fail.
				if (state.partitions === null) for (const { settle } of state.waiting.splice(0)) this.#reject(settle, error);
			},
		);
	}

	#enqueue(state: TopicState, record: ProducerRecord, settle: Settle): void {
		const partitions = state.partitions as number;
		let pending: Pending;
		try {
			const partition = choosePartition(record, partitions, state.sticky);
			const estimated = estimateBytes(record);
			const wire = estimated === null ? JSON.stringify(toWire(record, partition)) : null;
			pending = { record, partition, wire, estimatedBytes: estimated ?? (wire as string).length, ...settle };
		} catch (error) {
			this.#reject(settle, error);
			return;
		}
		const queue = this.#queue(state, pending.partition);
		if (queue.records.length === 0) queue.firstAtMs = Date.now();
		queue.records.push(pending);
		queue.bytes += pending.estimatedBytes;
		if (queue.records.length >= this.#batchRecords || queue.bytes >= this.#batchBytes) {
			if (pending.partition === state.sticky) state.sticky = (state.sticky + 1) % partitions;
			this.#drain(queue);
		} else if (this.#flushing > 0) {
			this.#drain(queue);
		} else if (queue.timer === null && queue.inFlight === 0) {
			queue.timer = setTimeout(() => {
				queue.timer = null;
				this.#drain(queue);
			}, this.#lingerMs);
		}
	}

	#queue(state: TopicState, partition: number): PartitionQueue {
		let queue = state.queues.get(partition);
		if (queue === undefined) {
			queue = {
				topic: state,
				partition,
				records: [],
				bytes: 0,
				firstAtMs: 0,
				inFlight: 0,
				streamed: false,
				resends: Promise.resolve(),
				timer: null,
				nextSequence: 0,
				identityGeneration: -1,
			};
			state.queues.set(partition, queue);
		}
		return queue;
	}

	/**
	 * Sends the partition's next batch if there is room in flight and the batch is full, lingered enough, or
	 * flushed. Room: one request, or with many sends pending `STREAM_BATCHES_IN_FLIGHT` messages on the channel.
	 */
	#drain(queue: PartitionQueue): void {
		if (queue.records.length === 0) return;
		const streamed = queue.inFlight === 0 ? this.#wantsStream(queue) : queue.streamed;
		if (queue.inFlight >= (streamed ? STREAM_BATCHES_IN_FLIGHT : 1)) return;
		const waitedMs = Date.now() - queue.firstAtMs;
		const full = queue.records.length >= this.#batchRecords || queue.bytes >= this.#batchBytes;
		if (!full && this.#flushing === 0 && waitedMs < this.#lingerMs) {
			queue.timer ??= setTimeout(() => {
				queue.timer = null;
				this.#drain(queue);
			}, this.#lingerMs - waitedMs);
			return;
		}
		if (queue.timer !== null) {
			clearTimeout(queue.timer);
			queue.timer = null;
		}
		const batch = this.#takeBatch(queue);
		queue.firstAtMs = Date.now();
		queue.inFlight++;
		queue.streamed = streamed;
		this.#sendBatch(queue, batch).finally(() => {
			queue.inFlight--;
			this.#drain(queue);
		});
		if (streamed) this.#drain(queue);
	}

	/** Whether the partition's next batches should go over the topic's channel: many sends pending, and a runtime that can stream. */
	#wantsStream(queue: PartitionQueue): boolean {
		if (queue.records.length < STREAM_PENDING_SENDS_MIN || !this.#http.globalFetch || !streamingSupported()) return false;
		const stream = this.#streams.get(queue.topic.name);
		return stream === undefined || !stream.broken;
	}

	/** The topic's channel, opened (again, if it broke) on first use. */
	#stream(topic: string): ProduceStream {
		let stream = this.#streams.get(topic);
		if (stream === undefined || stream.broken) {
			stream = new ProduceStream(this.#http, topic);
			this.#streams.set(topic, stream);
		}
		return stream;
	}

	/**
	 * One batch over the channel. If the channel breaks, the answer is lost, not refused: the batch is resent as a
	 * plain request with the same sequence numbers (the broker recognises what it already wrote), in order.
	 */
	async #streamBatch(queue: PartitionQueue, rawBody: string): Promise<StreamReport> {
		try {
			return await this.#stream(queue.topic.name).send(rawBody);
		} catch (error) {
			if (!(error instanceof TributaryError) || error.status !== 0) throw error;
			const path = `/v1/topics/${seg(queue.topic.name)}/records`;
			const resend = queue.resends.then(() => this.#http.request<StreamReport>("POST", path, { rawBody, retry: "always" }));
			queue.resends = resend.catch(() => undefined);
			return resend;
		}
	}

	/** The queue's next batch: up to `batchRecords` records and about `batchBytes` (estimated) JSON bytes. */
	#takeBatch(queue: PartitionQueue): Pending[] {
		let count = 0;
		let bytes = 0;
		while (count < queue.records.length && count < this.#batchRecords) {
			const next = (queue.records[count] as Pending).estimatedBytes;
			if (count > 0 && bytes + next > this.#batchBytes) break;
			bytes += next;
			count++;
		}
		queue.bytes -= bytes;
		return queue.records.splice(0, count);
	}

	/**
	 * The batch's records as one JSON array, serialised in one go. A record that cannot be serialised fails
	 * alone; a batch whose JSON exceeds the request limit (estimates ignore escapes) gives its second half back.
	 * Returns null when no record is left.
	 */
	#recordsJson(queue: PartitionQueue, batch: Pending[]): string | null {
		for (;;) {
			if (batch.length === 0) return null;
			let json: string;
			try {
				json = batch.every((p) => p.wire === null)
					? JSON.stringify(batch.map((p) => toWire(p.record, p.partition)))
					: `[${batch.map((p) => p.wire ?? JSON.stringify(toWire(p.record, p.partition))).join(",")}]`;
			} catch {
				const kept = batch.filter((p) => {
					try {
						p.wire ??= JSON.stringify(toWire(p.record, p.partition));
						return true;
					} catch (error) {
						this.#reject(p, error);
						return false;
					}
				});
				batch.splice(0, batch.length, ...kept);
				continue;
			}
			if (batch.length > 1 && utf8Length(json) > REQUEST_BYTES_MAX) {
				const back = batch.splice(Math.ceil(batch.length / 2));
				queue.records.unshift(...back);
				queue.bytes += back.reduce((sum, p) => sum + p.estimatedBytes, 0);
				continue;
			}
			return json;
		}
	}

	async #sendBatch(queue: PartitionQueue, batch: Pending[], attempt = 0): Promise<void> {
		const topic = queue.topic.name;
		let identity: Identity | null = null;
		let baseSequence = 0;
		const records = this.#recordsJson(queue, batch);
		if (records === null) return;
		try {
			if (this.#idempotent) {
				identity = await this.#currentIdentity();
				if (queue.identityGeneration !== identity.generation) {
					queue.identityGeneration = identity.generation;
					queue.nextSequence = 0;
				}
				baseSequence = queue.nextSequence;
				queue.nextSequence += batch.length;
			}
			const head = identity === null ? "" : `"producer_id":${identity.producerId},"epoch":${identity.epoch},"sequence":${baseSequence},`;
			const rawBody = `{${head}"records":${records}}`;
			const answer = queue.streamed
				? await this.#streamBatch(queue, rawBody)
				: await this.#http.request<StreamReport>("POST", `/v1/topics/${seg(topic)}/records`, { rawBody, retry: "always" });
			if (answer.offsets.length !== batch.length) {
				throw new TributaryError("unexpected_response", `${batch.length} records sent, ${answer.offsets.length} offsets back`);
			}
			batch.forEach((p, i) => {
				const o = answer.offsets[i] as { partition: number; offset: number; timestamp: number };
				this.#resolve(p, { topic, partition: o.partition, offset: o.offset, timestamp: o.timestamp });
			});
		} catch (error) {
			await this.#failed(queue, batch, error, identity, baseSequence, attempt);
		}
	}

	/** A batch failed: give back its sequence numbers if nothing was written, retry what may be retried, reject the rest. */
	async #failed(queue: PartitionQueue, batch: Pending[], error: unknown, identity: Identity | null, baseSequence: number, attempt: number) {
		const e = error instanceof TributaryError ? error : errorFromResponse(0, String(error));
		// Whether the batch may have been written: no answer, or one that does not say.
		const ambiguous = e.status === 0 || e.status === 500 || e.status === 502 || e.status === 504 || e.code === "unexpected_response";
		if (identity !== null && queue.identityGeneration === identity.generation) {
			// Batches after this one may already be on the channel with later sequences: then start afresh.
			if (ambiguous || queue.inFlight > 1) this.#resetIdentity(identity);
			else queue.nextSequence = baseSequence;
		}
		if (e.code === "topic_not_found") queue.topic.partitions = null;
		if (e.code === "fenced") this.#fatal = e;
		if ((e.code === "unknown_producer" || e.code === "out_of_order_sequence") && identity !== null && attempt === 0) {
			// Our sequence state no longer matches the broker's (the producer expired, or an earlier answer was
			// lost): a new producer id starts every partition afresh.
			this.#resetIdentity(identity);
			return this.#sendBatch(queue, batch, attempt + 1);
		}
		const index = e.details.index;
		if (!ambiguous && typeof index === "number" && Number.isInteger(index) && index >= 0 && index < batch.length && batch.length > 1) {
			// One bad record: it alone fails; the others go back to the head of the queue, in order.
			const [bad] = batch.splice(index, 1);
			if (bad !== undefined) this.#reject(bad, e);
			queue.records.unshift(...batch);
			queue.bytes += batch.reduce((sum, p) => sum + p.estimatedBytes, 0);
			return;
		}
		for (const p of batch) this.#reject(p, e);
	}

	#currentIdentity(): Promise<Identity> {
		if (this.#identity === null) {
			const generation = ++this.#identityGeneration;
			const body = this.#transactionalId === undefined ? {} : { transactional_id: this.#transactionalId };
			const request = this.#http
				.request<{ producer_id: number; epoch: number }>("POST", "/v1/producers", { body, retry: "always" })
				.then((answer) => ({ producerId: answer.producer_id, epoch: answer.epoch, generation }));
			request.catch(() => {
				if (this.#identity === request) this.#identity = null;
			});
			this.#identity = request;
		}
		return this.#identity;
	}

	#resetIdentity(failed: Identity): void {
		if (failed.generation === this.#identityGeneration) this.#identity = null;
	}
}

function choosePartition(record: ProducerRecord, partitions: number, sticky: number): number {
	if (record === null || typeof record !== "object") throw invalidArgument("a record is an object with a value");
	if (record.partition !== undefined) {
		if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= partitions) {
			throw new TributaryError("partition_not_found", `partition ${record.partition} is not one of 0 to ${partitions - 1}`, {
				details: { partition: record.partition, partitions },
			});
		}
		return record.partition;
	}
	const bytes = keyBytes(record.key);
	return bytes === null ? sticky : partitionForKey(bytes, partitions);
}

/** UTF-8 length of `text`, counted only when it could be over the limit (a character is at most 3 bytes). */
function utf8Length(text: string): number {
	if (text.length * 3 <= REQUEST_BYTES_MAX) return text.length;
	let bytes = 0;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c < 0x80) bytes += 1;
		else if (c < 0x800) bytes += 2;
		else if (c >= 0xd800 && c <= 0xdbff) {
			bytes += 4;
			i++;
		} else bytes += 3;
	}
	return bytes;
}

/** Per-record JSON overhead (field names, partition, punctuation) in the estimate. */
const RECORD_OVERHEAD_BYTES = 48;

/**
 * JSON bytes of a record, estimated without serialising it (escapes not counted; batches are measured exactly
 * when they are made). Null when the value must be serialised to be measured (objects, arrays).
 */
function estimateBytes(record: ProducerRecord): number | null {
	const size = (data: unknown): number | null => {
		if (data === undefined || data === null) return 4;
		if (typeof data === "string") return data.length + 2;
		if (data instanceof Uint8Array) return Math.ceil(data.length / 3) * 4 + 30;
		if (typeof data === "number" || typeof data === "boolean") return 24;
		return null;
	};
	const key = size(record.key);
	const value = size(record.value);
	if (key === null || value === null) return null;
	let headers = 0;
	if (record.headers !== undefined) headers = JSON.stringify(record.headers).length;
	return key + value + headers + RECORD_OVERHEAD_BYTES;
}

function bounded(name: string, value: number, min: number, max: number): number {
	if (!Number.isFinite(value) || value < min || value > max) throw invalidArgument(`${name} must be between ${min} and ${max}`);
	return value;
}
