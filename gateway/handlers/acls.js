// @ts-check
/**
 * @module
 * DescribeAcls: what Tributary's API keys may do, as Kafka ACL bindings, for Kafka's admin clients (kafkajs
 * `admin.describeAcls`, tested; Java's `Admin.describeAcls` sends the same request). The Worker holds the one
 * translation of a key's ACL into bindings (its Confluent v3 `GET …/acls`, src/http/compat/confluent/acls.ts): the
 * request's filter is passed to it by name and its bindings come back grouped per resource, as the response carries
 * them. It needs the cluster's admin right, as listing keys does. CreateAcls and DeleteAcls are not served: rights
 * belong to keys and are fixed when a key is made.
 */

import { errorMessage, KAFKA, kafkaError } from "../errors.js";
import { CLUSTER_ID } from "../tributary.js";

/** Kafka's enums by their wire value (org.apache.kafka.common.resource/acl), as names the Worker's filters read. */
const RESOURCE_TYPES = ["UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"];
const PATTERN_TYPES = ["UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"];
const OPERATIONS = [
	"UNKNOWN",
	"ANY",
	"ALL",
	"READ",
	"WRITE",
	"CREATE",
	"DELETE",
	"ALTER",
	"DESCRIBE",
	"CLUSTER_ACTION",
	"DESCRIBE_CONFIGS",
	"ALTER_CONFIGS",
	"IDEMPOTENT_WRITE",
	"CREATE_TOKENS",
	"DESCRIBE_TOKENS",
];
const PERMISSIONS = ["UNKNOWN", "ANY", "DENY", "ALLOW"];

/** @typedef {{ resourceTypeFilter: number, resourceNameFilter: string | null, patternTypeFilter: number,
 *   principalFilter: string | null, hostFilter: string | null, operation: number, permissionType: number }} Filter */

/**
 * The filter as query parameters, or why it is invalid: a value outside Kafka's enum, or UNKNOWN, which a Kafka
 * broker refuses too (an AclBindingFilter with an indefinite field).
 * @param {Filter} filter @returns {{ query: URLSearchParams } | { invalid: string }}
 */
export function filterQuery(filter) {
	/** @type {[string, string[], number][]} */
	const enums = [
		["resource_type", RESOURCE_TYPES, filter.resourceTypeFilter],
		["pattern_type", PATTERN_TYPES, filter.patternTypeFilter],
		["operation", OPERATIONS, filter.operation],
		["permission", PERMISSIONS, filter.permissionType],
	];
	const query = new URLSearchParams();
	for (const [name, values, value] of enums) {
		const known = values[value];
		if (known === undefined || known === "UNKNOWN") return { invalid: `${name} ${value} is not a filter Kafka defines` };
		query.set(name, known);
	}
	if (filter.resourceNameFilter !== null) query.set("resource_name", filter.resourceNameFilter);
	if (filter.principalFilter !== null) query.set("principal", filter.principalFilter);
	if (filter.hostFilter !== null) query.set("host", filter.hostFilter);
	return { query };
}

/**
 * The Worker's bindings grouped per resource (type, name, pattern), in the order they came, with enum names back
 * to their wire values.
 * @param {{ resource_type: string, resource_name: string, pattern_type: string, principal: string, host: string,
 *   operation: string, permission: string }[]} bindings
 */
export function groupByResource(bindings) {
	/** @type {Map<string, { resourceType: number, resourceName: string, patternType: number, acls: object[] }>} */
	const resources = new Map();
	for (const b of bindings) {
		const id = `${b.resource_type}\n${b.pattern_type}\n${b.resource_name}`;
		let resource = resources.get(id);
		if (resource === undefined) {
			resource = {
				resourceType: RESOURCE_TYPES.indexOf(b.resource_type),
				resourceName: b.resource_name,
				patternType: PATTERN_TYPES.indexOf(b.pattern_type),
				acls: [],
			};
			resources.set(id, resource);
		}
		resource.acls.push({
			principal: b.principal,
			host: b.host,
			operation: OPERATIONS.indexOf(b.operation),
			permissionType: PERMISSIONS.indexOf(b.permission),
		});
	}
	return [...resources.values()];
}

/** @param {Filter} request @param {import("../connection.js").RequestContext} ctx */
export async function describeAcls(request, ctx) {
	const answer = (errorCode, message, resources = []) => ({ throttleTimeMs: 0, errorCode, errorMessage: message, resources });
	const filter = filterQuery(request);
	if ("invalid" in filter) return answer(KAFKA.INVALID_REQUEST, filter.invalid);
	const listed = await ctx.tributary.call("GET", `/kafka/v3/clusters/${CLUSTER_ID}/acls?${filter.query}`);
	const errorCode = kafkaError(listed, "cluster");
	if (errorCode !== KAFKA.NONE) return answer(errorCode, errorMessage(listed));
	return answer(KAFKA.NONE, null, groupByResource(listed.body.data));
}
