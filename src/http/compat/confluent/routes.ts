/**
 * @module
 * Confluent REST v3 under `/kafka/v3`: produce one record, a stream of records (chunked body of
 * concatenated JSON → one delivery report per record, in order) or a `records:batch` (207), the cluster and
 * topic resources a client discovers the cluster with, and the admin routes of admin.ts (topics, partitions,
 * configs, consumer groups). Errors take Confluent's shape
 * (`{"error_code","message"}`, with Tributary's `error` alongside), whichever layer raises them.
 *
 * A request with a `Content-Length` is a plain request: one record is answered with its own status (404 unknown
 * topic, 400 bad record, 413 too large). Without one (`Transfer-Encoding: chunked`) it is a stream: 200 at once,
 * then a report per record as the records arrive.
 *
 * @example
 * curl -u "admin:$TOKEN" -H "Content-Type: application/json" \
 *   "$URL/kafka/v3/clusters/tributary/topics/orders/records" -d '{"value":{"type":"JSON","data":{"qty":2}}}'
 */

import * as z from "zod/mini";
import { topicResource } from "../../../auth/acl.ts";
import { utf8Encoder } from "../../../shared/bytes.ts";
import { ApiError, unwrap } from "../../../shared/errors.ts";
import { topicRegistry } from "../../../shared/stubs.ts";
import { describeTopic } from "../../../topic/topic-cache.ts";
import { may } from "../../access.ts";
import type { AppEnv } from "../../app-env.ts";
import { parseJson, readText, requireJson, validate } from "../../body.ts";
import { Hono } from "../../hono.ts";
import { authenticate, keyStillExists } from "../../middleware/authenticate.ts";
import { authorize } from "../../middleware/authorize.ts";
import { failedAfterStart } from "../../middleware/observe.ts";
import { quotas } from "../../middleware/quotas.ts";
import { listAcls } from "./acls.ts";
import * as admin from "./admin.ts";
import * as brokers from "./brokers.ts";
import { ConcatenatedJsonSplitter, type SplitItem } from "./concatenated-json.ts";
import { renderV3Error, V3_STATUSES } from "./errors.ts";
import { BATCH_ENTRIES_MAX, RECORD_TEXT_LENGTH_MAX } from "./limits.ts";
import { type C, checkCluster, origin, requireSomeRight, summary, topicPath } from "./paths.ts";
import { prepareItem, produceItems, produceStream, reportOf } from "./produce-stream.ts";
import { type Outcome, type Prepared, produceWindow } from "./produce-window.ts";
import { BatchEntryId, deliveryReport, ProduceBatchEntry, toV3Record } from "./records.ts";
import { clusterData, clusterList, topicData, topicList } from "./resources.ts";

const JSON_HEADERS = { "Content-Type": "application/json" };

/** A plain (non-chunked) produce: the whole body is read first; a single record is answered with its status. */
async function produceWhole(c: C, topic: string): Promise<Response> {
	const splitter = new ConcatenatedJsonSplitter(RECORD_TEXT_LENGTH_MAX);
	const items = [...splitter.push(await readText(c.req.raw)), ...splitter.end()];
	if (items.length === 0) throw new ApiError("invalid_request", "Payload error. Request body is empty. Data is required.");
	if (items.length === 1) {
		const prepared = prepareItem(items[0] as SplitItem);
		if (!prepared.ok) throw ApiError.from(prepared.error);
		const [outcome] = (await produceWindow(c.env, topic, [prepared], Math.random())) as [Outcome];
		if (!outcome.ok) throw ApiError.from(outcome.error);
		return c.json(deliveryReport(topic, outcome.landed, prepared.record));
	}
	let body = "";
	await produceItems(
		c.env,
		topic,
		items,
		Math.random(),
		async (text) => {
			body += text;
		},
		c.var.requestId,
	);
	return c.body(body, 200, JSON_HEADERS);
}

