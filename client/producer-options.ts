/**
 * @module
 * What a producer may be told (`ProducerOptions`), each option's default and bounds, and `producerSettings`, which
 * checks the options and fills in the defaults once, when the producer is made.
 */

import { invalidArgument } from "./errors.ts";
import { BUFFER_BYTES_DEFAULT, MAX_BLOCK_MS_DEFAULT, MAX_BLOCK_MS_MAX } from "./producer-buffer.ts";

export const LINGER_MS_DEFAULT = 5;
/** The longest `lingerMs`: a record waiting longer for company would be better sent alone. */
export const LINGER_MS_MAX = 60_000;
export const BATCH_RECORDS_DEFAULT = 1_000;
/** The broker takes at most 10 000 records and 8 MiB per request. */
export const BATCH_RECORDS_MAX = 10_000;
export const BATCH_BYTES_DEFAULT = 1024 * 1024;
export const BATCH_BYTES_MAX = 7 * 1024 * 1024;
export { BUFFER_BYTES_DEFAULT, MAX_BLOCK_MS_DEFAULT } from "./producer-buffer.ts";

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
	/**
	 * Estimated JSON bytes of records held at most, from send until settled (Kafka's `buffer.memory`). A send that
	 * finds no room waits for it, in send order. Default 32 MiB.
	 */
	readonly bufferBytes?: number;
	/** How long a send may wait for room before it is refused with `buffer_full` (Kafka's `max.block.ms`). Default 60 s. */
	readonly maxBlockMs?: number;
}

/** The numeric and boolean options, checked, with their defaults filled in. */
export type ProducerSettings = Required<Omit<ProducerOptions, "transactionalId">>;

/** `options` checked against their bounds (`invalid_argument` naming the first out of bounds), defaults filled in. */
export function producerSettings(options: ProducerOptions): ProducerSettings {
	return {
		lingerMs: bounded("lingerMs", options.lingerMs ?? LINGER_MS_DEFAULT, 0, LINGER_MS_MAX),
		batchRecords: bounded("batchRecords", options.batchRecords ?? BATCH_RECORDS_DEFAULT, 1, BATCH_RECORDS_MAX),
		batchBytes: bounded("batchBytes", options.batchBytes ?? BATCH_BYTES_DEFAULT, 1, BATCH_BYTES_MAX),
		idempotent: options.idempotent ?? true,
		bufferBytes: bounded("bufferBytes", options.bufferBytes ?? BUFFER_BYTES_DEFAULT, 1, Number.MAX_SAFE_INTEGER),
		maxBlockMs: bounded("maxBlockMs", options.maxBlockMs ?? MAX_BLOCK_MS_DEFAULT, 0, MAX_BLOCK_MS_MAX),
	};
}

function bounded(name: string, value: number, min: number, max: number): number {
	if (!Number.isFinite(value) || value < min || value > max) throw invalidArgument(`${name} must be between ${min} and ${max}`);
	return value;
}
