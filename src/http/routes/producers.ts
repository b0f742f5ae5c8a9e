/**
 * @module
 * `POST /v1/producers`: an idempotent producer id and epoch (Kafka's InitProducerId). Send the same
 * `transactional_id` again to bump the epoch and fence the previous holder.
 */

import type { Context } from "hono";
import { allowsAny, CLUSTER } from "../../auth/acl.ts";
import { unwrap } from "../../shared/errors.ts";
import { topicRegistry } from "../../shared/stubs.ts";
import { forgetProducer } from "../../topic/producer-epochs.ts";
import { refusal, requireAccess } from "../access.ts";
import type { AppEnv } from "../app-env.ts";
import { parseJson, readText, requireJson, validate } from "../body.ts";
import { Hono } from "../hono.ts";
import { InitProducerBody } from "../schemas.ts";

/**
 * An anonymous producer id needs produce on some topic (Kafka ≥ 3.0 asks the same). A `transactional_id` is
 * cluster-wide and re-initialising it fences its holder, so naming one needs produce on `cluster`.
 */
function requireProducerRight(c: Context<AppEnv>, transactional: boolean): void {
	const principal = c.var.principal;
	if (transactional || principal.kind === "admin") {
		requireAccess(c, CLUSTER, "produce");
		return;
	}
	if (allowsAny(principal.key.acl, "topic", "produce")) return;
	throw refusal(principal, "may not produce to any topic", { operation: "produce" });
}

export const producerRoutes = new Hono<AppEnv>().post("/", async (c) => {
	requireJson(c.req.raw);
	const text = await readText(c.req.raw);
	const body = validate(InitProducerBody, text.trim() === "" ? {} : parseJson(text));
	requireProducerRight(c, body.transactional_id !== undefined);
	const identity = unwrap(await topicRegistry(c.env).initProducer(body.transactional_id ?? null));
	forgetProducer(identity.producerId);
	return c.json({ producer_id: identity.producerId, epoch: identity.epoch });
});
