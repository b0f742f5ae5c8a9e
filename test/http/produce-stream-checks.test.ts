/**
 * The produce channel opened with `?checks=message`: each message is held to what a `POST …/records` of it is held
 * to, as it is appended. The key's existence and ACL are read afresh, its `requests_per_sec` is charged a request per
 * message, and its produce-bytes quota refuses a message in debt with a 429 report, nothing written, where the
 * default channel holds it back.
 */

import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KeyStore } from "../../src/auth/key-store.ts";
import { ProduceChannel } from "../../src/http/produce-channel.ts";
import { closeAnonymousAtTestEnd, grantAnonymous } from "../support/anonymous.ts";
import { createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { failedAsBug, offsetsOf, type Report } from "../support/produce-stream.ts";
import { openSocket } from "../support/socket.ts";
import { call, createTopic, fetchRecords, highWatermarks, json } from "../support/worker.ts";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Key `id`'s calls from now on to its authority's charging methods, by name. */
function chargeCalls(id: string): string[] {
	const calls: string[] = [];
	for (const name of ["chargeQuotas", "chargeEach"] as const) {
		const method = KeyStore.prototype[name] as (this: KeyStore, keyId: string, ...rest: never[]) => Promise<unknown>;
		if (method === undefined) continue;
		vi.spyOn(KeyStore.prototype, name).mockImplementation(function (this: KeyStore, keyId: string, ...rest: never[]) {
			if (keyId === id) calls.push(name);
			return method.call(this, keyId, ...rest);
		} as never);
	}
	return calls;
}

afterEach(() => vi.restoreAllMocks());

const openChecked = (topic: string, token?: string | null) =>
	openSocket<Report>(`/v1/topics/${topic}/records/stream?checks=message`, token).then((s) => ({ ...s, reports: s.messages }));

describe("produce stream with checks=message", () => {
	it("refuses a message over the produce-bytes quota with a 429 report and writes nothing of it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		// 100 bytes a second: the first message (a full bucket) goes and puts the key in debt for seconds.
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { produce_bytes_per_sec: 100 });
		const socket = await openChecked(topic, key.secret);
		const sent = 5;
		for (const i of range(sent)) socket.ws.send(JSON.stringify({ value: `${i}`.repeat(200) }));
		await socket.until(() => socket.reports.length === sent);
		expect(socket.reports[0]?.offsets?.[0]?.offset).toBe(0);
		for (const report of socket.reports.slice(1)) {
			expect(report.status).toBe(429);
			expect(report.error?.code).toBe("quota_exceeded");
			expect(report.error?.quota).toBe("produce_bytes_per_sec");
			expect(report.error?.retry_after_ms).toBeGreaterThan(0);
		}
		expect(await highWatermarks(topic)).toEqual([1]);
		socket.ws.close(1000, "done");
	});

	it("charges requests_per_sec a request per message", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { requests_per_sec: 2 });
		const socket = await openChecked(topic, key.secret);
		const sent = 20;
		for (const i of range(sent)) socket.ws.send(JSON.stringify({ value: i }));
		await socket.until(() => socket.reports.length === sent);
		const written = offsetsOf(socket.reports);
		const refused = socket.reports.filter((r) => r.status === 429);
		// The opening paid one request of the two a second's bucket holds; a refill of milliseconds may let one more go.
		expect(written.length).toBeGreaterThanOrEqual(1);
		expect(written.length).toBeLessThanOrEqual(3);
		expect(refused.length).toBe(sent - written.length);
		expect(refused[0]?.error?.quota).toBe("requests_per_sec");
		expect(await highWatermarks(topic)).toEqual([written.length]);
		socket.ws.close(1000, "done");
	});

	it("refuses the messages of a deleted key from the next one on, 401 as a request with it", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }]);
		const socket = await openChecked(topic, key.secret);
		socket.ws.send(JSON.stringify({ value: "before" }));
		await socket.until(() => socket.reports.length === 1);
		expect(offsetsOf(socket.reports)).toEqual([0]);
		expect((await call("DELETE", `/v1/keys/${key.id}`)).status).toBe(204);
		socket.ws.send(JSON.stringify({ value: "after" }));
		await socket.until(() => socket.reports.length === 2);
		expect(socket.reports[1]).toMatchObject({ status: 401, error: { code: "unauthorized", message: "invalid credentials" } });
		expect(await highWatermarks(topic)).toEqual([1]);
		socket.ws.close(1000, "done");
	});

	it("reads anonymous's grant for each message: one taken away refuses the next", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		closeAnonymousAtTestEnd();
		await grantAnonymous([{ resource: `topic:${topic}`, operations: ["produce", "describe"] }]);
		const socket = await openChecked(topic, null);
		socket.ws.send(JSON.stringify({ value: "before" }));
		await socket.until(() => socket.reports.length === 1);
		expect(offsetsOf(socket.reports)).toEqual([0]);
		await grantAnonymous([{ resource: `topic:${topic}`, operations: ["describe"] }]);
		socket.ws.send(JSON.stringify({ value: "after" }));
		await socket.until(() => socket.reports.length === 2);
		expect(socket.reports[1]).toMatchObject({ status: 401, error: { code: "unauthorized", resource: `topic:${topic}` } });
		socket.ws.close(1000, "done");
		expect(await highWatermarks(topic)).toEqual([1]);
	});

	it("is taken by the NDJSON stream too, and refused by any other value before the stream opens", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { requests_per_sec: 1 });
		const lines = range(10).map((i) => JSON.stringify({ value: i }));
		const response = await call("POST", `/v1/topics/${topic}/records/stream?checks=message`, {
			headers: { "Content-Type": "application/x-ndjson" },
			raw: `${lines.join("\n")}\n`,
			token: key.secret,
		});
		expect(response.status).toBe(200);
		const reports = (await response.text())
			.split("\n")
			.filter((line) => line !== "")
			.map((line) => JSON.parse(line) as Report);
		expect(reports).toHaveLength(lines.length);
		expect(reports.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(lines.length - 2);
		const wrong = await call("GET", `/v1/topics/${topic}/records/stream?checks=stream`, { headers: { Upgrade: "websocket" } });
		expect(wrong.status).toBe(400);
	});
	it("charges a run of messages at the key's authority in one call, as the messages one after another", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { produce_bytes_per_sec: 5 });
		const calls = chargeCalls(key.id);
		// No requests_per_sec: the stream's opening charges nothing. One body, one run: the first message puts the key in
		// debt, the later (smaller) ones are refused for it.
		const lines = [JSON.stringify({ value: "x".repeat(100) }), ...range(9).map((i) => JSON.stringify({ value: i }))];
		const response = await call("POST", `/v1/topics/${topic}/records/stream?checks=message`, {
			headers: { "Content-Type": "application/x-ndjson" },
			raw: `${lines.join("\n")}\n`,
			token: key.secret,
		});
		const reports = (await response.text())
			.split("\n")
			.filter((line) => line !== "")
			.map((line) => JSON.parse(line) as Report);
		expect(reports.map((r) => r.status ?? 200)).toEqual([200, ...range(9).map(() => 429)]);
		expect(calls, "the key's charging calls at its authority").toEqual(["chargeEach"]);
	});

	it("appends a run with a refusal in it message by message: a message let through after a refused one is written as itself", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const { producer_id, epoch } = await json<{ producer_id: number; epoch: number }>("POST", "/v1/producers", 200, {});
		const written: string[] = [];
		let runs = 0;
		const refusal = { code: "quota_exceeded" as const, message: "over", details: { retry_after_ms: 5 } };
		const channel = new ProduceChannel(env, topic, {
			failed: failedAsBug,
			write: (reports) => void written.push(...reports),
			// The first run's middle message refused (a bucket refilled between one message's charge and the next's).
			admit: async (sizes) => {
				const first = runs++ === 0;
				return sizes.map((_, i) => (first && i === 1 ? refusal : null));
			},
		});
		const message = (sequence: number) =>
			JSON.stringify({ producer_id, epoch, sequence, records: [{ partition: 0, value: `s${sequence}` }] });
		for (const sequence of [0, 1, 2]) channel.accept(message(sequence));
		await channel.finish();
		channel.accept(message(1));
		await channel.finish();
		const reports = written.map((w) => JSON.parse(w) as Report);
		const acknowledged = ["s0", "s1", "s2", "s1"].filter((_, i) => reports[i]?.offsets !== undefined);
		const stored = (await fetchRecords(topic, 0)).records.map((r) => r.value);
		expect(reports[1]?.status, "the middle one refused").toBe(429);
		expect(acknowledged.length).toBeGreaterThanOrEqual(2);
		for (const value of acknowledged) expect(stored, `${value} acknowledged`).toContain(value);
	});

	it("falls back to one chargeQuotas per message, in order, against a key authority of the previous version (no chargeEach)", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const key = await createKey([{ resource: `topic:${topic}`, operations: ["produce"] }], { requests_per_sec: 1_000 });
		const proto = KeyStore.prototype as unknown as Record<string, unknown>;
		const chargeEach = proto.chargeEach;
		// An authority still running the previous version during a deploy: workerd rejects the call with a TypeError.
		delete proto.chargeEach;
		try {
			const socket = await openSocket<Report>(`/v1/topics/${topic}/records/stream?checks=message`, key.secret);
			const calls = chargeCalls(key.id);
			for (const i of [0, 1, 2]) socket.ws.send(JSON.stringify({ value: i }));
			await socket.until(() => socket.messages.length === 3);
			expect(socket.messages.map((r) => r.status ?? 200)).toEqual([200, 200, 200]);
			expect(offsetsOf(socket.messages)).toEqual([0, 1, 2]);
			expect(calls, "one chargeQuotas a message").toEqual(["chargeQuotas", "chargeQuotas", "chargeQuotas"]);
			socket.ws.close(1000, "done");
		} finally {
			proto.chargeEach = chargeEach;
		}
	});
});
