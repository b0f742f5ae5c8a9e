/**
 * @module
 * The Upstash Kafka REST API, mounted under `/upstash`, so that `@upstash/kafka` works unchanged with
 * `url: "https://<host>/upstash"`. Paths, bodies and responses follow the client (1.3.5) and Upstash's docs;
 * the work is Tributary's own produce, partition reads and consumer groups. Shapes are translated in
 * `mapping.ts`, consumer instances are group members (`instances.ts`). See docs/compat-upstash.md.
 *
 * Every response is JSON, errors included, as `{"error":"<message>","status":<code>}`: the client parses every
 * body as JSON and shows `error` as the message.
 *
 * @example
 * const kafka = new Kafka({ url: "https://<host>/upstash", username: "<key id>", password: "<key secret>" });
 * await kafka.producer().produce("orders", { id: 42 });
 */

import type { Context, MiddlewareHandler } from "hono";
import type * as z from "zod/mini";
import { groupResource, topicResource } from "../../../auth/acl.ts";
import { ApiError, bare, thrownUnless, unwrap } from "../../../shared/errors.ts";
import { utf8ByteLength } from "../../../shared/json.ts";
import { AUTO_COMMIT_INTERVAL_MS_MAX, FETCH_BYTES_DEFAULT, FETCH_RECORDS_DEFAULT } from "../../../shared/limits.ts";
import { groupCoordinator, groupDirectory, topicRegistry } from "../../../shared/stubs.ts";
import { produce } from "../../../topic/produce.ts";
import { may, requireAccess } from "../../access.ts";
import type { AppEnv } from "../../app-env.ts";
import { parseJson, queryOf, readText, validate } from "../../body.ts";
import { clientGone } from "../../client-gone.ts";
import { checkCommitBounds } from "../../group/group-offsets.ts";
import { Hono } from "../../hono.ts";
import { inboundRecord } from "../../inbound-record.ts";
import { authenticate } from "../../middleware/authenticate.ts";
import { authorize } from "../../middleware/authorize.ts";
import { chargeProducedBytes, quotas, reportFetchedBody } from "../../middleware/quotas.ts";
import { commitConsumed, commitOffsets, consume, removeInstance } from "./instances.ts";
import {
	UPSTASH_AUTO_COMMIT_INTERVAL_MS_DEFAULT,
	UPSTASH_CONSUMERS_GROUPS_MAX,
	UPSTASH_SESSION_TIMEOUT_MS,
	UPSTASH_TIMEOUT_MS_DEFAULT,
} from "./limits.ts";
import {
	committedOffsets,
	groupAssignments,
	parsePolledRecords,
	parseStoredRecords,
	toMessage,
	toMetadata,
	type UpstashMessage,
	upstashErrorBody,
} from "./mapping.ts";
import { produceMessages, type TopicMessage } from "./produce.ts";
import { offsetAt, readPartitions } from "./reads.ts";
import {
	CommitBody,
	ConsumeBody,
	ConsumeHeaders,
	ConsumeTopicBody,
	ConsumeTopicPath,
	ConsumeTopicQuery,
	FetchBody,
	InstancePath,
	OffsetsPath,
	ProduceBody,
	ProducePathMessage,
	ProduceQuery,
	ProduceTopicBody,
	ProduceTopicPath,
	TopicPartitionsBody,
	WebhookQuery,
} from "./schemas.ts";

/** What Upstash answers to calls that return nothing (commit, delete-consumer). */
const SUCCESS = { result: "Success", status: 200 } as const;

/** Sets Upstash's error shape for everything under the mount, 401s and 404s included: it runs first. */
function upstashDialect(): MiddlewareHandler<AppEnv> {
	return async function upstashDialect(c, next) {
		c.set("renderError", (error, status) => upstashErrorBody(error, status));
		await next();
	};
}

/**
 * A JSON body, whatever its Content-Type (Upstash's docs send JSON with curl's default form type); undefined when
 * there is none.
 */
async function optionalJson(request: Request): Promise<unknown> {
	const text = await readText(request);
	return text.trim() === "" ? undefined : parseJson(text);
}

async function requiredJson<S extends z.core.$ZodType>(request: Request, schema: S): Promise<z.output<S>> {
	const body = await optionalJson(request);
	if (body === undefined) throw new ApiError("invalid_request", "the request needs a JSON body");
	return validate(schema, body, "body");
}

/** JSON that the quotas charge as fetched bytes. */
function fetchedJson(c: Context<AppEnv>, value: unknown): Response {
	const body = JSON.stringify(value);
	reportFetchedBody(c, body);
	return c.body(body, 200, { "Content-Type": "application/json" });
}

/** Produces after checking the caller may produce to every topic named (before anything is written). */
async function produceChecked(c: Context<AppEnv>, messages: readonly TopicMessage[]) {
	for (const topic of new Set(messages.map((m) => m.topic))) requireAccess(c, topicResource(topic), "produce");
	return unwrap(await produceMessages(c.env, messages, c.var.requestId));
}

