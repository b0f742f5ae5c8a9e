/**
 * Property-based fuzzing of the whole API: random methods, paths (traversal, unicode, huge numbers,
 * NaN, negative offsets), query strings, headers and bodies (deep JSON, invalid UTF-8, huge numbers) against
 * every route. Every answer must be 2xx/4xx, with a JSON error document on 4xx, never a 5xx; and afterwards
 * the log of a topic the fuzzer also produced to must hold exactly the records of its successful produces.
 *
 * Calls `app.fetch` directly (see `workerFetch` in test/support/worker.ts for why not `exports.default.fetch`), and
 * awaits each request's background work. Streaming reads (SSE, WebSocket) are left out: they never end by themselves.
 * Replay a run with `SIM_SEED=<seed> npx vitest run test/security/fuzz.test.ts`.
 */

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/http/app.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { replaySeed } from "../support/seed.ts";
import { ADMIN_TOKEN, BASE, createTopic, fetchRecords } from "../support/worker.ts";

const RUNS = 2_500;
/**
 * Bounds on a hang, not on speed: one run (two requests) that takes longer than RUN_TIMEOUT_MS fails as hung, so the
 * whole test's bound can leave room for a loaded machine, where the 5,000 requests took more than 120 s.
 */
const RUN_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 900_000;
const SEED = replaySeed() ?? Date.now() % 2_147_483_647;

const known = uniqueTopic("fuzz-log");
const scratch = uniqueTopic("fuzz-scratch");
let keySecret = "";

const hostile = fc.constantFrom(
	"",
	".",
	"..",
	"%2e%2e",
	"..%2F..%2Fetc%2Fpasswd",
	"%2F",
	"%00",
	"%ZZ",
	"%C0%AF",
	"NaN",
	"Infinity",
	"-1",
	"-0",
	"1e309",
	"0x10",
	"99999999999999999999999",
	"9007199254740993",
	"1.5",
	" 1",
	"ｔｏｐｉｃ",
	"😀",
	"a".repeat(300),
	"sub_00000000000000000000",
	"00000000000000000000",
);
const segment = fc.oneof(hostile, fc.string({ maxLength: 12 }), fc.constant(scratch), fc.constant("g1"));
const encodedSegment = fc.oneof(segment, segment.map(encodeURIComponent));
const cluster = fc.oneof(fc.constant("tributary"), encodedSegment); // Confluent REST v3

