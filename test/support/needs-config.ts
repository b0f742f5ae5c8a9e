/**
 * A partition asking for its topic's config again right after it was given it: what the edge meets when the registry's
 * config moved on while its produce was under way (the partition knows a newer version than the edge's cached one).
 */

import { PartitionLog } from "../../src/partition/partition-log.ts";

/**
 * Until the returned function is called, the next `times` appends to partition `partition` (of any topic) answer
 * `needsConfig` and write nothing, as a partition behind the request's config version answers before it stages a
 * record; other calls (the `configure` the edge sends in between) run as usual. On the class every partition object of
 * the test file shares: RPC dispatches through the prototype.
 */
export function appendsNeedConfig(partition: number, times: number): () => void {
	const prototype = PartitionLog.prototype as unknown as { append(this: unknown, input: unknown): Promise<unknown> };
	const append = prototype.append;
	let left = times;
	prototype.append = function (this: unknown, input) {
		if (left > 0 && (this as { partition: number }).partition === partition) {
			left--;
			return Promise.resolve({ needsConfig: true });
		}
		return append.call(this, input);
	};
	return () => {
		prototype.append = append;
	};
}