/** Every message's metadata (200), or some messages' errors in their places (207: see `UpstashMessageError`). */
async function produced(c: Context<AppEnv>, messages: readonly TopicMessage[]): Promise<Response> {
	const answers = await produceChecked(c, messages);
	return c.json(answers, answers.some((a) => "error" in a) ? 207 : 200);
}

/** The consume common to both paths: headers → settings, rights on the topics, the poll, records → messages. */
async function consumeFor(c: Context<AppEnv>, group: string, instance: string, topics: readonly string[], timeoutMs: number | undefined) {
	const headers = validate(
		ConsumeHeaders,
		{
			"kafka-enable-auto-commit": c.req.header("Kafka-Enable-Auto-Commit"),
			"kafka-auto-commit-interval": c.req.header("Kafka-Auto-Commit-Interval"),
			"kafka-auto-offset-reset": c.req.header("Kafka-Auto-Offset-Reset"),
			"kafka-session-timeout-ms": c.req.header("Kafka-Session-Timeout-Ms"),
		},
		"headers",
	);
	for (const topic of topics) requireAccess(c, topicResource(topic), "consume");
	const json = unwrap(
		await consume(c.env, group, instance, {
			topics,
			// Kafka's defaults, as Upstash's: auto-commit on, start at the latest offset.
			autoOffsetReset: headers["kafka-auto-offset-reset"] ?? "latest",
			sessionTimeoutMs: headers["kafka-session-timeout-ms"] ?? UPSTASH_SESSION_TIMEOUT_MS,
			autoCommit: {
				enabled: headers["kafka-enable-auto-commit"] !== "false",
				intervalMs: Math.min(headers["kafka-auto-commit-interval"] ?? UPSTASH_AUTO_COMMIT_INTERVAL_MS_DEFAULT, AUTO_COMMIT_INTERVAL_MS_MAX),
			},
			poll: {
				maxRecords: FETCH_RECORDS_DEFAULT,
				maxBytes: FETCH_BYTES_DEFAULT,
				waitMs: timeoutMs ?? UPSTASH_TIMEOUT_MS_DEFAULT,
				mayConsume: (topic) => may(c, topicResource(topic), "consume"),
				end: clientGone(c),
			},
		}),
	);
	return fetchedJson(
		c,
		parsePolledRecords(json).map(({ topic, record }) => toMessage(topic, record)),
	);
}

export const upstashRoutes = new Hono<AppEnv>();

// The dialect first, so a 401 from `authenticate` already takes Upstash's shape; then the same auth, ACL and
// quotas as `/v1` (Basic `<key id>:<secret>`, or `admin:<ADMIN_TOKEN>`).
upstashRoutes.use("*", upstashDialect(), authenticate(), authorize(), quotas());

