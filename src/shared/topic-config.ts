/**
 * @module
 * Topic configuration: the Kafka names users know (`retention.ms`, `cleanup.policy`, …), Kafka's defaults, and
 * validation. Numeric configs are JSON numbers or digit strings (Kafka's admin tools send strings). Pure.
 */

import { err, ok, type Result } from "./errors.ts";
import { MESSAGE_BYTES_CEILING } from "./limits.ts";

export type CleanupPolicy = "delete" | "compact" | "compact,delete";

/** Kafka's `message.timestamp.type`: the producer's timestamp, or the time the partition appended the record. */
export type TimestampType = "CreateTime" | "LogAppendTime";

/**
 * Largest value a long config holds (ms beyond this are not meaningful dates); a larger integer, Kafka's
 * Long.MAX_VALUE among them, is taken as this one (`parseEntry`). The SDK, which compares a topic with the configs a
 * create gave, clamps as here with its own copy (client/config-limits.ts; test/client holds them equal).
 */
export const CONFIG_NUMBER_MAX = Number.MAX_SAFE_INTEGER;

/**
 * `message.timestamp.{before,after}.max.ms` with no limit. Kafka's default is Long.MAX_VALUE, which no JSON number
 * holds exactly; the largest a config holds (about 285,000 years) is as unlimited, and Long.MAX_VALUE written out is
 * taken as it.
 */
export const TIMESTAMP_DISTANCE_UNLIMITED_MS = CONFIG_NUMBER_MAX;

/** Kafka's `local.retention.*` value meaning "the same as `retention.*`". */
export const LOCAL_RETENTION_AS_TOTAL = -2;

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
	/** Tiered storage (KIP-405): offload closed batches to R2 segments; not for compacted topics. */
	readonly "remote.storage.enable": boolean;
	/** How long batches stay in the partition's own storage before offload; -2: `retention.ms`, -1: forever. */
	readonly "local.retention.ms": number;
	/** Bytes the partition keeps locally before its oldest batches are offloaded; -2: `retention.bytes`, -1: no limit. */
	readonly "local.retention.bytes": number;
	/** `LogAppendTime`: the partition stamps each record with its append time, ignoring the producer's timestamp. */
	readonly "message.timestamp.type": TimestampType;
	/** With CreateTime, the furthest a record's timestamp may be behind the broker's clock (KIP-937), in ms. */
	readonly "message.timestamp.before.max.ms": number;
	/** With CreateTime, the furthest a record's timestamp may be ahead of the broker's clock (KIP-937), in ms. */
	readonly "message.timestamp.after.max.ms": number;
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
	"remote.storage.enable": false,
	"local.retention.ms": LOCAL_RETENTION_AS_TOTAL,
	"local.retention.bytes": LOCAL_RETENTION_AS_TOTAL,
	"message.timestamp.type": "CreateTime",
	"message.timestamp.before.max.ms": TIMESTAMP_DISTANCE_UNLIMITED_MS,
	"message.timestamp.after.max.ms": TIMESTAMP_DISTANCE_UNLIMITED_MS,
};

const TOPIC_CONFIG_KEYS = Object.keys(DEFAULT_TOPIC_CONFIG) as TopicConfigKey[];

/**
 * An integer: a JSON number or a digit string of any length. One beyond JSON's exact integers (Kafka's Long.MAX_VALUE,
 * 9223372036854775807, is one) is only compared with a config's range, so its lost digits change nothing.
 */
function parseInteger(raw: unknown): number | null {
	const n = typeof raw === "string" && /^-?\d+$/.test(raw) ? Number(raw) : raw;
	return Number.isInteger(n) || n === Number.POSITIVE_INFINITY ? (n as number) : null;
}

function parseCleanupPolicy(raw: unknown): CleanupPolicy | null {
	if (typeof raw !== "string") return null;
	const parts = [...new Set(raw.split(",").map((p) => p.trim()))].sort();
	const joined = parts.join(",");
	if (joined === "delete" || joined === "compact" || joined === "compact,delete") return joined;
	return null;
}

/** A boolean config: JSON true/false, or Kafka's strings "true"/"false" (any case, as Kafka's parser takes them). */
function parseBoolean(raw: unknown): boolean | null {
	if (typeof raw === "boolean") return raw;
	if (typeof raw === "string" && /^(true|false)$/i.test(raw.trim())) return raw.trim().toLowerCase() === "true";
	return null;
}

type NumericKey = Exclude<TopicConfigKey, "cleanup.policy" | "remote.storage.enable" | "message.timestamp.type">;

/** [min, max, the special values below min it also takes (-1 unlimited, -2 as `retention.*`)] of each numeric config. */
const NUMERIC_RANGES: Record<NumericKey, readonly [number, number, readonly number[]]> = {
	"retention.ms": [1, CONFIG_NUMBER_MAX, [-1]],
	"retention.bytes": [1, CONFIG_NUMBER_MAX, [-1]],
	"max.message.bytes": [1, MESSAGE_BYTES_CEILING, []],
	"delete.retention.ms": [0, CONFIG_NUMBER_MAX, []],
	"producer.id.expiration.ms": [1, CONFIG_NUMBER_MAX, []],
	"local.retention.ms": [0, CONFIG_NUMBER_MAX, [-1, LOCAL_RETENTION_AS_TOTAL]],
	"local.retention.bytes": [0, CONFIG_NUMBER_MAX, [-1, LOCAL_RETENTION_AS_TOTAL]],
	"message.timestamp.before.max.ms": [0, CONFIG_NUMBER_MAX, []],
	"message.timestamp.after.max.ms": [0, CONFIG_NUMBER_MAX, []],
};

