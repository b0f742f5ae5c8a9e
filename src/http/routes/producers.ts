/**
 * @module
 * `POST /v1/producers`: an idempotent producer id and epoch (Kafka's InitProducerId). Send the same
 * `transactional_id` again to bump the epoch and fence the previous holder.
 */

import { Hono } from "hono";
import { forgetProducer } from "../../broker/producers.ts";
import { registry } from "../../broker/topic-directory.ts";
import type { AppEnv } from "../app-env.ts";
import { parseJson, readText, requireJson, validate } from "../body.ts";
import { InitProducerBody } from "../schemas.ts";
import { methodNotAllowed } from "./method-not-allowed.ts";

export const producerRoutes = new Hono<AppEnv>()
	.post("/", async (c) => {
		requireJson(c.req.raw);
		const text = await readText(c.req.raw);
		const body = validate(InitProducerBody, text.trim() === "" ? {} : parseJson(text));
		const identity = await registry(c.env).initProducer(body.transactional_id ?? null);
		forgetProducer(identity.producerId);
		return c.json({ producer_id: identity.producerId, epoch: identity.epoch });
	})
	.all("/", methodNotAllowed);
