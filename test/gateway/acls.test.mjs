/**
 * DescribeAcls in the gateway, in Node: the request's filter becomes the Worker's query by name (UNKNOWN and values
 * Kafka does not define are refused, as a broker refuses an indefinite filter), the Worker's bindings come back
 * grouped per resource with wire values, and the request and response round-trip through Kafka's definitions in
 * every served version. Against a real Worker and kafkajs: test/e2e/kafka-acls.test.mjs.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { filterQuery, groupByResource } from "../../gateway/handlers/acls.js";
import { APIS, encodeResponse } from "../../gateway/protocol/apis.js";
import { Reader, Writer } from "../../gateway/protocol/io.js";

const api = [...APIS.values()].find((a) => a.name === "DescribeAcls");

/** kafkajs' "any ACL" filter: ANY resource, ANY pattern, ANY operation, ANY permission, no names. */
const ANY_FILTER = {
	resourceTypeFilter: 1,
	resourceNameFilter: null,
	patternTypeFilter: 1,
	principalFilter: null,
	hostFilter: null,
	operation: 1,
	permissionType: 1,
};

test("a filter becomes the Worker's query by name", () => {
	const any = filterQuery(ANY_FILTER);
	assert.ok("query" in any);
	assert.equal(any.query.toString(), "resource_type=ANY&pattern_type=ANY&operation=ANY&permission=ANY");
	const topicRead = filterQuery({
		...ANY_FILTER,
		resourceTypeFilter: 2,
		resourceNameFilter: "orders.eu",
		patternTypeFilter: 2,
		principalFilter: "User:k1",
		hostFilter: "*",
		operation: 3,
		permissionType: 3,
	});
	assert.ok("query" in topicRead);
	assert.deepEqual(Object.fromEntries(topicRead.query), {
		resource_type: "TOPIC",
		pattern_type: "MATCH",
		operation: "READ",
		permission: "ALLOW",
		resource_name: "orders.eu",
		principal: "User:k1",
		host: "*",
	});
	assert.equal(Object.fromEntries(filterQuery({ ...ANY_FILTER, resourceTypeFilter: 7 }).query ?? []).resource_type, "USER");
});

test("UNKNOWN and values Kafka does not define are refused", () => {
	for (const bad of [{ resourceTypeFilter: 0 }, { patternTypeFilter: 0 }, { operation: 15 }, { permissionType: -1 }, { operation: 0 }]) {
		const result = filterQuery({ ...ANY_FILTER, ...bad });
		assert.ok("invalid" in result, JSON.stringify(bad));
	}
	assert.match(filterQuery({ ...ANY_FILTER, operation: 15 }).invalid ?? "", /operation 15/);
});

test("bindings are grouped per resource, in the order they came, with wire values", () => {
	const binding = (resource_type, resource_name, pattern_type, principal, operation) => ({
		resource_type,
		resource_name,
		pattern_type,
		principal,
		host: "*",
		operation,
		permission: "ALLOW",
	});
	const grouped = groupByResource([
		binding("TOPIC", "orders", "LITERAL", "User:a", "WRITE"),
		binding("TOPIC", "orders", "PREFIXED", "User:a", "READ"),
		binding("TOPIC", "orders", "LITERAL", "User:b", "READ"),
		binding("CLUSTER", "kafka-cluster", "LITERAL", "User:a", "ALTER"),
		binding("TRANSACTIONAL_ID", "*", "LITERAL", "User:b", "WRITE"),
	]);
	const acl = (principal, operation) => ({ principal, host: "*", operation, permissionType: 3 });
	assert.deepEqual(grouped, [
		{ resourceType: 2, resourceName: "orders", patternType: 3, acls: [acl("User:a", 4), acl("User:b", 3)] },
		{ resourceType: 2, resourceName: "orders", patternType: 4, acls: [acl("User:a", 3)] },
		{ resourceType: 4, resourceName: "kafka-cluster", patternType: 3, acls: [acl("User:a", 7)] },
		{ resourceType: 5, resourceName: "*", patternType: 3, acls: [acl("User:b", 4)] },
	]);
	assert.deepEqual(groupByResource([]), []);
});

test("DescribeAcls round-trips in every served version", () => {
	assert.ok(api, "DescribeAcls is served");
	const resources = [
		{
			resourceType: 2,
			resourceName: "orders",
			patternType: 4,
			acls: [{ principal: "User:a", host: "*", operation: 3, permissionType: 3 }],
		},
	];
	for (let version = api.minVersion; version <= api.maxVersion; version++) {
		const writer = new Writer();
		api.request.encode(writer, ANY_FILTER, version);
		const decoded = api.request.decode(new Reader(writer.done()), version);
		// v0 has no pattern type: it reads as LITERAL, Kafka's default for it.
		assert.deepEqual(decoded, { ...ANY_FILTER, ...(version === 0 ? { patternTypeFilter: 3 } : {}) }, `request v${version}`);

		const frame = encodeResponse(api, version, 9, { throttleTimeMs: 0, errorCode: 0, errorMessage: null, resources });
		const reader = new Reader(frame.subarray(4));
		reader.int32(); // correlation id
		if (version >= api.response.flexible.min) reader.uvarint(); // the flexible header's tagged fields
		const body = api.response.decode(reader, version);
		const expected = version === 0 ? resources.map((r) => ({ ...r, patternType: 3 })) : resources;
		assert.deepEqual(body.resources, expected, `response v${version}`);
	}
});
