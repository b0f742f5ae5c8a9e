/**
 * @module
 * Inbound webhooks: `POST /v1/topics/{topic}/webhook` turns any HTTP request into one record, so a
 * third party's webhooks can be captured into a topic. The body becomes the value (JSON bodies as JSON, other
 * text as a string, anything else as base64), the request headers become record headers (credentials and
 * cookies are never stored), and `?key=` sets the key.
 *
 * @example
 * curl -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
 *   "$URL/v1/topics/github-events/webhook?key=repo-1" -d '{"action":"opened"}'
 */

import { unwrap } from "../../shared/errors.ts";
import { produce } from "../../topic/produce.ts";
import type { AppEnv } from "../app-env.ts";
import { queryOf, validate } from "../body.ts";
import { Hono } from "../hono.ts";
import { inboundRecord } from "../inbound-record.ts";
import { InboundWebhookQuery, TopicPath } from "../schemas.ts";

export const inboundWebhookRoutes = new Hono<AppEnv>().post("/:topic/webhook", async (c) => {
	const { topic } = validate(TopicPath, c.req.param());
	const query = validate(InboundWebhookQuery, queryOf(c.req.url), "query");
	const input = await inboundRecord(c.req.raw, query.key ?? null, query.partition ?? null);
	const outcome = unwrap(await produce(c.env, topic, [input]));
	return c.json(outcome.positions[0]);
});
