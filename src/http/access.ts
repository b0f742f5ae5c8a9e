/**
 * @module
 * Checks of what the caller may do, for handlers whose resource is in the body or whose answer is filtered
 * (see `ROUTES` in route-table.ts). The admin token may do everything; a key what its ACL allows.
 */

import type { Context } from "hono";
import { allows, type Operation, type Resource } from "../auth/acl.ts";
import { ApiError, type ErrorDetails } from "../shared/errors.ts";
import type { AppEnv } from "./app-env.ts";
import type { Principal } from "./middleware/authenticate.ts";

/** Topics only the broker writes: refused for produce and admin over the API, to everyone. */
export const AUDIT_TOPIC = "_audit";

export function describeResource(resource: Resource): string {
	return resource.kind === "cluster" ? "cluster" : `${resource.kind} "${resource.name}"`;
}

export function principalMay(principal: Principal, resource: Resource, operation: Operation): boolean {
	if (resource.kind === "topic" && resource.name === AUDIT_TOPIC && (operation === "produce" || operation === "admin")) return false;
	return principal.kind === "admin" || allows(principal.key.acl, resource, operation);
}

export function may(c: Context<AppEnv>, resource: Resource, operation: Operation): boolean {
	// `c.get`, not `c.var`: Hono builds `c.var` afresh, from every variable, on each read.
	return principalMay(c.get("principal"), resource, operation);
}

/**
 * Throws 403 unless the caller may. The message names only what was asked, so it reads the same whether the
 * resource exists or not.
 */
export function requireAccess(c: Context<AppEnv>, resource: Resource, operation: Operation): void {
	const refused = accessRefusal(c.get("principal"), resource, operation);
	if (refused !== null) throw refused;
}

/** `requireAccess`'s refusal, or null when `principal` may. */
export function accessRefusal(principal: Principal, resource: Resource, operation: Operation): ApiError | null {
	if (principalMay(principal, resource, operation)) return null;
	return refusal(principal, `may not ${operation} ${describeResource(resource)}`, {
		operation,
		resource: resource.kind === "cluster" ? "cluster" : `${resource.kind}:${resource.name}`,
	});
}

/**
 * The error for a caller who may not do something: 403 for a key or the admin token; 401 for anonymous, whose
 * remedy is to authenticate (a credential-less request it has no right for answers exactly as before it existed).
 */
export function refusal(principal: Principal, what: string, details?: ErrorDetails): ApiError {
	if (principal.kind === "anonymous") {
		return new ApiError("unauthorized", `missing credentials: anonymous ${what}; send Authorization: Bearer <token>`, details);
	}
	const who = principal.kind === "key" ? `key "${principal.key.id}"` : "the admin token";
	return new ApiError("forbidden", `${who} ${what}`, details);
}

/** The caller's name in audit records and logs: never a secret. */
export function actorOf(principal: Principal): string {
	if (principal.kind === "anonymous") return principal.key.id;
	return principal.kind === "admin" ? "admin" : `key:${principal.key.id}`;
}
