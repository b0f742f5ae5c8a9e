/**
 * Server-Sent Events of a key with a fetch quota, at the edge (/v1 and Durable Streams' live=sse): a message waits
 * out the key's debt before it is sent, and a client that left during that wait is not charged for the message it
 * never received, as a WebSocket tail is not (test/http/websocket.test.ts).
 *
 * The proof of an absence needs the end of the work that would have charged: each stream's loop is the request's
 * `waitUntil` work, awaited on its own context.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KeyStore } from "../../src/auth/key-store.ts";
import worker from "../../src/index.ts";
import { SSE_KEEPALIVE_MS_MIN } from "../../src/shared/limits.ts";
import { streamTopic } from "../../src/shared/stream-names.ts";
import { type HeldClock, holdClock } from "../support/clock.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { openV1LiveSse, SseReader } from "../support/sse.ts";
import { UNTIL_SEEN } from "../support/until.ts";
import { BASE, call, createTopic, produce } from "../support/worker.ts";

const DS = "/ds/v1/stream";
/** A record, and the key's fetch quota per second: the first record sent leaves the key ~2000 bytes in debt. */
const VALUE = "y".repeat(3000);
const FETCH_BYTES_PER_SEC = 1000;
/** Enough held time for that debt to be repaid, so a charge after it is taken, not refused. */
const DEBT_REPAID_MS = 5_000;

/**
 * Watches key `id`'s fetch-byte charges at its authority from now on: the amounts it took, and those it refused (a
 * stream of the key then waits out its debt). Polled, not awaited: a promise resolved inside the key's object would
 * run the test on in that object's context, where the test's streams cannot be touched.
 */
function watchFetchCharges(id: string): { paid: number[]; refused: number[] } {
	const chargeQuotas = KeyStore.prototype.chargeQuotas;
	const seen = { paid: [] as number[], refused: [] as number[] };
	vi.spyOn(KeyStore.prototype, "chargeQuotas").mockImplementation(async function (this: KeyStore, keyId, charges, owed) {
		const answer = await chargeQuotas.call(this, keyId, charges, owed);
		const bytes = charges.find((charge) => charge.quota === "fetch_bytes_per_sec")?.amount ?? 0;
		if (keyId === id && bytes > 0) (answer === null ? seen.paid : seen.refused).push(bytes);
		return answer;
	});
	return seen;
}

/**
 * Once the stream's next message is refused (the key in debt), its client leaves; then the debt is repaid, so the
 * stream's next look at the key's bucket would let the message through: a stream that did not notice its client
 * left would be charged for it. The stream's pump is the request's background work: it has ended once `ctx`'s has.
 */
async function expectLeftUncharged(charges: ReturnType<typeof watchFetchCharges>, sse: SseReader, clock: HeldClock, ctx: ExecutionContext) {
	await vi.waitFor(() => expect(charges.refused).not.toEqual([]), UNTIL_SEEN);
	await sse.close();
	clock.advance(DEBT_REPAID_MS);
	await waitOnExecutionContext(ctx);
	clock.release();
	expect(charges.paid, "the message not sent is not charged").toEqual([]);
}

describe("Server-Sent Events of a key in debt, whose client left during the wait", () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("/v1: does not charge the message it never sent", async () => {
		const topic = uniqueTopic("q");
		await createTopic(topic);
		await produce(topic, [{ value: VALUE }]);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["consume"] }], { fetch_bytes_per_sec: FETCH_BYTES_PER_SEC });
		const clock = holdClock();
		// Short keep-alive reads: the stream notices its client left at its next read's end, not a default one's.
		const { sse, ctx } = await openV1LiveSse(
			`/v1/topics/${topic}/partitions/0/records?offset=0&keepalive_ms=${SSE_KEEPALIVE_MS_MIN}`,
			key.secret,
		);
		expect((await sse.records(1))[0]?.record.offset).toBe(0);
		// With the clock held the debt the first record left stays: the next record waits to be paid for.
		const charges = watchFetchCharges(key.id);
		await produce(topic, [{ value: VALUE }]);
		await expectLeftUncharged(charges, sse, clock, ctx);
	});

	it("Durable Streams live=sse: does not charge the message it never sent", async () => {
		const path = uniqueTopic("qds");
		const created = await call("PUT", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" }, raw: VALUE });
		expect(created.status).toBe(201);
		const acl = [{ resource: `topic:${streamTopic(path)}`, operations: ["consume" as const] }];
		const key = await createKey(acl, { fetch_bytes_per_sec: FETCH_BYTES_PER_SEC });
		const clock = holdClock();
		const ctx = createExecutionContext();
		const request = new Request(`${BASE}${DS}/${path}?offset=-1&live=sse`, { headers: { Authorization: `Bearer ${key.secret}` } });
		const response = await worker.fetch(request, env, ctx);
		expect(response.status).toBe(200);
		const sse = new SseReader(response);
		expect((await sse.next()).event).toBe("data");
		expect((await sse.next()).event).toBe("control");
		// With the clock held the debt the first append left stays: the next waits to be paid for.
		const charges = watchFetchCharges(key.id);
		const appended = await call("POST", `${DS}/${path}`, { headers: { "Content-Type": "text/plain" }, raw: VALUE });
		expect(appended.status).toBe(204);
		await expectLeftUncharged(charges, sse, clock, ctx);
	});
});
