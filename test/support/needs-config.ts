/**
 * A partition asking for its topic's config again right after it was given it: what the edge meets when the registry's
 * config moved on while its produce was under way (the partition knows a newer version than the edge's cached one).
 */

import { runInDurableObject } from "cloudflare:test";
import { PartitionLog } from "../../src/partition/partition-log.ts";
import { partitionStub } from "./stubs.ts";
import { throwOnce } from "./throw-once.ts";

/**
 * Until the returned function is called, the next `times` appends to partition `partition` (of any topic) answer
 * `needsConfig` and write nothing, as a partition behind the request's config version answers before it stages a
 * record; other calls (the `configure` the edge sends in between) run as usual. On the class every partition object of
 * the test file shares: RPC dispatches through the prototype. `method`: the append call (a stream's is `streamAppend`).
 */
export function appendsNeedConfig(partition: number, times: number, method: "append" | "streamAppend" = "append"): () => void {
	const prototype = PartitionLog.prototype as unknown as Record<typeof method, (this: unknown, input: unknown) => Promise<unknown>>;
	const append = prototype[method];
	let left = times;
	prototype[method] = function (this: unknown, input) {
		if (left > 0 && (this as { partition: number }).partition === partition) {
			left--;
			return Promise.resolve({ needsConfig: true });
		}
		return append.call(this, input);
	};
	return () => {
		prototype[method] = append;
	};
}

/**
 * Partition `partition` of `topic` meets a bug in its next `configure` (its offsets() throws a TypeError), which it
 * answers 500 `internal`: with `appendsNeedConfig`, the produce that configures it meets a partition's bug.
 */
export async function configureBreaksOnce(topic: string, partition = 0): Promise<void> {
	await runInDurableObject(await partitionStub(topic, partition), (instance) =>
		throwOnce(instance as unknown as { offsets(): void }, "offsets", new TypeError("offsets broke")),
	);
}
