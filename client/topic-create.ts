/**
 * @module
 * Whether a topic found after a create's repeat was refused `topic_exists` is the one the create asked for: a create
 * whose first try may have landed (its answer lost) is then answered as created, not refused. Kafka's
 * `kafka-topics --create --if-not-exists` takes any topic of the name; this takes only one as asked.
 */

import type { LocationHint, TopicConfig, TopicDescription } from "./admin.ts";
import { CONFIG_NUMBER_MAX } from "./config-limits.ts";

/**
 * The one cluster of the Worker's Confluent REST mount (`/kafka/v3/clusters/{id}`), a constant of the Worker
 * (src/http/compat/confluent/limits.ts; test/client holds them equal): named here, it need not be listed first.
 */
export const CLUSTER_ID = "tributary";

/** The API's partition count for a create that gives none (src/shared/limits.ts's `TOPIC_PARTITIONS_DEFAULT`; test/client holds them equal). */
export const TOPIC_PARTITIONS_DEFAULT = 1;

export interface TopicToCreate {
	readonly name: string;
	readonly partitions?: number;
	readonly config?: TopicConfig;
	readonly location_hint?: LocationHint;
}

/**
 * How `found` differs from what `asked` asks for, or null when it is as asked: its partitions, its location hint,
 * every config `asked` gives, as the broker reads it (digits or a number, a long past CONFIG_NUMBER_MAX as that
 * largest, "true"/"false" in any case or a boolean, a cleanup policy's parts in any order), and no config of
 * `setConfigs` (those the broker holds other than at their defaults) that `asked` does not give (or gives as null, its
 * default).
 */
export function unlikeAsked(found: TopicDescription, asked: TopicToCreate, setConfigs: readonly string[]): string | null {
	const partitions = asked.partitions ?? TOPIC_PARTITIONS_DEFAULT;
	if (found.partitions.length !== partitions) return `${found.partitions.length} partitions, not ${partitions}`;
	const hint = asked.location_hint ?? null;
	if (found.location_hint !== hint) return `location hint ${found.location_hint ?? "none"}, not ${hint ?? "none"}`;
	const given = asked.config ?? {};
	const held = found.config;
	for (const key of setConfigs) {
		if ((given[key] ?? null) === null) return `${key}=${String(held[key])}, not asked`;
	}
	for (const [key, value] of Object.entries(given)) {
		if (value !== null && !sameSetting(value, held[key])) return `${key}=${String(held[key])}, not ${String(value)}`;
	}
	return null;
}

function sameSetting(asked: unknown, held: unknown): boolean {
	if (typeof held === "boolean")
		return typeof asked === "boolean" || typeof asked === "string" ? String(asked).trim().toLowerCase() === String(held) : false;
	if (typeof held === "string") return typeof asked === "string" && policyParts(asked) === policyParts(held);
	if (typeof asked !== "number" && typeof asked !== "bigint" && typeof asked !== "string") return false;
	try {
		// Exact for a long beyond a double's integers (the CLI's lossless JSON reads one as a bigint).
		const long = BigInt(asked);
		const max = BigInt(CONFIG_NUMBER_MAX);
		return (long > max ? max : long) === BigInt(held as number | bigint);
	} catch {
		return false;
	}
}

/** A cleanup policy's parts, one each, in order ("delete,compact" is "compact,delete"); other text as it is. */
function policyParts(text: string): string {
	return [...new Set(text.split(",").map((part) => part.trim()))].sort().join(",");
}
