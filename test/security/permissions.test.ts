import { describe, expect, it } from "vitest";
import { app } from "../../src/http/app.ts";
import { ROUTE_PERMISSIONS } from "../../src/http/permissions.ts";
import { methodNotAllowed } from "../../src/http/routes/method-not-allowed.ts";

/** The pattern later routes follow: a /v1 route without an entry in ROUTE_PERMISSIONS fails here (and 403s keys). */
describe("ROUTE_PERMISSIONS", () => {
	const routes = app.routes.filter((r) => r.path.startsWith("/v1"));

	it("lists every /v1 route, and only routes that exist", () => {
		const registered = new Set(routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`));
		expect([...registered].sort()).toEqual(Object.keys(ROUTE_PERMISSIONS).sort());
	});

	it("binds nothing but middleware and the 405 fallback to every method", () => {
		for (const route of routes.filter((r) => r.method === "ALL")) {
			if (route.path === "/v1/*") continue;
			expect(route.handler, route.path).toBe(methodNotAllowed);
		}
	});
});
