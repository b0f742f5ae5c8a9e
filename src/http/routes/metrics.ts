/**
 * @module
 * `GET /metrics`: every figure in the Prometheus text format, for the admin token or a key with `describe` on
 * `cluster`. One RPC to the metrics hub, however large the cluster (docs/observability.md).
 */

import { CONTENT_TYPE } from "../../metrics/exposition.ts";
import { bare } from "../../shared/errors.ts";
import { metricsHub } from "../../shared/stubs.ts";
import type { AppEnv } from "../app-env.ts";
import { Hono } from "../hono.ts";
import { authenticate } from "../middleware/authenticate.ts";
import { authorize } from "../middleware/authorize.ts";
import { sendRequestCounters } from "../middleware/observe.ts";
import { quotas } from "../middleware/quotas.ts";

export const metricsRoutes = new Hono<AppEnv>().use(authenticate(), authorize(), quotas()).get("/", async (c) => {
	// This isolate's latest request counts first, so a scrape after a quiet moment sees them.
	await sendRequestCounters(c.env);
	return c.body(bare(await metricsHub(c.env).scrape()), 200, { "Content-Type": CONTENT_TYPE });
});
