/**
 * @module
 * `/v1/topics`: create, list, describe, alter and delete topics.
 */

import { topicResource } from "../../auth/acl.ts";
import { unwrap } from "../../shared/errors.ts";
import { partitionLog, topicRegistry, webhookDispatcher } from "../../shared/stubs.ts";
import { invalidate, remember } from "../../topic/topic-cache.ts";
import type { TopicMeta } from "../../topic/types.ts";
import { may, requireAccess } from "../access.ts";
import type { AppEnv } from "../app-env.ts";
import { audit } from "../audit.ts";
import { readJson, validate } from "../body.ts";
import { Hono } from "../hono.ts";
import { CreateTopicBody, listQuery, nextCursor, TopicPath, UpdateTopicBody } from "../schemas.ts";
import { methodNotAllowed } from "./method-not-allowed.ts";

/** Topics are listed by name: a cursor is the last topic's name. */
export const TopicsQuery = listQuery(["string"]);

export function topicSummary(meta: TopicMeta): { name: string; partitions: number; config: TopicMeta["config"] } {
	return { name: meta.name, partitions: meta.partitions, config: meta.config };
}

/**
 * The topic with each partition's log start offset (and local log start: below it the log lies in R2), high
 * watermark, bytes stored locally and remotely, and records stored locally, read from the partitions.
 */
async function describe(env: Env, meta: TopicMeta) {
	const partitions = await Promise.all(
		Array.from({ length: meta.partitions }, async (_, partition) => {
			const offsets = await partitionLog(env, meta.topicId, partition).offsets();
			const { logStartOffset, localLogStartOffset, highWatermark, bytes, remoteBytes, records } = offsets;
			return {
				partition,
				log_start_offset: logStartOffset,
				local_log_start_offset: localLogStartOffset,
				high_watermark: highWatermark,
				bytes,
				remote_bytes: remoteBytes,
				records,
			};
		}),
	);
	return { name: meta.name, config: meta.config, location_hint: meta.locationHint, partitions };
}

export const topicRoutes = new Hono<AppEnv>()
	.post("/", async (c) => {
		const body = validate(CreateTopicBody, await readJson(c.req.raw));
		requireAccess(c, topicResource(body.name), "admin");
		const { location_hint: locationHint, ...topic } = body;
		const meta = unwrap(await topicRegistry(c.env).createTopic({ ...topic, locationHint }));
		remember(meta);
		await audit(c, "topic.create", { topic: meta.name, partitions: meta.partitions });
		return c.json(topicSummary(meta), 201);
	})
	.get("/", async (c) => {
		// A page is filtered by what the caller may see, so it can hold fewer topics than the limit and still go on.
		const page = await topicRegistry(c.env).listTopicsPage(validate(TopicsQuery, c.req.query()));
		const visible = page.items.filter((t) => may(c, topicResource(t.name), "describe"));
		return c.json({ topics: visible.map(topicSummary), ...nextCursor(page) });
	})
	.all("/", methodNotAllowed)
	.get("/:topic", async (c) => {
		const { topic } = validate(TopicPath, c.req.param());
		const meta = unwrap(await topicRegistry(c.env).getTopic(topic));
		remember(meta);
		return c.json(await describe(c.env, meta));
	})
	.patch("/:topic", async (c) => {
		const { topic } = validate(TopicPath, c.req.param());
		const body = validate(UpdateTopicBody, await readJson(c.req.raw));
		const meta = unwrap(await topicRegistry(c.env).updateTopic(topic, body));
		remember(meta);
		// An idle webhook dispatcher sleeps until a partition pokes it: new partitions have no lanes to poke for.
		if (body.partitions !== undefined) await webhookDispatcher(c.env, meta.topicId).poke();
		await audit(c, "topic.update", { topic, change: JSON.stringify(body) });
		return c.json(topicSummary(meta));
	})
	.delete("/:topic", async (c) => {
		const { topic } = validate(TopicPath, c.req.param());
		invalidate(topic);
		unwrap(await topicRegistry(c.env).deleteTopic(topic));
		invalidate(topic);
		await audit(c, "topic.delete", { topic });
		return c.body(null, 204);
	})
	.all("/:topic", methodNotAllowed);
