/**
 * @module
 * What kind of topic a name is, from the name alone: the console shows internal and dead-letter topics, marked.
 * Pure (no DOM), so it is tested under node.
 */

import { isDeadLetterTopic } from "../../src/shared/dead-letter-topic.ts";

/** Internal topics (`_audit`) and dead-letter topics are shown, but marked. */
export function topicKind(name: string): "internal" | "dead-letter" | null {
	if (name.startsWith("_")) return "internal";
	if (isDeadLetterTopic(name)) return "dead-letter";
	return null;
}
