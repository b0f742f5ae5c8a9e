/**
 * Set-ups the SDK consumer's tests share: a filled topic, and a member handed every record of a two-partition topic
 * that a second member's join will split (the rebalance the commit and leave tests drive).
 */

import { expect } from "vitest";
import type { ConsumerOptions, ConsumerRecord } from "../../client/index.ts";
import { uniqueTopic } from "./names.ts";
import { wiredClient } from "./sdk.ts";
import { createTopic, produce } from "./worker.ts";

/** A one-partition topic of `count` records and a group name. */
export async function filled(name: string, count: number) {
	const topic = uniqueTopic(name);
	await createTopic(topic, 1);
	await produce(
		topic,
		Array.from({ length: count }, (_, i) => ({ value: i })),
	);
	return { topic, group: uniqueTopic("g") };
}

/**
 * A member "a…" (manual commits) that was handed all four records of a two-partition topic, two per partition, and
 * holds the last. Under `range` in instance-id order, a member "z…" joining (with `options`) takes partition 1.
 */
export async function handedBoth(name: string, more: Partial<ConsumerOptions> = {}) {
	const topic = uniqueTopic(name);
	const group = uniqueTopic("g");
	await createTopic(topic, 2);
	await produce(
		topic,
		[0, 1].flatMap((partition) => [
			{ value: 0, partition },
			{ value: 1, partition },
		]),
	);
	const options = { group, topics: [topic], from: "earliest" as const, waitMs: 50, strategy: "range" as const };
	const wire = wiredClient();
	const consumer = wire.client.consumer({ ...options, autoCommit: false, instanceId: `a-${group}`, ...more });
	const it = consumer[Symbol.asyncIterator]();
	const handed: string[] = [];
	for (let i = 0; i < 4; i++) {
		const record = (await it.next()).value as ConsumerRecord;
		handed.push(`${record.partition}:${record.offset}`);
	}
	expect(handed.sort()).toEqual(["0:0", "0:1", "1:0", "1:1"]);
	return { topic, group, options, consumer, it, wire };
}

/**
 * A promise and the function that settles it, for a test that holds a callback or a request until it says so:
 * `const [reached, reach] = latch();`.
 */
export function latch(): [Promise<void>, () => void] {
	let open!: () => void;
	const reached = new Promise<void>((resolve) => (open = resolve));
	return [reached, open];
}