/** Route shapes of the API with each parameter drawn from hostile and plausible values. */
const path = fc.oneof(
	fc.constant("/v1/topics"),
	fc.constant("/v1/groups"),
	fc.constant("/v1/producers"),
	fc.constant("/v1/keys"),
	fc.constant("/healthz"),
	encodedSegment.map((t) => `/v1/topics/${t}`),
	encodedSegment.map((t) => `/v1/topics/${t}/records`),
	encodedSegment.map((t) => `/v1/topics/${t}/webhook`),
	fc.tuple(encodedSegment, encodedSegment).map(([t, p]) => `/v1/topics/${t}/partitions/${p}/records`),
	fc.tuple(encodedSegment, encodedSegment).map(([t, p]) => `/v1/topics/${t}/partitions/${p}/offsets`),
	encodedSegment.map((t) => `/v1/topics/${t}/subscriptions`),
	fc.tuple(encodedSegment, encodedSegment).map(([t, s]) => `/v1/topics/${t}/subscriptions/${s}`),
	fc.tuple(encodedSegment, encodedSegment).map(([t, s]) => `/v1/topics/${t}/subscriptions/${s}/replay`),
	fc.tuple(encodedSegment, encodedSegment).map(([t, s]) => `/v1/topics/${t}/subscriptions/${s}/deliveries`),
	encodedSegment.map((g) => `/v1/groups/${g}`),
	encodedSegment.map((g) => `/v1/groups/${g}/members`),
	fc.tuple(encodedSegment, encodedSegment).map(([g, m]) => `/v1/groups/${g}/members/${m}/poll`),
	fc.tuple(encodedSegment, encodedSegment).map(([g, m]) => `/v1/groups/${g}/members/${m}/heartbeat`),
	fc.tuple(encodedSegment, encodedSegment).map(([g, m]) => `/v1/groups/${g}/members/${m}`),
	encodedSegment.map((g) => `/v1/groups/${g}/offsets`),
	encodedSegment.map((g) => `/v1/groups/${g}/offsets/reset`),
	encodedSegment.map((k) => `/v1/keys/${k}`),
	fc.array(encodedSegment, { maxLength: 6 }).map((parts) => `/v1/${parts.join("/")}`),
	// Confluent REST v3.
	fc.constant("/kafka/v3/clusters"),
	cluster.map((c) => `/kafka/v3/clusters/${c}`),
	fc.tuple(cluster, encodedSegment).map(([c, t]) => `/kafka/v3/clusters/${c}/topics/${t}`),
	fc
		.tuple(cluster, encodedSegment, fc.constantFrom("records", "records:batch", "records%3Abatch", "records:x"))
		.map(([c, t, op]) => `/kafka/v3/clusters/${c}/topics/${t}/${op}`),
	fc.array(encodedSegment, { maxLength: 6 }).map((parts) => `/kafka/v3/${parts.join("/")}`),
	// Upstash Kafka REST.
	fc.constantFrom("/upstash/produce", "/upstash/fetch", "/upstash/topics", "/upstash/consumers", "/upstash/webhook"),
	encodedSegment.map((t) => `/upstash/produce/${t}`),
	fc.tuple(encodedSegment, encodedSegment).map(([t, m]) => `/upstash/produce/${t}/${m}`),
	fc
		.tuple(fc.constantFrom("consume", "commit", "committed", "delete-consumer"), encodedSegment, encodedSegment)
		.map(([call, g, i]) => `/upstash/${call}/${g}/${i}`),
	fc.tuple(encodedSegment, encodedSegment, encodedSegment).map(([g, i, t]) => `/upstash/consume/${g}/${i}/${t}`),
	fc.oneof(fc.constantFrom("earliest", "latest"), encodedSegment).map((at) => `/upstash/offsets/${at}`),
	fc.array(encodedSegment, { maxLength: 6 }).map((parts) => `/upstash/${parts.join("/")}`),
);

/** Query parameters every route reads, with hostile values; `wait_ms` stays 0 so nothing long-polls. */
const query = fc
	.array(
		fc.tuple(
			fc.constantFrom("offset", "max_records", "max_bytes", "at", "limit", "key", "partition", "x", "offset[]", ""),
			fc.oneof(hostile, fc.string({ maxLength: 8 }), fc.constantFrom("earliest", "latest", "0", "1")),
		),
		{ maxLength: 4 },
	)
	.map((pairs) => {
		const params = new URLSearchParams(pairs);
		params.set("wait_ms", "0");
		return `?${params}`;
	});

const deepJson = fc.integer({ min: 50, max: 20_000 }).map((depth) => `${"[".repeat(depth)}${"]".repeat(depth)}`);
const hugeNumbers = fc.constantFrom(
	'{"records":[{"value":1e999999}]}',
	'{"records":[{"value":123456789012345678901234567890,"partition":1e3}]}',
	'{"name":"x","partitions":99999999999999999999}',
	'{"records":[{"value":1,"timestamp":-1}]}',
	'{"records":[{"value":1,"partition":-1}]}',
	'{"offset":-5,"partition":NaN}',
	'{"max_records":1e400,"wait_ms":0}',
	'{"member_id":"m","generation":1.5,"offsets":[{"topic":"t","partition":0,"offset":-1}]}',
);
const invalidUtf8 = fc
	.uint8Array({ minLength: 1, maxLength: 64 })
	.map((bytes) => new Uint8Array([0xc3, 0x28, 0xff, ...bytes, 0xed, 0xa0, 0x80]));

/** An Upstash produce message, plausible or not. */
const upstashMessage = fc.record({
	topic: segment,
	value: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
	partition: fc.oneof(fc.integer(), fc.string()),
});

