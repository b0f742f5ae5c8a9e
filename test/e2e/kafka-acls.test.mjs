// @ts-nocheck — kafkajs' admin shapes would make strict checking here mostly casts; the gateway is checked on its own.
/**
 * DescribeAcls through the Kafka gateway against a real `wrangler dev`, asked by kafkajs' admin client: an API key's
 * ACL comes back as Kafka ACL bindings grouped per resource (the translation of the Worker's Confluent v3 ACL
 * listing), Kafka's filters select among them, and a key without the cluster's admin right is refused with
 * CLUSTER_AUTHORIZATION_FAILED.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import kafkajs from "kafkajs";
import { kafkaE2eSetup } from "./lib/kafka.mjs";

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } = kafkajs;
const setup = kafkaE2eSetup("kafka-acls");

/** @param {string} bootstrap @param {object} [sasl] */
function admin(bootstrap, sasl) {
	const kafka = new Kafka({ clientId: "e2e-acls", brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 }, sasl });
	return setup.track(kafka.admin());
}

/** kafkajs' widest filter, narrowed by `fields`. */
function filter(fields = {}) {
	return {
		resourceType: AclResourceTypes.ANY,
		resourcePatternType: ResourcePatternTypes.ANY,
		operation: AclOperationTypes.ANY,
		permissionType: AclPermissionTypes.ANY,
		...fields,
	};
}

test("kafkajs describeAcls: a key's ACL as Kafka bindings, filtered as Kafka filters them", { timeout: 60_000 }, async () => {
	const key = await setup.api.expect(201, "POST", "/v1/keys", {
		body: {
			name: "acl-listed",
			acl: [
				{ resource: "topic:orders.*", operations: ["produce", "consume"] },
				{ resource: "group:billing", operations: ["consume"] },
			],
		},
	});
	const principal = `User:${key.id}`;
	const client = admin(setup.gateways[0].bootstrap);
	await client.connect();
	const acl = (operation) => ({ principal, host: "*", operation, permissionType: AclPermissionTypes.ALLOW });

	const all = await client.describeAcls(filter({ principal }));
	assert.deepEqual(all.resources, [
		{
			resourceType: AclResourceTypes.TOPIC,
			resourceName: "orders.",
			resourcePatternType: ResourcePatternTypes.PREFIXED,
			acls: [acl(AclOperationTypes.WRITE), acl(AclOperationTypes.READ)],
		},
		{
			resourceType: AclResourceTypes.GROUP,
			resourceName: "billing",
			resourcePatternType: ResourcePatternTypes.LITERAL,
			acls: [acl(AclOperationTypes.READ)],
		},
	]);

	// MATCH: every binding that applies to the topic orders.eu, here the prefix's.
	const matching = await client.describeAcls(
		filter({ principal, resourceType: AclResourceTypes.TOPIC, resourceName: "orders.eu", resourcePatternType: ResourcePatternTypes.MATCH }),
	);
	assert.deepEqual(
		matching.resources.map((r) => [r.resourceName, r.acls.length]),
		[["orders.", 2]],
	);
	const literalOnly = await client.describeAcls(
		filter({ principal, resourceType: AclResourceTypes.TOPIC, resourcePatternType: ResourcePatternTypes.LITERAL }),
	);
	assert.deepEqual(literalOnly.resources, []);
	const reads = await client.describeAcls(filter({ principal, operation: AclOperationTypes.READ }));
	assert.deepEqual(
		reads.resources.map((r) => r.resourceName),
		["orders.", "billing"],
	);
	await client.disconnect();
});

test("kafkajs describeAcls: a key without the cluster's admin right is refused", { timeout: 60_000 }, async () => {
	const key = await setup.api.expect(201, "POST", "/v1/keys", {
		body: { name: "acl-reader", acl: [{ resource: "topic:*", operations: ["describe"] }] },
	});
	const open = await setup.startGateway({ token: null });
	const client = admin(open.bootstrap, { mechanism: "plain", username: key.id, password: key.secret });
	await client.connect();
	await assert.rejects(client.describeAcls(filter()), (error) => {
		assert.equal(error.type, "CLUSTER_AUTHORIZATION_FAILED", String(error));
		return true;
	});
	await client.disconnect();
});
