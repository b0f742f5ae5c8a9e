import { describe, expect, it } from "vitest";
import {
	type AclEntry,
	allows,
	allowsAny,
	allowsEvery,
	CLUSTER,
	covers,
	groupResource,
	OPERATIONS,
	RESOURCE_PATTERN,
	topicResource,
} from "../../src/auth/acl.ts";

describe("acl: resources", () => {
	it.each([
		["topic:orders", topicResource("orders"), true],
		["topic:orders", topicResource("orders2"), false],
		["topic:orders", topicResource("order"), false],
		["topic:orders.*", topicResource("orders.eu"), true],
		["topic:orders.*", topicResource("orders"), false],
		["topic:*", topicResource("anything"), true],
		["topic:*", groupResource("anything"), false],
		["group:g-*", groupResource("g-1"), true],
		["group:g-*", topicResource("g-1"), false],
		["cluster", CLUSTER, true],
		["topic:*", CLUSTER, false],
		["cluster", topicResource("cluster"), false],
	])("%s covers %o: %s", (pattern, resource, expected) => {
		expect(covers(pattern, resource)).toBe(expected);
	});

	it("treats * only as a trailing wildcard, and a name literally", () => {
		expect(covers("topic:a.b", topicResource("aXb"))).toBe(false);
		expect(RESOURCE_PATTERN.test("topic:a*b")).toBe(false);
		expect(RESOURCE_PATTERN.test("topic:a/b")).toBe(false);
		expect(RESOURCE_PATTERN.test("cluster*")).toBe(false);
		expect(RESOURCE_PATTERN.test("user:x")).toBe(false);
		expect(RESOURCE_PATTERN.test("topic:orders.*")).toBe(true);
		expect(RESOURCE_PATTERN.test("group:*")).toBe(true);
		expect(RESOURCE_PATTERN.test("topic:")).toBe(false);
		expect(RESOURCE_PATTERN.test("group:")).toBe(false);
		expect(RESOURCE_PATTERN.test("topic:orders")).toBe(true);
	});
});

describe("acl: operations", () => {
	const acl: AclEntry[] = [
		{ resource: "topic:orders", operations: ["produce"] },
		{ resource: "topic:logs-*", operations: ["consume"] },
		{ resource: "group:billing", operations: ["admin"] },
	];

	it("denies by default: an empty ACL allows nothing", () => {
		for (const operation of OPERATIONS) {
			expect(allows([], topicResource("x"), operation)).toBe(false);
			expect(allows([], CLUSTER, operation)).toBe(false);
		}
	});

	it("allows exactly the listed operation, and describe with any of them", () => {
		expect(allows(acl, topicResource("orders"), "produce")).toBe(true);
		expect(allows(acl, topicResource("orders"), "describe")).toBe(true);
		expect(allows(acl, topicResource("orders"), "consume")).toBe(false);
		expect(allows(acl, topicResource("orders"), "admin")).toBe(false);
		expect(allows(acl, topicResource("logs-1"), "consume")).toBe(true);
		expect(allows(acl, topicResource("logs-1"), "produce")).toBe(false);
		expect(allows(acl, groupResource("billing"), "admin")).toBe(true);
		expect(allows(acl, groupResource("billing"), "consume")).toBe(false);
		expect(allows(acl, groupResource("orders"), "describe")).toBe(false);
	});

	it("describe does not imply anything", () => {
		const describeOnly: AclEntry[] = [{ resource: "topic:*", operations: ["describe"] }];
		expect(allows(describeOnly, topicResource("a"), "describe")).toBe(true);
		for (const operation of ["produce", "consume", "admin"] as const)
			expect(allows(describeOnly, topicResource("a"), operation)).toBe(false);
	});

	it("answers the set questions: every topic, any topic", () => {
		expect(allowsEvery(acl, "topic", "consume")).toBe(false);
		expect(allowsEvery([{ resource: "topic:*", operations: ["consume"] }], "topic", "consume")).toBe(true);
		expect(allowsAny(acl, "topic", "produce")).toBe(true);
		expect(allowsAny(acl, "group", "produce")).toBe(false);
		expect(allowsAny([{ resource: "cluster", operations: ["produce"] }], "cluster", "produce")).toBe(true);
	});
});
