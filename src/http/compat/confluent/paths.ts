/**
 * @module
 * What every `/kafka/v3` handler reads from its path: the one cluster id (any other is Confluent's 404), the
 * topic, and the origin that `self` and `related` links are built on; and who may discover the cluster at all.
 */

import type { Context } from "hono";
import * as z from "zod/mini";
import { ApiError } from "../../../shared/errors.ts";
import { AUDIT_TOPIC, refusal } from "../../access.ts";
import type { AppEnv } from "../../app-env.ts";
import { validate } from "../../body.ts";
import { digits, GroupId, TopicName } from "../../schemas.ts";
import { CLUSTER_ID } from "./limits.ts";
import type { TopicSummary } from "./resources.ts";

export type C = Context<AppEnv>;

const ClusterPath = z.object({ cluster_id: z.string() });
const TopicPath = z.object({ topic_name: TopicName });
const GroupPath = z.object({ consumer_group_id: GroupId });
/** A partition in a path (`:partition_id`): digits only, so `1e3` or ` 1` is a 400 rather than a partition. */
export const PartitionIdPath = z.object({ partition_id: digits(Number.MAX_SAFE_INTEGER) });

/** The one cluster, or Confluent's 404 for any other id. */
export function checkCluster(c: C): void {
	const { cluster_id } = validate(ClusterPath, c.req.param(), "path");
	if (cluster_id !== CLUSTER_ID) {
		throw new ApiError("not_found", `Cluster ${cluster_id} cannot be found.`, { cluster_id, clusters: [CLUSTER_ID] });
	}
}

export function topicPath(c: C): string {
	checkCluster(c);
	return validate(TopicPath, c.req.param(), "path").topic_name;
}

export function groupPath(c: C): string {
	checkCluster(c);
	return validate(GroupPath, c.req.param(), "path").consumer_group_id;
}

/**
 * Discovery of the cluster itself: any caller holding some right (a key with an empty ACL may do nothing, so it
 * learns nothing either). Which topics a key sees is filtered separately.
 */
export function requireSomeRight(c: C): void {
	const principal = c.var.principal;
	if (principal.kind === "admin" || principal.key.acl.some((entry) => entry.operations.length > 0)) return;
	throw refusal(principal, "has no rights, so it may not describe the cluster", {
		operation: "describe",
		resource: "cluster",
	});
}

export function origin(c: C): string {
	return new URL(c.req.url).origin;
}

export function summary(meta: { name: string; partitions: number }): TopicSummary {
	return { name: meta.name, partitions: meta.partitions, internal: meta.name === AUDIT_TOPIC };
}