/** Bodies: plausible documents for each route, random JSON, and hostile text and bytes. */
const body: fc.Arbitrary<BodyInit | undefined> = fc.oneof(
	fc.constant(undefined),
	fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
	fc.record({ records: fc.array(fc.record({ value: fc.jsonValue({ maxDepth: 2 }) }), { maxLength: 3 }) }).map((v) => JSON.stringify(v)),
	fc.record({ name: segment, partitions: fc.oneof(fc.integer(), fc.string()) }).map((v) => JSON.stringify(v)),
	fc
		.record({ name: fc.string({ maxLength: 10 }), acl: fc.array(fc.record({ resource: fc.string(), operations: fc.array(fc.string()) })) })
		.map((v) => JSON.stringify(v)),
	fc.record({ topics: fc.array(segment, { maxLength: 2 }) }).map((v) => JSON.stringify(v)),
	// Confluent REST v3: concatenated records and batches, plausible or not.
	fc
		.array(
			fc.record({ value: fc.record({ type: fc.constantFrom("JSON", "BINARY", "STRING", "AVRO"), data: fc.jsonValue({ maxDepth: 2 }) }) }),
			{
				maxLength: 3,
			},
		)
		.map((records) => records.map((r) => JSON.stringify(r)).join("")),
	fc
		.record({
			entries: fc.array(fc.record({ id: fc.oneof(fc.string({ maxLength: 4 }), fc.nat()), value: fc.jsonValue({ maxDepth: 2 }) }), {
				maxLength: 3,
			}),
		})
		.map((v) => JSON.stringify(v)),
	// Upstash Kafka REST: messages, fetches, consumes and offsets; timeouts stay 0 so nothing long-polls.
	fc.oneof(upstashMessage, fc.array(upstashMessage, { maxLength: 2 })).map((v) => JSON.stringify(v)),
	fc
		.record({
			topic: segment,
			partition: fc.integer({ min: -1, max: 3 }),
			offset: fc.oneof(fc.integer(), fc.double()),
			timeout: fc.constant(0),
		})
		.map((v) => JSON.stringify(v)),
	fc.record({ topics: fc.array(segment, { maxLength: 2 }), timeout: fc.constant(0) }).map((v) => JSON.stringify(v)),
	fc
		.array(fc.record({ topic: segment, partition: fc.integer({ min: -1, max: 3 }), offset: fc.integer() }), { maxLength: 2 })
		.map((v) => JSON.stringify(v)),
	deepJson,
	hugeNumbers,
	invalidUtf8,
	fc.string({ maxLength: 64 }),
);

const headers = fc.record(
	{
		"Content-Type": fc.constantFrom("application/json", "application/x-ndjson", "text/plain", "application/octet-stream", "", "json; x=y"),
		"Content-Length": fc.constantFrom("-1", "NaN", "99999999999999999999", "0", "1e3"),
		"Idempotency-Key": fc.oneof(
			fc.string({ maxLength: 8 }).filter((v) => /^[\x20-\x7e]*$/.test(v)),
			fc.constant("k".repeat(300)),
		),
		// Header values stay ASCII: non-ASCII ones are refused by browsers and only warned about by workerd.
		"Last-Event-ID": hostile.filter((v) => /^[\x20-\x7e]*$/.test(v)),
		"X-Request-Id": fc.string({ maxLength: 20, unit: "binary-ascii" }).filter((v) => /^[\x20-\x7e]*$/.test(v)),
	},
	{ requiredKeys: [] },
);

const auth = fc.constantFrom<"admin" | "key" | "none" | "garbage" | "basic">("admin", "admin", "admin", "key", "none", "garbage", "basic");

function authorization(kind: "admin" | "key" | "none" | "garbage" | "basic"): string | null {
	switch (kind) {
		case "admin":
			return `Bearer ${ADMIN_TOKEN}`;
		case "key":
			return `Bearer ${keySecret}`;
		case "none":
			return null;
		case "garbage":
			return "Bearer trb_zz_%%";
		case "basic":
			return "Basic ####";
	}
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "PROPFIND"] as const;

interface Spec {
	readonly method: string;
	readonly url: string;
	readonly headers: Record<string, string>;
	readonly body: BodyInit | undefined;
	readonly auth: "admin" | "key" | "none" | "garbage" | "basic";
}

const randomRequest: fc.Arbitrary<Spec> = fc.record({
	method: fc.constantFrom(...METHODS),
	url: fc.tuple(path, query).map(([p, q]) => p + q),
	headers,
	body,
	auth,
});

