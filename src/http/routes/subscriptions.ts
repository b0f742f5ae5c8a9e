/**
 * @module
 * Webhook subscriptions of a topic: `POST/GET /v1/topics/{topic}/subscriptions`,
 * `GET/PATCH/DELETE …/{id}`, `POST …/{id}/replay`, `GET …/{id}/deliveries`. The topic's `WebhookDispatcher`
 * stores and delivers them; the edge validates input and checks URLs against SSRF before anything is stored.
 *
 * @example
 * curl -X POST -H "Authorization: Bearer $TOKEN" "$URL/v1/topics/orders/subscriptions" \
 *   -d '{"url":"https://example.com/hooks/orders","start":"earliest"}'
 */

import type { Context } from "hono";
import type * as z from "zod/mini";
import { ApiError, bare, unwrap } from "../../shared/errors.ts";
import { WEBHOOK_DELIVERIES_PAGE_MAX, WEBHOOK_RETRY_SCHEDULE_MS_DEFAULT } from "../../shared/limits.ts";
import { webhookDispatcher } from "../../shared/stubs.ts";
import { checkPartition, describeTopic } from "../../topic/topic-cache.ts";
import type { StartPosition, TopicRef, UpdateSubscription } from "../../webhook/types.ts";
import { allowPrivate, checkWebhookUrl, isLoopbackHost, PRIVATE_WEBHOOKS_HINT, resolveOverHttps } from "../../webhook/url-policy.ts";
import type { AppEnv } from "../app-env.ts";
import { queryOf, readJson, validate } from "../body.ts";
import { Hono } from "../hono.ts";
import {
	CreateSubscriptionBody,
	DeliveriesQuery,
	listQuery,
	nextCursor,
	ReplayBody,
	SubscriptionPath,
	TopicPath,
	UpdateSubscriptionBody,
} from "../schemas.ts";

/** Subscriptions are listed oldest first: a cursor is the last one's creation time and id. */
export const SubscriptionsQuery = listQuery(["number", "string"]);

/** The topic of the path, as its dispatcher needs it. */
async function topicRef(c: Context<AppEnv>): Promise<TopicRef> {
	const { topic } = validate(TopicPath, c.req.param());
	const meta = unwrap(await describeTopic(c.env, topic));
	return { topic: meta.name, topicId: meta.topicId, partitions: meta.partitions };
}

async function checkedUrl(c: Context<AppEnv>, url: string): Promise<string> {
	const checked = await checkWebhookUrl(url, allowPrivate(c.env), resolveOverHttps);
	if (!checked.ok && checked.error.code === "invalid_webhook_url" && isLoopbackHost(new URL(c.req.url).hostname)) {
		const { code, message, details } = checked.error;
		throw new ApiError(code, `${message} (${PRIVATE_WEBHOOKS_HINT})`, { ...details, setting: "WEBHOOK_ALLOW_PRIVATE" });
	}
	return unwrap(checked);
}

function toUpdate(body: z.output<typeof UpdateSubscriptionBody>, url: string | undefined): UpdateSubscription {
	return {
		...(url === undefined ? {} : { url }),
		...(body.status === undefined ? {} : { status: body.status }),
		...(body.batch_max_records === undefined ? {} : { batchMaxRecords: body.batch_max_records }),
		...(body.batch_max_wait_ms === undefined ? {} : { batchMaxWaitMs: body.batch_max_wait_ms }),
		...(body.max_attempts === undefined ? {} : { maxAttempts: body.max_attempts }),
		...(body.retry_schedule_ms === undefined ? {} : { retryScheduleMs: body.retry_schedule_ms }),
		...(body.filter === undefined ? {} : { filter: body.filter }),
		...(body.rotate_secret ? { rotateSecret: true } : {}),
	};
}

export const subscriptionRoutes = new Hono<AppEnv>()
	.post("/:topic/subscriptions", async (c) => {
		const ref = await topicRef(c);
		const body = validate(CreateSubscriptionBody, await readJson(c.req.raw));
		const url = await checkedUrl(c, body.url);
		const retryScheduleMs = body.retry_schedule_ms ?? [...WEBHOOK_RETRY_SCHEDULE_MS_DEFAULT];
		const created = await webhookDispatcher(c.env, ref.topicId).createSubscription(ref, {
			url,
			start: body.start,
			batchMaxRecords: body.batch_max_records,
			batchMaxWaitMs: body.batch_max_wait_ms,
			maxAttempts: body.max_attempts ?? retryScheduleMs.length,
			retryScheduleMs,
			filter: body.filter,
		});
		return c.json(unwrap(created), 201);
	})
	.get("/:topic/subscriptions", async (c) => {
		const ref = await topicRef(c);
		const page = bare(await webhookDispatcher(c.env, ref.topicId).listSubscriptions(ref, validate(SubscriptionsQuery, queryOf(c.req.url))));
		return c.json({ subscriptions: page.items, ...nextCursor(page) });
	})
	.get("/:topic/subscriptions/:id", async (c) => {
		const { id } = validate(SubscriptionPath, c.req.param());
		const ref = await topicRef(c);
		return c.json(unwrap(await webhookDispatcher(c.env, ref.topicId).getSubscription(ref, id)));
	})
	.patch("/:topic/subscriptions/:id", async (c) => {
		const { id } = validate(SubscriptionPath, c.req.param());
		const ref = await topicRef(c);
		const body = validate(UpdateSubscriptionBody, await readJson(c.req.raw));
		const url = body.url === undefined ? undefined : await checkedUrl(c, body.url);
		return c.json(unwrap(await webhookDispatcher(c.env, ref.topicId).updateSubscription(ref, id, toUpdate(body, url))));
	})
	.delete("/:topic/subscriptions/:id", async (c) => {
		const { id } = validate(SubscriptionPath, c.req.param());
		const ref = await topicRef(c);
		unwrap(await webhookDispatcher(c.env, ref.topicId).deleteSubscription(id));
		return c.body(null, 204);
	})
	.post("/:topic/subscriptions/:id/replay", async (c) => {
		const { id } = validate(SubscriptionPath, c.req.param());
		const ref = await topicRef(c);
		const body = validate(ReplayBody, await readJson(c.req.raw));
		if (body.partition !== undefined) {
			unwrap(checkPartition(unwrap(await describeTopic(c.env, ref.topic)), body.partition));
		}
		const start: StartPosition =
			body.timestamp !== undefined
				? { timestamp: body.timestamp }
				: typeof body.offset === "number"
					? { offset: body.offset }
					: (body.offset as "earliest" | "latest");
		const partitions = unwrap(await webhookDispatcher(c.env, ref.topicId).replay(ref, id, start, body.partition ?? null));
		return c.json({ partitions });
	})
	.get("/:topic/subscriptions/:id/deliveries", async (c) => {
		const { id } = validate(SubscriptionPath, c.req.param());
		const { limit } = validate(DeliveriesQuery, queryOf(c.req.url), "query");
		const ref = await topicRef(c);
		const deliveries = unwrap(await webhookDispatcher(c.env, ref.topicId).deliveries(id, limit ?? WEBHOOK_DELIVERIES_PAGE_MAX));
		return c.json({ deliveries });
	});