/** A chunked produce: 200 at once, then one report line per record as they are produced. */
function produceChunked(c: C, topic: string): Response {
	const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
	const writer = writable.getWriter();
	const requestId = c.var.requestId ?? "unknown";
	const principal = c.var.principal;
	const stillAuthorized = principal.kind === "admin" ? undefined : () => keyStillExists(c.env, principal.key.id);
	const write = (text: string) => writer.write(utf8Encoder.encode(text));
	const done = produceStream(c.env, topic, c.req.raw, write, (cause) => failedAfterStart(c, cause), requestId, stillAuthorized)
		.then(() => writer.close())
		.catch((cause: unknown) => {
			// Only writing can fail here (the client went away): nothing more can be told to it.
			console.warn(`request ${requestId}: produce stream closed early: ${String(cause)}`);
			return writer.abort(cause).catch(() => undefined);
		});
	try {
		c.executionCtx.waitUntil(done);
	} catch {
		// No execution context (app.fetch called directly): the open response stream keeps the work alive.
	}
	return c.body(readable, 200, JSON_HEADERS);
}

const BatchBody = z.strictObject({
	entries: z.array(z.unknown()).check(z.minLength(1, "entries must hold at least one entry"), z.maxLength(BATCH_ENTRIES_MAX)),
});

/** Confluent refuses the whole batch when an id is missing, malformed or repeated; then each entry stands alone. */
function checkBatchIds(entries: readonly unknown[]): string[] {
	const ids = entries.map((entry, i) => {
		const id = typeof entry === "object" && entry !== null ? (entry as { id?: unknown }).id : undefined;
		return validate(BatchEntryId, id, `entries[${i}].id`);
	});
	const seen = new Set<string>();
	for (const id of ids) {
		if (seen.has(id)) throw new ApiError("invalid_request", `entry ids must be distinct; "${id}" is repeated`, { id });
		seen.add(id);
	}
	return ids;
}

function prepareEntry(entry: unknown): Prepared {
	try {
		const { id: _, ...record } = validate(ProduceBatchEntry, entry, "entry");
		return { ok: true, record: toV3Record(record) };
	} catch (cause) {
		if (cause instanceof ApiError) return { ok: false, error: cause.error };
		throw cause;
	}
}

async function produceBatch(c: C, topic: string): Promise<Response> {
	requireJson(c.req.raw);
	const { entries } = validate(BatchBody, parseJson(await readText(c.req.raw)));
	const ids = checkBatchIds(entries);
	const prepared = entries.map(prepareEntry);
	const outcomes = await produceWindow(c.env, topic, prepared, Math.random());
	const successes: Record<string, unknown>[] = [];
	const failures: Record<string, unknown>[] = [];
	outcomes.forEach((outcome, i) => {
		const report = reportOf(topic, prepared[i] as Prepared, outcome, c.var.requestId);
		(outcome.ok ? successes : failures).push({ id: ids[i], ...report });
	});
	return c.json({ successes, failures }, 207);
}

export const confluentRoutes = new Hono<AppEnv>();

// The dialect first, so 401s, 403s, 404s and 500s from anything below leave in v3's shape; then /v1's guards.
confluentRoutes.use(
	"*",
	async function confluentDialect(c, next) {
		c.set("renderError", renderV3Error);
		c.set("errorStatuses", V3_STATUSES);
		await next();
	},
	authenticate(),
	authorize(),
	quotas(),
);

