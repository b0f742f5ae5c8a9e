/**
 * @module
 * Every `/v1` route and what it needs, in one table (issue 6). `authorize()` looks each request's route up here
 * before the handler runs; a route missing from the table is refused to every key (deny by default), and
 * test/security/permissions.test.ts fails until it is added. Checked before any lookup, so a key that may not
 * describe a topic gets the same 403 whether the topic exists or not.
 *
 * `handler` entries name a check the handler makes itself, because the resource is in the body or the answer is
 * filtered; the handler uses `requireAccess`/`may` from access.ts.
 */

import { CLUSTER, groupResource, type Operation, type Resource, topicResource } from "../auth/acl.ts";

export type RouteParams = Readonly<Record<string, string>>;

export type Permission =
	| { readonly operation: Operation; readonly resource: (params: RouteParams) => Resource; readonly alsoInHandler?: string }
	| { readonly handler: string };

function on(resource: (params: RouteParams) => Resource, operation: Operation, alsoInHandler?: string): Permission {
	return alsoInHandler === undefined ? { operation, resource } : { operation, resource, alsoInHandler };
}

const topic = (p: RouteParams): Resource => topicResource(p.topic ?? "");
const group = (p: RouteParams): Resource => groupResource(p.group ?? "");
const cluster = (): Resource => CLUSTER;
const v3Topic = (p: RouteParams): Resource => topicResource(p.topic_name ?? ""); // Confluent REST v3 (issue 7)

/** `<METHOD> <route path as registered>` → what it needs. */
export const ROUTE_PERMISSIONS: Readonly<Record<string, Permission>> = {
	"GET /v1/topics": { handler: "lists only the topics the key may describe" },
	"POST /v1/topics": { handler: "admin on the topic named in the body" },
	"GET /v1/topics/:topic": on(topic, "describe"),
	"PATCH /v1/topics/:topic": on(topic, "admin"),
	"DELETE /v1/topics/:topic": on(topic, "admin"),
	"POST /v1/topics/:topic/records": on(topic, "produce"),
	"GET /v1/topics/:topic/partitions/:partition/records": on(topic, "consume"),
	"GET /v1/topics/:topic/partitions/:partition/offsets": on(topic, "describe"),
	"POST /v1/topics/:topic/webhook": on(topic, "produce"),
	// Webhook subscriptions ship a topic's records to a URL and carry signing secrets: topic administration.
	"POST /v1/topics/:topic/subscriptions": on(topic, "admin"),
	"GET /v1/topics/:topic/subscriptions": on(topic, "admin"),
	"GET /v1/topics/:topic/subscriptions/:id": on(topic, "admin"),
	"PATCH /v1/topics/:topic/subscriptions/:id": on(topic, "admin"),
	"DELETE /v1/topics/:topic/subscriptions/:id": on(topic, "admin"),
	"POST /v1/topics/:topic/subscriptions/:id/replay": on(topic, "admin"),
	"GET /v1/topics/:topic/subscriptions/:id/deliveries": on(topic, "admin"),
	"GET /v1/groups": { handler: "lists only the groups the key may describe" },
	"GET /v1/groups/:group": on(group, "describe"),
	"DELETE /v1/groups/:group": on(group, "admin"),
	"POST /v1/groups/:group/members": on(group, "consume", "consume on each subscribed topic (a pattern needs topic:*)"),
	"POST /v1/groups/:group/members/:member/poll": on(group, "consume", "consume on each topic the poll reads"),
	"POST /v1/groups/:group/members/:member/heartbeat": on(group, "consume"),
	"DELETE /v1/groups/:group/members/:member": on(group, "consume"),
	"POST /v1/groups/:group/offsets": on(group, "consume", "consume on each committed topic"),
	"POST /v1/groups/:group/offsets/reset": on(group, "admin", "describe on the topic"),
	"POST /v1/producers": { handler: "produce on some topic; with a transactional_id, produce on cluster" },
	"GET /v1/keys": on(cluster, "admin"),
	"POST /v1/keys": on(cluster, "admin"),
	"DELETE /v1/keys/:id": on(cluster, "admin"),
	// Confluent REST v3 (issue 7): src/compat/confluent/routes.ts. Its paths name the topic `:topic_name`.
	"GET /kafka/v3/clusters": { handler: "any key holding some right may see the one cluster" },
	"GET /kafka/v3/clusters/:cluster_id": { handler: "any key holding some right may see the one cluster" },
	"GET /kafka/v3/clusters/:cluster_id/topics": { handler: "lists only the topics the key may describe" },
	"GET /kafka/v3/clusters/:cluster_id/topics/:topic_name": on(v3Topic, "describe"),
	"POST /kafka/v3/clusters/:cluster_id/topics/:topic_name/records": on(v3Topic, "produce"),
	"POST /kafka/v3/clusters/:cluster_id/topics/:topic_name/:operation{records:batch}": on(v3Topic, "produce"),
	// Upstash (issue 7): the Upstash Kafka REST API under /upstash (src/compat/upstash/routes.ts); instances are group members.
	"POST /upstash/produce": { handler: "produce on each topic the messages name" },
	"POST /upstash/produce/:topic": on(topic, "produce"),
	"GET /upstash/produce/:topic/:message": on(topic, "produce"),
	"GET /upstash/webhook": { handler: "produce on the topic in ?topic=" },
	"POST /upstash/webhook": { handler: "produce on the topic in ?topic=" },
	"POST /upstash/fetch": { handler: "consume on each topic fetched" },
	"POST /upstash/consume/:group/:instance": on(group, "consume", "consume on each subscribed topic"),
	"GET /upstash/consume/:group/:instance/:topic": on(group, "consume", "consume on the topic"),
	"POST /upstash/consume/:group/:instance/:topic": on(group, "consume", "consume on the topic"),
	"POST /upstash/commit/:group/:instance": on(group, "consume", "consume on each committed topic"),
	"POST /upstash/committed/:group/:instance": on(group, "describe", "describe on each topic asked"),
	"POST /upstash/delete-consumer/:group/:instance": on(group, "consume"),
	"GET /upstash/topics": { handler: "lists only the topics the key may describe" },
	"GET /upstash/consumers": { handler: "lists only the groups and topics the key may describe" },
	"POST /upstash/offsets/:timestamp": { handler: "describe on each topic asked" },
};
