/**
 * @module
 * The client: one connection setting (URL, token, optional `fetch`) shared by the admin namespaces, producers,
 * consumers and plain partition reads.
 */

import { Groups, Keys, Subscriptions, Topics } from "./admin.ts";
import { Anonymous } from "./anonymous.ts";
import { Consumer, type ConsumerOptions } from "./consumer.ts";
import { type ConnectionOptions, Http, seg } from "./http.ts";
import { Producer, type ProducerOptions } from "./producer.ts";
import { type ConsumerRecord, fromWire, type WireRecord } from "./records.ts";
import { type StreamOptions, streamPartition } from "./stream.ts";

export interface FetchOptions {
	/** First offset to read; default the log start. */
	readonly offset?: number;
	readonly maxRecords?: number;
	readonly maxBytes?: number;
	/** Long-poll: wait up to this long for a record when there is none (at most 30 s). */
	readonly waitMs?: number;
}

export interface FetchResult {
	readonly records: ConsumerRecord[];
	readonly highWatermark: number;
	readonly logStartOffset: number;
	/** Where the next read continues (past compacted gaps too). */
	readonly nextOffset: number;
}

/**
 * @example
 * import { Tributary } from "tributary/client";
 * const client = new Tributary({ url: "http://127.0.0.1:8787", token: process.env.TRIBUTARY_TOKEN });
 * await client.topics.create({ name: "orders", partitions: 3 });
 * const producer = client.producer();
 * await producer.send("orders", { key: "order-42", value: { sku: "A1", qty: 2 } });
 */
export class Tributary {
	readonly topics: Topics;
	readonly groups: Groups;
	readonly keys: Keys;
	readonly subscriptions: Subscriptions;
	/** What a request without credentials may do. */
	readonly anonymous: Anonymous;
	readonly #http: Http;

	constructor(options: ConnectionOptions) {
		this.#http = new Http(options);
		this.topics = new Topics(this.#http);
		this.groups = new Groups(this.#http);
		this.keys = new Keys(this.#http);
		this.subscriptions = new Subscriptions(this.#http);
		this.anonymous = new Anonymous(this.#http);
	}

	/** The broker's base URL, without a trailing slash. */
	get url(): string {
		return this.#http.baseUrl;
	}

	producer(options?: ProducerOptions): Producer {
		return new Producer(this.#http, options);
	}

	consumer(options: ConsumerOptions): Consumer {
		return new Consumer(this.#http, options);
	}

	/**
	 * Follows one partition live over Server-Sent Events, from `offset` (default the log start); reconnects where
	 * it stopped. Outside any group: nothing is committed. `break` (or `options.signal`) ends it.
	 */
	stream(topic: string, partition: number, options?: StreamOptions): AsyncGenerator<ConsumerRecord> {
		return streamPartition(this.#http, topic, partition, options);
	}

	/** Reads one partition directly, outside any group (nothing is committed). */
	async fetch(topic: string, partition: number, options: FetchOptions = {}): Promise<FetchResult> {
		const answer = await this.#http.request<{
			records: WireRecord[];
			high_watermark: number;
			log_start_offset: number;
			next_offset: number;
		}>("GET", `/v1/topics/${seg(topic)}/partitions/${seg(partition)}/records`, {
			query: { offset: options.offset, max_records: options.maxRecords, max_bytes: options.maxBytes, wait_ms: options.waitMs },
			waitMs: options.waitMs ?? 0,
		});
		return {
			records: answer.records.map((r) => fromWire(r, topic)),
			highWatermark: answer.high_watermark,
			logStartOffset: answer.log_start_offset,
			nextOffset: answer.next_offset,
		};
	}
}
