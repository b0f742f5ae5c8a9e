/**
 * @module
 * Where a partition keeps its idempotent producers' state, as Kafka's broker does: a snapshot of every producer's
 * state (`producer_state`), and after it the producers' batches, each named in the batch row that holds its last
 * record (`batches.producers`). The append writes that row anyway, so naming a batch there costs a few bytes where
 * saving the state cost a page of a second table, and one of its index, on every batch. The states changed since the
 * snapshot are kept in memory; after a wake-up (or a rolled-back group) the first group rebuilds them by replaying
 * the rows from `producers_replay_from`. The snapshot is saved every `PRODUCER_SNAPSHOT_ROWS` rows (or
 * `PRODUCER_SNAPSHOT_BYTES`) and before any batch row is deleted (retention, compaction, offload), so the rows a
 * replay needs are always there. Every write is in the caller's transaction. The decisions are producer-state.ts's.
 */

import { assert } from "../shared/assert.ts";
import { PRODUCER_SNAPSHOT_BYTES, PRODUCER_SNAPSHOT_ROWS, PRODUCER_STATES_CACHED_MAX } from "../shared/limits.ts";
import { afterAppend, type ProducerBatch, type ProducerState } from "./producer-state.ts";

/** An idempotent producer's batch, as the row holding its last record names it. */
export interface ProducerEntry extends ProducerBatch {
	readonly producerId: number;
	readonly epoch: number;
}

/** The `producers` column of a batch row: its entries as arrays of numbers (null when it has none). */
export function producersColumn(entries: readonly ProducerEntry[]): string | null {
	if (entries.length === 0) return null;
	return JSON.stringify(entries.map((e) => [e.producerId, e.epoch, e.baseSequence, e.recordCount, e.baseOffset, e.appendTimeMs]));
}

function parseProducersColumn(text: string): ProducerEntry[] {
	const parsed: unknown = JSON.parse(text);
	assert(Array.isArray(parsed), "producers array");
	return parsed.map((entry: unknown) => {
		assert(Array.isArray(entry) && entry.length === 6 && entry.every(Number.isSafeInteger), "producer entry");
		const [producerId, epoch, baseSequence, recordCount, baseOffset, appendTimeMs] = entry as number[];
		return { producerId, epoch, baseSequence, recordCount, baseOffset, appendTimeMs } as ProducerEntry;
	});
}

interface ProducerRow extends Record<string, SqlStorageValue> {
	producer_id: number;
	epoch: number;
	last_sequence: number;
	recent: string;
	updated_at_ms: number;
}

function loadProducerState(sql: SqlStorage, producerId: number): ProducerState | null {
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

function saveProducerState(sql: SqlStorage, state: ProducerState): void {
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
 * The producers' states: the snapshot's, read once and then kept (null: no row; at most `PRODUCER_STATES_CACHED_MAX`,
 * all dropped when full), and every state changed since the snapshot. SQLite stays the truth: `forget()` whenever
 * it may have changed behind this (a rolled-back transaction, an expiry run, a wipe), and the next use replays.
 */
export class ProducerStore {
	readonly #saved = new Map<number, ProducerState | null>();
	/** The states changed since the snapshot, all of them; null until replayed after `forget()`. */
	#unsaved: Map<number, ProducerState> | null = null;
	/** The first offset whose rows may name batches the snapshot lacks (as stored); null when none do. */
	#replayFrom: number | null = null;
	/** Batch rows from `replayFrom` on, and the bytes of their records: what a replay would read. */
	#rowsToReplay = 0;
	#bytesToReplay = 0;

	constructor(private readonly sql: SqlStorage) {}

	load(producerId: number): ProducerState | null {
		return this.#replayed().get(producerId) ?? this.#loadSaved(producerId);
	}

	/**
	 * A batch was staged in the open group and named in its row (`BatchWriter.nameProducerBatch`), which starts at
	 * `rowBase`: `state` is its producer's state after it.
	 */
	appended(state: ProducerState, rowBase: number): void {
		this.#replayed().set(state.producerId, state);
		if (this.#replayFrom !== null) return;
		this.#replayFrom = rowBase;
		this.sql.exec("UPDATE partition_state SET producers_replay_from = ? WHERE id = 1", rowBase);
	}

	/**
	 * A group wrote `rows` batch rows of `bytes`: once a replay would read too much, the snapshot is saved. Plain
	 * groups count too, and the first after a `forget()` replays (or learns there is nothing to replay): otherwise a
	 * partition woken with batches to replay and then written only by plain producers would never save its
	 * snapshot, and the rows a replay must read would grow with the log.
	 */
	rowsWritten(rows: number, bytes: number): void {
		const counted = this.#unsaved === null; // the replay counts this group's rows, written before this call
		this.#replayed();
		if (this.#replayFrom === null) return;
		if (!counted) {
			this.#rowsToReplay += rows;
			this.#bytesToReplay += bytes;
		}
		if (this.#rowsToReplay >= PRODUCER_SNAPSHOT_ROWS || this.#bytesToReplay >= PRODUCER_SNAPSHOT_BYTES) this.snapshot();
	}

	/** Saves every state changed since the last snapshot, so no row needs replaying: also before batch rows are deleted. */
	snapshot(): void {
		const unsaved = this.#replayed();
		if (this.#replayFrom === null) {
			assert(unsaved.size === 0, "state replayable");
			return;
		}
		for (const state of unsaved.values()) {
			saveProducerState(this.sql, state);
			this.#keep(state.producerId, state);
		}
		unsaved.clear();
		this.#replayFrom = null;
		this.#rowsToReplay = 0;
		this.#bytesToReplay = 0;
		this.sql.exec("UPDATE partition_state SET producers_replay_from = NULL WHERE id = 1");
	}

	forget(): void {
		this.#saved.clear();
		this.#unsaved = null;
	}

	/** The states changed since the snapshot, replayed from the batch rows after a `forget()`. */
	#replayed(): Map<number, ProducerState> {
		if (this.#unsaved !== null) return this.#unsaved;
		const unsaved = new Map<number, ProducerState>();
		const from = this.sql
			.exec<{ from_offset: number | null }>("SELECT producers_replay_from AS from_offset FROM partition_state WHERE id = 1")
			.one().from_offset;
		this.#replayFrom = from;
		this.#rowsToReplay = 0;
		this.#bytesToReplay = 0;
		if (from !== null) {
			const rows = this.sql.exec<{ bytes: number; producers: string | null }>(
				"SELECT bytes, producers FROM batches WHERE base_offset >= ? ORDER BY base_offset",
				from,
			);
			for (const row of rows) {
				this.#rowsToReplay++;
				this.#bytesToReplay += row.bytes;
				if (row.producers === null) continue;
				for (const { producerId, epoch, ...batch } of parseProducersColumn(row.producers)) {
					const before = unsaved.get(producerId) ?? this.#loadSaved(producerId);
					unsaved.set(producerId, afterAppend(before, producerId, epoch, batch, batch.appendTimeMs));
				}
			}
		}
		this.#unsaved = unsaved;
		return unsaved;
	}

	#loadSaved(producerId: number): ProducerState | null {
		const kept = this.#saved.get(producerId);
		if (kept !== undefined) return kept;
		const state = loadProducerState(this.sql, producerId);
		this.#keep(producerId, state);
		return state;
	}

	#keep(producerId: number, state: ProducerState | null): void {
		if (this.#saved.size >= PRODUCER_STATES_CACHED_MAX) this.#saved.clear();
		this.#saved.set(producerId, state);
	}
}
