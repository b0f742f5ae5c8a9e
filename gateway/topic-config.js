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
	"message.timestamp.before.max.ms": 9_007_199_254_740_991,
	"message.timestamp.after.max.ms": 9_007_199_254_740_991,
});

/**
 * @typedef {{ atMs: number, appendTimed: Promise<boolean> }} Lookup one topic's timestamp type as one credentials
 * asked it at `atMs`: in flight until `appendTimed` settles, so that requests asking meanwhile wait for it
 */

/**
 * Whether each topic stamps its records with their append time (`message.timestamp.type` LogAppendTime), by
 * credentials (a key sees only the topics its ACLs let it describe) and topic, looked up at most once every
 * `TOPIC_CONFIG_CACHE_MS` and one lookup at a time for all of the gateway's connections. A config altered elsewhere
 * shows within that long, as on a broker whose metadata lags; one altered, or a topic created or deleted, through this
 * gateway shows on the next request (`forget`).
 */
export class TimestampTypes {
	/** @param {() => number} [now] */
	constructor(now = Date.now) {
		this.now = now;
		/** @type {Map<string | null, Map<string, Lookup>>} by credentials (`Authorization`), then by topic */
		this.lookups = new Map();
		/** When lookups older than `TOPIC_CONFIG_CACHE_MS` were last dropped: a topic no longer asked about stays till then. */
		this.sweptAtMs = now();
	}

	/**
	 * Whether `topic` stamps its records with their append time. False when Tributary cannot say (no such topic, no
	 * right to describe it, unreachable): the records and offsets are answered all the same, only their timestamp type
	 * is then CreateTime's. Only an answer Tributary gave is kept.
	 * @param {import("./tributary.js").Tributary} tributary @param {string} topic
	 * @returns {Promise<boolean>}
	 */
	appendTimed(tributary, topic) {
		const key = tributary.credentials.authorization;
		const nowMs = this.now();
		const held = this.lookups.get(key)?.get(topic);
		if (held !== undefined && nowMs - held.atMs < TOPIC_CONFIG_CACHE_MS) return held.appendTimed;
		this.sweep(nowMs);
		const topics = this.lookups.get(key) ?? new Map();
		this.lookups.set(key, topics);
		// Called once the answer is in, when `lookup` is set.
		const drop = () => {
			if (topics.get(topic) === lookup) topics.delete(topic);
			return false;
		};
		/** @type {Lookup} */
		const lookup = {
			atMs: nowMs,
			appendTimed: tributary
				.topicConfig(topic, "message.timestamp.type")
				.then((answer) => (answer.status === 200 ? answer.body?.value === "LogAppendTime" : drop()), drop),
		};
		topics.set(topic, lookup);
		return lookup.appendTimed;
	}

	/**
	 * Drops what is known of `topic` for every credentials, or of every topic: this gateway altered its configs,
	 * or created or deleted it. A lookup still in flight answers the requests already waiting for it, not later ones.
	 * @param {string} [topic]
	 */
	forget(topic) {
		if (topic === undefined) this.lookups.clear();
		else for (const topics of this.lookups.values()) topics.delete(topic);
	}

	/** Drops expired lookups, at most once every `TOPIC_CONFIG_CACHE_MS`: a sweep reads every one. @param {number} nowMs */
	sweep(nowMs) {
		if (nowMs - this.sweptAtMs < TOPIC_CONFIG_CACHE_MS) return;
		this.sweptAtMs = nowMs;
		for (const [key, topics] of this.lookups) {
			for (const [topic, lookup] of topics) if (nowMs - lookup.atMs >= TOPIC_CONFIG_CACHE_MS) topics.delete(topic);
			if (topics.size === 0) this.lookups.delete(key);
		}
	}
}
