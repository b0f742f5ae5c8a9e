// @ts-check
/**
 * @module
 * AlterConfigs and IncrementalAlterConfigs (KIP-339) for topics, through the Confluent mount's config change
 * (`POST /kafka/v3/clusters/tributary/topics/{topic}/configs:alter`, SET and DELETE entries, `validate_only` for a
 * dry run): a resource's changes are checked and applied together or not at all, with the rights and checks of the
 * same change over REST. Brokers have no config to change (DescribeConfigs shows them none): INVALID_REQUEST.
 */

import { errorMessage, KAFKA, kafkaError } from "../errors.js";
import { inertRefusal, isInertConfig } from "../inert-configs.js";
import { answerUnique, duplicateNames, isValidTopicName, RESOURCE_BROKER, RESOURCE_TOPIC, topicConfigs, topicPath } from "./cluster.js";

/** @typedef {import("../connection.js").RequestContext} RequestContext */
/** @typedef {{ errorCode: number, errorMessage: string | null }} Outcome */
/** @typedef {{ name: string, value: string | null, operation: "SET" | "DELETE" }} Change a `configs:alter` entry */

/** IncrementalAlterConfigs' operations (Kafka's AlterConfigOp.OpType). */
const OPERATION = /** @type {const} */ ({ SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 });
/** The topic configs Tributary has that Kafka defines as lists, the only ones APPEND and SUBTRACT apply to. */
const LIST_CONFIGS = new Set(["cleanup.policy"]);
/** The config source Tributary's listing gives a config the topic does not set itself. */
const DEFAULT_SOURCE = "DEFAULT_CONFIG";

const OK = { errorCode: KAFKA.NONE, errorMessage: null };
/** @param {string} message @returns {Outcome} */
const invalidRequest = (message) => ({ errorCode: KAFKA.INVALID_REQUEST, errorMessage: message });

/**
 * What Kafka refuses in a resource before looking at it, or null: a broker's configs (not changeable here), another
 * resource type, the empty topic name (Kafka's default topic resource) and a name no topic can have.
 * @param {any} r
 * @returns {Outcome | null}
 */
