/**
 * The route table is complete: every route of every mount (`/v1`, `/kafka/v3`, `/upstash`, and any added later)
 * has its entry in `ROUTES`, and every entry a route. A route added without one fails here, and until it is
 * added keys are refused it and it draws on no byte quota.
 */
import { describe, expect, it } from "vitest";
import { app } from "../../src/http/app.ts";
import { ROUTES } from "../../src/http/route-table.ts";
import { ASSET_PATHS } from "../../src/http/routes/api-docs.ts";
import { methodNotAllowed } from "../../src/http/routes/method-not-allowed.ts";

/** Answered before authentication: no permission to check, no quota to charge. */
const UNAUTHENTICATED = new Set(["GET /healthz", ...ASSET_PATHS.map((path) => `GET ${path}`)]);

describe("the route table", () => {
	// An asset path's GET is the file from ASSETS first, then the route that answers when there is none: one route.
	const registered = app.routes.filter((r) => r.method !== "ALL" && r.handler.name !== "fromAssets").map((r) => `${r.method} ${r.path}`);

	it("lists every registered route, and only routes that exist", () => {
		expect(registered.length).toBeGreaterThan(40);
		expect(new Set(registered).size).toBe(registered.length);
		expect(registered.filter((r) => !UNAUTHENTICATED.has(r)).sort()).toEqual(Object.keys(ROUTES).sort());
	});

	it("binds nothing but middleware and the 405 fallback to every method", () => {
		for (const route of app.routes.filter((r) => r.method === "ALL")) {
			if (route.path.endsWith("/*")) continue;
			expect(route.handler, route.path).toBe(methodNotAllowed);
		}
	});

	it("charges produce bytes only where a body is produced, and fetch bytes only where records are read", () => {
		for (const [key, facts] of Object.entries(ROUTES)) {
			// A produce stream's messages arrive on a WebSocket opened by GET; its handler charges each append.
			const streamed = "chargedByHandler" in facts && facts.chargedByHandler === true;
			if (facts.byteQuota === "produce_bytes_per_sec") expect(key, key).toMatch(streamed ? /^(GET|POST) / : /^POST /);
			if (facts.byteQuota !== null && "operation" in facts.permission) {
				expect(facts.permission.operation, key).toBe(facts.byteQuota === "produce_bytes_per_sec" ? "produce" : "consume");
			}
		}
	});
});
