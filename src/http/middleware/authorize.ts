/**
 * @module
 * What the caller may do: finds the route that will answer the request and checks it against
 * the route table (`ROUTES` in route-table.ts) before the handler runs. The admin token passes; a key passes only what its ACL allows,
 * and never a route the table does not list. Requests that no handler answers (404, 405) pass through to them.
 */

import type { MiddlewareHandler } from "hono";
import { refusal, requireAccess } from "../access.ts";
import type { AppEnv } from "../app-env.ts";
import { matchedRoute, type RouteParams } from "../route-table.ts";

function decodeSegment(segment: string): string {
	try {
		return decodeURIComponent(segment);
	} catch {
		return segment;
	}
}

/** Each route path's segments, split once: a route table's paths are few and fixed. */
const segmentsByRoute = new Map<string, readonly string[]>();

/** The parameters of `routePath` in `pathname`, segment by segment, as Hono's `c.req.param()` decodes them. */
export function routeParams(routePath: string, pathname: string): RouteParams {
	let names = segmentsByRoute.get(routePath);
	if (names === undefined) {
		names = routePath.split("/");
		segmentsByRoute.set(routePath, names);
	}
	const values = pathname.split("/");
	const params: Record<string, string> = {};
	names.forEach((name, i) => {
		if (!name.startsWith(":")) return;
		// `:name{.+}` takes the rest of the path, slashes included (a Durable Streams stream path).
		if (name.endsWith("{.+}")) params[name.slice(1, -4)] = decodeSegment(values.slice(i).join("/"));
		else params[name.slice(1)] = decodeSegment(values[i] ?? "");
	});
	return params;
}

/**
 * The path of `url`, a request's URL as the runtime serialized it (absolute, already normalized): what
 * `new URL(url).pathname` answers, without parsing the whole URL again on every request.
 */
export function pathnameOf(url: string): string {
	const start = url.indexOf("/", url.indexOf("//") + 2);
	if (start < 0) return "/";
	let end = start;
	while (end < url.length && url[end] !== "?" && url[end] !== "#") end++;
	return url.slice(start, end);
}

export function authorize(): MiddlewareHandler<AppEnv> {
	return async function authorize(c, next) {
		const route = matchedRoute(c);
		if (route === undefined) return next();
		const permission = route.facts?.permission;
		if (permission === undefined) {
			const principal = c.get("principal");
			if (principal.kind === "admin") return next();
			throw refusal(principal, "may not use this route: it is open to the admin token only");
		}
		if ("handler" in permission) return next();
		// The admin token passes too, except where no one may (writes to the internal `_audit` topic).
		requireAccess(c, permission.resource(routeParams(route.path, pathnameOf(c.req.url))), permission.operation);
		await next();
	};
}
