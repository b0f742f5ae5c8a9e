/**
 * @module
 * Confluent REST v3's ACLs, read-only: `GET /acls` lists, as Kafka ACL bindings, what each API key (and the
 * anonymous grant) may do, with Kafka's filters (`resource_type`, `resource_name`, `pattern_type` with `MATCH`,
 * `principal`, `host`, `operation`, `permission`). Tributary's rights live on keys and are fixed when a key is made,
 * so ACLs are created and removed with keys (`POST /v1/keys`, `DELETE /v1/keys/{id}`): `POST` and `DELETE` here are
 * 405s that say so.
 *
 * The translation is exact in one direction: each binding listed is something the key may do. A key is principal
 * `User:<key id>` (the anonymous grant `User:ANONYMOUS`, Kafka's name for an unauthenticated client), every binding
 * is `ALLOW` from host `*` (Tributary has no deny entries and no host rules). `topic:<name>` is a `LITERAL` topic,
 * `topic:<prefix>*` a `PREFIXED` one and `topic:*` Kafka's wildcard `LITERAL *`; `cluster` is Kafka's cluster
 * resource `kafka-cluster`. produce is `WRITE`, consume `READ`, describe `DESCRIBE`; admin is what it gates: on a
 * topic creating, deleting, growing and configuring it (`CREATE`, `DELETE`, `ALTER`, `ALTER_CONFIGS`), on a group
 * deleting it (`DELETE`), on the cluster managing keys (`ALTER`, which is what managing ACLs takes in Kafka); produce on
 * the cluster lets a producer name any transactional id (`WRITE` on the `TRANSACTIONAL_ID` `*`). As in Kafka, any of
 * these implies `DESCRIBE` without a binding of its own. The admin token is a super user, as in Kafka:
 * it has no ACLs.
 */

import * as z from "zod/mini";
import type { AclEntry, Operation } from "../../../auth/acl.ts";
import { ANONYMOUS_ID, loadAnonymous } from "../../../auth/anonymous.ts";
import type { KeyInfo } from "../../../auth/types.ts";
import { bare } from "../../../shared/errors.ts";
import { LIST_PAGE_LIMIT_MAX } from "../../../shared/limits.ts";
import type { Page, PageKey } from "../../../shared/page.ts";
import { keyStore } from "../../../shared/stubs.ts";
import { queryOf, validate } from "../../body.ts";
import { CLUSTER_ID } from "./limits.ts";
import { type C, checkCluster, origin } from "./paths.ts";
import { resourceList, v3Base } from "./resources.ts";

/** Kafka's name for the cluster resource, and for an unauthenticated client. */
export const KAFKA_CLUSTER_RESOURCE = "kafka-cluster";
export const ANONYMOUS_PRINCIPAL = "User:ANONYMOUS";

const RESOURCE_TYPES = ["UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"] as const;
const PATTERN_TYPES = ["UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"] as const;
const KAFKA_OPERATIONS_ALL = [
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
] as const;
const PERMISSIONS = ["UNKNOWN", "ANY", "DENY", "ALLOW"] as const;

type KafkaOperation = (typeof KAFKA_OPERATIONS_ALL)[number];

/** One Kafka ACL binding, as `AclData` carries it (without the document's kind and links). */
export interface AclBinding {
	readonly resource_type: "TOPIC" | "GROUP" | "CLUSTER" | "TRANSACTIONAL_ID";
	readonly resource_name: string;
	readonly pattern_type: "LITERAL" | "PREFIXED";
	readonly principal: string;
	readonly host: "*";
	readonly operation: KafkaOperation;
	readonly permission: "ALLOW";
}

/** What each Tributary operation allows, per resource kind, in Kafka's operations (the module comment says why). */
const KAFKA_OPERATIONS: Readonly<Record<TributaryResourceType, Readonly<Record<Operation, readonly KafkaOperation[]>>>> = {
	TOPIC: { produce: ["WRITE"], consume: ["READ"], describe: ["DESCRIBE"], admin: ["CREATE", "DELETE", "ALTER", "ALTER_CONFIGS"] },
	GROUP: { produce: [], consume: ["READ"], describe: ["DESCRIBE"], admin: ["DELETE"] },
	CLUSTER: { produce: ["WRITE"], consume: [], describe: ["DESCRIBE"], admin: ["ALTER"] },
};
type TributaryResourceType = Exclude<AclBinding["resource_type"], "TRANSACTIONAL_ID">;
type KafkaResource = Pick<AclBinding, "resource_type" | "resource_name" | "pattern_type">;

/** Every transactional id: what produce on the cluster grants, as its `WRITE` lands there rather than on the cluster. */
const ANY_TRANSACTIONAL_ID: KafkaResource = { resource_type: "TRANSACTIONAL_ID", resource_name: "*", pattern_type: "LITERAL" };

