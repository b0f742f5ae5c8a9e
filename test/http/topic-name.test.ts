/**
 * The produce route checks its topic name by hand (`isTopicName`) and leaves only the names it refuses to the
 * schema, for the message: the two must agree on every name.
 */
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { isTopicName, TopicName } from "../../src/http/schemas.ts";
import { TOPIC_NAME_LENGTH_MAX } from "../../src/shared/limits.ts";

describe("isTopicName", () => {
	it.each([
		"orders",
		"orders.eu-1_x",
		"a".repeat(TOPIC_NAME_LENGTH_MAX),
		"a".repeat(TOPIC_NAME_LENGTH_MAX + 1),
		"",
		".",
		"..",
		"...",
		"a b",
		"a/b",
		"%2F",
		"ü",
		"orders\n",
	])("agrees with the TopicName schema on %j", (name) => {
		expect(isTopicName(name)).toBe(z.safeParse(TopicName, name).success);
	});
});
