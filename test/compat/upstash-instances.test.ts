/**
 * Consumer instances are group members held by the coordinator, not by the isolate that created them:
 * an isolate that has never seen an instance finds it (no rejoin, so its position survives), and one holding a
 * stale member id (another isolate re-created the instance) recovers by looking it up again.
 * "Another isolate" is played by `/v1`, which reaches the same coordinator without this isolate's cache.
 */
import { describe, expect, it } from "vitest";
import { uniqueTopic } from "../support/names.ts";
import { kafka, routeClientToWorker } from "../support/upstash.ts";
import { createTopic, json, produce } from "../support/worker.ts";

routeClientToWorker();

interface Described {
	members: { member_id: string; instance_id: string | null }[];
}

async function memberIds(group: string): Promise<string[]> {
	return (await json<Described>("GET", `/v1/groups/${group}`, 200)).members.map((m) => m.member_id);
}

describe("consumer instances across isolates", () => {
	it("an instance created and read elsewhere is found, not re-created: its position and member id stay", async () => {
		const topic = uniqueTopic("inst");
		await createTopic(topic, 1);
		await produce(topic, [{ value: "r0" }, { value: "r1" }]);
		const group = `inst-${crypto.randomUUID().slice(0, 8)}`;
		const joined = await json<{ member_id: string }>("POST", `/v1/groups/${group}/members`, 200, {
			body: { topics: [topic], instance_id: "i1", auto_offset_reset: "earliest" },
		});
		const polled = await json<{ records: unknown[] }>("POST", `/v1/groups/${group}/members/${joined.member_id}/poll`, 200, {
			body: { max_records: 1 },
		});
		expect(polled.records).toHaveLength(1);
		const next = await kafka()
			.consumer()
			.consume({ consumerGroupId: group, instanceId: "i1", topics: [topic], autoCommit: false, timeout: 0 });
		// A re-join would have forgotten the position (a static member that comes back restarts from its commits: none).
		expect(next.map((m) => [m.offset, m.value])).toEqual([[1, "r1"]]);
		expect(await memberIds(group)).toEqual([joined.member_id]);
	});

	it("a stale member id (the instance re-created elsewhere) is looked up again, and the call succeeds", async () => {
		const topic = uniqueTopic("inst");
		await createTopic(topic, 1);
		const group = `inst-${crypto.randomUUID().slice(0, 8)}`;
		const consumer = kafka().consumer();
		const request = {
			consumerGroupId: group,
			instanceId: "i1",
			topics: [topic],
			autoOffsetReset: "earliest" as const,
			autoCommit: false,
			timeout: 0,
		};
		expect(await consumer.consume(request)).toEqual([]);
		const [cached] = await memberIds(group);
		// Another isolate re-creates the instance: this isolate's member id is fenced.
		const rejoined = await json<{ member_id: string }>("POST", `/v1/groups/${group}/members`, 200, {
			body: { topics: [topic], instance_id: "i1", auto_offset_reset: "earliest" },
		});
		expect(rejoined.member_id).not.toBe(cached);
		await produce(topic, [{ value: "after" }]);
		expect((await consumer.consume(request)).map((m) => m.value)).toEqual(["after"]);
		await consumer.commit({ consumerGroupId: group, instanceId: "i1" });
		expect(await memberIds(group)).toEqual([rejoined.member_id]);
		expect(await consumer.committed({ consumerGroupId: group, instanceId: "i1", topicPartitions: [{ topic, partition: 0 }] })).toEqual([
			{ topic, partition: 0, offset: 1 },
		]);
	});

	it("consuming other topics re-creates the instance with the new subscription", async () => {
		const a = uniqueTopic("inst");
		const b = uniqueTopic("inst");
		await createTopic(a, 1);
		await createTopic(b, 1);
		await produce(b, [{ value: "in-b" }]);
		const group = `inst-${crypto.randomUUID().slice(0, 8)}`;
		const consumer = kafka().consumer();
		await consumer.consume({ consumerGroupId: group, instanceId: "i1", topics: [a], timeout: 0 });
		const messages = await consumer.consume({
			consumerGroupId: group,
			instanceId: "i1",
			topics: [a, b],
			autoOffsetReset: "earliest",
			timeout: 0,
		});
		expect(messages.map((m) => [m.topic, m.value])).toEqual([[b, "in-b"]]);
		const described = await json<{ members: { instance_id: string; topics: string[] }[] }>("GET", `/v1/groups/${group}`, 200);
		expect(described.members.map((m) => [m.instance_id, [...m.topics].sort()])).toEqual([["i1", [a, b].sort()]]);
	});
});
