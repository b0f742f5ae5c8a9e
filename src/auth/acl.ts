/**
 * @module
 * Access control lists, evaluated as pure functions. A key holds entries `{resource, operations}`;
 * a request needs one operation on one resource. Deny by default: nothing is allowed unless an entry allows it.
 *
 * Resources: `topic:<name>`, `topic:<prefix>*`, `group:<name>`, `group:<prefix>*`, `cluster`.
 * Operations: `produce`, `consume`, `describe`, `admin`. As in Kafka, any operation on a resource implies
 * `describe` of it (a key that may produce to a topic may see that it exists); nothing else is implied.
 *
 * @example
 * const acl = [{ resource: "topic:orders.*", operations: ["produce"] }];
 * allows(acl, topicResource("orders.eu"), "produce"); // true
 * allows(acl, topicResource("orders.eu"), "consume"); // false
 */

export const OPERATIONS = ["produce", "consume", "describe", "admin"] as const;
export type Operation = (typeof OPERATIONS)[number];

export type ResourceKind = "topic" | "group";

/** A concrete resource a request touches (never a pattern). */
export type Resource = { readonly kind: ResourceKind; readonly name: string } | { readonly kind: "cluster" };

export interface AclEntry {
	/** `topic:<name>`, `topic:<prefix>*`, `group:<name>`, `group:<prefix>*` or `cluster`. */
	readonly resource: string;
	readonly operations: readonly Operation[];
}

/**
 * Names as topic and group ids allow them; a trailing `*` makes a prefix pattern (`topic:*` is every topic). An
 * empty name (`topic:`) names no topic or group there can be: a grant that could never apply is refused.
 */
export const RESOURCE_PATTERN = /^(?:cluster|(?:topic|group):(?:[a-zA-Z0-9._-]+\*?|\*))$/;

export function topicResource(name: string): Resource {
	return { kind: "topic", name };
}

export function groupResource(name: string): Resource {
	return { kind: "group", name };
}

export const CLUSTER: Resource = { kind: "cluster" };

/** Whether one ACL resource string covers `resource`. */
export function covers(pattern: string, resource: Resource): boolean {
	if (resource.kind === "cluster") return pattern === "cluster";
	const prefix = `${resource.kind}:`;
	if (!pattern.startsWith(prefix)) return false;
	const body = pattern.slice(prefix.length);
	if (body.endsWith("*")) return resource.name.startsWith(body.slice(0, -1));
	return body === resource.name;
}

function grants(entry: AclEntry, operation: Operation): boolean {
	return entry.operations.includes(operation) || (operation === "describe" && entry.operations.length > 0);
}

/** Whether `acl` allows `operation` on `resource`. */
export function allows(acl: readonly AclEntry[], resource: Resource, operation: Operation): boolean {
	return acl.some((entry) => grants(entry, operation) && covers(entry.resource, resource));
}

/** Whether `acl` allows `operation` on every resource of `kind` (an entry `<kind>:*`), e.g. for a topic pattern. */
export function allowsEvery(acl: readonly AclEntry[], kind: ResourceKind, operation: Operation): boolean {
	return acl.some((entry) => grants(entry, operation) && entry.resource === `${kind}:*`);
}

/** Whether `acl` allows `operation` on at least one resource of `kind`. */
export function allowsAny(acl: readonly AclEntry[], kind: ResourceKind | "cluster", operation: Operation): boolean {
	return acl.some((entry) => grants(entry, operation) && (entry.resource === kind || entry.resource.startsWith(`${kind}:`)));
}
