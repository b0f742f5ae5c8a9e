/**
 * @module
 * Confluent REST v3 produce, mounted under `/kafka/v3` (issue 7). Placeholder: routes land with the issue.
 */

import { Hono } from "hono";
import type { AppEnv } from "../../http/app-env.ts";

export const confluentRoutes = new Hono<AppEnv>();
