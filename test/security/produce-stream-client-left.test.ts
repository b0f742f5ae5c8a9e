/**
 * The streaming produce channel of a key in debt, whose producer leaves while a message waits out the debt: the
 * message was accepted, so it is still written, and charged. Unlike a live read's message (test/security/
 * sse-client-left.test.ts), whose client gone means it is never sent and so not paid for, a produced message's bytes
 * are paid because they are written; skipping the charge for a producer gone would let one write past its quota by
 * leaving right after sending.
 *
 * The order is proven by what the code resolves: the edge's channel is told to finish (the socket's close reached
 * it) before the debt can be repaid, and that finish resolves once every message it accepted is written.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { KeyStore } from "../../src/auth/key-store.ts";
import { ProduceChannel } from "../../src/http/produce-channel.ts";
import { holdClock } from "../support/clock.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { openProduceSocket } from "../support/produce-stream.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { createTopic, fetchRecords } from "../support/worker.ts";

/** A message's value, and the key's produce quota per second: the first message leaves the key ~2000 bytes in debt. */
const VALUE = "p".repeat(3000);
const PRODUCE_BYTES_PER_SEC = 1000;
/** Enough held time for that debt to be repaid, so a charge after it is taken, not refused. */
const DEBT_REPAID_MS = 5_000;

/** Key `id`'s produce-byte charges at its authority from now on: the amounts it took, and those it refused. */
function watchProduceCharges(id: string): { paid: number[]; refused: number[] } {
	const chargeQuotas = KeyStore.prototype.chargeQuotas;
	const seen = { paid: [] as number[], refused: [] as number[] };
	vi.spyOn(KeyStore.prototype, "chargeQuotas").mockImplementation(async function (this: KeyStore, keyId, charges, owed) {
		const answer = await chargeQuotas.call(this, keyId, charges, owed);
		const bytes = charges.find((charge) => charge.quota === "produce_bytes_per_sec")?.amount ?? 0;
		if (keyId === id && bytes > 0) (answer === null ? seen.paid : seen.refused).push(bytes);
		return answer;
	});
	return seen;
}

/**
 * Resolves when a produce channel is told to finish (its socket's close reached the edge), with that finish: it
 * resolves once every message the channel accepted is written and answered.
 */
function channelFinishing(): Promise<{ finished: Promise<void> }> {
	const finish = ProduceChannel.prototype.finish;
	return new Promise((resolve) => {
		vi.spyOn(ProduceChannel.prototype, "finish").mockImplementation(function (this: ProduceChannel) {
			const finished = finish.call(this);
			resolve({ finished });
			return finished;
		});
	});
}

describe("a streaming producer in debt that leaves while its message waits", () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("has the message written and charged", async () => {
		const topic = uniqueTopic("ps-left");
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], {
			produce_bytes_per_sec: PRODUCE_BYTES_PER_SEC,
		});
		const clock = holdClock();
		const socket = await openProduceSocket(topic, key.secret);
		socket.ws.send(JSON.stringify({ value: VALUE }));
		await socket.until(() => socket.reports.length === 1);
		// With the clock held the debt the first message left stays: the next waits to be paid for.
		const charges = watchProduceCharges(key.id);
		const finishing = channelFinishing();
		const message = JSON.stringify({ value: VALUE });
		socket.ws.send(message);
		await vi.waitFor(() => expect(charges.refused).not.toEqual([]), UNTIL_SEEN);
		socket.ws.close(1000, "gone");
		const { finished } = await finishing;
		expect(charges.paid, "nothing paid while in debt").toEqual([]);
		clock.advance(DEBT_REPAID_MS);
		await finished;
		clock.release();
		expect(charges.paid).toEqual([new TextEncoder().encode(message).byteLength]);
		const fetched = await fetchRecords(topic, 0, "?offset=0");
		expect(fetched.records.map((r) => r.value)).toEqual([VALUE, VALUE]);
	});
});