upstashRoutes
	.post("/produce", async (c) => {
		const messages = await requiredJson(c.req.raw, ProduceBody);
		return produced(
			c,
			messages.map((message) => ({ topic: message.topic, message })),
		);
	})
	.post("/produce/:topic", async (c) => {
		const { topic } = validate(ProduceTopicPath, c.req.param());
		const messages = await requiredJson(c.req.raw, ProduceTopicBody);
		// Upstash documents no topic in this body: one that differs is a mistake to name, not to overrule quietly.
		const stray = messages.findIndex((m) => m.topic !== undefined && m.topic !== topic);
		if (stray >= 0) {
			const where = messages.length > 1 ? `[${stray}].topic` : "topic";
			throw new ApiError("invalid_request", `${where}: is "${messages[stray]?.topic}" where the path names "${topic}"`);
		}
		return produced(
			c,
			messages.map((message) => ({ topic, message })),
		);
	})
	.get("/produce/:topic/:message", async (c) => {
		// Upstash's one-liner: the message is the path's last segment, the answer a single metadata object.
		const { topic, message } = validate(ProducePathMessage, c.req.param());
		const { key } = validate(ProduceQuery, queryOf(c.req.url), "query");
		await chargeProducedBytes(c, utf8ByteLength(message) + (key === undefined ? 0 : utf8ByteLength(key)));
		const [metadata] = await produceChecked(c, [{ topic, message: key === undefined ? { value: message } : { value: message, key } }]);
		return c.json(metadata);
	})
	// Upstash takes GET too (a sender that only pings): the record's value is then null.
	.on(["GET", "POST"], "/webhook", async (c) => {
		const { topic, key, partition } = validate(WebhookQuery, queryOf(c.req.url), "query");
		requireAccess(c, topicResource(topic), "produce");
		// A POST's body was charged from its Content-Length; a GET writes only the URL's key.
		if (c.req.method === "GET") await chargeProducedBytes(c, key === undefined ? 0 : utf8ByteLength(key));
		const input = await inboundRecord(c.req.raw, key ?? null, partition ?? null);
		const outcome = unwrap(await produce(c.env, topic, [input]));
		return c.json(toMetadata(topic, outcome.positions[0] as NonNullable<(typeof outcome.positions)[0]>));
	})
	.post("/fetch", async (c) => {
		const body = await requiredJson(c.req.raw, FetchBody);
		const asked = [...(body.topicPartitionOffsets ?? [])].map((tpo) => ({ ...tpo, offset: tpo.offset as number | null }));
		if (body.topic !== undefined && body.partition !== undefined)
			asked.push({ topic: body.topic, partition: body.partition, offset: body.offset ?? null });
		for (const topic of new Set(asked.map((a) => a.topic))) requireAccess(c, topicResource(topic), "consume");
		const reads = unwrap(await readPartitions(c.env, asked, body.timeout ?? UPSTASH_TIMEOUT_MS_DEFAULT, clientGone(c)));
		const messages: UpstashMessage[] = reads.flatMap(({ topic, records }) => parseStoredRecords(records).map((r) => toMessage(topic, r)));
		return fetchedJson(c, messages);
	})
	.post("/consume/:group/:instance", async (c) => {
		const { group, instance } = validate(InstancePath, c.req.param());
		const body = await requiredJson(c.req.raw, ConsumeBody);
		return consumeFor(c, group, instance, body.topics ?? [body.topic as string], body.timeout);
	})
	.on(["GET", "POST"], "/consume/:group/:instance/:topic", async (c) => {
		// The console's snippet: the topic in the path, a body optional.
		const { group, instance, topic } = validate(ConsumeTopicPath, c.req.param());
		const body = validate(ConsumeTopicBody, (c.req.method === "POST" ? await optionalJson(c.req.raw) : undefined) ?? {}, "body");
		const query = validate(ConsumeTopicQuery, queryOf(c.req.url), "query");
		return consumeFor(c, group, instance, [topic], body.timeout ?? query.timeout);
	})
	// Upstash documents GET and POST; with no body, or an empty array, what the instance consumed is committed.
	.on(["GET", "POST"], "/commit/:group/:instance", async (c) => {
		const { group, instance } = validate(InstancePath, c.req.param());
		const body = c.req.method === "POST" ? await optionalJson(c.req.raw) : undefined;
		if (body === undefined || (Array.isArray(body) && body.length === 0)) {
			unwrap(await commitConsumed(c.env, group, instance));
			return c.json(SUCCESS);
		}
		const offsets = validate(CommitBody, body, "body");
		for (const topic of new Set(offsets.map((o) => o.topic))) requireAccess(c, topicResource(topic), "consume");
		// As on /v1: an offset past a partition's end is refused (416), not stored to be silently reset later.
		unwrap(await checkCommitBounds(c.env, offsets));
		unwrap(
			await commitOffsets(
				c.env,
				group,
				instance,
				offsets.map((o) => ({ ...o, metadata: null })),
			),
		);
		return c.json(SUCCESS);
	})
	.post("/committed/:group/:instance", async (c) => {
		const { group } = validate(InstancePath, c.req.param());
		const asked = await requiredJson(c.req.raw, TopicPartitionsBody);
		for (const topic of new Set(asked.map((tp) => tp.topic))) requireAccess(c, topicResource(topic), "describe");
		// Kafka answers "nothing committed" for a group it has never seen, not an error.
		const described = thrownUnless(await groupCoordinator(c.env, group).describe(group), "group_not_found");
		return c.json(committedOffsets(asked, described.ok ? described.value.committed : []));
	})
	.on(["POST", "DELETE"], "/delete-consumer/:group/:instance", async (c) => {
		const { group, instance } = validate(InstancePath, c.req.param());
		unwrap(await removeInstance(c.env, group, instance));
		return c.json(SUCCESS);
	})
	.get("/topics", async (c) => {
		const topics = unwrap(await topicRegistry(c.env).listTopics());
		const visible = topics.filter((t) => may(c, topicResource(t.name), "describe"));
		return c.json(Object.fromEntries(visible.map((t) => [t.name, t.partitions])));
	})
	.get("/consumers", async (c) => {
		// Upstash lists the instances its server runs: here, groups with members, each described by its coordinator.
		const groups = bare(await groupDirectory(c.env).list())
			.filter((g) => g.state === "stable" && may(c, groupResource(g.group), "describe"))
			.slice(0, UPSTASH_CONSUMERS_GROUPS_MAX);
		const described = await Promise.all(
			groups.map(async ({ group }) => ({
				group,
				result: thrownUnless(await groupCoordinator(c.env, group).describe(group), "group_not_found"),
			})),
		);
		const visible = (topic: string) => may(c, topicResource(topic), "describe");
		return c.json(
			described.flatMap(({ group, result }) => {
				if (!result.ok || result.value.members.length === 0) return [];
				const members = result.value.members.map((m) => ({ ...m, assignment: m.assignment.filter((tp) => visible(tp.topic)) }));
				return [groupAssignments(group, { ...result.value, members })];
			}),
		);
	})
	.post("/offsets/:timestamp", async (c) => {
		const { timestamp } = validate(OffsetsPath, c.req.param());
		const asked = await requiredJson(c.req.raw, TopicPartitionsBody);
		for (const topic of new Set(asked.map((tp) => tp.topic))) requireAccess(c, topicResource(topic), "describe");
		const offsets = await Promise.all(
			asked.map(async (tp) => ({ ...tp, offset: unwrap(await offsetAt(c.env, tp.topic, tp.partition, timestamp)) })),
		);
		return c.json(offsets);
	});
