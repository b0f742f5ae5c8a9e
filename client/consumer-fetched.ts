/**
 * @module
 * What a group consumer fetched and has not handed out yet, and what its polls say about reading: the read positions
 * the next poll moves (`seek`), kept until a poll that carried them is answered, and the partitions paused. Records
 * of a partition sought or paused are held back: the next poll reads again from the first of them, so none is
 * skipped. Every map is keyed by `tpKey`.
 */

import type { TopicPartition } from "./admin.ts";
import type { ConsumerRecord } from "./records.ts";

export const tpKey = (topic: string, partition: number) => `${partition}:${topic}`;

type Sought = TopicPartition & { offset: number };

export class Fetched {
	#buffer: ConsumerRecord[] = [];
	#next = 0;
	readonly seeks = new Map<string, Sought>();
	readonly paused = new Map<string, TopicPartition>();
	/** Whether the last poll sent left paused partitions out. */
	#skipped = false;

	/** The next record of a partition in `assigned` (one revoked since its poll is the new owner's), or null: all taken. */
	take(assigned: ReadonlyMap<string, unknown>): ConsumerRecord | null {
		while (this.#next < this.#buffer.length) {
			const record = this.#buffer[this.#next++] as ConsumerRecord;
			if (assigned.has(tpKey(record.topic, record.partition))) return record;
		}
		this.clear();
		return null;
	}

	/**
	 * Drops the records of partitions outside `assigned` (taken by a rebalance): fetched in a generation that ended,
	 * they must not be handed out should the partition come back before the loop reaches them.
	 */
	keepOnly(assigned: ReadonlyMap<string, unknown>): void {
		this.#buffer = this.#buffer.slice(this.#next).filter((r) => assigned.has(tpKey(r.topic, r.partition)));
		this.#next = 0;
	}

	/** Whether every record fetched was taken. */
	get empty(): boolean {
		return this.#next >= this.#buffer.length;
	}

	clear(): void {
		this.#buffer = [];
		this.#next = 0;
	}

	/** What the next poll's body says of read positions and pauses, of the partitions in `assigned`. */
	pollFields(assigned: ReadonlyMap<string, unknown>): { seek: Sought[]; paused: TopicPartition[] } {
		const paused = [...this.paused].filter(([key]) => assigned.has(key)).map(([, tp]) => tp);
		this.#skipped = paused.length > 0;
		return { seek: [...this.seeks.values()], paused };
	}

	/** A poll that carried `seek` answered `records`; returns how many are buffered. */
	answered(seek: readonly Sought[], records: ConsumerRecord[]): number {
		for (const s of seek) if (this.seeks.get(tpKey(s.topic, s.partition)) === s) this.seeks.delete(tpKey(s.topic, s.partition));
		this.#buffer = records;
		this.#next = 0;
		// Partitions paused or sought while this poll was under way: their records wait for the next poll after.
		const keys = new Set(records.map((r) => tpKey(r.topic, r.partition)));
		for (const key of keys) if (this.seeks.has(key) || this.paused.has(key)) this.holdBack(key);
		return this.#buffer.length;
	}

	/**
	 * Drops a partition's records not handed out yet; unless a seek is pending for it, the next poll reads again from
	 * the first of them, so none is skipped.
	 */
	holdBack(key: string): void {
		let first: ConsumerRecord | null = null;
		const kept: ConsumerRecord[] = [];
		for (let i = this.#next; i < this.#buffer.length; i++) {
			const r = this.#buffer[i] as ConsumerRecord;
			if (tpKey(r.topic, r.partition) !== key) kept.push(r);
			else first ??= r;
		}
		this.#buffer = kept;
		this.#next = 0;
		if (first !== null && !this.seeks.has(key))
			this.seeks.set(key, { topic: first.topic, partition: first.partition, offset: first.offset });
	}

	/**
	 * Whether a poll that found nothing means every partition was read to its end (kcat's `-e` waits for each): not
	 * while one is paused, nor when that poll skipped one paused then, nor with a seek still to be sent.
	 */
	readToEnd(assigned: ReadonlyMap<string, unknown>): boolean {
		if (this.#skipped || this.seeks.size > 0) return false;
		for (const key of this.paused.keys()) if (assigned.has(key)) return false;
		return true;
	}
}
