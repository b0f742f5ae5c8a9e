/**
 * With CORS on, a tail's WebSocket upgrade (a partition's 101, whose headers are immutable, so CORS copies it) still
 * hands over its socket, carrying the records, with CORS's headers and none of the security headers' (as before CORS
 * was set on the answer instead of on Hono's context).
 */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/http/app.ts";
import { API_CORS } from "../../src/http/middleware/cors.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, BASE, createTopic, produce } from "../support/worker.ts";

const ORIGIN = "https://console.example";

describe("with CORS on, a WebSocket upgrade", () => {
	it("of a tail is a socket that carries the records", async () => {
		const topic = uniqueTopic();
		await createTopic(topic);
		const request = new Request(`${BASE}/v1/topics/${topic}/partitions/0/records?offset=0`, {
			headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, Origin: ORIGIN, Upgrade: "websocket" },
		});
		const response = await app.fetch(request, { ...env, CORS_ORIGINS: ORIGIN }, createExecutionContext());
		const ws = response.webSocket;
		expect({ status: response.status, socket: ws !== null, headers: [...response.headers].sort() }).toEqual({
			status: 101,
			socket: true,
			headers: [
				["access-control-allow-origin", ORIGIN],
				["access-control-expose-headers", API_CORS.exposeHeaders],
				["vary", "Origin"],
			],
		});
		if (ws === null) return;
		const got = new Promise<string>((resolve) => ws.addEventListener("message", (event) => resolve(event.data as string)));
		ws.accept();
		await produce(topic, [{ value: "x" }]);
		expect(JSON.parse(await got).records.map((r: { value: unknown }) => r.value)).toEqual(["x"]);
		ws.close();
	});
});
