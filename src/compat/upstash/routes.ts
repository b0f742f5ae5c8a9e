/**
 * @module
 * The Upstash Kafka REST API, mounted under `/upstash` (issue 7). Placeholder: routes land with the issue.
 */

import { Hono } from "hono";
import type { AppEnv } from "../../http/app-env.ts";

export const upstashRoutes = new Hono<AppEnv>();
