/**
 * Every route × {no credentials, wrong key, key without the right, key with it}, and the same for the
 * `anonymous` principal: with no grant a credential-less request is 401; granted everything but the route's
 * right it is still 401 (or a listing without the resource); granted the right, it passes. "With the right"
 * passes authorization: the answer is the route's own (2xx, or a domain 4xx for the placeholder ids used here),
 * never 401 or 403.
 */

import { beforeAll, describe, expect, it } from "vitest";
import type { AclEntry, Operation } from "../../src/auth/acl.ts";
import { ROUTES } from "../../src/http/route-table.ts";
import { closeAnonymousAtTestEnd, grantAnonymous } from "../support/anonymous.ts";
import { basic, createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { call, createTopic, json, produce } from "../support/worker.ts";

const DS_STREAM = "/ds/v1/stream";

const ALL: Operation[] = ["produce", "consume", "describe", "admin"];
const others = (op: Operation): Operation[] => ALL.filter((o) => o !== op && o !== "describe" && op !== "describe");

const topic = uniqueTopic("matrix");
const group = `${topic}-group`;
const SUB = "sub_00000000000000000000";
const MEMBER = "no-such-member";
const KEY_ID = "00000000000000000000";

interface Case {
	readonly route: string;
	readonly path: string;
	readonly body?: unknown;
	readonly headers?: Record<string, string>;
	/** Entries granting exactly the route's right (plus the topic rights a group route also needs). */
	readonly granted: AclEntry[];
	/** Entries granting everything else on the same resources. */
	readonly denied: AclEntry[];
	/** For filtered listings: "without the right" is a 200 that leaves the resource out. */
	readonly hides?: (body: unknown) => boolean;
}

function onTopic(route: string, path: string, op: Operation, body?: unknown, headers?: Record<string, string>): Case {
	// A prefix, so the placeholder topics next to the fixture (`…-absent`) are covered too.
	const resource = `topic:${topic}*`;
	const denied = others(op).length > 0 ? [{ resource, operations: others(op) }] : [{ resource: "topic:elsewhere", operations: ALL }];
	return { route, path, body, granted: [{ resource, operations: [op] }], denied, ...(headers ? { headers } : {}) };
}

function onGroup(route: string, path: string, op: Operation, body?: unknown): Case {
	const resource = `group:${group}*`;
	const topicRights = { resource: `topic:${topic}`, operations: ALL };
	const denied = others(op).length > 0 ? [{ resource, operations: others(op) }] : [{ resource: "group:elsewhere", operations: ALL }];
	return { route, path, body, granted: [{ resource, operations: [op] }, topicRights], denied: [...denied, topicRights] };
}

function onCluster(route: string, path: string, body?: unknown): Case {
	return {
		route,
		path,
		body,
		granted: [{ resource: "cluster", operations: ["admin"] }],
		denied: [
			{ resource: "cluster", operations: ["produce", "consume", "describe"] },
			{ resource: "topic:*", operations: ALL },
		],
	};
}

/** Durable Streams: the stream `{topic}-s` is the topic `ds.{topic}-s` (its name needs no escaping). */
function onStream(route: string, path: string, op: Operation, headers?: Record<string, string>, body?: unknown): Case {
	const resource = `topic:ds.${topic}*`;
	const denied = others(op).length > 0 ? [{ resource, operations: others(op) }] : [{ resource: "topic:elsewhere", operations: ALL }];
	return { route, path, body, granted: [{ resource, operations: [op] }], denied, ...(headers ? { headers } : {}) };
}

const T = `/v1/topics/${topic}`;
const DS = `/ds/v1/stream/${topic}`;
const G = `/v1/groups/${group}`;
const V3 = "/kafka/v3/clusters/tributary"; // Confluent REST v3
const CASES: Case[] = [
	{
		route: "GET /v1/topics",
		path: "/v1/topics",
		granted: [{ resource: `topic:${topic}`, operations: ["describe"] }],
		denied: [{ resource: "topic:elsewhere", operations: ALL }],
		hides: (body) => !JSON.stringify(body).includes(topic),
	},
	{
		route: "POST /v1/topics",
		path: "/v1/topics",
		body: { name: topic },
		granted: [{ resource: `topic:${topic}`, operations: ["admin"] }],
		denied: [{ resource: `topic:${topic}`, operations: ["produce", "consume", "describe"] }],
	},
	onTopic("GET /v1/topics/:topic", T, "describe"),
	onTopic("PATCH /v1/topics/:topic", T, "admin", { config: { "retention.ms": 3_600_000 } }),
	onTopic("DELETE /v1/topics/:topic", `/v1/topics/${topic}-absent`, "admin"),
	onTopic("POST /v1/topics/:topic/records", `${T}/records`, "produce", { records: [{ value: "matrix" }] }),
	onTopic("GET /v1/topics/:topic/records/stream", `${T}/records/stream`, "produce", undefined, { Upgrade: "websocket" }),
	onTopic(
		"POST /v1/topics/:topic/records/stream",
		`${T}/records/stream`,
		"produce",
		{ value: "matrix" },
		{
			"Content-Type": "application/x-ndjson",
		},
	),
	// Offset 0 changes nothing (the log starts there): a granted call leaves the records the read cases count on.
	onTopic("POST /v1/topics/:topic/partitions/:partition/delete-records", `${T}/partitions/0/delete-records`, "admin", {
		before_offset: -1,
	}),
	onTopic("GET /v1/topics/:topic/partitions/:partition/records", `${T}/partitions/0/records`, "consume"),
	onTopic("GET /v1/topics/:topic/partitions/:partition/offsets", `${T}/partitions/0/offsets?at=latest`, "describe"),
	onTopic("POST /v1/topics/:topic/webhook", `${T}/webhook`, "produce", { hook: 1 }, { "Content-Type": "application/json" }),
	onTopic("POST /v1/topics/:topic/subscriptions", `${T}/subscriptions`, "admin", { url: "not a url" }),
	onTopic("GET /v1/topics/:topic/subscriptions", `${T}/subscriptions`, "admin"),
	onTopic("GET /v1/topics/:topic/subscriptions/:id", `${T}/subscriptions/${SUB}`, "admin"),
	onTopic("PATCH /v1/topics/:topic/subscriptions/:id", `${T}/subscriptions/${SUB}`, "admin", { status: "paused" }),
	onTopic("DELETE /v1/topics/:topic/subscriptions/:id", `${T}/subscriptions/${SUB}`, "admin"),
	onTopic("POST /v1/topics/:topic/subscriptions/:id/replay", `${T}/subscriptions/${SUB}/replay`, "admin", { offset: "earliest" }),
	onTopic("GET /v1/topics/:topic/subscriptions/:id/deliveries", `${T}/subscriptions/${SUB}/deliveries`, "admin"),
	{
		route: "GET /v1/groups",
		path: "/v1/groups",
		granted: [{ resource: `group:${group}`, operations: ["describe"] }],
		denied: [{ resource: "group:elsewhere", operations: ALL }],
		hides: (body) => !JSON.stringify(body).includes(group),
	},
	onGroup("GET /v1/groups/:group", G, "describe"),
	onGroup("DELETE /v1/groups/:group", `${G}-absent`, "admin"),
	onGroup("POST /v1/groups/:group/members", `${G}/members`, "consume", { topics: [topic] }),
	onGroup("POST /v1/groups/:group/members/:member/poll", `${G}/members/${MEMBER}/poll`, "consume"),
	onGroup("POST /v1/groups/:group/members/:member/heartbeat", `${G}/members/${MEMBER}/heartbeat`, "consume"),
	onGroup("DELETE /v1/groups/:group/members/:member", `${G}/members/${MEMBER}`, "consume"),
	onGroup("POST /v1/groups/:group/offsets", `${G}/offsets`, "consume", {
		member_id: MEMBER,
		generation: 1,
		offsets: [{ topic, partition: 0, offset: 0 }],
	}),
	onGroup("POST /v1/groups/:group/offsets/reset", `${G}-empty/offsets/reset`, "admin", { topic, to: "earliest" }),
	{
		route: "POST /v1/producers",
		path: "/v1/producers",
		granted: [{ resource: `topic:${topic}`, operations: ["produce"] }],
		denied: [{ resource: `topic:${topic}`, operations: ["consume", "describe", "admin"] }],
	},
	onCluster("GET /v1/keys", "/v1/keys"),
	onCluster("POST /v1/keys", "/v1/keys", { name: "from-matrix", acl: [] }),
	onCluster("GET /v1/keys/:id", `/v1/keys/${KEY_ID}`),
	onCluster("DELETE /v1/keys/:id", `/v1/keys/${KEY_ID}`),
	onCluster("PUT /v1/keys/:id/quotas", `/v1/keys/${KEY_ID}/quotas`, {}),
	onCluster("PATCH /v1/keys/:id/quotas", `/v1/keys/${KEY_ID}/quotas`, {}),
	onCluster("GET /v1/anonymous", "/v1/anonymous"),
	// Puts back what the anonymous leg of the matrix expects to find granted at that moment (see grantAnonymous).
	{ ...onCluster("PUT /v1/anonymous", "/v1/anonymous"), body: "granted" },
	// An empty patch changes nothing, so it leaves anonymous's grant as the matrix set it.
	onCluster("PATCH /v1/anonymous", "/v1/anonymous", {}),
	{
		route: "GET /metrics",
		path: "/metrics",
		granted: [{ resource: "cluster", operations: ["describe"] }],
		denied: [
			{ resource: "topic:*", operations: ALL },
			{ resource: "group:*", operations: ALL },
		],
	},
	// Confluent REST v3: the cluster is visible to any key holding some right; topics as in /v1.
	{
		route: "GET /kafka/v3/clusters",
		path: "/kafka/v3/clusters",
		granted: [{ resource: `topic:${topic}`, operations: ["describe"] }],
		denied: [],
	},
	{
		route: "GET /kafka/v3/clusters/:cluster_id",
		path: V3,
		granted: [{ resource: `topic:${topic}`, operations: ["describe"] }],
		denied: [],
	},
	{
		route: "GET /kafka/v3/clusters/:cluster_id/topics",
		path: `${V3}/topics`,
		granted: [{ resource: `topic:${topic}`, operations: ["describe"] }],
		denied: [{ resource: "topic:elsewhere", operations: ALL }],
		hides: (body) => !JSON.stringify(body).includes(topic),
	},
	onTopic("GET /kafka/v3/clusters/:cluster_id/topics/:topic_name", `${V3}/topics/${topic}`, "describe"),
	onCluster("GET /kafka/v3/clusters/:cluster_id/acls", `${V3}/acls`),
	// The one broker is visible as the cluster is; its replicas list only topics the key may describe.
	...(
		[
			["GET /kafka/v3/clusters/:cluster_id/brokers", `${V3}/brokers`],
			["GET /kafka/v3/clusters/:cluster_id/brokers/:broker_id", `${V3}/brokers/0`],
			["GET /kafka/v3/clusters/:cluster_id/brokers/:broker_id/configs", `${V3}/brokers/0/configs`],
			["GET /kafka/v3/clusters/:cluster_id/broker-configs", `${V3}/broker-configs`],
		] as const
	).map(([route, path]) => ({ route, path, granted: [{ resource: `topic:${topic}`, operations: ["describe" as Operation] }], denied: [] })),
	{
		route: "GET /kafka/v3/clusters/:cluster_id/brokers/:broker_id/partition-replicas",
		path: `${V3}/brokers/0/partition-replicas`,
		granted: [{ resource: `topic:${topic}`, operations: ["describe"] }],
		denied: [{ resource: "topic:elsewhere", operations: ALL }],
		hides: (body) => !JSON.stringify(body).includes(topic),
	},
	onTopic(
		"GET /kafka/v3/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id/reassignment",
		`${V3}/topics/${topic}/partitions/-/reassignment`,
		"describe",
	),
	onTopic(
		"GET /kafka/v3/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id/replicas",
		`${V3}/topics/${topic}/partitions/0/replicas`,
		"describe",
	),
	onTopic(
		"GET /kafka/v3/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id/replicas/:broker_id",
		`${V3}/topics/${topic}/partitions/0/replicas/0`,
		"describe",
	),
	onTopic("POST /kafka/v3/clusters/:cluster_id/topics/:topic_name/records", `${V3}/topics/${topic}/records`, "produce", {
		value: { type: "STRING", data: "matrix" },
	}),
	onTopic(
		"POST /kafka/v3/clusters/:cluster_id/topics/:topic_name/:operation{records:batch}",
		`${V3}/topics/${topic}/records:batch`,
		"produce",
		{ entries: [{ id: "matrix", value: { type: "STRING", data: "matrix" } }] },
	),
	// Confluent REST v3 admin: a create names its topic in the body; configs and partitions are the topic's.
	{
		route: "POST /kafka/v3/clusters/:cluster_id/topics",
		path: `${V3}/topics`,
		body: { topic_name: topic },
		granted: [{ resource: `topic:${topic}`, operations: ["admin"] }],
		denied: [{ resource: `topic:${topic}`, operations: ["produce", "consume", "describe"] }],
	},
	onTopic("PATCH /kafka/v3/clusters/:cluster_id/topics/:topic_name", `${V3}/topics/${topic}`, "admin", { partitions_count: 2 }),
	onTopic("DELETE /kafka/v3/clusters/:cluster_id/topics/:topic_name", `${V3}/topics/${topic}-absent`, "admin"),
	onTopic("GET /kafka/v3/clusters/:cluster_id/topics/:topic_name/partitions", `${V3}/topics/${topic}/partitions`, "describe"),
	onTopic(
		"GET /kafka/v3/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id",
		`${V3}/topics/${topic}/partitions/0`,
		"describe",
	),
	onTopic("GET /kafka/v3/clusters/:cluster_id/topics/:topic_name/configs", `${V3}/topics/${topic}/configs`, "describe"),
	onTopic("GET /kafka/v3/clusters/:cluster_id/topics/:topic_name/configs/:name", `${V3}/topics/${topic}/configs/retention.ms`, "describe"),
	onTopic("PUT /kafka/v3/clusters/:cluster_id/topics/:topic_name/configs/:name", `${V3}/topics/${topic}/configs/retention.ms`, "admin", {
		value: "3600000",
	}),
	onTopic("DELETE /kafka/v3/clusters/:cluster_id/topics/:topic_name/configs/:name", `${V3}/topics/${topic}/configs/retention.ms`, "admin"),
	onTopic(
		"POST /kafka/v3/clusters/:cluster_id/topics/:topic_name/:operation{configs:alter}",
		`${V3}/topics/${topic}/configs:alter`,
		"admin",
		{ data: [{ name: "retention.ms", value: "3600000" }] },
	),
	{
		route: "GET /kafka/v3/clusters/:cluster_id/consumer-groups",
		path: `${V3}/consumer-groups`,
		granted: [{ resource: `group:${group}`, operations: ["describe"] }],
		denied: [{ resource: "group:elsewhere", operations: ALL }],
		hides: (body) => !JSON.stringify(body).includes(group),
	},
	onGroup("GET /kafka/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id", `${V3}/consumer-groups/${group}`, "describe"),
	onGroup(
		"GET /kafka/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/consumers",
		`${V3}/consumer-groups/${group}/consumers`,
		"describe",
	),
	onGroup("GET /kafka/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/lags", `${V3}/consumer-groups/${group}/lags`, "describe"),
	onGroup(
		"GET /kafka/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/lags/:topic_name/partitions/:partition_id",
		`${V3}/consumer-groups/${group}/lags/${topic}/partitions/0`,
		"describe",
	),
	onGroup(
		"GET /kafka/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/consumers/:consumer_id",
		`${V3}/consumer-groups/${group}/consumers/${MEMBER}`,
		"describe",
	),
	onGroup(
		"GET /kafka/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/consumers/:consumer_id/assignments",
		`${V3}/consumer-groups/${group}/consumers/${MEMBER}/assignments`,
		"describe",
	),
	onGroup(
		"GET /kafka/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/consumers/:consumer_id/assignments/:topic_name/partitions/:partition_id",
		`${V3}/consumer-groups/${group}/consumers/${MEMBER}/assignments/${topic}/partitions/0`,
		"describe",
	),
	onGroup(
		"GET /kafka/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/lag-summary",
		`${V3}/consumer-groups/${group}/lag-summary`,
		"describe",
	),
	// Upstash: the Upstash Kafka REST API; its errors are {"error":"<message>","status"} (see expectRefusal).
	onTopic("POST /upstash/produce", "/upstash/produce", "produce", { topic, value: "matrix" }),
	onTopic("POST /upstash/produce/:topic", `/upstash/produce/${topic}`, "produce", { value: "matrix" }),
	onTopic("GET /upstash/produce/:topic/:message", `/upstash/produce/${topic}/matrix`, "produce"),
	onTopic("GET /upstash/webhook", `/upstash/webhook?topic=${topic}`, "produce"),
	onTopic("POST /upstash/webhook", `/upstash/webhook?topic=${topic}`, "produce", { hook: 1 }, { "Content-Type": "application/json" }),
	onTopic("POST /upstash/fetch", "/upstash/fetch", "consume", { topic, partition: 0, offset: 0, timeout: 0 }),
	onGroup("POST /upstash/consume/:group/:instance", `/upstash/consume/${group}-upstash/matrix`, "consume", { topic, timeout: 0 }),
	onGroup("GET /upstash/consume/:group/:instance/:topic", `/upstash/consume/${group}-upstash/matrix-get/${topic}`, "consume"),
	onGroup("POST /upstash/consume/:group/:instance/:topic", `/upstash/consume/${group}-upstash/matrix-post/${topic}`, "consume", {
		timeout: 0,
	}),
	onGroup("GET /upstash/commit/:group/:instance", `/upstash/commit/${group}-upstash/absent`, "consume"),
	onGroup("POST /upstash/commit/:group/:instance", `/upstash/commit/${group}-upstash/absent`, "consume"),
	onGroup("POST /upstash/committed/:group/:instance", `/upstash/committed/${group}/absent`, "describe", [{ topic, partition: 0 }]),
	onGroup("POST /upstash/delete-consumer/:group/:instance", `/upstash/delete-consumer/${group}-upstash/absent`, "consume"),
	onGroup("DELETE /upstash/delete-consumer/:group/:instance", `/upstash/delete-consumer/${group}-upstash/absent`, "consume"),
	{
		route: "GET /upstash/topics",
		path: "/upstash/topics",
		granted: [{ resource: `topic:${topic}`, operations: ["describe"] }],
		denied: [{ resource: "topic:elsewhere", operations: ALL }],
		hides: (body) => !JSON.stringify(body).includes(topic),
	},
	{
		route: "GET /upstash/consumers",
		path: "/upstash/consumers",
		granted: [{ resource: `group:${group}`, operations: ["describe"] }],
		denied: [{ resource: "group:elsewhere", operations: ALL }],
		hides: (body) => !JSON.stringify(body).includes(group),
	},
	onTopic("POST /upstash/offsets/:timestamp", "/upstash/offsets/latest", "describe", [{ topic, partition: 0 }]),
	// Durable Streams: errors are {"error":{"code":"UNAUTHORIZED"…}} (see expectRefusal).
	onStream("PUT /ds/v1/stream/:path{.+}", `${DS}-put`, "admin", { "Content-Type": "text/plain" }),
	onStream("POST /ds/v1/stream/:path{.+}", `${DS}-s`, "produce", undefined, { hello: "matrix" }),
	onStream("GET /ds/v1/stream/:path{.+}", `${DS}-s?offset=-1`, "consume"),
	onStream("DELETE /ds/v1/stream/:path{.+}", `${DS}-absent`, "admin"),
];

/** A refusal's body: Tributary's `{"error":{"code",…}}`, or under /upstash Upstash's `{"error":"<message>","status"}`. */
function expectRefusal(c: Case, body: unknown, code: string, status: number): void {
	if (c.path.startsWith("/upstash/")) expect(body).toEqual({ error: expect.any(String), status });
	else if (c.path.startsWith("/ds/")) expect(body).toMatchObject({ error: { code: code.toUpperCase(), retriable: false } });
	else expect(body).toMatchObject({ error: { code, ...(code === "forbidden" ? { retriable: false } : {}) } });
}

function methodOf(c: Case): string {
	return c.route.split(" ")[0] ?? "GET";
}

describe("ACL matrix", () => {
	beforeAll(async () => {
		await createTopic(topic, 2);
		await produce(topic, [{ value: "seed" }]);
		expect((await call("PUT", `${DS}-s`, { headers: { "Content-Type": "application/json" } })).status).toBe(201);
		// A session that outlives the whole matrix, so the group stays listed for the routes that list it.
		await json("POST", `${G}/members`, 200, { body: { topics: [topic], session_timeout_ms: 1_800_000 } });
	});

	it("covers every route in the route table", () => {
		expect(CASES.map((c) => c.route).sort()).toEqual(Object.keys(ROUTES).sort());
	});

	async function send(c: Case, auth: { token: string | null; headers?: Record<string, string> }, anonymousAcl: AclEntry[] = []) {
		// `PUT /v1/anonymous` sends the grant anonymous holds right now, so passing it changes nothing.
		const body = c.body === "granted" ? { acl: anonymousAcl } : c.body;
		const response = await call(methodOf(c), c.path, {
			...(body === undefined ? {} : { body }),
			token: auth.token,
			headers: { ...c.headers, ...auth.headers },
		});
		const text = await response.text();
		const json = (response.headers.get("Content-Type") ?? "").includes("json");
		return { status: response.status, body: text === "" || !json ? null : (JSON.parse(text) as unknown), text };
	}

	// Each route creates its two keys itself: made all ahead of the matrix, in one hook, ~180 keys took longer than
	// that hook's bound on a loaded machine. Each route's dozen requests have the config's bound on a hung test.
	it.each(CASES.map((c) => [c.route, c] as const))("%s", async (_, c) => {
		const [granted, denied] = await Promise.all([createKey(c.granted), createKey(c.denied)]);
		const pair = { granted, denied };
		const none = await send(c, { token: null });
		expect(none.status, none.text).toBe(401);
		expectRefusal(c, none.body, "unauthorized", 401);

		const wrong = await send(c, { token: `trb_${KEY_ID}_${"A".repeat(43)}` });
		expect(wrong.status, wrong.text).toBe(401);
		const wrongBasic = await send(c, { token: null, headers: basic(pair.granted.id, pair.denied.secret) });
		expect(wrongBasic.status, wrongBasic.text).toBe(401);

		const without = await send(c, { token: pair.denied.secret });
		if (c.hides === undefined) {
			expect(without.status, without.text).toBe(403);
			expectRefusal(c, without.body, "forbidden", 403);
		} else {
			expect(without.status, without.text).toBe(200);
			expect(c.hides(without.body)).toBe(true);
		}

		const withRight = await send(c, { token: null, headers: basic(pair.granted.id, pair.granted.secret) });
		expect([401, 403], withRight.text).not.toContain(withRight.status);
		expect(withRight.status, withRight.text).toBeLessThan(500);
		if (c.hides !== undefined) expect(c.hides(withRight.body)).toBe(false);

		// Anonymous granted what each key holds in turn, by the admin token (the matrix's own setup).
		closeAnonymousAtTestEnd();
		await grantAnonymous(c.denied);
		const anonymousWithout = await send(c, { token: null }, c.denied);
		if (c.hides === undefined || c.denied.length === 0) {
			expect(anonymousWithout.status, anonymousWithout.text).toBe(401);
			expectRefusal(c, anonymousWithout.body, "unauthorized", 401);
		} else {
			expect(anonymousWithout.status, anonymousWithout.text).toBe(200);
			expect(c.hides(anonymousWithout.body)).toBe(true);
		}
		await grantAnonymous(c.granted);
		const anonymousWith = await send(c, { token: null }, c.granted);
		expect([401, 403], anonymousWith.text).not.toContain(anonymousWith.status);
		expect(anonymousWith.status, anonymousWith.text).toBeLessThan(500);
		if (c.hides !== undefined) {
			// A listing shows anonymous what it shows a key with the same grant (a group may have gone idle since).
			const keyNow = await send(c, { token: null, headers: basic(pair.granted.id, pair.granted.secret) });
			expect(anonymousWith.body).toEqual(keyNow.body);
		}
	});
});

describe("the name a check reads is the name the handler acts on", () => {
	it("decodes a Durable Streams path with a malformed escape one way for both", async () => {
		const tag = uniqueTopic("s").replaceAll(".", "-");
		// The stream `%41%zz-…`: its path holds literal percent signs.
		const victim = `${DS_STREAM}/%2541%25zz-${tag}`;
		expect((await call("PUT", victim, { headers: { "Content-Type": "text/plain" }, raw: "not yours" })).status).toBe(201);
		const key = await createKey([{ resource: "topic:ds.A*", operations: ["consume", "produce", "admin"] }]);
		expect((await call("GET", `${victim}?offset=-1`, { token: key.secret })).status).toBe(403);
		// One malformed escape: decoded run by run, `%41%zz-…` is `A%zz-…`, a stream this key may use.
		const malformed = `${DS_STREAM}/%41%zz-${tag}`;
		const read = await call("GET", `${malformed}?offset=-1`, { token: key.secret });
		expect({ status: read.status, body: await read.text() }).not.toMatchObject({ body: "not yours" });
		await call("DELETE", malformed, { token: key.secret });
		const after = await call("GET", `${victim}?offset=-1`);
		expect({ status: after.status, body: await after.text() }).toEqual({ status: 200, body: "not yours" });
	});
});
