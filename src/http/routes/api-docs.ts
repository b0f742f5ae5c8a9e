/**
 * @module
 * The static assets' paths: `/openapi.json` (the OpenAPI 3.1 document), `/docs` (it, rendered) and the web console,
 * files the build writes (scripts/lib/api-docs.mjs, console/build.mjs). The assets layer answers every method but GET
 * and HEAD on them with an empty 405, and its routing cannot tell methods apart, so wrangler.toml sends these paths
 * to the Worker first: GET and HEAD are answered by `ASSETS`, as the assets layer would answer them (`fromAssets`),
 * other methods get the usual JSON 405, and a path with no file the usual JSON 404.
 */

import type { MiddlewareHandler } from "hono";
import { ApiError } from "../../shared/errors.ts";
import type { AppEnv } from "../app-env.ts";
import { logThrown } from "../errors.ts";
import { Hono } from "../hono.ts";

/** The paths the assets serve, as wrangler.toml's `run_worker_first` lists them (html_handling serves `/docs.html` at `/docs`). */
export const ASSET_PATHS = ["/openapi.json", "/docs", "/docs.html", "/console", "/console/*"];

/** GET and HEAD of an asset path: the file, with the headers `_headers` gives it; without one, on to the JSON 404. */
export function fromAssets(): MiddlewareHandler<AppEnv> {
	return async function fromAssets(c, next) {
		// The assets' fetch failing is the platform's (a lost connection): retriable, and not a Durable Object's.
		const asset = await c.env.ASSETS?.fetch(c.req.raw).catch((cause: unknown) => {
			logThrown(c, cause);
			throw new ApiError("service_unavailable", "static assets failed; retry");
		});
		if (asset !== undefined && asset.status !== 404) return asset;
		await next();
	};
}

function noAsset(): never {
	throw new ApiError("not_found", "no static asset at this path (npm run build writes them; a Worker run without its assets has none)");
}

export const apiDocsRoutes = new Hono<AppEnv>();
for (const path of ASSET_PATHS) apiDocsRoutes.get(path, noAsset);
