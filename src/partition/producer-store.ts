/**
 * @module
 * Where a partition keeps its idempotent producers' state (`producer_state`), read and written by `append` in the
 * same transaction as the batch; the decisions are producer-state.ts's. `ProducerStore` keeps the states it read or
 * wrote in memory, so a producer's next batch reads no row.
 */

import { PRODUCER_STATES_CACHED_MAX } from "../shared/limits.ts";
import type { ProducerState } from "./producer-state.ts";

interface ProducerRow extends Record<string, SqlStorageValue> {
	producer_id: number;
	epoch: number;
	last_sequence: number;
	recent: string;
	updated_at_ms: number;
}

export function loadProducerState(sql: SqlStorage, producerId: number): ProducerState | null {
	const row = sql.exec<ProducerRow>("SELECT * FROM producer_state WHERE producer_id = ?", producerId).toArray()[0];
	if (row === undefined) return null;
	return {
		producerId: row.producer_id,
		epoch: row.epoch,
		lastSequence: row.last_sequence,
		recent: JSON.parse(row.recent) as ProducerState["recent"],
		updatedAtMs: row.updated_at_ms,
	};
}

export function saveProducerState(sql: SqlStorage, state: ProducerState): void {
	sql.exec(
		"INSERT INTO producer_state (producer_id, epoch, last_sequence, recent, updated_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (producer_id) DO UPDATE SET epoch = excluded.epoch, last_sequence = excluded.last_sequence, recent = excluded.recent, updated_at_ms = excluded.updated_at_ms",
		state.producerId,
		state.epoch,
		state.lastSequence,
		JSON.stringify(state.recent),
		state.updatedAtMs,
	);
}

/**
 * The stored states, read once and then kept as written (null: no row), at most `PRODUCER_STATES_CACHED_MAX` (when
 * full, all are dropped and read again as their producers write). SQLite stays the truth: `forget()` whenever rows
 * may have changed behind it (a rolled-back transaction, an expiry run, a wipe).
 */
export class ProducerStore {
	private readonly states = new Map<number, ProducerState | null>();

	constructor(private readonly sql: SqlStorage) {}

	load(producerId: number): ProducerState | null {
		const kept = this.states.get(producerId);
		if (kept !== undefined) return kept;
		const state = loadProducerState(this.sql, producerId);
		this.keep(producerId, state);
		return state;
	}

	save(state: ProducerState): void {
		saveProducerState(this.sql, state);
		this.keep(state.producerId, state);
	}

	forget(): void {
		this.states.clear();
	}

	private keep(producerId: number, state: ProducerState | null): void {
		if (this.states.size >= PRODUCER_STATES_CACHED_MAX) this.states.clear();
		this.states.set(producerId, state);
	}
}
