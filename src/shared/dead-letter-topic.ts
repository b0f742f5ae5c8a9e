/**
 * @module
 * The names of webhook dead-letter topics, in one place: the broker makes them, and the console (which bundles
 * this pure module) marks them in its topic list.
 */

/** Where dead-letter topics' names start, so `topic:dlq.*` covers them all and `topic:orders*` none of them. */
export const DEAD_LETTER_TOPIC_PREFIX = "dlq.";

/** A subscription's id (`sub_` and 20 hex digits), the last part of its dead-letter topic's name. */
const SUBSCRIPTION_ID_PATTERN = "sub_[0-9a-f]{20}";
// Marked pure, and built from constants alone: only `isDeadLetterTopic` (the console's) reads them, so the Worker's
// bundle leaves them out.
/** What follows the prefix: a topic (at least one character), then the subscription's id. */
const AFTER_PREFIX = /* @__PURE__ */ new RegExp(`.\\.${SUBSCRIPTION_ID_PATTERN}$`);
/** The name subscriptions were given before the prefix: they keep dead-lettering to it (it is stored with them). */
const LEGACY_DEAD_LETTER_TOPIC = /* @__PURE__ */ new RegExp(`\\.${SUBSCRIPTION_ID_PATTERN}\\.dlq$`);

/**
 * The dead-letter topic of a new subscription: `dlq.<topic>.<subscription id>`, the topic shortened to keep the
 * name legal. The name is stored with the subscription when it is created, so subscriptions made when the name
 * was `<topic>.<subscription id>.dlq` keep dead-lettering to their existing topic.
 */
export function deadLetterTopicName(topic: string, subscriptionId: string, nameLengthMax: number): string {
	const suffix = `.${subscriptionId}`;
	return `${DEAD_LETTER_TOPIC_PREFIX}${topic.slice(0, nameLengthMax - DEAD_LETTER_TOPIC_PREFIX.length - suffix.length)}${suffix}`;
}

/** Whether `name` is a dead-letter topic's, under either name the broker has given them. */
export function isDeadLetterTopic(name: string): boolean {
	const named = name.startsWith(DEAD_LETTER_TOPIC_PREFIX) && AFTER_PREFIX.test(name.slice(DEAD_LETTER_TOPIC_PREFIX.length));
	return named || LEGACY_DEAD_LETTER_TOPIC.test(name);
}
