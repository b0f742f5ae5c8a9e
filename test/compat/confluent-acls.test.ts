/**
 * Confluent REST v3's ACLs under /kafka/v3: each key's ACL listed as Kafka ACL bindings (AclData in
 * confluentinc/kafka-rest `api/v3/openapi.yaml`), with Kafka's filters; read-only, for the cluster's admins.
 */

import { describe, expect, it } from "vitest";
import { type AclBinding, type AclFilter, aclBindings, matchesFilter } from "../../src/http/compat/confluent/acls.ts";
import { closeAnonymous, closeAnonymousAtTestEnd, grantAnonymous } from "../support/anonymous.ts";
import { type Doc, type DocList, expectV3Error, V3 } from "../support/confluent.ts";
import { createKey } from "../support/keys.ts";
import { BASE, call, json } from "../support/worker.ts";

type AclDoc = Doc & AclBinding;

/** The bindings of one principal, as the list answers them (without kind and links), in its order. */
async function bindingsOf(principal: string, query = "", token?: string): Promise<AclBinding[]> {
	const separator = query === "" ? "?" : "&";
	const path = `${V3}/acls${query === "" ? "" : `?${query}`}${separator}principal=${encodeURIComponent(principal)}`;
	const list = await json<DocList>("GET", path, 200, token === undefined ? {} : { token });
	return (list.data as AclDoc[]).map(({ kind: _, metadata: __, cluster_id: ___, ...binding }) => binding);
}

const allow = (
	fields: Pick<AclBinding, "resource_type" | "resource_name" | "pattern_type" | "operation">,
	principal: string,
): AclBinding => ({
	...fields,
	principal,
	host: "*",
	permission: "ALLOW",
});

describe("ACL bindings of a key", () => {
	it("translates each right into what it allows in Kafka's terms", () => {
		const bindings = aclBindings("User:k1", [
			{ resource: "topic:orders", operations: ["produce", "consume"] },
			{ resource: "topic:logs.*", operations: ["admin"] },
			{ resource: "group:*", operations: ["describe", "admin"] },
			{ resource: "cluster", operations: ["produce", "admin"] },
			{ resource: "topic:orders", operations: ["produce"] },
		]);
		const topic = (resource_name: string, pattern_type: AclBinding["pattern_type"], operation: AclBinding["operation"]) =>
			allow({ resource_type: "TOPIC", resource_name, pattern_type, operation }, "User:k1");
		expect(bindings).toEqual([
			topic("orders", "LITERAL", "WRITE"),
			topic("orders", "LITERAL", "READ"),
			topic("logs.", "PREFIXED", "CREATE"),
			topic("logs.", "PREFIXED", "DELETE"),
			topic("logs.", "PREFIXED", "ALTER"),
			topic("logs.", "PREFIXED", "ALTER_CONFIGS"),
			allow({ resource_type: "GROUP", resource_name: "*", pattern_type: "LITERAL", operation: "DESCRIBE" }, "User:k1"),
			allow({ resource_type: "GROUP", resource_name: "*", pattern_type: "LITERAL", operation: "DELETE" }, "User:k1"),
			allow({ resource_type: "TRANSACTIONAL_ID", resource_name: "*", pattern_type: "LITERAL", operation: "WRITE" }, "User:k1"),
			allow({ resource_type: "CLUSTER", resource_name: "kafka-cluster", pattern_type: "LITERAL", operation: "ALTER" }, "User:k1"),
		]);
	});

	it("filters as Kafka's AclBindingFilter does", () => {
		const [literal, prefixed, wildcard] = [
			allow({ resource_type: "TOPIC", resource_name: "orders.eu", pattern_type: "LITERAL", operation: "READ" }, "User:a"),
			allow({ resource_type: "TOPIC", resource_name: "orders.", pattern_type: "PREFIXED", operation: "READ" }, "User:a"),
			allow({ resource_type: "TOPIC", resource_name: "*", pattern_type: "LITERAL", operation: "WRITE" }, "User:b"),
		] as [AclBinding, AclBinding, AclBinding];
		const passing = (filter: AclFilter) => [literal, prefixed, wildcard].filter((b) => matchesFilter(b, filter));
		expect(passing({})).toEqual([literal, prefixed, wildcard]);
		expect(passing({ resource_type: "ANY", operation: "ANY", permission: "ANY", pattern_type: "ANY" })).toHaveLength(3);
		expect(passing({ resource_type: "GROUP" })).toEqual([]);
		expect(passing({ operation: "WRITE" })).toEqual([wildcard]);
		expect(passing({ principal: "User:a" })).toEqual([literal, prefixed]);
		expect(passing({ pattern_type: "PREFIXED" })).toEqual([prefixed]);
		expect(passing({ resource_name: "orders.eu" })).toEqual([literal]);
		expect(passing({ resource_name: "orders.eu", pattern_type: "MATCH" })).toEqual([literal, prefixed, wildcard]);
		expect(passing({ resource_name: "orders", pattern_type: "MATCH" })).toEqual([wildcard]);
		expect(passing({ pattern_type: "UNKNOWN" })).toEqual([]);
		expect(passing({ permission: "DENY" })).toEqual([]);
		expect(passing({ host: "10.0.0.1" })).toEqual([]);
	});
});

