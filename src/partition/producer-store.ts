/**
 * @module
 * Where a partition keeps its idempotent producers' state (`producer_state`), read and written by `append` in the
 * same transaction as the batch; the decisions are producer-state.ts's.
 */

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