const SPECIAL_MEANINGS: Record<number, string> = { [-1]: "-1 for unlimited", [LOCAL_RETENTION_AS_TOTAL]: "-2 for the same as retention.*" };

/** Validates one config entry, returning the normalised value or an explanation. */
function parseEntry(key: TopicConfigKey, raw: unknown): Result<number | boolean | string> {
	if (key === "cleanup.policy") {
		const policy = parseCleanupPolicy(raw);
		if (policy === null) return err("invalid_config", `"cleanup.policy" must be "delete", "compact" or "compact,delete"`, { config: key });
		return ok(policy);
	}
	if (key === "remote.storage.enable") {
		const enabled = parseBoolean(raw);
		if (enabled === null) return err("invalid_config", `"${key}" must be true or false`, { config: key });
		return ok(enabled);
	}
	if (key === "message.timestamp.type") {
		// Kafka's validator takes exactly these two spellings.
		if (raw === "CreateTime" || raw === "LogAppendTime") return ok(raw);
		return err("invalid_config", `"${key}" must be "CreateTime" or "LogAppendTime"`, { config: key });
	}
	const [min, max, specials] = NUMERIC_RANGES[key];
	const long = max === CONFIG_NUMBER_MAX;
	let n = parseInteger(raw);
	// Kafka's long configs go up to Long.MAX_VALUE, which `kafka-configs --describe` shows for "no limit" and clients
	// send back: past the largest a config here holds, any integer means that largest, its own "no limit".
	if (long && n !== null && n > max) n = max;
	if (n === null || !((n >= min && n <= max) || specials.includes(n))) {
		const range = [`an integer from ${min}${long ? "" : ` to ${max}`}`, ...specials.map((v) => SPECIAL_MEANINGS[v])].join(", or ");
		return err("invalid_config", `"${key}" must be ${range} (a JSON number or a digit string)`, { config: key });
	}
	return ok(n);
}

/**
 * The local retention actually in force: `local.retention.*`, or `retention.*` where it is -2. -1 means none.
 * Without remote storage everything is local, so the local limits are the total ones.
 */
export function localRetention(config: TopicConfig): { readonly ms: number; readonly bytes: number } {
	if (!config["remote.storage.enable"]) return { ms: config["retention.ms"], bytes: config["retention.bytes"] };
	const pick = (local: number, total: number) => (local === LOCAL_RETENTION_AS_TOTAL ? total : local);
	return {
		ms: pick(config["local.retention.ms"], config["retention.ms"]),
		bytes: pick(config["local.retention.bytes"], config["retention.bytes"]),
	};
}

/**
 * The record timestamps a produce may carry at `nowMs`, `[earliest, latest]` (Kafka's LogValidator, KIP-937), or
 * null when any will do: by default there is no limit, and on a LogAppendTime topic the partition replaces every
 * timestamp (Kafka ignores the limits then), so the caller checks no record at all.
 */
export function timestampWindow(config: TopicConfig, nowMs: number): readonly [number, number] | null {
	const before = config["message.timestamp.before.max.ms"];
	const after = config["message.timestamp.after.max.ms"];
	if (config["message.timestamp.type"] === "LogAppendTime") return null;
	if (before === TIMESTAMP_DISTANCE_UNLIMITED_MS && after === TIMESTAMP_DISTANCE_UNLIMITED_MS) return null;
	return [nowMs - before, nowMs + after];
}

/**
 * Checks between configs, on the config as it will be (Kafka's `LogConfig.validate`): local retention within
 * the total one, and no remote storage on compacted topics — Kafka refuses it too ("remote log storage is
 * unsupported for compacted topics"): a segment in R2 is immutable, so compaction could not rewrite it.
 */
function checkConfig(config: TopicConfig): Result<TopicConfig> {
	if (config["remote.storage.enable"] && config["cleanup.policy"] !== "delete") {
		return err(
			"invalid_config",
			`"remote.storage.enable" cannot be true on a compacted topic (cleanup.policy "${config["cleanup.policy"]}")`,
			{
				config: "remote.storage.enable",
			},
		);
	}
	for (const [local, total] of [
		["local.retention.ms", "retention.ms"],
		["local.retention.bytes", "retention.bytes"],
	] as const) {
		const localValue = config[local];
		const totalValue = config[total];
		if (localValue === LOCAL_RETENTION_AS_TOTAL || totalValue === -1) continue;
		if (localValue === -1 || localValue > totalValue) {
			return err("invalid_config", `"${local}" (${localValue}) must not be more than "${total}" (${totalValue}); -2 uses "${total}"`, {
				config: local,
			});
		}
	}
	return ok(config);
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
	return checkConfig(next as unknown as TopicConfig);
}

/** A config as stored before some keys existed: the missing ones take their defaults. */
export function storedConfig(json: string): TopicConfig {
	return { ...DEFAULT_TOPIC_CONFIG, ...(JSON.parse(json) as Partial<TopicConfig>) };
}
