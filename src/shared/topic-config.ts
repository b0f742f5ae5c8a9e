/**
 * @module
 * Topic configuration: the Kafka names users know (`retention.ms`, `cleanup.policy`, …), Kafka's defaults, and
 * validation. Numeric configs are JSON numbers or digit strings (Kafka's admin tools send strings). Pure.
 */

import { err, ok, type Result } from "./errors.ts";
import { MESSAGE_BYTES_CEILING } from "./limits.ts";

export type CleanupPolicy = "delete" | "compact" | "compact,delete";

export interface TopicConfig {
	/** How long records are kept; -1 keeps them forever. */
	readonly "retention.ms": number;
	/** Bytes a partition keeps before its oldest batches go; -1 for no limit. */
	readonly "retention.bytes": number;
	readonly "cleanup.policy": CleanupPolicy;
	/** Largest record (key, value and headers as encoded), in bytes. */
	readonly "max.message.bytes": number;
	/** How long a tombstone survives compaction. */
	readonly "delete.retention.ms": number;
	/** How long a partition remembers an idle idempotent producer (Kafka's broker `producer.id.expiration.ms`). */
	readonly "producer.id.expiration.ms": number;
}

export type TopicConfigKey = keyof TopicConfig;

/** Kafka's broker defaults, except `max.message.bytes`, which is capped by the Durable Object row size. */
export const DEFAULT_TOPIC_CONFIG: TopicConfig = {
	"retention.ms": 7 * 24 * 60 * 60 * 1000,
	"retention.bytes": -1,
	"cleanup.policy": "delete",
	"max.message.bytes": MESSAGE_BYTES_CEILING,
	"delete.retention.ms": 24 * 60 * 60 * 1000,
	"producer.id.expiration.ms": 24 * 60 * 60 * 1000,
};

const TOPIC_CONFIG_KEYS = Object.keys(DEFAULT_TOPIC_CONFIG) as TopicConfigKey[];

/** Largest value a numeric config accepts (ms beyond this are not meaningful dates). */
const CONFIG_NUMBER_MAX = Number.MAX_SAFE_INTEGER;

function parseInteger(raw: unknown): number | null {
	if (typeof raw === "number") return Number.isSafeInteger(raw) ? raw : null;
	if (typeof raw === "string" && /^-?\d{1,16}$/.test(raw)) {
		const n = Number(raw);
		return Number.isSafeInteger(n) ? n : null;
	}
	return null;
}

function parseCleanupPolicy(raw: unknown): CleanupPolicy | null {
	if (typeof raw !== "string") return null;
	const parts = [...new Set(raw.split(",").map((p) => p.trim()))].sort();
	const joined = parts.join(",");
	if (joined === "delete" || joined === "compact" || joined === "compact,delete") return joined;
	return null;
}

/** [min, max, whether -1 means unlimited] of each numeric config. */
const NUMERIC_RANGES: Record<Exclude<TopicConfigKey, "cleanup.policy">, readonly [number, number, boolean]> = {
	"retention.ms": [1, CONFIG_NUMBER_MAX, true],
	"retention.bytes": [1, CONFIG_NUMBER_MAX, true],
	"max.message.bytes": [1, MESSAGE_BYTES_CEILING, false],
	"delete.retention.ms": [0, CONFIG_NUMBER_MAX, false],
	"producer.id.expiration.ms": [1, CONFIG_NUMBER_MAX, false],
};

/** Validates one config entry, returning the normalised value or an explanation. */
function parseEntry(key: TopicConfigKey, raw: unknown): Result<number | CleanupPolicy> {
	if (key === "cleanup.policy") {
		const policy = parseCleanupPolicy(raw);
		if (policy === null) return err("invalid_config", `"cleanup.policy" must be "delete", "compact" or "compact,delete"`, { config: key });
		return ok(policy);
	}
	const n = parseInteger(raw);
	const [min, max, unlimited] = NUMERIC_RANGES[key];
	if (n === null || !((n >= min && n <= max) || (unlimited && n === -1))) {
		const range = `an integer from ${min} to ${max}${unlimited ? ", or -1 for unlimited" : ""}`;
		return err("invalid_config", `"${key}" must be ${range} (a JSON number or a digit string)`, { config: key });
	}
	return ok(n);
}

/**
 * Applies `changes` to `base`. A `null` change restores the default (Kafka's incremental "DELETE" op).
 * Unknown keys are rejected, as Kafka does, so a typo never silently does nothing.
 */
export function applyConfigChanges(base: TopicConfig, changes: unknown): Result<TopicConfig> {
	if (changes === undefined) return ok(base);
	if (changes === null || typeof changes !== "object" || Array.isArray(changes)) {
		return err("invalid_config", "config must be an object of Kafka topic configs");
	}
	const next: Record<string, unknown> = { ...base };
	for (const [key, raw] of Object.entries(changes)) {
		if (!(TOPIC_CONFIG_KEYS as string[]).includes(key)) {
			return err("invalid_config", `unknown topic config "${key}"; supported: ${TOPIC_CONFIG_KEYS.join(", ")}`, { config: key });
		}
		const k = key as TopicConfigKey;
		if (raw === null) {
			next[k] = DEFAULT_TOPIC_CONFIG[k];
			continue;
		}
		const parsed = parseEntry(k, raw);
		if (!parsed.ok) return parsed;
		next[k] = parsed.value;
	}
	return ok(next as unknown as TopicConfig);
}
