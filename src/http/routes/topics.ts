/**
 * @module
 * `/v1/topics`: create, list, describe, alter and delete topics.
 */

import type { Context } from "hono";
import { topicResource } from "../../auth/acl.ts";
import { bare, unwrap } from "../../shared/errors.ts";
import { partitionLog, topicRegistry, webhookDispatcher } from "../../shared/stubs.ts";
import { invalidate, remember } from "../../topic/topic-cache.ts";
import type { CreateTopicRequest, TopicMeta, UpdateTopicRequest } from "../../topic/types.ts";
import { may, requireAccess } from "../access.ts";
import type { AppEnv } from "../app-env.ts";
import { audit } from "../audit.ts";
import { queryOf, readJson, validate } from "../body.ts";
import { Hono } from "../hono.ts";
import { readRouteJson } from "../route-table.ts";
import { CreateTopicBody, listQuery, nextCursor, TopicPath, UpdateTopicBody } from "../schemas.ts";

/** Topics are listed by name: a cursor is the last topic's name. */
export const TopicsQuery = listQuery(["string"]);

/** `topic_id` is the incarnation's (Kafka's topic id, KIP-516): a topic deleted and created again has a new one. */
export function topicSummary(meta: TopicMeta): { name: string; topic_id: string; partitions: number; config: TopicMeta["config"] } {
	return { name: meta.name, topic_id: meta.topicId, partitions: meta.partitions, config: meta.config };
}

/**
 * The topic with each partition's log start offset (and local log start: below it the log lies in R2), high
 * watermark, and bytes and records stored locally and remotely, read from the partitions.
 */
async function describe(env: Env, meta: TopicMeta) {
	const partitions = await Promise.all(
		Array.from({ length: meta.partitions }, async (_, partition) => {
			const offsets = await partitionLog(env, meta.topicId, partition).offsets();
			const { logStartOffset, localLogStartOffset, highWatermark, bytes, remoteBytes, records, remoteRecords } = offsets;
			return {
				partition,
				log_start_offset: logStartOffset,
				local_log_start_offset: localLogStartOffset,
				high_watermark: highWatermark,
				bytes,
				remote_bytes: remoteBytes,
				records,
				remote_records: remoteRecords,
			};
		}),
	);
	return { name: meta.name, topic_id: meta.topicId, config: meta.config, location_hint: meta.locationHint, partitions };
}

/** Creates a topic as the caller of `c` (who must hold admin on it) and audits it: `/v1` and `/kafka/v3` share it. */
export async function createTopicAs(c: Context<AppEnv>, request: CreateTopicRequest): Promise<TopicMeta> {
	requireAccess(c, topicResource(request.name), "admin");
	const meta = unwrap(await topicRegistry(c.env).createTopic(request));
	remember(meta);
	await audit(c, "topic.create", { topic: meta.name, partitions: meta.partitions });
	return meta;
}

/** Grows partitions and/or changes config, and audits it. */
export async function updateTopicAs(c: Context<AppEnv>, topic: string, request: UpdateTopicRequest): Promise<TopicMeta> {
	const meta = unwrap(await topicRegistry(c.env).updateTopic(topic, request));
	remember(meta);
	// An idle webhook dispatcher sleeps until a partition pokes it: new partitions have no lanes to poke for. The
	// growth is done: a failed poke is logged, not answered (its idle recheck, or a partition's poke, syncs later).
	if (request.partitions !== undefined) {
		await webhookDispatcher(c.env, meta.topicId)
			.poke()
			.then(bare)
			.catch((cause: unknown) => console.error(`topic "${topic}": dispatcher not poked: ${String(cause)}`));
	}
	await audit(c, "topic.update", { topic, change: JSON.stringify({ partitions: request.partitions, config: request.config }) });
	return meta;
}

/** Deletes a topic (its data wiped), and audits it. */
export async function deleteTopicAs(c: Context<AppEnv>, topic: string): Promise<void> {
	invalidate(topic);
	unwrap(await topicRegistry(c.env).deleteTopic(topic));
	invalidate(topic);
	await audit(c, "topic.delete", { topic });
}

export const topicRoutes = new Hono<AppEnv>()
	.post("/", async (c) => {
		const { location_hint: locationHint, ...topic } = validate(CreateTopicBody, await readJson(c.req.raw, true));
		return c.json(topicSummary(await createTopicAs(c, { ...topic, locationHint })), 201);
	})
	.get("/", async (c) => {
		// A page is filtered by what the caller may see, so it can hold fewer topics than the limit and still go on.
		const page = unwrap(await topicRegistry(c.env).listTopicsPage(validate(TopicsQuery, queryOf(c.req.url))));
		const visible = page.items.filter((t) => may(c, topicResource(t.name), "describe"));
		return c.json({ topics: visible.map(topicSummary), ...nextCursor(page) });
	})
	.get("/:topic", async (c) => {
		const { topic } = validate(TopicPath, c.req.param());
		const meta = unwrap(await topicRegistry(c.env).getTopic(topic));
		remember(meta);
		return c.json(await describe(c.env, meta));
	})
	.patch("/:topic", async (c) => {
		const { topic } = validate(TopicPath, c.req.param());
		const body = validate(UpdateTopicBody, await readRouteJson(c, true));
		return c.json(topicSummary(await updateTopicAs(c, topic, body)));
	})
	.delete("/:topic", async (c) => {
		const { topic } = validate(TopicPath, c.req.param());
		await deleteTopicAs(c, topic);
		return c.body(null, 204);
	});
