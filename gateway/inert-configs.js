// @ts-check
/**
 * @module
 * Kafka's replica configs, which Tributary has no counterpart for: Terraform modules, Strimzi's KafkaTopic and
 * `kafka-topics --config` set them on every topic, and a create or config change refused over them (INVALID_CONFIG,
 * "unknown topic config") stops a team's whole deployment. They are taken at the values whose promise Tributary keeps,
 * answered as set and never stored (DescribeConfigs does not show them); another value is refused as Confluent Cloud
 * refuses a value outside its policy (POLICY_VIOLATION), a malformed one as Kafka does (INVALID_CONFIG). Configs about
 * files Tributary does not have (`segment.*`, `flush.*`) are not here: they stay unknown (INVALID_CONFIG).
 */

import { KAFKA } from "./errors.js";

/**
 * The largest `min.insync.replicas` taken: Confluent Cloud's. A partition acknowledges a write only once its Durable
 * Object's storage holds it (the output gate), which Cloudflare keeps on more than one machine, as an ISR of two
 * would; a larger count asks for more copies than anyone here can promise.
 */
const MIN_INSYNC_REPLICAS_MAX = 2;

/**
 * @typedef {{ errorCode: number, errorMessage: string }} Refusal
 * @typedef {{ parse: (text: string) => number | boolean | null, kind: string, taken: (value: any) => boolean, policy: string }} InertConfig
 */

/** Kafka's INT range (Java's int), outside which ConfigDef's parse fails ("Not a number of type INT"). */
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Kafka's INT parse (ConfigDef: Integer.parseInt of the trimmed text): a decimal integer within a Java int. @param {string} text */
function parseInt32(text) {
	if (!/^[+-]?\d+$/.test(text.trim())) return null;
	const n = Number(text.trim());
	return n >= INT32_MIN && n <= INT32_MAX ? n : null;
}
/** Kafka's BOOLEAN parse (ConfigDef): true or false, any case. @param {string} text */
const parseBoolean = (text) => ({ true: true, false: false })[text.trim().toLowerCase()] ?? null;

/** @type {Map<string, InertConfig & { min?: number }>} */
const INERT_CONFIGS = new Map([
	[
		"min.insync.replicas",
		{
			parse: parseInt32,
			kind: "INT",
			min: 1,
			taken: (/** @type {number} */ n) => n <= MIN_INSYNC_REPLICAS_MAX,
			policy: `Tributary takes min.insync.replicas 1 to ${MIN_INSYNC_REPLICAS_MAX}, as Confluent Cloud does: a write is acknowledged once the partition's storage holds it durably, and no more copies are promised.`,
		},
	],
	[
		"unclean.leader.election.enable",
		{
			parse: parseBoolean,
			kind: "BOOLEAN",
			taken: (/** @type {boolean} */ b) => b === false,
			policy:
				"Tributary takes unclean.leader.election.enable false only: it never acknowledges a write it may lose, so no election can trade records for availability.",
		},
	],
]);

/** Whether `name` is one of the replica configs taken and never stored. @param {string} name */
export function isInertConfig(name) {
	return INERT_CONFIGS.has(name);
}

/**
 * Why `value` of inert config `name` is refused, or null when it is taken: INVALID_CONFIG for what Kafka's ConfigDef
 * refuses (not of the config's type, below its minimum), POLICY_VIOLATION for a value Tributary cannot promise.
 * @param {string} name @param {string} value @returns {Refusal | null}
 */
export function inertRefusal(name, value) {
	const config = /** @type {InertConfig & { min?: number }} */ (INERT_CONFIGS.get(name));
	const parsed = config.parse(value);
	if (parsed === null)
		return {
			errorCode: KAFKA.INVALID_CONFIG,
			errorMessage: `Invalid value ${value} for configuration ${name}: Not a number of type ${config.kind}`,
		};
	if (config.min !== undefined && /** @type {number} */ (parsed) < config.min)
		return {
			errorCode: KAFKA.INVALID_CONFIG,
			errorMessage: `Invalid value ${value} for configuration ${name}: Value must be at least ${config.min}`,
		};
	return config.taken(parsed) ? null : { errorCode: KAFKA.POLICY_VIOLATION, errorMessage: config.policy };
}

/**
 * A CreateTopics entry's configs without the inert ones, which are checked (`inertRefusal`): what Tributary is sent,
 * or the first refusal.
 * @param {Record<string, string>} config @returns {{ held: Record<string, string> } | Refusal}
 */
export function withoutInert(config) {
	/** @type {Record<string, string>} */
	const held = {};
	for (const [name, value] of Object.entries(config)) {
		if (!isInertConfig(name)) held[name] = value;
		else {
			const refused = inertRefusal(name, value);
			if (refused !== null) return refused;
		}
	}
	return { held };
}
