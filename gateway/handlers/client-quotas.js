// @ts-check
/**
 * @module
 * DescribeClientQuotas and AlterClientQuotas (KIP-546) for the `user` entity, what `kafka-configs --entity-type users`
 * and Java's `Admin.describeClientQuotas`/`alterClientQuotas` send. A Kafka user is the SASL/PLAIN username, which is a
 * Tributary key id (handlers/sasl.js), so a user's quotas are that key's: `producer_byte_rate` is its
 * `produce_bytes_per_sec`, `consumer_byte_rate` its `fetch_bytes_per_sec`, and `requests_per_sec` (no Kafka key
 * counts requests: `request_percentage` is a share of a broker's threads, which Tributary has none of) keeps its
 * name. Tributary has no client-id quotas and no default user quota: entities naming them are refused per entry
 * (INVALID_REQUEST), and a filter for them matches nothing. Both need the cluster's admin right, as the key routes do.
 *
 * Alter reads the key's quotas (`GET /v1/keys`) and writes the whole set back (`PUT /v1/keys/{id}/quotas`) with each
 * op applied: a set or a removal of one key, as Kafka's ops are.
 */

import { errorMessage, KAFKA, kafkaError } from "../errors.js";

/** @typedef {import("../connection.js").RequestContext} RequestContext */

/** Kafka's quota configuration keys → Tributary's quota names. */
const QUOTA_NAMES = /** @type {const} */ ({
	producer_byte_rate: "produce_bytes_per_sec",
	consumer_byte_rate: "fetch_bytes_per_sec",
	requests_per_sec: "requests_per_sec",
});
const KAFKA_KEYS = Object.fromEntries(Object.entries(QUOTA_NAMES).map(([kafka, tributary]) => [tributary, kafka]));

const USER = "user";
/** DescribeClientQuotas match types (ComponentData.MatchType). */
const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_ANY = 2;
/** Keys one page of `GET /v1/keys` holds at most (shared/limits.ts LIST_PAGE_LIMIT_MAX). */
const KEY_PAGE_LIMIT = 1_000;
/** Pages read for one request: Tributary's key cap (shared/limits.ts KEYS_MAX, 10,000) in full pages, and one more. */
const KEY_PAGES_MAX = 11;

/**
 * Every key, as `GET /v1/keys` lists them, or the failed answer.
 * @param {RequestContext} ctx
 * @returns {Promise<{ keys: { id: string, quotas: Record<string, number> }[] } | { failed: import("../tributary.js").Answer }>}
 */
async function listKeys(ctx) {
	const keys = [];
	let cursor = null;
	for (let page = 0; page < KEY_PAGES_MAX; page++) {
		const after = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
		const answer = await ctx.tributary.call("GET", `/v1/keys?limit=${KEY_PAGE_LIMIT}${after}`);
		if (answer.status !== 200) return { failed: answer };
		keys.push(...answer.body.keys);
		cursor = answer.body.next_cursor ?? null;
		if (cursor === null) return { keys };
	}
	throw new Error(`listing keys: still a next page after ${KEY_PAGES_MAX} pages`);
}

/**
 * Whether a key (a user entity named by its id) passes the request's filter: every component must match, and a
 * component for another entity type matches nothing (Tributary's entities are users alone).
 * @param {string} id @param {{ entityType: string, matchType: number, match: string | null }[]} components
 */
export function userMatches(id, components) {
	return components.every((c) => c.entityType === USER && (c.matchType === MATCH_ANY || (c.matchType === MATCH_EXACT && c.match === id)));
}

/** A key's quotas as Kafka's values. @param {Record<string, number>} quotas */
export function kafkaValues(quotas) {
	return Object.entries(quotas).map(([name, value]) => ({ key: KAFKA_KEYS[name] ?? name, value }));
}

/**
 * The key's quotas after `ops`, or why they cannot be applied.
 * @param {Record<string, number>} quotas @param {{ key: string, value: number, remove: boolean }[]} ops
 * @returns {{ quotas: Record<string, number> } | { invalid: string }}
 */
export function applyOps(quotas, ops) {
	/** @type {Record<string, number>} */
	const next = { ...quotas };
	for (const op of ops) {
		const name = QUOTA_NAMES[/** @type {keyof typeof QUOTA_NAMES} */ (op.key)];
		if (name === undefined) return { invalid: `${op.key} is not a quota Tributary keeps: it keeps ${Object.keys(QUOTA_NAMES).join(", ")}` };
		if (op.remove) delete next[name];
		else if (!Number.isSafeInteger(op.value) || op.value < 1)
			return { invalid: `${op.key} must be a whole number of at least 1; got ${op.value}` };
		else next[name] = op.value;
	}
	return { quotas: next };
}

/** @param {{ components: { entityType: string, matchType: number, match: string | null }[], strict: boolean }} request @param {RequestContext} ctx */
export async function describeClientQuotas(request, ctx) {
	const answer = (errorCode, errorMessage, entries) => ({ throttleTimeMs: 0, errorCode, errorMessage, entries });
	const unknown = request.components.find((c) => c.matchType !== MATCH_EXACT && c.matchType !== MATCH_DEFAULT && c.matchType !== MATCH_ANY);
	if (unknown !== undefined) return answer(KAFKA.INVALID_REQUEST, `match type ${unknown.matchType} is not one Kafka defines`, null);
	const listed = await listKeys(ctx);
	if ("failed" in listed) return answer(kafkaError(listed.failed, "cluster"), errorMessage(listed.failed), null);
	const entries = listed.keys
		.filter((key) => Object.keys(key.quotas).length > 0 && userMatches(key.id, request.components))
		.map((key) => ({ entity: [{ entityType: USER, entityName: key.id }], values: kafkaValues(key.quotas) }));
	return answer(KAFKA.NONE, null, entries);
}

/**
 * @param {{ entries: { entity: { entityType: string, entityName: string | null }[], ops: { key: string, value: number, remove: boolean }[] }[],
 *   validateOnly: boolean }} request
 * @param {RequestContext} ctx
 */
export async function alterClientQuotas(request, ctx) {
	const listed = await listKeys(ctx);
	const entries = [];
	for (const { entity, ops } of request.entries) {
		const result = (errorCode, errorMessage) => ({ errorCode, errorMessage, entity });
		if ("failed" in listed) {
			entries.push(result(kafkaError(listed.failed, "cluster"), errorMessage(listed.failed)));
			continue;
		}
		const [user] = entity;
		if (entity.length !== 1 || user?.entityType !== USER || user.entityName === null) {
			entries.push(result(KAFKA.INVALID_REQUEST, "Tributary's quotas are per user (an API key id): no client-id or default entities"));
			continue;
		}
		const key = listed.keys.find((k) => k.id === user.entityName);
		if (key === undefined) {
			entries.push(result(KAFKA.RESOURCE_NOT_FOUND, `no API key "${user.entityName}": a Tributary user is a key`));
			continue;
		}
		const applied = applyOps(key.quotas, ops);
		if ("invalid" in applied) {
			entries.push(result(KAFKA.INVALID_REQUEST, applied.invalid));
			continue;
		}
		if (request.validateOnly) {
			entries.push(result(KAFKA.NONE, null));
			continue;
		}
		const put = await ctx.tributary.call("PUT", `/v1/keys/${encodeURIComponent(key.id)}/quotas`, applied.quotas);
		const errorCode = put.status === 404 ? KAFKA.RESOURCE_NOT_FOUND : kafkaError(put, "cluster");
		entries.push(result(errorCode, errorCode === KAFKA.NONE ? null : errorMessage(put)));
	}
	return { throttleTimeMs: 0, entries };
}
