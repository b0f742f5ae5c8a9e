/**
 * @module
 * The 405 for a known path with an unsupported method, registered for every path the app routes once they are all
 * mounted (`answerOtherMethods`), so after each path's real handlers. It carries
 * `Allow` (RFC 9110 §15.5.6), learnt from the app's own route list, and for the usual wrong turns says which
 * resource was probably meant.
 */

import type { Context } from "hono";
import { routePath } from "hono/route";
import type { RouterRoute } from "hono/types";
import { ApiError } from "../../shared/errors.ts";

/** Methods by route pattern ("/v1/topics/:topic"), filled once the app has every route (`answerOtherMethods`). */
const allowedByPattern = new Map<string, Set<string>>();

/** Confluent v3's ACL changes: Tributary's rights are a key's, fixed when it is made. */
const ACLS_ARE_KEYS =
	"ACLs belong to API keys and are fixed when a key is made: create a key with its ACL (POST /v1/keys) and delete the key to remove them (DELETE /v1/keys/{id})";

/** Where to go instead, by "METHOD pattern": the mistakes people make first. */
const HINTS: Readonly<Record<string, string>> = {
	"GET /v1/topics/:topic/records":
		"to read a topic, GET /v1/topics/{topic}/partitions/{partition}/records, or poll a consumer group: POST /v1/groups/{group}/members/{member}/poll",
	"POST /v1/topics/:topic/partitions/:partition/records":
		'to produce to one partition, POST /v1/topics/{topic}/records with "partition" in each record',
	"GET /v1/groups/:group/members/:member/poll": "a poll is a POST (its optional body holds max_records, wait_ms, auto_commit)",
	"GET /v1/groups/:group/offsets": "committed offsets and lag are in GET /v1/groups/{group}",
	"POST /kafka/v3/clusters/:cluster_id/acls": ACLS_ARE_KEYS,
	"DELETE /kafka/v3/clusters/:cluster_id/acls": ACLS_ARE_KEYS,
};

/**
 * Answers every other method on each path `app` routes with the 405, after the path's handlers, and records the
 * methods each path answers for it. Called once, after every route is mounted: one registration per path here,
 * not one written after each path's handlers in each route module. No route pattern matches another's paths, so
 * registering a path's 405 after every route rather than right after its own changes no answer.
 */
export function answerOtherMethods(app: {
	readonly routes: readonly RouterRoute[];
	all(path: string, handler: typeof methodNotAllowed): unknown;
}): void {
	for (const { method, path } of app.routes) {
		if (method === "ALL") continue;
		const methods = allowedByPattern.get(path) ?? new Set<string>();
		methods.add(method);
		// Hono answers HEAD from the GET handler.
		if (method === "GET") methods.add("HEAD");
		allowedByPattern.set(path, methods);
	}
	for (const path of allowedByPattern.keys()) app.all(path, methodNotAllowed);
}

export function methodNotAllowed(c: Context): never {
	const pattern = routePath(c);
	const allowed = [...(allowedByPattern.get(pattern) ?? [])];
	if (allowed.length > 0) c.header("Allow", allowed.join(", "));
	const hint = HINTS[`${c.req.method} ${pattern}`];
	const answers = allowed.length > 0 ? `; it answers ${allowed.filter((m) => m !== "HEAD").join(", ")}` : "";
	throw new ApiError(
		"method_not_allowed",
		`${c.req.method} is not supported on ${new URL(c.req.url).pathname}${answers}${hint === undefined ? "" : `. ${hint}`}`,
		{ allowed_methods: allowed },
	);
}
