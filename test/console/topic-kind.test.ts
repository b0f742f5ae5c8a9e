/** How the console names a topic's kind: internal, dead-letter (by both names the broker has given them), or plain. */
import { describe, expect, it } from "vitest";
import { topicKind } from "../../console/src/topic-kind.ts";
import { TOPIC_NAME_LENGTH_MAX } from "../../src/shared/limits.ts";
import { deadLetterTopicName } from "../../src/webhook/records.ts";

const SUBSCRIPTION_ID = "sub_0123456789abcdef0123";

describe("topicKind", () => {
	it("marks a subscription's dead-letter topic under the name the broker gives it now", () => {
		const name = deadLetterTopicName("orders", SUBSCRIPTION_ID, TOPIC_NAME_LENGTH_MAX);
		expect(name).toBe(`dlq.orders.${SUBSCRIPTION_ID}`);
		expect(topicKind(name)).toBe("dead-letter");
	});

	it("marks a dead-letter topic whose source name was shortened to fit", () => {
		const name = deadLetterTopicName("o".repeat(TOPIC_NAME_LENGTH_MAX), SUBSCRIPTION_ID, TOPIC_NAME_LENGTH_MAX);
		expect(name.length).toBe(TOPIC_NAME_LENGTH_MAX);
		expect(topicKind(name)).toBe("dead-letter");
	});

	it("still marks one made under the older name, <topic>.<subscription id>.dlq", () => {
		expect(topicKind(`orders.${SUBSCRIPTION_ID}.dlq`)).toBe("dead-letter");
	});

	it("leaves lookalikes and ordinary topics unmarked, and marks internal ones", () => {
		expect(topicKind("dlq.orders")).toBeNull();
		expect(topicKind("dlq.orders.sub_xyz")).toBeNull();
		expect(topicKind("orders")).toBeNull();
		expect(topicKind("_audit")).toBe("internal");
	});
});
