// @ts-check
/**
 * @module
 * Topic configs as the gateway needs them. Tributary's default topic config (src/shared/topic-config.ts
 * DEFAULT_TOPIC_CONFIG, mirrored: the gateway is plain JS and cannot import src/; test/structure/gateway-limits.test.mjs
 * holds the two equal): a CreateTopics dry run lists every config the topic would get, as a broker does, and nothing
 * is created to read them from. And each topic's timestamp type for the data path (`TimestampTypes`): every Produce
 * and Fetch asks it, so it is looked up for that one topic, not read from the listing of every topic.
 */

import { TOPIC_CONFIG_CACHE_MS } from "./limits.js";
import { LookupCache } from "./lookup-cache.js";

/** The config that says whether a topic stamps its records with their append time. */
export const TIMESTAMP_TYPE_CONFIG = "message.timestamp.type";

/** The largest value Tributary's numeric configs hold (src/shared/topic-config.ts CONFIG_NUMBER_MAX). */
const CONFIG_NUMBER_MAX = Number.MAX_SAFE_INTEGER;

/** Kafka's defaults, except `max.message.bytes` (Tributary's row cap); `local.retention.*` -2 means "as `retention.*`". */
export const TOPIC_CONFIG_DEFAULTS = Object.freeze({
	"retention.ms": 604_800_000,
	"retention.bytes": -1,
	"cleanup.policy": "delete",
	"max.message.bytes": 1_048_576,
	"delete.retention.ms": 86_400_000,
	"producer.id.expiration.ms": 86_400_000,
	"remote.storage.enable": false,
	"local.retention.ms": -2,
	"local.retention.bytes": -2,
	"message.timestamp.type": "CreateTime",
	// Kafka's Long.MAX_VALUE (no limit) is Tributary's Number.MAX_SAFE_INTEGER: no JSON number holds the former.
	"message.timestamp.before.max.ms": CONFIG_NUMBER_MAX,
	"message.timestamp.after.max.ms": CONFIG_NUMBER_MAX,
});

/**
 * A config's value as Tributary would hold it, for the answers the gateway builds from a request (a CreateTopics dry
 * run) rather than from what Tributary stored: a numeric config's digits as the number they write ("0100" is 100),
 * and one past the largest Tributary holds (Kafka's Long.MAX_VALUE, its "no limit") as that largest. Anything else,
 * and a value Tributary would refuse (the dry run has then failed), as given.
 * @param {string} name @param {string} value
 */
export function heldConfigValue(name, value) {
	const numeric = typeof TOPIC_CONFIG_DEFAULTS[/** @type {keyof typeof TOPIC_CONFIG_DEFAULTS} */ (name)] === "number";
	return numeric && /^-?\d+$/.test(value) ? String(Math.min(Number(value), CONFIG_NUMBER_MAX)) : value;
}

/**
 * A lookup's key: the credentials (`Authorization`: a key sees only the topics its ACLs let it describe), then the
 * topic, as JSON so that no topic name can read as another credentials' key.
 * @param {string | null} authorization @param {string} topic
 */
const lookupKey = (authorization, topic) => JSON.stringify([authorization, topic]);

/**
 * Whether each topic stamps its records with their append time (`message.timestamp.type` LogAppendTime), by
 * credentials and topic, looked up at most once every `TOPIC_CONFIG_CACHE_MS` and one lookup at a time for all of the
 * gateway's connections. A config altered elsewhere (over HTTP, through another gateway) shows to a connection opened
 * since on its first request (`since`), and to older connections within `TOPIC_CONFIG_CACHE_MS`, as on a broker whose
 * metadata lags; one altered, or a topic created or deleted, through this gateway shows on the next request (`forget`).
 *
 * A connection's first use asks anew because the client that alters a config is usually not the one that then
 * produces or consumes: a script or test sets LogAppendTime over HTTP and then runs kcat or a producer, each on a
 * connection of its own, and expects the new type at once, as a broker applies a config change within milliseconds;
 * a lookup shared from another connection would answer the old type for up to `TOPIC_CONFIG_CACHE_MS`. It costs one
 * config read (the registry's entry alone) per topic per connection, whose later requests share lookups again.
 */
export class TimestampTypes {
	/** @param {() => number} [now] */
	constructor(now = Date.now) {
		/**
		 * Undefined when Tributary could not say (no such topic, no right to describe it, unreachable): not kept.
		 * @type {LookupCache<string, boolean | undefined>}
		 */
		this.lookups = new LookupCache(TOPIC_CONFIG_CACHE_MS, (appendTimed) => appendTimed !== undefined, now);
	}

	/**
	 * Whether `topic` stamps its records with their append time. Falsy when Tributary cannot say: the records and
	 * offsets are answered all the same, only their timestamp type is then CreateTime's.
	 * @param {import("./tributary.js").Tributary} tributary @param {string} topic
	 * @param {number} [since] reuse only a lookup begun since this many lookups had begun (the connection's opening)
	 * @returns {Promise<boolean | undefined>}
	 */
	appendTimed(tributary, topic, since = 0) {
		const lookup = () =>
			// Shared by the connections with these credentials: not ended by this one's close.
			tributary.topicConfig(topic, TIMESTAMP_TYPE_CONFIG, { shared: true }).then(
				(answer) => (answer.status === 200 ? answer.body?.value === "LogAppendTime" : undefined),
				() => undefined,
			);
		return this.lookups.get(lookupKey(tributary.credentials.authorization, topic), lookup, { since });
	}

	/**
	 * Drops what is known of `topic` for every credentials, or of every topic: this gateway altered its configs,
	 * or created or deleted it.
	 * @param {string} [topic]
	 */
	forget(topic) {
		this.lookups.forget(topic === undefined ? undefined : (key) => JSON.parse(key)[1] === topic);
	}
}
