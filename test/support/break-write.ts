/**
 * A partition's next group write made to throw inside its transaction (rolled back), as a storage failure would, or
 * as a bug would with `thrown` a TypeError or an AssertionError: through `throwOnce` on the producer store's
 * `rowsWritten`, which every write calls before its transaction ends.
 */

import { runInDurableObject } from "cloudflare:test";
import type { PartitionLog } from "../../src/partition/partition-log.ts";
import { partitionStub } from "./stubs.ts";
import { throwOnce } from "./throw-once.ts";

export async function breakNextWrite(topic: string, partition = 0, thrown?: string | Error): Promise<void> {
	await runInDurableObject(await partitionStub(topic, partition), (instance: PartitionLog) => {
		throwOnce((instance as unknown as { producers: { rowsWritten(): void } }).producers, "rowsWritten", thrown);
	});
}
