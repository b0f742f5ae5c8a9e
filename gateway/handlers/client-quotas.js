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
 * Alter sends each entity's ops as one JSON Merge Patch (`PATCH /v1/keys/{id}/quotas`: a rate sets a quota, null
 * removes it), which the key store applies in one step: two alters of one user at once both land, as Kafka's do,
 * where a read of the quotas and a write of the whole set back could lose one. Describe for one named user reads that
 * key alone (`GET /v1/keys/{id}`), any other filter the listing.
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
/** Tributary's key ids (src/auth/secret.ts KEY_ID_PATTERN): a user named otherwise is no key. */
const KEY_ID_PATTERN = /^[0-9a-f]{20}$/;
/** The largest quota rate Tributary takes (src/shared/limits.ts QUOTA_RATE_MAX): validateOnly checks it here. */
const QUOTA_RATE_MAX = 1024 * 1024 * 1024;
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
 * The keys a filter can match: the one key an exact user component names (read alone, none when it does not exist),
 * else every key.
 * @param {RequestContext} ctx @param {{ entityType: string, matchType: number, match: string | null }[]} components
 * @returns {Promise<{ keys: { id: string, quotas: Record<string, number> }[] } | { failed: import("../tributary.js").Answer }>}
 */
async function keysMatching(ctx, components) {
	const named = components.find((c) => c.entityType === USER && c.matchType === MATCH_EXACT);
	if (named === undefined) return listKeys(ctx);
	if (named.match === null || !KEY_ID_PATTERN.test(named.match)) return { keys: [] };
	const answer = await ctx.tributary.call("GET", `/v1/keys/${named.match}`);
	if (answer.status === 404) return { keys: [] };
	return answer.status === 200 ? { keys: [answer.body] } : { failed: answer };
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
 * `ops` as the merge patch Tributary takes (a later op on the same key wins, as applying them in order would), or why
 * they cannot be applied.
 * @param {{ key: string, value: number, remove: boolean }[]} ops
 * @returns {{ patch: Record<string, number | null> } | { invalid: string }}
 */
export function quotaPatch(ops) {
	/** @type {Record<string, number | null>} */
	const patch = {};
	for (const op of ops) {
		const name = QUOTA_NAMES[/** @type {keyof typeof QUOTA_NAMES} */ (op.key)];
		if (name === undefined) return { invalid: `${op.key} is not a quota Tributary keeps: it keeps ${Object.keys(QUOTA_NAMES).join(", ")}` };
		if (op.remove) patch[name] = null;
		else if (!Number.isSafeInteger(op.value) || op.value < 1 || op.value > QUOTA_RATE_MAX)
			return { invalid: `${op.key} must be a whole number from 1 to ${QUOTA_RATE_MAX}; got ${op.value}` };
		else patch[name] = op.value;
	}
	return { patch };
}

/** @param {{ components: { entityType: string, matchType: number, match: string | null }[], strict: boolean }} request @param {RequestContext} ctx */
export async function describeClientQuotas(request, ctx) {
	const answer = (errorCode, errorMessage, entries) => ({ throttleTimeMs: 0, errorCode, errorMessage, entries });
	const unknown = request.components.find((c) => c.matchType !== MATCH_EXACT && c.matchType !== MATCH_DEFAULT && c.matchType !== MATCH_ANY);
	if (unknown !== undefined) return answer(KAFKA.INVALID_REQUEST, `match type ${unknown.matchType} is not one Kafka defines`, null);
	const listed = await keysMatching(ctx, request.components);
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
	const entries = [];
	/** Entries refused here, before Tributary was asked anything (their index in `entries`). */
	const refusedHere = [];
	/** @type {import("../tributary.js").Answer | null} an answer of Tributary's to this request: whether the caller has the right */
	let asked = null;
	for (const { entity, ops } of request.entries) {
		const result = (errorCode, errorMessage) => ({ errorCode, errorMessage, entity });
		const refuse = (errorCode, errorMessage) => {
			refusedHere.push(entries.length);
			entries.push(result(errorCode, errorMessage));
		};
		const [user] = entity;
		if (entity.length !== 1 || user?.entityType !== USER || user.entityName === null) {
			refuse(KAFKA.INVALID_REQUEST, "Tributary's quotas are per user (an API key id): no client-id or default entities");
			continue;
		}
		if (!KEY_ID_PATTERN.test(user.entityName)) {
			refuse(KAFKA.RESOURCE_NOT_FOUND, `no API key "${user.entityName}": a Tributary user is a key`);
			continue;
		}
		const changed = quotaPatch(ops);
		if ("invalid" in changed) {
			refuse(KAFKA.INVALID_REQUEST, changed.invalid);
			continue;
		}
		// validateOnly writes nothing: the ops were checked above, and the key (with the caller's right) is read.
		const path = `/v1/keys/${user.entityName}`;
		const sent = request.validateOnly
			? await ctx.tributary.call("GET", path)
			: await ctx.tributary.call("PATCH", `${path}/quotas`, changed.patch);
		asked = sent;
		const errorCode = sent.status === 404 ? KAFKA.RESOURCE_NOT_FOUND : kafkaError(sent, "cluster");
		entries.push(result(errorCode, errorCode === KAFKA.NONE ? null : errorMessage(sent)));
	}
	// Kafka authorizes the whole request (ALTER_CONFIGS on the cluster) before it reads an entry, so a caller without
	// the right learns nothing of which entries were valid: an entry refused here is answered so only once Tributary
	// has shown the caller may change quotas (one key listing asked when no entry asked anything).
	if (refusedHere.length > 0) {
		asked ??= await ctx.tributary.call("GET", "/v1/keys?limit=1");
		if (asked.status === 401 || asked.status === 403)
			for (const i of refusedHere)
				entries[i] = { ...entries[i], errorCode: kafkaError(asked, "cluster"), errorMessage: errorMessage(asked) };
	}
	return { throttleTimeMs: 0, entries };
}