describe("GET /acls", () => {
	it("is where the cluster's acls link leads, and lists each key's bindings", async () => {
		const cluster = await json<Doc>("GET", V3, 200);
		expect((cluster.acls as { related: string }).related).toBe(`${BASE}${V3}/acls`);
		const key = await createKey([
			{ resource: "topic:payments", operations: ["produce"] },
			{ resource: "group:billing", operations: ["consume"] },
		]);
		const principal = `User:${key.id}`;
		const list = await json<DocList>("GET", `${V3}/acls?principal=${encodeURIComponent(principal)}`, 200);
		expect(list.kind).toBe("KafkaAclList");
		expect(list.metadata).toEqual({ self: `${BASE}${V3}/acls?principal=${encodeURIComponent(principal)}`, next: null });
		const [write] = list.data as AclDoc[];
		expect(write?.kind).toBe("KafkaAcl");
		expect(write?.cluster_id).toBe("tributary");
		// Each binding's self link is the filter that finds exactly it.
		const self = (write?.metadata.self ?? "").slice(BASE.length);
		expect((await json<DocList>("GET", self, 200)).data).toEqual([write]);
		expect(await bindingsOf(principal)).toEqual([
			allow({ resource_type: "TOPIC", resource_name: "payments", pattern_type: "LITERAL", operation: "WRITE" }, principal),
			allow({ resource_type: "GROUP", resource_name: "billing", pattern_type: "LITERAL", operation: "READ" }, principal),
		]);
	});

	it("filters by the query, reading Kafka's enums in any case", async () => {
		const key = await createKey([{ resource: "topic:audit.*", operations: ["consume", "describe"] }]);
		const principal = `User:${key.id}`;
		expect(await bindingsOf(principal, "operation=read")).toEqual([
			allow({ resource_type: "TOPIC", resource_name: "audit.", pattern_type: "PREFIXED", operation: "READ" }, principal),
		]);
		expect(await bindingsOf(principal, "resource_type=TOPIC&resource_name=audit.eu&pattern_type=match")).toHaveLength(2);
		expect(await bindingsOf(principal, "resource_name=audit.eu&pattern_type=LITERAL")).toEqual([]);
		expect(await bindingsOf(principal, "resource_type=group")).toEqual([]);
	});

	it("lists the anonymous grant as User:ANONYMOUS", async () => {
		closeAnonymousAtTestEnd();
		await grantAnonymous([{ resource: "topic:public", operations: ["consume"] }]);
		expect(await bindingsOf("User:ANONYMOUS")).toEqual([
			allow({ resource_type: "TOPIC", resource_name: "public", pattern_type: "LITERAL", operation: "READ" }, "User:ANONYMOUS"),
		]);
		await closeAnonymous();
		expect(await bindingsOf("User:ANONYMOUS")).toEqual([]);
	});

	it("drops a deleted key's bindings", async () => {
		const key = await createKey([{ resource: "topic:temp", operations: ["produce"] }]);
		expect(await bindingsOf(`User:${key.id}`)).toHaveLength(1);
		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		expect(await bindingsOf(`User:${key.id}`)).toEqual([]);
	});

	it("refuses a filter value Kafka does not have, and another cluster", async () => {
		const bad = await expectV3Error(await call("GET", `${V3}/acls?operation=PUBLISH`), 400, 400, "invalid_request");
		expect(bad.message).toContain("operation");
		await expectV3Error(await call("GET", `${V3}/acls?resource_type=queue`), 400, 400, "invalid_request");
		await expectV3Error(await call("GET", "/kafka/v3/clusters/other/acls"), 404, 404, "not_found");
	});

	it("is for the cluster's admins: a key that may only describe it is refused", async () => {
		const admin = await createKey([{ resource: "cluster", operations: ["admin"] }]);
		const principal = `User:${admin.id}`;
		expect(await bindingsOf(principal, "", admin.secret)).toHaveLength(1);
		const describer = await createKey([{ resource: "cluster", operations: ["describe"] }]);
		await expectV3Error(await call("GET", `${V3}/acls`, { token: describer.secret }), 403, 40301, "forbidden");
	});

	it("is read-only: creating or deleting an ACL is a 405 that says keys hold them", async () => {
		for (const method of ["POST", "DELETE"]) {
			const response = await call(method, `${V3}/acls`, { body: {} });
			expect(response.headers.get("Allow")).toContain("GET");
			const error = await expectV3Error(response, 405, 405, "method_not_allowed");
			expect(error.message).toContain("POST /v1/keys");
		}
	});
});
