/**
 * @module
 * The audit trail: every admin action — key and topic changes — is appended to the internal topic
 * `_audit` (one partition, created on first use) as `{action, actor, target…, request_id, at_ms}`, keyed by its
 * target. Never a secret: a key is named by its id. Written after the action succeeded and awaited, so a client
 * that reads `_audit` after a 2xx sees its action; a failed write is logged and does not undo the action.
 *
 * Read it like any topic: `GET /v1/topics/_audit/partitions/0/records` (a key needs consume on `topic:_audit`).
 * Nobody may produce to, alter or delete it over the API.
 */

import type { Context } from "hono";
import { thrownMessage } from "../shared/errors.ts";
import { AUDIT_RETENTION_MS } from "../shared/limits.ts";
import { topicRegistry } from "../shared/stubs.ts";
import { produce } from "../topic/produce.ts";
import { AUDIT_TOPIC, actorOf } from "./access.ts";
import type { AppEnv } from "./app-env.ts";

export type AuditAction =
	| "key.create"
	| "key.delete"
	| "key.quotas"
	| "anonymous.update"
	| "topic.create"
	| "topic.update"
	| "topic.delete"
	| "topic.delete_records";

type AuditTarget = Readonly<Record<string, string | number | boolean | null>>;

async function append(env: Env, key: string, value: Record<string, unknown>): Promise<boolean> {
	const input = { key, value, headers: [], timestampMs: null, keyEncoding: "json", valueEncoding: "json", partition: 0 } as const;
	const first = await produce(env, AUDIT_TOPIC, [input]);
	if (first.ok) return true;
	if (first.error.code !== "topic_not_found") return false;
	const created = await topicRegistry(env).createTopic({
		name: AUDIT_TOPIC,
		partitions: 1,
		config: { "retention.ms": AUDIT_RETENTION_MS },
	});
	if (!created.ok && created.error.code !== "topic_exists") return false;
	return (await produce(env, AUDIT_TOPIC, [input])).ok;
}

/** Records `action` by the caller of `c` on `target`. */
export async function audit(c: Context<AppEnv>, action: AuditAction, target: AuditTarget): Promise<void> {
	const value = { action, actor: actorOf(c.var.principal), ...target, request_id: c.var.requestId, at_ms: Date.now() };
	const key = `${action.split(".")[0]}:${String(Object.values(target)[0] ?? "")}`;
	try {
		if (await append(c.env, key, value)) return;
	} catch (error) {
		console.error(`audit: ${action} by ${value.actor} not recorded: ${thrownMessage(error)}`);
		return;
	}
	console.error(`audit: ${action} by ${value.actor} not recorded`);
}
