/**
 * The SDK's `topics.create` when a try may have landed (its answer lost, wrangler dev's proxy's 503): sent again, as
 * a repeat cannot make a second topic; its 409 `topic_exists` is then this call's own topic when the topic is as
 * asked (partitions, location hint, every config given, and no config set that was not given), which is answered as
 * created; otherwise the 409 stands.
 * A 409 to a first try is `topic_exists` as ever (Kafka's TopicExistsException, without `--if-not-exists`).
 */

import { describe, expect, it } from "vitest";
import { CONFIG_NUMBER_MAX as SDK_CONFIG_NUMBER_MAX } from "../../client/config-limits.ts";
import { Tributary, TributaryError } from "../../client/index.ts";
import { CLUSTER_ID as SDK_CLUSTER_ID, TOPIC_PARTITIONS_DEFAULT as SDK_PARTITIONS_DEFAULT } from "../../client/topic-create.ts";
import { CLUSTER_ID } from "../../src/http/compat/confluent/limits.ts";
import { CreateTopicBody } from "../../src/http/schemas.ts";
import { CONFIG_NUMBER_MAX } from "../../src/shared/topic-config.ts";
import { uniqueTopic } from "../support/names.ts";
import { type Sent, wiredClient } from "../support/sdk.ts";
import { ADMIN_TOKEN, BASE, call, createTopic, json, sized, workerFetch } from "../support/worker.ts";

const isCreate = (r: Sent) => r.method === "POST" && r.path === "/v1/topics";