confluentRoutes
	.get("/clusters", (c) => {
		requireSomeRight(c);
		return c.json(clusterList(origin(c)));
	})
	.get("/clusters/:cluster_id", (c) => {
		requireSomeRight(c); // before the id check, so a 403 does not depend on what exists
		checkCluster(c);
		return c.json(clusterData(origin(c)));
	})
	.get("/clusters/:cluster_id/topics", async (c) => {
		checkCluster(c);
		const topics = unwrap(await topicRegistry(c.env).listTopics());
		const visible = topics.filter((t) => may(c, topicResource(t.name), "describe")).map(summary);
		return c.json(topicList(origin(c), visible));
	})
	.post("/clusters/:cluster_id/topics", admin.createTopic)
	.get("/clusters/:cluster_id/acls", listAcls)
	.get("/clusters/:cluster_id/brokers", brokers.listBrokers)
	.get("/clusters/:cluster_id/brokers/:broker_id", brokers.getBroker)
	.get("/clusters/:cluster_id/brokers/:broker_id/configs", brokers.listBrokerConfigs)
	.get("/clusters/:cluster_id/brokers/:broker_id/partition-replicas", brokers.replicasOfBroker)
	.get("/clusters/:cluster_id/broker-configs", brokers.listBrokerConfigs)
	.get("/clusters/:cluster_id/topics/:topic_name", async (c) => {
		const topic = topicPath(c);
		return c.json(topicData(origin(c), summary(unwrap(await describeTopic(c.env, topic)))));
	})
	.patch("/clusters/:cluster_id/topics/:topic_name", admin.updatePartitionCount)
	.delete("/clusters/:cluster_id/topics/:topic_name", admin.deleteTopic)
	.get("/clusters/:cluster_id/topics/:topic_name/partitions", admin.listPartitions)
	.get("/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id", admin.getPartition)
	.get("/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id/replicas", brokers.listReplicas)
	.get("/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id/replicas/:broker_id", brokers.getReplica)
	.get("/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id/reassignment", brokers.reassignments)
	.get("/clusters/:cluster_id/topics/:topic_name/configs", admin.listConfigs)
	.get("/clusters/:cluster_id/topics/:topic_name/configs/:name", admin.getConfig)
	.put("/clusters/:cluster_id/topics/:topic_name/configs/:name", admin.updateConfig)
	.delete("/clusters/:cluster_id/topics/:topic_name/configs/:name", admin.resetConfig)
	.post("/clusters/:cluster_id/topics/:topic_name/records", async (c) => {
		const topic = topicPath(c);
		requireJson(c.req.raw);
		unwrap(await describeTopic(c.env, topic)); // an unknown topic is a 404 before any body is read
		return c.req.header("Content-Length") === undefined && c.req.raw.body !== null ? produceChunked(c, topic) : produceWhole(c, topic);
	})
	// Hono reads ':' in a path as a parameter: a one-value pattern matches the literal `records:batch` segment.
	.post("/clusters/:cluster_id/topics/:topic_name/:operation{records:batch}", async (c) => {
		const topic = topicPath(c);
		unwrap(await describeTopic(c.env, topic));
		return produceBatch(c, topic);
	})
	.post("/clusters/:cluster_id/topics/:topic_name/:operation{configs:alter}", admin.alterConfigBatch)
	.get("/clusters/:cluster_id/consumer-groups", admin.listGroups)
	.get("/clusters/:cluster_id/consumer-groups/:consumer_group_id", admin.getGroup)
	.get("/clusters/:cluster_id/consumer-groups/:consumer_group_id/consumers", admin.listConsumers)
	.get("/clusters/:cluster_id/consumer-groups/:consumer_group_id/consumers/:consumer_id", admin.getConsumer)
	.get("/clusters/:cluster_id/consumer-groups/:consumer_group_id/consumers/:consumer_id/assignments", admin.listAssignments)
	.get(
		"/clusters/:cluster_id/consumer-groups/:consumer_group_id/consumers/:consumer_id/assignments/:topic_name/partitions/:partition_id",
		admin.getAssignment,
	)
	.get("/clusters/:cluster_id/consumer-groups/:consumer_group_id/lags", admin.listLags)
	.get("/clusters/:cluster_id/consumer-groups/:consumer_group_id/lags/:topic_name/partitions/:partition_id", admin.getLag)
	.get("/clusters/:cluster_id/consumer-groups/:consumer_group_id/lag-summary", admin.lagSummary);