/** The Kafka resource one ACL entry's resource string names. */
function kafkaResource(resource: string): KafkaResource & { readonly resource_type: TributaryResourceType } {
	if (resource === "cluster") return { resource_type: "CLUSTER", resource_name: KAFKA_CLUSTER_RESOURCE, pattern_type: "LITERAL" };
	const colon = resource.indexOf(":");
	const resource_type = resource.slice(0, colon) === "topic" ? "TOPIC" : "GROUP";
	const name = resource.slice(colon + 1);
	if (name === "*") return { resource_type, resource_name: "*", pattern_type: "LITERAL" };
	if (name.endsWith("*")) return { resource_type, resource_name: name.slice(0, -1), pattern_type: "PREFIXED" };
	return { resource_type, resource_name: name, pattern_type: "LITERAL" };
}

export function principalOf(key: Pick<KeyInfo, "id">): string {
	return key.id === ANONYMOUS_ID ? ANONYMOUS_PRINCIPAL : `User:${key.id}`;
}

/** Every binding one key's ACL amounts to, one per Kafka operation, without repeats, in the ACL's order. */
export function aclBindings(principal: string, acl: readonly AclEntry[]): AclBinding[] {
	const bindings = new Map<string, AclBinding>();
	for (const entry of acl) {
		const resource = kafkaResource(entry.resource);
		for (const operation of entry.operations) {
			const on = resource.resource_type === "CLUSTER" && operation === "produce" ? ANY_TRANSACTIONAL_ID : resource;
			for (const kafkaOperation of KAFKA_OPERATIONS[resource.resource_type][operation]) {
				const binding: AclBinding = { ...on, principal, host: "*", operation: kafkaOperation, permission: "ALLOW" };
				bindings.set(JSON.stringify(binding), binding);
			}
		}
	}
	return [...bindings.values()];
}

const AclFilterQuery = z.object({
	resource_type: z.optional(z.enum(RESOURCE_TYPES)),
	resource_name: z.optional(z.string()),
	pattern_type: z.optional(z.enum(PATTERN_TYPES)),
	principal: z.optional(z.string()),
	host: z.optional(z.string()),
	operation: z.optional(z.enum(KAFKA_OPERATIONS_ALL)),
	permission: z.optional(z.enum(PERMISSIONS)),
});
/** The query fields that hold one of Kafka's enums, which Confluent reads in any case. */
const ENUM_FIELDS = ["resource_type", "pattern_type", "operation", "permission"] as const;
export type AclFilter = z.infer<typeof AclFilterQuery>;

/**
 * Whether a binding passes a filter, with Kafka's `AclBindingFilter` rules: an absent field or `ANY` matches
 * everything; `MATCH` takes every binding that would apply to the named resource (its literal, the wildcard `*`
 * and every prefix of the name); `UNKNOWN` matches nothing.
 */
export function matchesFilter(binding: AclBinding, filter: AclFilter): boolean {
	const any = (value: string | undefined) => value === undefined || value === "ANY";
	if (!any(filter.resource_type) && filter.resource_type !== binding.resource_type) return false;
	if (!any(filter.operation) && filter.operation !== binding.operation) return false;
	if (!any(filter.permission) && filter.permission !== binding.permission) return false;
	if (filter.principal !== undefined && filter.principal !== binding.principal) return false;
	if (filter.host !== undefined && filter.host !== binding.host) return false;
	const name = filter.resource_name;
	if (filter.pattern_type === "MATCH") {
		if (name === undefined) return true;
		if (binding.pattern_type === "PREFIXED") return name.startsWith(binding.resource_name);
		return binding.resource_name === name || binding.resource_name === "*";
	}
	if (!any(filter.pattern_type) && filter.pattern_type !== binding.pattern_type) return false;
	return name === undefined || name === binding.resource_name;
}

/** Every key, page by page: ACLs are listed whole, as Kafka's DescribeAcls answers. */
async function allKeys(env: Env): Promise<KeyInfo[]> {
	const keys: KeyInfo[] = [];
	let after: PageKey | null = null;
	do {
		const page: Page<KeyInfo> = bare(await keyStore(env).listKeys({ after, limit: LIST_PAGE_LIMIT_MAX }));
		keys.push(...page.items);
		after = page.next;
	} while (after !== null);
	return keys;
}

function aclData(base: string, binding: AclBinding) {
	const query = new URLSearchParams(Object.entries(binding));
	return { kind: "KafkaAcl", metadata: { self: `${base}/acls?${query}` }, cluster_id: CLUSTER_ID, ...binding };
}

/** `GET /acls`: every key's bindings (the anonymous grant's first) that pass the query's filter. */
export async function listAcls(c: C): Promise<Response> {
	checkCluster(c);
	const query: Record<string, string> = queryOf(c.req.url);
	for (const field of ENUM_FIELDS) if (query[field] !== undefined) query[field] = query[field].toUpperCase();
	const filter = validate(AclFilterQuery, query, "query");
	const [anonymous, keys] = await Promise.all([loadAnonymous(c.env), allKeys(c.env)]);
	const bindings = [anonymous, ...keys]
		.flatMap((key) => aclBindings(principalOf(key), key.acl))
		.filter((binding) => matchesFilter(binding, filter));
	const base = v3Base(origin(c));
	const self = `${base}/acls${new URL(c.req.url).search}`;
	return c.json(
		resourceList(
			"KafkaAcl",
			self,
			bindings.map((binding) => aclData(base, binding)),
		),
	);
}
