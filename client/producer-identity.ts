/**
 * @module
 * An idempotent producer's identity (KIP-98): the producer id and epoch `POST /v1/producers` hands out, asked for
 * once and shared by every partition until a failure shows the broker no longer knows our sequences. Each identity
 * has a generation, so a partition can tell that its sequence numbers belong to an older one and start again at 0.
 */

import type { Http } from "./http.ts";

export interface Identity {
	readonly producerId: number;
	readonly epoch: number;
	readonly generation: number;
}

export class ProducerIdentity {
	#current: Promise<Identity> | null = null;
	#generation = 0;

	/** @param transactionalId a stable id: initialising it again fences any older instance (Kafka's `transactional.id`). */
	constructor(
		readonly http: Http,
		readonly transactionalId: string | undefined,
	) {}

	/** The identity in use, asked for when there is none (a request that fails leaves none, so the next call asks again). */
	current(): Promise<Identity> {
		if (this.#current === null) {
			const generation = ++this.#generation;
			const body = this.transactionalId === undefined ? {} : { transactional_id: this.transactionalId };
			const request = this.http
				.request<{ producer_id: number; epoch: number }>("POST", "/v1/producers", { body, retry: "always" })
				.then((answer) => ({ producerId: answer.producer_id, epoch: answer.epoch, generation }));
			request.catch(() => {
				if (this.#current === request) this.#current = null;
			});
			this.#current = request;
		}
		return this.#current;
	}

	/** The generation of the identity in use, or of the next one when there is none. */
	get generation(): number {
		return this.#current === null ? this.#generation + 1 : this.#generation;
	}

	/** Drops `failed` if it is still the identity in use, so the next batch starts every partition afresh. */
	reset(failed: Identity): void {
		if (failed.generation === this.#generation) this.#current = null;
	}
}
