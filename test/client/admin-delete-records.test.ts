/**
 * The SDK's `topics.deleteRecords` against the real Worker (inside workerd): it answers the new log start; an
 * offset, idempotent to resend, is sent again when its answer is lost; `"latest"` is not (records appended
 * since the first landed would be deleted too), so a lost answer is the caller's to judge; refusals are `TributaryError`s.
 */

import { describe, expect, it } from "vitest";
import { TributaryError } from "../../client/index.ts";
import { uniqueTopic } from "../support/names.ts";
import { wiredClient } from "../support/sdk.ts";
import { createTopic, fetchRecords, produce } from "../support/worker.ts";

const isDeleteRecords = (r: { path: string }) => r.path.endsWith("/delete-records");

describe("SDK topics.deleteRecords", () => {
	it("moves the log start to an offset or to the high watermark, and answers it", async () => {
		const topic = uniqueTopic("trim");
		await createTopic(topic, 1);
		await produce(topic, [{ value: 1 }, { value: 2 }, { value: 3 }]);
		const { client, sent } = wiredClient();
		expect(await client.topics.deleteRecords(topic, 0, 2)).toBe(2);
		expect((await fetchRecords(topic, 0)).records.map((r) => r.offset)).toEqual([2]);
		expect(await client.topics.deleteRecords(topic, 0, "latest")).toBe(3);
		expect(sent.filter(isDeleteRecords).map((r) => r.body)).toEqual(['{"before_offset":2}', '{"before_offset":-1}']);
		const refused = await client.topics.deleteRecords(topic, 0, 9).catch((error: unknown) => error);
		expect(refused).toBeInstanceOf(TributaryError);
		expect(refused).toMatchObject({ code: "offset_out_of_range", status: 416, details: { log_start_offset: 3, high_watermark: 3 } });
	});

	it("sends an offset again when its answer is lost, and 'latest' never", async () => {
		const topic = uniqueTopic("trim-lost");
		await createTopic(topic, 1);
		await produce(topic, [{ value: 1 }, { value: 2 }]);
		const { client, sent, dropAnswer, delayAnswer } = wiredClient();
		dropAnswer(isDeleteRecords);
		expect(await client.topics.deleteRecords(topic, 0, 1)).toBe(1);
		expect(sent.filter(isDeleteRecords)).toHaveLength(2);
		const { served, release } = delayAnswer(isDeleteRecords);
		dropAnswer(isDeleteRecords);
		const deleting = client.topics.deleteRecords(topic, 0, "latest").catch((error: unknown) => error);
		await served;
		// Produced after the deletion landed: a repeat would delete it too.
		await produce(topic, [{ value: 3 }]);
		release();
		expect(await deleting).toMatchObject({ code: "network_error" });
		expect(sent.filter(isDeleteRecords)).toHaveLength(3);
		const left = await fetchRecords(topic, 0);
		expect(left.log_start_offset).toBe(2);
		expect(left.records.map((r) => r.value)).toEqual([3]);
	});
});
