/**
 * The SDK consumer's `heartbeatIntervalMs` (Kafka's `heartbeat.interval.ms`, kafkajs's `heartbeatInterval`) against
 * the real Worker (inside workerd): how often the member's timer heartbeats while its loop body is slow. By default a
 * third of the session, as before the option; it must be shorter than the session, or no beat could keep it alive.
 */

import { describe, expect, it } from "vitest";
import { consumerSettings } from "../../client/consumer-options.ts";
import { filled } from "../support/consumer-fixtures.ts";
import { wiredClient } from "../support/sdk.ts";
import { UNTIL_SEEN } from "../support/until.ts";

describe("SDK consumer heartbeatIntervalMs", { timeout: 30_000 }, () => {
	it("is a third of the session by default, and a whole number of milliseconds, 1 or more, below the session", () => {
		const base = { group: "g", topics: ["t"] };
		expect(consumerSettings(base).heartbeatIntervalMs).toBe(15_000);
		expect(consumerSettings({ ...base, sessionTimeoutMs: 6_000 }).heartbeatIntervalMs).toBe(2_000);
		expect(consumerSettings({ ...base, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 5_999 }).heartbeatIntervalMs).toBe(5_999);
		expect(consumerSettings({ ...base, heartbeatIntervalMs: 1 }).heartbeatIntervalMs).toBe(1);
		for (const heartbeatIntervalMs of [0, -1, 1.5, Number.NaN, 45_000, 45_001]) {
			const thrown = (() => {
				try {
					consumerSettings({ ...base, heartbeatIntervalMs });
				} catch (error) {
					return error;
				}
			})();
			expect(thrown, String(heartbeatIntervalMs)).toMatchObject({
				code: "invalid_argument",
				message: expect.stringMatching(/heartbeatIntervalMs/),
			});
		}
	});

	it("is how often the member's timer heartbeats while the loop body holds a record", async () => {
		const { topic, group } = await filled("heartbeat-interval", 1);
		const { client, sent } = wiredClient();
		// The default session (45 s): its default beat (15 s) would come after UNTIL_SEEN gave up.
		const consumer = client.consumer({ group, topics: [topic], from: "earliest", waitMs: 50, heartbeatIntervalMs: 100 });
		const it = consumer[Symbol.asyncIterator]();
		expect((await it.next()).value).toMatchObject({ offset: 0 });
		const beats = () => sent.filter((s) => s.path.startsWith(`/v1/groups/${group}/`) && s.path.endsWith("/heartbeat")).length;
		await expect.poll(beats, { ...UNTIL_SEEN, message: "three heartbeats while the loop body holds the record" }).toBeGreaterThanOrEqual(3);
		await consumer.close();
	});
});