describe("SDK topics.create after a try that may have landed", () => {
	it("whose answer was lost is sent again, and the topic it made, as asked, is answered as created", async () => {
		const name = uniqueTopic("create-lost");
		const { client, sent, dropAnswer } = wiredClient();
		dropAnswer(isCreate);
		// Given as a CLI or a Kafka tool writes them: digit strings, a policy in another order, a boolean as text.
		const config = { "retention.ms": "3600000", "cleanup.policy": "delete,compact", "remote.storage.enable": "false" };
		const created = await client.topics.create({ name, partitions: 2, config });
		const described = await client.topics.describe(name);
		expect(created).toEqual({ name, topic_id: described.topic_id, partitions: 2, config: described.config });
		expect(described.config).toMatchObject({ "retention.ms": 3_600_000, "cleanup.policy": "compact,delete" });
		expect(sent.filter(isCreate)).toHaveLength(2);
	});

	it("reads its topic back with two calls a key with admin on that topic alone may make: its describe and its configs", async () => {
		expect(SDK_CLUSTER_ID, "the Confluent mount's one cluster, as the SDK names it").toBe(CLUSTER_ID);
		// The Worker's is what its create schema gives a body without a count (TOPIC_PARTITIONS_DEFAULT in limits.ts).
		const workerDefault = CreateTopicBody.parse({ name: "t" }).partitions;
		expect(SDK_PARTITIONS_DEFAULT, "a create's partitions when it gives none, as the SDK reads a repeat's 409").toBe(workerDefault);
		const name = uniqueTopic("create-lost-key");
		const key = await json<{ secret: string }>("POST", "/v1/keys", 201, {
			body: { name: "creator", acl: [{ resource: `topic:${name}`, operations: ["admin"] }] },
		});
		const { client, sent, dropAnswer } = wiredClient({ token: key.secret });
		dropAnswer(isCreate);
		expect(await client.topics.create({ name, config: { "retention.ms": 3_600_000 } })).toMatchObject({ name, partitions: 1 });
		const reads = sent.slice(sent.findLastIndex(isCreate) + 1).map((r) => `${r.method} ${r.path}`);
		expect(reads).toEqual([`GET /v1/topics/${name}`, `GET /kafka/v3/clusters/${CLUSTER_ID}/topics/${name}/configs`]);
	});

	it("answered wrangler dev's proxy's 503 is sent again (the Worker may have served it)", async () => {
		const name = uniqueTopic("create-proxy");
		const { client, sent, notForwarded } = wiredClient();
		notForwarded(isCreate);
		expect(await client.topics.create({ name })).toMatchObject({ name, partitions: 1 });
		expect(sent.filter(isCreate)).toHaveLength(2);
	});

	it("whose topic is not as asked by the time its repeat is refused 409 throws the 409", async () => {
		const name = uniqueTopic("create-changed");
		const { client, sent, dropAnswer, beforeServing } = wiredClient();
		dropAnswer(isCreate);
		// Another admin grows the topic between the lost answer and the repeat: it is no longer the one asked for.
		beforeServing(
			(r) => isCreate(r) && sent.filter(isCreate).length === 2,
			() => json("PATCH", `/v1/topics/${name}`, 200, { body: { partitions: 3 } }),
		);
		const failure = await client.topics.create({ name, partitions: 1 }).catch((error: unknown) => error);
		expect(failure).toBeInstanceOf(TributaryError);
		expect(failure).toMatchObject({ code: "topic_exists", status: 409 });
		expect((failure as Error).message).toMatch(/not as asked: 3 partitions, not 1/);
	});

	it("answered 409 at its first try throws it, even when the topic is as asked", async () => {
		const name = uniqueTopic("create-exists");
		await createTopic(name, 1);
		const { client, sent } = wiredClient();
		expect(await client.topics.create({ name }).catch((error: unknown) => error)).toMatchObject({ code: "topic_exists", status: 409 });
		expect(sent.filter(isCreate)).toHaveLength(1);
	});
	it("does not take as created a topic another creator made with a config this call did not give", async () => {
		const name = uniqueTopic("create-other-config");
		const { client, sent, dropAnswer, beforeServing } = wiredClient();
		// Another creator makes the topic with a 1-minute retention before our first try is served; our first try is
		// then refused 409, and that answer is lost (a network error): the SDK cannot tell it landed or not.
		beforeServing(
			(r) => isCreate(r) && sent.filter(isCreate).length === 1,
			() => createTopic(name, 1, { "retention.ms": 60_000 }),
		);
		dropAnswer(isCreate);
		const outcome = await client.topics.create({ name }).catch((error: unknown) => error);
		// Not the topic a create of `{ name }` makes (retention.ms at its default).
		expect(outcome).toBeInstanceOf(TributaryError);
		expect(outcome).toMatchObject({ code: "topic_exists", status: 409 });
		expect((outcome as Error).message).toContain("retention.ms=60000, not asked");
	});

	it("clamps a long config as the broker does, at the broker's own largest", () => {
		expect(SDK_CONFIG_NUMBER_MAX).toBe(CONFIG_NUMBER_MAX);
	});

	it("takes its own topic as created when a long config was given as Kafka's Long.MAX_VALUE (held as its largest)", async () => {
		const name = uniqueTopic("create-long-max");
		const { client, sent, dropAnswer } = wiredClient();
		dropAnswer(isCreate);
		// kafka-configs --describe shows Long.MAX_VALUE for "no limit", and the broker takes it back (topic-config.ts).
		const config = { "message.timestamp.before.max.ms": "9223372036854775807", "retention.ms": 2 ** 63 };
		const created = await client.topics.create({ name, config });
		expect(created).toMatchObject({ name, partitions: 1 });
		expect(sent.filter(isCreate)).toHaveLength(2);
	});

	it("answered 201 with a body that cannot be read (cut off) reads the topic back: answered as created, its id the topic's", async () => {
		const name = uniqueTopic("create-unreadable");
		const { client, sent } = unreadableCreates(async () => {});
		const created = await client.topics.create({ name, partitions: 2 });
		const described = await client.topics.describe(name);
		expect(created).toEqual({ name, topic_id: described.topic_id, partitions: 2, config: described.config });
		expect(sent.filter((r) => r === "POST /v1/topics")).toHaveLength(1);
	});

	it("answered 201 with no body at all reads the topic back as one cut off: answered as created, its id the topic's", async () => {
		const name = uniqueTopic("create-empty");
		const { client, sent } = unreadableCreates(
			async () => {},
			() => "",
		);
		const created = await client.topics.create({ name, partitions: 2 });
		const described = await client.topics.describe(name);
		expect(created).toEqual({ name, topic_id: described.topic_id, partitions: 2, config: described.config });
		expect(sent.filter((r) => r === "POST /v1/topics")).toHaveLength(1);
	});

	it("answered 201 with no body, its topic gone before it is read back: throws unexpected_response, its outcome unknown", async () => {
		const name = uniqueTopic("create-empty-gone");
		const gone = async () => expect((await call("DELETE", `/v1/topics/${name}`)).status).toBe(204);
		const failure = await unreadableCreates(gone, () => "")
			.client.topics.create({ name })
			.catch((error: unknown) => error);
		expect(failure).toBeInstanceOf(TributaryError);
		expect(failure).toMatchObject({ code: "unexpected_response", status: 201 });
	});

	it("answered 201 unreadably, its topic gone before it is read back: throws the unreadable answer, its outcome unknown", async () => {
		const name = uniqueTopic("create-unreadable-gone");
		const { client } = unreadableCreates(async () => expect((await call("DELETE", `/v1/topics/${name}`)).status).toBe(204));
		const failure = await client.topics.create({ name }).catch((error: unknown) => error);
		expect(failure).toMatchObject({ code: "unexpected_response", status: 201 });
	});

	it("aborted while it waits to send again (Retry-After: 4) ends at once, throwing what it met, with no try after", async () => {
		let tries = 0;
		let answered: () => void = () => {};
		const firstAnswered = new Promise<void>((resolve) => {
			answered = resolve;
		});
		const fetcher = async (): Promise<Response> => {
			tries++;
			const error = { code: "unavailable", message: "overloaded", retriable: true };
			setTimeout(answered);
			return Response.json({ error }, { status: 503, headers: { "Retry-After": "4" } });
		};
		const client = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch: fetcher, retries: 1 });
		const deadline = new AbortController();
		const outcome = client.topics.create({ name: uniqueTopic("create-aborted") }, { signal: deadline.signal }).catch((e: unknown) => e);
		await firstAnswered;
		deadline.abort();
		expect(await outcome).toMatchObject({ code: "unavailable", status: 503 });
		expect(tries, "no try after the abort").toBe(1);
	});

	it("aborted while a try is under way: that try's failure ends the call, with no try after it", async () => {
		const deadline = new AbortController();
		let tries = 0;
		const fetcher = async (): Promise<Response> => {
			tries++;
			deadline.abort();
			const error = { code: "unavailable", message: "overloaded", retriable: true };
			return Response.json({ error }, { status: 503, headers: { "Retry-After": "0" } });
		};
		const client = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch: fetcher, retries: 3 });
		const outcome = await client.topics
			.create({ name: uniqueTopic("create-abort-try") }, { signal: deadline.signal })
			.catch((e: unknown) => e);
		expect(outcome).toBeInstanceOf(TributaryError);
		expect(outcome).toMatchObject({ code: "unavailable", status: 503 });
		expect(tries, "no try after the abort").toBe(1);
	});

	it("aborted while a try waits for its answer: that try is cut off, thrown as `aborted` (status 0: its outcome unknown), no try after it", async () => {
		const deadline = new AbortController();
		let tries = 0;
		// As fetch does: no answer, until the request's signal aborts it.
		const fetcher = (request: Request): Promise<Response> =>
			new Promise((_resolve, reject) => {
				tries++;
				request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
				queueMicrotask(() => deadline.abort(new Error("past the caller's deadline")));
			});
		const client = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch: fetcher, retries: 3, requestTimeoutMs: 2_000 });
		const outcome = await client.topics
			.create({ name: uniqueTopic("create-abort-wait") }, { signal: deadline.signal })
			.catch((e: unknown) => e);
		expect(outcome).toBeInstanceOf(TributaryError);
		expect(outcome).toMatchObject({ code: "aborted", status: 0 });
		expect((outcome as TributaryError).message).toContain("past the caller's deadline");
		expect(tries, "no try after the abort").toBe(1);
	});

	it("aborted while its unreadable 201 is read back: no read after the abort, the unreadable answer thrown", async () => {
		const deadline = new AbortController();
		const sent: string[] = [];
		const fetcher = async (request: Request): Promise<Response> => {
			sent.push(`${request.method} ${new URL(request.url).pathname}`);
			if (request.method === "POST")
				return new Response('{"name":"t","topi', { status: 201, headers: { "Content-Type": "application/json" } });
			deadline.abort();
			return Response.json({ name: "t", topic_id: "x", partitions: [], config: {} });
		};
		const client = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch: fetcher });
		const outcome = await client.topics.create({ name: "t" }, { signal: deadline.signal }).catch((e: unknown) => e);
		expect(outcome).toBeInstanceOf(TributaryError);
		expect(outcome).toMatchObject({ code: "unexpected_response", status: 201 });
		expect(sent).toEqual(["POST /v1/topics", "GET /v1/topics/t"]);
	});

	it("a 409 after a 503 `unavailable` (which proves its try did nothing) is topic_exists, as a first try's 409 is", async () => {
		const name = uniqueTopic("create-unavailable");
		let creates = 0;
		const fetcher = async (request: Request): Promise<Response> => {
			const path = new URL(request.url).pathname;
			if (request.method === "POST" && path === "/v1/topics" && ++creates === 1) {
				// Another creator makes the same topic; our first try is answered 503 `unavailable`, unserved.
				await createTopic(name, 1);
				const error = { code: "unavailable", message: "try again", retriable: true };
				return Response.json({ error }, { status: 503, headers: { "Retry-After": "0" } });
			}
			const body = request.method === "GET" ? "" : await request.clone().text();
			return workerFetch(request.body === null ? request : sized(request, body));
		};
		const client = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch: fetcher });
		const outcome = await client.topics.create({ name }).catch((error: unknown) => error);
		expect(outcome).toMatchObject({ code: "topic_exists", status: 409 });
		expect(outcome).not.toHaveProperty("cause.code", "unavailable");
	});
});

/**
 * A client whose creates are served, then answered 201 with their body cut off (`cut`: by default its first half, not
 * JSON); `meanwhile` runs between.
 */
function unreadableCreates(
	meanwhile: () => Promise<unknown>,
	cut = (text: string) => text.slice(0, text.length / 2),
): { client: Tributary; sent: string[] } {
	const sent: string[] = [];
	const fetcher = async (request: Request): Promise<Response> => {
		const path = new URL(request.url).pathname;
		sent.push(`${request.method} ${path}`);
		const body = request.method === "GET" || request.method === "DELETE" ? "" : await request.clone().text();
		const response = await workerFetch(request.body === null ? request : sized(request, body));
		if (request.method !== "POST" || path !== "/v1/topics" || response.status !== 201) return response;
		await meanwhile();
		const text = await response.text();
		return new Response(cut(text), { status: 201, headers: { "Content-Type": "application/json" } });
	};
	return { client: new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch: fetcher }), sent };
}