/** Produces to the known topic: valid, or one mutation away from valid. */
const produceRequest: fc.Arbitrary<Spec & { value: number }> = fc
	.record({
		value: fc.nat(),
		mutation: fc.constantFrom("none", "none", "none", "partition", "value-missing", "extra-field", "truncate", "deep", "ndjson"),
		auth,
	})
	.map(({ value, mutation, auth }) => {
		const record: Record<string, unknown> = { value: { fuzz: value } };
		if (mutation === "partition") record.partition = 1;
		if (mutation === "value-missing") delete record.value;
		if (mutation === "extra-field") record.extra = true;
		if (mutation === "deep") record.value = JSON.parse(`${"[".repeat(70)}${"]".repeat(70)}`);
		let text = JSON.stringify({ records: [record] });
		if (mutation === "truncate") text = text.slice(0, -2);
		if (mutation === "ndjson") text = `${JSON.stringify(record)}\n`;
		const type = mutation === "ndjson" ? "application/x-ndjson" : "application/json";
		return { method: "POST", url: `/v1/topics/${known}/records`, headers: { "Content-Type": type }, body: text, auth, value };
	});

async function send(spec: Spec): Promise<Response> {
	const requestHeaders = new Headers();
	for (const [name, value] of Object.entries(spec.headers)) {
		try {
			requestHeaders.set(name, value);
		} catch {
			// A header value the Headers class itself refuses never reaches a server.
		}
	}
	const token = authorization(spec.auth);
	if (token !== null) requestHeaders.set("Authorization", token);
	const hasBody = spec.body !== undefined && spec.method !== "GET" && spec.method !== "HEAD";
	if (!hasBody) requestHeaders.delete("Content-Length");
	const request = new Request(`${BASE}${spec.url}`, {
		method: spec.method,
		headers: requestHeaders,
		body: hasBody ? spec.body : undefined,
	});
	const ctx = createExecutionContext();
	const response = await app.fetch(request, env, ctx);
	await waitOnExecutionContext(ctx);
	return response;
}

async function checkResponse(spec: Spec, response: Response): Promise<void> {
	const text = await response.text();
	const where = `${spec.method} ${spec.url} (${spec.auth}) → ${response.status} ${text.slice(0, 300)}`;
	expect(response.status, where).toBeGreaterThanOrEqual(200);
	expect(response.status, where).toBeLessThan(500);
	expect(response.status >= 300 && response.status < 400, where).toBe(false);
	// Upstash's dialect: {"error":"<message>","status":<code>}, for paths that stay under the mount ("/upstash/../" leaves it).
	if (response.status >= 400 && spec.method !== "HEAD" && new URL(`${BASE}${spec.url}`).pathname.startsWith("/upstash/")) {
		expect(JSON.parse(text), where).toEqual({ error: expect.any(String), status: response.status });
	} else if (response.status >= 400 && spec.method !== "HEAD") {
		const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; retriable?: unknown } };
		expect(typeof parsed.error?.code, where).toBe("string");
		expect(typeof parsed.error?.message, where).toBe("string");
		expect(typeof parsed.error?.retriable, where).toBe("boolean");
	}
}

describe(`fuzz (seed ${SEED})`, () => {
	beforeAll(async () => {
		await createTopic(known, 2);
		await createTopic(scratch, 1);
		keySecret = (await createKey([{ resource: "topic:fuzz-*", operations: ["produce", "consume"] }])).secret;
	});

	it(
		`answers ${RUNS * 2} hostile requests with 2xx/4xx JSON, never 5xx, and loses or invents no record`,
		async () => {
			console.log(`fuzz seed ${SEED} (replay: SIM_SEED=${SEED})`);
			const produced: number[] = [];
			await fc.assert(
				fc.asyncProperty(randomRequest, produceRequest, async (random, producing) => {
					await checkResponse(random, await send(random));
					const response = await send(producing);
					if (response.status === 200) produced.push(producing.value);
					await checkResponse(producing, response);
				}),
				{ numRuns: RUNS, seed: SEED, endOnFailure: true, timeout: RUN_TIMEOUT_MS },
			);
			const values: number[] = [];
			for (const partition of [0, 1]) {
				let offset = 0;
				for (;;) {
					const page = await fetchRecords(known, partition, `offset=${offset}&max_records=10000`);
					for (const record of page.records) values.push((record.value as { fuzz: number }).fuzz);
					if (page.records.length === 0) break;
					offset = page.next_offset;
				}
			}
			expect(produced.length, "the fuzzer must also produce successfully").toBeGreaterThan(RUNS / 4);
			expect(values.sort((a, b) => a - b)).toEqual([...produced].sort((a, b) => a - b));
		},
		TEST_TIMEOUT_MS,
	);
});
