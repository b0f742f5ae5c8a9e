import { describe, expect, it } from "vitest";
import { app } from "../../src/http/app.ts";
import { ROUTE_PERMISSIONS } from "../../src/http/permissions.ts";
import { methodNotAllowed } from "../../src/http/routes/method-not-allowed.ts";

/** The pattern later routes follow: a /v1 route without an entry in ROUTE_PERMISSIONS fails here (and 403s keys). */
describe("ROUTE_PERMISSIONS", () => {
	const routes = app.routes.filter((r) => r.path.startsWith("/v1"));

	it("lists every /v1 route, and only routes that exist", () => {
		const registered = new Set(routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`));
		expect([...registered].sort()).toEqual(
			Object.keys(ROUTE_PERMISSIONS)
				.filter((k) => k.includes(" /v1/"))
				.sort(),
		);
	});

	it("binds nothing but middleware and the 405 fallback to every method", () => {
		for (const route of routes.filter((r) => r.method === "ALL")) {
			if (route.path === "/v1/*") continue;
			expect(route.handler, route.path).toBe(methodNotAllowed);
		}
	});
});

// Confluent REST v3 (issue 7): the same rules for its mount.
describe("ROUTE_PERMISSIONS for /kafka/v3", () => {
	const routes = app.routes.filter((r) => r.path.startsWith("/kafka/v3"));

	it("lists every /kafka/v3 route, and only routes that exist", () => {
		const registered = new Set(routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`));
		expect([...registered].sort()).toEqual(
			Object.keys(ROUTE_PERMISSIONS)
				.filter((k) => k.includes(" /kafka/v3/"))
				.sort(),
		);
	});

	it("binds nothing but middleware and the 405 fallback to every method", () => {
		for (const route of routes.filter((r) => r.method === "ALL")) {
			if (route.path === "/kafka/v3/*") continue;
			expect(route.handler, route.path).toBe(methodNotAllowed);
		}
	});
});
