/**
 * @module
 * `/openapi.json` (the OpenAPI 3.1 document) and `/docs` (it, rendered) are static assets written by the build
 * (scripts/lib/api-docs.mjs): a deploy, `wrangler dev` and `npm start` serve them before the Worker runs. The
 * Worker keeps the paths so other methods get the usual 405, and a Worker started without its assets says why
 * the document is missing instead of a bare 404.
 */

import { ApiError } from "../../shared/errors.ts";
import type { AppEnv } from "../app-env.ts";
import { Hono } from "../hono.ts";
import { methodNotAllowed } from "./method-not-allowed.ts";

function servedAsAsset(): never {
	throw new ApiError("not_found", "this path is a static asset (npm run build writes it), and this Worker runs without its assets");
}

export const apiDocsRoutes = new Hono<AppEnv>()
	.get("/openapi.json", servedAsAsset)
	.all("/openapi.json", methodNotAllowed)
	.get("/docs", servedAsAsset)
	.all("/docs", methodNotAllowed);
