/**
 * CORS with `CORS_ORIGINS` absent from the env altogether (a deployment that removed the var), on an isolate's
 * first request. Its own file, so nothing else has run in the isolate first: a cache of the CORS handler per
 * `CORS_ORIGINS` value once mistook "nothing built yet" for "built for an unset value" and answered 500.
 */

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { app } from "../../src/http/app.ts";
import { ADMIN_TOKEN, BASE } from "../support/worker.ts";

it("answers an isolate's first request when CORS_ORIGINS is not set at all, with no CORS header", async () => {
	const { CORS_ORIGINS: _, ...unset } = env as Env & { CORS_ORIGINS?: string };
	for (let i = 0; i < 2; i++) {
		const ctx = createExecutionContext();
		const request = new Request(`${BASE}/v1/topics`, {
			headers: { Origin: "https://console.example", Authorization: `Bearer ${ADMIN_TOKEN}` },
		});
		const response = await app.fetch(request, unset, ctx);
		await waitOnExecutionContext(ctx);
		expect(response.status, await response.text()).toBe(200);
		expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
	}
});
