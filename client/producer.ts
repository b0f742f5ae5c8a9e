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

import { errorFromResponse, TributaryError } from "./errors.ts";
import { backoffMs, type Http, mayHaveLanded, mayRetry, type RetryMode, seg } from "./http.ts";
import { choosePartition } from "./partitioner.ts";
import { ProduceStream, type StreamReport, streamingSupported } from "./produce-stream.ts";
import { ProducerBuffer } from "./producer-buffer.ts";
import { type Identity, ProducerIdentity } from "./producer-identity.ts";
import { type ProducerOptions, producerSettings } from "./producer-options.ts";
import {
	holdForRetry,
	newPartitionQueue,
	type PartitionQueue,
	type Pending,
	putBack,
	type SentBatch,
	sequenceAfter,
	type TopicState,
} from "./producer-queue.ts";
import { estimateBytes, utf8LengthUpTo } from "./record-size.ts";
import { type ProducerRecord, type RecordMetadata, toWire } from "./records.ts";

export type { ProducerOptions } from "./producer-options.ts";

/** The broker's request body limit (8 MiB), less room for the envelope. */
const REQUEST_BYTES_MAX = 8 * 1024 * 1024 - 1024;
/** How old a topic's partition count may get before a send refreshes it (Kafka's `metadata.max.age.ms`). */
export const METADATA_MAX_AGE_MS = 60_000;
/**
 * Sends waiting in a partition's queue, with nothing in flight, from which its batches go over the topic's
 * streaming produce channel instead of one request each: many small sends in flight.
 */
export const STREAM_PENDING_SENDS_MIN = 32;
/**
 * Estimated JSON bytes of a partition's next batch from which it goes as a plain request even when many sends
 * are pending. A big batch pays for its own request, and parallel requests (one per partition) carry big batches
 * faster than the topic's one channel does. Measured with 1 KiB records, 4 partitions, on Miniflare (a busy
 * machine): batches of 1 000 records 15.5k rec/s as requests against 10.7k on the channel; of 250 (~270 KB),
 * 12.3k against 10.7k, about even; of 100, 8.3k against 11.8k.
 */
export const STREAM_BATCH_BYTES_MAX = 256 * 1024;
/**
 * Batches of one partition in flight at once on the channel (Kafka's `max.in.flight.requests.per.connection`). At
 * most the broker's window of a producer's recent batches (`PRODUCER_RECENT_BATCHES`, 5), as in Kafka: after a lost
 * connection every batch in flight is resent, and the broker must still know each one it wrote to answer it again.
 */
