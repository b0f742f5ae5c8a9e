/**
 * @module
 * `GET /openapi.json` (the OpenAPI 3.1 document) and `GET /docs` (it, rendered). Public: the document describes
 * the API, not anyone's data.
 */

import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { DOCS_CSP, docsPage } from "../openapi/docs-page.ts";
import { openApiDocument } from "../openapi/document.ts";
import { methodNotAllowed } from "./method-not-allowed.ts";

export const apiDocsRoutes = new Hono<AppEnv>()
	.get("/openapi.json", (c) => c.json(openApiDocument(new URL(c.req.url).origin)))
	.all("/openapi.json", methodNotAllowed)
	.get("/docs", (c) =>
		c.html(docsPage(openApiDocument(new URL(c.req.url).origin)), 200, { "Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache" }),
	)
	.all("/docs", methodNotAllowed);