function resourceRefusal(r) {
	if (r.resourceType === RESOURCE_BROKER) return invalidRequest("Broker configs cannot be changed: Tributary has no broker configs.");
	if (r.resourceType !== RESOURCE_TOPIC) return invalidRequest(`Resource type ${r.resourceType} has no configs to change.`);
	if (r.resourceName === "") return invalidRequest("Default topic resources are not allowed.");
	if (!isValidTopicName(r.resourceName))
		return { errorCode: KAFKA.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${r.resourceName} does not exist.` };
	return null;
}

/**
 * What Kafka's ConfigAdminManager refuses in a resource's configs (INVALID_REQUEST), or null: a name given twice
 * (which value was meant is the caller's to say) and a value missing where the operation needs one.
 * @param {{ name: string, value: string | null, configOperation?: number }[]} configs
 * @returns {Outcome | null}
 */
function configsRefusal(configs) {
	if (duplicateNames(configs.map((c) => c.name)).size > 0) return invalidRequest("Error due to duplicate config keys");
	const nulls = configs.filter((c) => c.value === null && c.configOperation !== OPERATION.DELETE).map((c) => c.name);
	return nulls.length > 0 ? invalidRequest(`Null value not supported for : ${nulls.join(", ")}`) : null;
}

/**
 * The Kafka error of a config change's answer: a config the topic does not have is INVALID_CONFIG ("Unknown topic
 * config name"), as is a value Tributary refuses; the rest as for any topic call.
 * @param {{ status: number, body: any }} answer
 */
function changeError(answer) {
	const error = answer.body?.error;
	if (error?.code === "not_found" && typeof error.config === "string") return KAFKA.INVALID_CONFIG;
	return kafkaError(answer, "topic");
}

/**
 * The change sent as a dry run when nothing else is to be sent (only Kafka's replica configs, or nothing at all): the
 * Worker refuses an empty change, and resetting `cleanup.policy` is valid on every topic (its default, delete, is
 * what every other config allows), so the dry run's answer is only the right to change the topic's configs and the
 * topic's existence, which a broker checks (ALTER_CONFIGS, then the topic) before any config.
 * @type {Change[]}
 */
const RIGHT_CHECK = [{ name: "cleanup.policy", value: null, operation: "DELETE" }];

/**
 * Applies (or with `validateOnly` checks) `requested` to `topic`, and has this gateway read its config afresh. Kafka's
 * replica configs (gateway/inert-configs.js) are judged here and not sent. No change at all still answers for the
 * topic: a dry run (`RIGHT_CHECK`) says whether the key may change its configs and whether it exists.
 * @param {RequestContext} ctx @param {string} topic @param {Change[]} requested @param {boolean} validateOnly
 * @returns {Promise<Outcome>}
 */
async function applyChanges(ctx, topic, requested, validateOnly) {
	// Kafka's replica configs: a SET taken or refused by its value, a DELETE a no-op; never sent (gateway/inert-configs.js).
	const inert = requested.filter((c) => isInertConfig(c.name) && c.operation === "SET");
	const refused = inert.map((c) => inertRefusal(c.name, /** @type {string} */ (c.value))).find((r) => r !== null);
	if (refused !== undefined) return refused;
	const held = requested.filter((c) => !isInertConfig(c.name));
	const dryRun = validateOnly || held.length === 0;
	const data = held.length === 0 ? RIGHT_CHECK : held;
	const answer = await ctx.tributary.call("POST", `${topicPath(topic)}/configs:alter`, { data, validate_only: dryRun });
	const errorCode = changeError(answer);
	if (errorCode !== KAFKA.NONE) return { errorCode, errorMessage: errorMessage(answer) };
	// The client's next Produce to the topic answers as its new config has it (a LogAppendTime topic's append time).
	if (!dryRun) ctx.session.topicList.configsChanged(topic);
	return OK;
}

/**
 * Answers each resource with `outcome`, and each resource named twice once with INVALID_REQUEST and no change: Kafka
 * refuses a duplicate resource whatever it asks.
 * @param {any[]} resources @param {(r: any) => Promise<Outcome>} outcome
 */
async function answerEach(resources, outcome) {
	const responses = await answerUnique(
		resources,
		(r) => `${r.resourceType}/${r.resourceName}`,
		async (r) => ({ ...(resourceRefusal(r) ?? (await outcome(r))), ...named(r) }),
		(r) => ({ ...invalidRequest("Duplicate resource."), ...named(r) }),
	);
	return { throttleTimeMs: 0, responses };
}

/** @param {any} r */
const named = (r) => ({ resourceType: r.resourceType, resourceName: r.resourceName });

/**
 * AlterConfigs: each topic's configs become exactly the ones named, the topic's other own settings back to their
 * defaults (Kafka's legacy semantics, which kafkajs' `alterConfigs` relies on). The topic's own settings are read
 * first, from the listing that tells them from defaults.
 * @param {any} request @param {RequestContext} ctx
 */
export async function alterConfigs(request, ctx) {
	return answerEach(request.resources, async (r) => {
		const refusal = configsRefusal(r.configs);
		if (refusal !== null) return refusal;
		const listed = await topicConfigs(ctx, r.resourceName);
		if (!("configs" in listed)) return listed;
		const given = new Set(r.configs.map((/** @type {any} */ c) => c.name));
		/** @type {Change[]} */
		const changes = [
			...r.configs.map((/** @type {any} */ c) => ({ name: c.name, value: c.value, operation: /** @type {const} */ ("SET") })),
			...listed.configs
				.filter((c) => c.source !== DEFAULT_SOURCE && !given.has(c.name))
				.map((c) => ({ name: c.name, value: null, operation: /** @type {const} */ ("DELETE") })),
		];
		return applyChanges(ctx, r.resourceName, changes, request.validateOnly);
	});
}

/** A list config's values, as Kafka splits them. @param {string | null | undefined} value */
const listValues = (value) =>
	(value ?? "")
		.split(",")
		.map((v) => v.trim())
		.filter((v) => v !== "");

/**
 * A list config's value after APPEND (values not there yet added at the end) or SUBTRACT (values taken out), as
 * Kafka's controller computes it.
 * @param {string | null | undefined} current @param {number} operation @param {string} value
 */
function listValue(current, operation, value) {
	const values = listValues(value);
	const had = listValues(current);
	const next =
		operation === OPERATION.APPEND ? [...had, ...values.filter((v) => !had.includes(v))] : had.filter((v) => !values.includes(v));
	return next.join(",");
}

/**
 * A resource's incremental changes as `configs:alter` entries. APPEND and SUBTRACT become a SET of the list the
 * topic's current value gives (read from its configs listing first; the change is not atomic with that read, where
 * Kafka's controller's is), and are INVALID_CONFIG on a config that is not a list, as Kafka answers.
 * @param {RequestContext} ctx @param {any} r
 * @returns {Promise<{ changes: Change[] } | Outcome>}
 */
async function incrementalChanges(ctx, r) {
	const listOps = r.configs.filter(
		(/** @type {any} */ c) => c.configOperation === OPERATION.APPEND || c.configOperation === OPERATION.SUBTRACT,
	);
	const notList = listOps.find((/** @type {any} */ c) => !LIST_CONFIGS.has(c.name));
	if (notList !== undefined)
		return {
			errorCode: KAFKA.INVALID_CONFIG,
			errorMessage: `Config value append or subtract is not allowed for config key: ${notList.name}`,
		};
	/** @type {Map<string, string>} */
	let current = new Map();
	if (listOps.length > 0) {
		const listed = await topicConfigs(ctx, r.resourceName);
		if (!("configs" in listed)) return listed;
		current = new Map(listed.configs.map((c) => [c.name, c.value]));
	}
	/** @type {Change[]} */
	const changes = r.configs.map((/** @type {any} */ c) => {
		if (c.configOperation === OPERATION.DELETE) return { name: c.name, value: null, operation: "DELETE" };
		const value = c.configOperation === OPERATION.SET ? c.value : listValue(current.get(c.name), c.configOperation, c.value);
		return { name: c.name, value, operation: "SET" };
	});
	return { changes };
}

/**
 * IncrementalAlterConfigs: SET, DELETE, and APPEND and SUBTRACT on list configs; the configs not named are kept.
 * @param {any} request @param {RequestContext} ctx
 */
export async function incrementalAlterConfigs(request, ctx) {
	return answerEach(request.resources, async (r) => {
		const refusal = configsRefusal(r.configs);
		if (refusal !== null) return refusal;
		const unknown = r.configs.find((/** @type {any} */ c) => !Object.values(OPERATION).includes(c.configOperation));
		if (unknown !== undefined) return invalidRequest(`Unknown alter configs operation type ${unknown.configOperation}`);
		const planned = await incrementalChanges(ctx, r);
		return "changes" in planned ? applyChanges(ctx, r.resourceName, planned.changes, request.validateOnly) : planned;
	});
}
