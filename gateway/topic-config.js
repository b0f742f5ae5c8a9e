// @ts-check
/**
 * @module
 * Tributary's default topic config (src/shared/topic-config.ts DEFAULT_TOPIC_CONFIG, mirrored: the gateway is plain JS
 * and cannot import src/; test/structure/gateway-limits.test.mjs holds the two equal). A CreateTopics dry run lists
 * every config the topic would get, as a broker does, and nothing is created to read them from.
 */

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
});
