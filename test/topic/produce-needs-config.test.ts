/**
 * A partition that still asks for the topic's config after the edge gave it (the registry's config moved on during
 * the request) wrote nothing: its share is refused with a 503 that says so, `unavailable`, when it is the request's
 * only share, so a client may send it again whatever the produce (the SDK's plain producer does). A request spread
 * over partitions keeps `partition_unavailable`, its message saying that other partitions may have written their shares.
 */

import { afterEach, describe, expect, it } from "vitest";
import { uniqueTopic } from "../support/names.ts";
import { appendsNeedConfig } from "../support/needs-config.ts";
import { createTopic, expectError, fetchRecords } from "../support/worker.ts";

const values = async (topic: string, partition = 0) => (await fetchRecords(topic, partition)).records.map((r) => r.value);

describe("a produce whose partition asks for the config again after it was configured", () => {
	let restore = (): void => undefined;
	afterEach(() => restore());

	it("is refused 503 unavailable when it is the request's one share: nothing was written", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 1);
		restore = appendsNeedConfig(0, 2);
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 503, "unavailable", { body: { records: [{ value: 1 }] } });
		expect(error).toMatchObject({ retriable: true, message: "topic configuration changed during the request; retry" });
		restore();
		expect(await values(topic)).toEqual([]);
	});

	it("is refused 503 partition_unavailable in a request spread over partitions: another may have written its share", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		restore = appendsNeedConfig(1, 2);
		const records = [
			{ value: "a", partition: 0 },
			{ value: "b", partition: 1 },
		];
		const error = await expectError("POST", `/v1/topics/${topic}/records`, 503, "partition_unavailable", { body: { records } });
		// Not "retry": a repeat would write partition 0's share again.
		expect(error.message).toBe("topic configuration changed during the request; some of this request's records may have been written");
		restore();
		expect(await values(topic, 0)).toEqual(["a"]);
		expect(await values(topic, 1)).toEqual([]);
	});
});