export const STREAM_BATCHES_IN_FLIGHT = 5;
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
	readonly #retryMode: RetryMode;
	/** Sends from admission until they settle, each measured (its partition chosen) before it takes room. */
	readonly #buffer: ProducerBuffer<Pending>;
	readonly #topics = new Map<string, TopicState>();
	/** Each topic's streaming produce channel, opened when a partition first has many sends pending. */
	readonly #streams = new Map<string, ProduceStream>();
	/** The producer id and epoch, when idempotent. */
	readonly #identity: ProducerIdentity;
	#fatal: TributaryError | null = null;
	#outstanding = 0;
	#idleWaiters: Array<() => void> = [];
	#flushing = 0;
	#closed = false;
	/** The first failure since the last flush, which that flush reports (sends are often not awaited). */
	#failure: unknown = null;
	/** Set while close() flushes: a send refused then is not that flush's failure. */
	#closing = false;

	constructor(http: Http, options: ProducerOptions = {}) {
		this.#http = http;
		const settings = producerSettings(options);
		this.#lingerMs = settings.lingerMs;
		this.#batchRecords = settings.batchRecords;
		this.#batchBytes = settings.batchBytes;
		this.#idempotent = settings.idempotent;
		this.#retryMode = settings.idempotent ? "always" : "unsent";
		this.#identity = new ProducerIdentity(http, options.transactionalId);
		this.#buffer = new ProducerBuffer<Pending>(settings.bufferBytes, settings.maxBlockMs, {
			admitted: (pending) => {
				pending.held = true;
				this.#enqueue(pending.topic, pending);
			},
			refused: (pending, error) => this.#reject(pending, error),
		});
	}

	/** Estimated JSON bytes of the records in the buffer now (sends not yet settled, apart from those waiting for room). */
	get bufferedBytes(): number {
		return this.#buffer.bytes;
	}

	/**
	 * Queues `record` for `topic`; resolves once it is written, with its partition and offset. Sends need not be
	 * awaited one by one: a failure is also reported by the next `flush()`. When the buffer (`bufferBytes`) is
	 * full, the record waits for room behind earlier waiting sends, and is refused with `buffer_full` if it has
	 * waited `maxBlockMs`.
	 */
	send(topic: string, record: ProducerRecord): Promise<RecordMetadata> {
		const error = this.#closed ? new TributaryError("closed", "the producer is closed") : this.#fatal;
		if (error !== null) {
			// The next flush() reports it too, as any send's failure: a loop that never awaits its sends sees it there. Not
			// the flush close() runs itself: it answers for the sends made before it, not for one that raced it.
			if (!this.#closing) this.#failure ??= error;
			const refused = Promise.reject(error);
			refused.catch(() => undefined);
			return refused;
		}
		const state = this.#topic(topic);
		let pending!: Pending;
		const promise = new Promise<RecordMetadata>((resolve, reject) => {
			pending = {
				topic: state,
				record,
				partition: -1,
				wire: null,
				estimatedBytes: 0,
				held: false,
				deadlineMs: 0,
				resolve,
				reject,
				promise: null,
			};
		});
		pending.promise = promise;
		this.#outstanding++;
		if (state.partitions === null || state.waiting.length > 0) {
			pending.deadlineMs = this.#buffer.deadlineFromNow();
			state.waiting.push(pending);
			this.#loadMetadata(state);
			// The producer id is asked for alongside the topic, not after it: one round trip less before the first batch.
			if (this.#idempotent) this.#identity.current();
		} else {
			if (Date.now() - state.loadedAtMs > METADATA_MAX_AGE_MS) this.#loadMetadata(state);
			this.#admit(state, pending);
		}
		return promise;
	}

	/**
	 * Resolves once the buffer has room and no earlier send waits for it; refused with `buffer_full` after
	 * `maxBlockMs`, as a send would be. Awaited before each send of a loop, it keeps at most one send waiting, so the
	 * producer holds at most `bufferBytes` and one record:
	 * `for (const o of orders) { await producer.ready(); producer.send("orders", { value: o }); }`.
	 */
	async ready(): Promise<void> {
		const deadlineMs = this.#buffer.deadlineFromNow();
		// Sends waiting for their topic's partition count are not measured yet: they come first.
		for (;;) {
			const loading = [...this.#topics.values()].flatMap((state) =>
				state.waiting.length > 0 && state.loading !== null ? [state.loading] : [],
			);
			if (loading.length === 0) break;
			await Promise.all(loading);
		}
		return this.#buffer.whenRoom(deadlineMs);
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

	/** Flushes, then refuses further sends; ends the channels even if the flush failed (an open one keeps Node running). */
	async close(): Promise<void> {
		this.#closed = this.#closing = true;
		await this.flush().finally(() => {
			this.#closing = false;
			for (const stream of this.#streams.values()) stream.close();
			this.#streams.clear();
		});
	}

	#resolve(pending: Pending, metadata: RecordMetadata): void {
		pending.promise = null;
		pending.resolve(metadata);
		this.#settled(pending);
	}

	#reject(pending: Pending, error: unknown): void {
		this.#failure ??= error;
		// Unawaited sends must not crash the process on failure: flush() reports it instead.
		pending.promise?.catch(() => undefined);
		pending.promise = null;
		pending.reject(error);
		this.#settled(pending);
	}

	#settled(pending: Pending): void {
		if (pending.held) {
			pending.held = false;
			this.#buffer.release(pending.estimatedBytes);
		}
		this.#outstanding--;
		if (this.#outstanding > 0) return;
		const waiters = this.#idleWaiters;
		this.#idleWaiters = [];
		for (const wake of waiters) wake();
	}

	#topic(name: string): TopicState {
		let state = this.#topics.get(name);
		if (state === undefined) {
			state = { name, partitions: null, loadedAtMs: 0, loading: null, waiting: [], sticky: -1, queues: new Map() };
			this.#topics.set(name, state);
		}
		return state;
	}

	#loadMetadata(state: TopicState): void {
		if (state.loading !== null) return;
		const path = `/v1/topics/${seg(state.name)}`;
		state.loading = this.#http.request<{ partitions: unknown[] }>("GET", path).then(
			(topic) => {
				state.loading = null;
				state.partitions = Math.max(state.partitions ?? 0, topic.partitions.length);
				state.loadedAtMs = Date.now();
				if (state.sticky < 0) state.sticky = Math.floor(Math.random() * state.partitions);
				for (const pending of state.waiting.splice(0)) this.#admit(state, pending);
			},
			(error: unknown) => {
				state.loading = null;
				// A refresh that fails keeps the count it had; sends that were waiting for a first one fail.
				if (state.partitions === null) for (const pending of state.waiting.splice(0)) this.#reject(pending, error);
			},
		);
	}

	/**
	 * Chooses the record's partition and measures it, then puts it in the buffer if there is room and no earlier
	 * send is waiting for room; else it waits (Kafka's producer also picks the partition before it waits for memory).
	 */
	#admit(state: TopicState, pending: Pending): void {
		try {
			const record = pending.record;
			pending.partition = choosePartition(record, state.partitions as number, state.sticky, this.#http.json.stringify);
			const estimated = estimateBytes(record);
			if (estimated === null) pending.wire = this.#http.json.stringify(toWire(record, pending.partition));
			pending.estimatedBytes = estimated ?? (pending.wire as string).length;
		} catch (error) {
			this.#reject(pending, error);
			return;
		}
		if (this.#buffer.take(pending, pending.estimatedBytes, pending.deadlineMs)) {
			pending.held = true;
			this.#enqueue(state, pending);
		}
	}

	/** Queues a measured send that holds its room in the buffer on its partition. */
	#enqueue(state: TopicState, pending: Pending): void {
		// Null when the topic went missing while the send waited for room: it goes where it was meant to, and fails there.
		const partitions = state.partitions;
		const queue = this.#queue(state, pending.partition);
		if (queue.records.length === 0) queue.firstAtMs = Date.now();
		queue.records.push(pending);
		queue.bytes += pending.estimatedBytes;
		if (queue.records.length >= this.#batchRecords || queue.bytes >= this.#batchBytes) {
			if (pending.partition === state.sticky && partitions !== null) state.sticky = (state.sticky + 1) % partitions;
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
			queue = newPartitionQueue(state, partition);
			state.queues.set(partition, queue);
		}
		return queue;
	}

	/**
	 * Sends the partition's next batch if there is room in flight and the batch is full, lingered enough, or
	 * flushed. Room: one request, or with many sends pending `STREAM_BATCHES_IN_FLIGHT` messages on the channel.
	 */
	#drain(queue: PartitionQueue): void {
		if (queue.held !== null || (queue.inFlight > 0 && queue.channel?.broken === true)) return;
		const prepared = queue.prepared;
		if (prepared !== null) {
			if (queue.inFlight > 0) return;
			queue.prepared = null;
			this.#dispatch(queue, prepared.batch, prepared.json, false);
			return;
		}
		if (queue.records.length === 0) return;
		const streamed = queue.inFlight === 0 ? this.#wantsStream(queue) : queue.streamed;
		const known = !this.#idempotent || queue.writtenGeneration === this.#identity.generation;
		if (queue.inFlight >= (streamed && known ? STREAM_BATCHES_IN_FLIGHT : 1)) {
			if (!streamed) this.#prepareSoon(queue);
			return;
		}
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
		const json = this.#recordsJson(queue, batch);
		if (json !== null) this.#dispatch(queue, batch, json, streamed);
		// Room for more (on the channel), or no record of the batch could be serialised: the next one, now.
		if (streamed || json === null) this.#drain(queue);
	}

	#dispatch(queue: PartitionQueue, batch: Pending[], json: string, streamed: boolean): void {
		queue.firstAtMs = Date.now();
		queue.inFlight++;
		queue.streamed = streamed;
		this.#sendBatch(queue, batch, json).finally(() => {
			queue.inFlight--;
			if (queue.inFlight === 0) {
				queue.channel = null;
				this.#release(queue);
			}
			this.#drain(queue);
		});
		if (!streamed) this.#prepareSoon(queue);
	}

	/**
	 * Serialises the partition's next batch while its plain request is in flight, if the batch is ready to go
	 * (full, or flushed). On a timer, so the request in flight is on its way first.
	 */
	#prepareSoon(queue: PartitionQueue): void {
		if (queue.prepared !== null || queue.preparing !== null || queue.records.length === 0) return;
		queue.preparing = setTimeout(() => {
			queue.preparing = null;
			if (queue.prepared !== null || queue.inFlight === 0 || queue.records.length === 0) return;
			const full = queue.records.length >= this.#batchRecords || queue.bytes >= this.#batchBytes;
			if (!full && this.#flushing === 0) return;
			const batch = this.#takeBatch(queue);
			const json = this.#recordsJson(queue, batch);
			if (json !== null) queue.prepared = { batch, json };
		}, 0);
	}

	/** Puts the records held after a failed streamed batch back at the head of the queue, under their sequences. */
	#release(queue: PartitionQueue): void {
		const held = queue.held;
		if (held === null) return;
		const waitMs = held.retryAtMs - Date.now();
		if (waitMs > 0) {
			setTimeout(() => {
				held.retryAtMs = 0;
				this.#release(queue);
				this.#drain(queue);
			}, waitMs);
			return;
		}
		queue.held = null;
		// Nothing from the failed batch on was written: the broker expects its sequence next.
		if (queue.identityGeneration === held.generation) queue.nextSequence = held.baseSequence;
		this.#unprepare(queue);
		putBack(queue, held.records);
	}

	/** Puts a prepared batch back at the head of the queue (records are about to go back in front of it). */
	#unprepare(queue: PartitionQueue): void {
		const prepared = queue.prepared;
		if (prepared === null) return;
		queue.prepared = null;
		putBack(queue, prepared.batch);
	}

	/** Whether the partition's next batches should go over the topic's channel: many sends pending, and a runtime that can stream. */
	#wantsStream(queue: PartitionQueue): boolean {
		const count = queue.records.length;
		if (count < STREAM_PENDING_SENDS_MIN || !this.#http.globalFetch || !streamingSupported()) return false;
		const nextBatchBytes = Math.min(this.#batchBytes, (queue.bytes / count) * Math.min(count, this.#batchRecords));
		if (nextBatchBytes >= STREAM_BATCH_BYTES_MAX) return false;
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
	 * One batch over the channel. If the channel breaks, the answer is lost, not refused: the batch is resent as a plain
	 * request with the same sequence numbers (the broker recognises what it wrote), in order, and a batch sent while
	 * those are resent follows them; without sequences (`idempotent: false`) the batch fails, as it might be written twice.
	 */
	async #streamBatch(queue: PartitionQueue, rawBody: string, lost: { answer: boolean }): Promise<StreamReport> {
		if (queue.channel === null || !queue.channel.broken) {
			const stream = this.#stream(queue.topic.name);
			queue.channel = stream;
			try {
				return await stream.send(rawBody);
			} catch (error) {
				if (!(error instanceof TributaryError) || error.status !== 0 || !this.#idempotent) throw error;
				lost.answer = true;
			}
		}
		const path = `/v1/topics/${seg(queue.topic.name)}/records`;
		const resend = queue.resends.then(() => this.#http.request<StreamReport>("POST", path, { rawBody, retry: this.#retryMode }));
		queue.resends = resend.catch(() => undefined);
		return resend;
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
					? this.#http.json.stringify(batch.map((p) => toWire(p.record, p.partition)))
					: `[${batch.map((p) => p.wire ?? this.#http.json.stringify(toWire(p.record, p.partition))).join(",")}]`;
			} catch {
				const kept = batch.filter((p) => {
					try {
						p.wire ??= this.#http.json.stringify(toWire(p.record, p.partition));
						return true;
					} catch (error) {
						this.#reject(p, error);
						return false;
					}
				});
				batch.splice(0, batch.length, ...kept);
				continue;
			}
			if (batch.length > 1 && utf8LengthUpTo(json, REQUEST_BYTES_MAX) > REQUEST_BYTES_MAX) {
				const back = batch.splice(Math.ceil(batch.length / 2));
				putBack(queue, back);
				continue;
			}
			return json;
		}
	}

	/** Sends `batch`, whose records are the JSON array `records`, and settles its sends. */
	async #sendBatch(queue: PartitionQueue, batch: Pending[], records: string, attempt = 0, answerLost = false): Promise<void> {
		const topic = queue.topic.name;
		let identity: Identity | null = null;
		let baseSequence = 0;
		const lost = { answer: answerLost };
		try {
			if (this.#idempotent) {
				identity = await this.#identity.current();
				if (queue.identityGeneration !== identity.generation) {
					queue.identityGeneration = identity.generation;
					queue.nextSequence = 0;
				}
				baseSequence = queue.nextSequence;
				queue.nextSequence = sequenceAfter(baseSequence, batch.length);
			}
			const head = identity === null ? "" : `"producer_id":${identity.producerId},"epoch":${identity.epoch},"sequence":${baseSequence},`;
			const rawBody = `{${head}"records":${records}}`;
			const answer = queue.streamed
				? await this.#streamBatch(queue, rawBody, lost)
				: await this.#http.request<StreamReport>("POST", `/v1/topics/${seg(topic)}/records`, { rawBody, retry: this.#retryMode });
			if (answer.offsets.length !== batch.length) {
				throw new TributaryError("unexpected_response", `${batch.length} records sent, ${answer.offsets.length} offsets back`);
			}
			batch.forEach((p, i) => {
				const o = answer.offsets[i] as { partition: number; offset: number; timestamp: number };
				this.#resolve(p, { topic, partition: o.partition, offset: o.offset, timestamp: o.timestamp });
			});
			queue.retries = 0;
			if (identity !== null) queue.writtenGeneration = identity.generation;
		} catch (error) {
			await this.#failed(queue, { batch, records, identity, baseSequence, attempt, answerLost: lost.answer }, error);
		}
	}

	/** A batch failed: give back its sequence numbers if nothing was written, retry what may be retried, reject the rest. */
	async #failed(queue: PartitionQueue, sent: SentBatch, error: unknown): Promise<void> {
		const { batch, identity, baseSequence, attempt } = sent;
		const e = error instanceof TributaryError ? error : errorFromResponse(0, String(error));
		// Whether the batch may have been written (the SDK's one rule, a 503 that may follow a commit among it): its
		// sequence numbers are not given back, or the next batch, sent under them, would be taken for this one.
		const ambiguous = mayHaveLanded(e);
		// Our sequence state no longer matches the broker's (the producer expired, or an earlier answer was lost).
		const unplaced = (e.code === "unknown_producer" || e.code === "out_of_order_sequence") && identity !== null;
		const held = queue.held;
		if (held !== null && unplaced && identity.generation === held.generation && !sent.answerLost) {
			// Sent after the batch that failed and refused for following it (nothing was written): again, after it.
			held.records.push(...batch);
			return;
		}
		if (this.#retryLater(queue, sent, e)) return;
		if (e.code === "topic_not_found") queue.topic.partitions = null;
		if (e.code === "fenced") this.#fatal = e;
		const current = identity !== null && queue.identityGeneration === identity.generation;
		// Batches after this one are on the channel with later sequences: they come back refused, and every record
		// goes again once they are all back, in send order (Kafka's producer re-queues its in-flight batches so).
		const holding = current && held === null && !ambiguous && queue.inFlight > 1 && queue.streamed;
		if (holding) queue.held = { records: [], baseSequence, generation: identity.generation, retryAtMs: 0 };
		else if (current && held === null) {
			if (ambiguous || queue.inFlight > 1) this.#identity.reset(identity);
			else queue.nextSequence = baseSequence;
		}
		if (unplaced && attempt === 0 && !sent.answerLost) {
			// A new producer id starts every partition afresh. Not for a batch the broker may have written (its answer
			// was lost): under a new id it would be written twice; its sends fail instead, as Kafka's idempotent
			// producer fails a batch it cannot place.
			this.#identity.reset(identity);
			if (holding) {
				queue.held?.records.push(...batch);
				return;
			}
			return this.#sendBatch(queue, batch, sent.records, attempt + 1);
		}
		const index = e.details.index;
		if (!ambiguous && typeof index === "number" && Number.isInteger(index) && index >= 0 && index < batch.length && batch.length > 1) {
			// One bad record: it alone fails; the others go back to the head of the queue (or where held), in order.
			const [bad] = batch.splice(index, 1);
			if (bad !== undefined) this.#reject(bad, e);
			if (queue.held !== null) {
				queue.held.records.push(...batch);
				return;
			}
			this.#unprepare(queue);
			putBack(queue, batch);
			return;
		}
		for (const p of batch) this.#reject(p, e);
	}

	/**
	 * Holds a streamed batch refused as a plain request is sent again (`#retryMode`) for another attempt: after a backoff
	 * honouring `retry_after_ms`, within the retry budget, with the same sequences (the records back in send order with
	 * those behind them) and under the same producer id, so a batch is never written twice. False if it may not go so.
	 */
	#retryLater(queue: PartitionQueue, sent: SentBatch, e: TributaryError): boolean {
		if (!queue.streamed || sent.answerLost || !mayRetry(e, this.#retryMode)) return false;
		const generation = sent.identity?.generation ?? -1;
		if (this.#idempotent && (sent.identity === null || queue.identityGeneration !== generation)) return false;
		const retryAtMs = Date.now() + backoffMs(queue.retries, e.details.retry_after_ms);
		return holdForRetry(queue, sent, generation, retryAtMs, this.#http.retries);
	}
}
