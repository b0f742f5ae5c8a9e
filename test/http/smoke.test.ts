import { describe, expect, it } from "vitest";
import { createTopic, fetchRecords, produce, uniqueTopic } from "../helpers.ts";

describe("smoke", () => {
	it("produces and fetches", async () => {
		const topic = uniqueTopic();
		await createTopic(topic, 2);
		const produced = await produce(topic, [
			{ key: "a", value: "one" },
			{ key: "a", value: { n: 2 } },
			{ value: null, partition: 1 },
		]);
		expect(produced.offsets).toHaveLength(3);
		const p = produced.offsets[0]?.partition ?? 0;
		const fetched = await fetchRecords(topic, p, "offset=0");
		expect(fetched.records.map((r) => r.value)).toEqual(["one", { n: 2 }]);
	});
});
