/**
 * @module
 * What ends a request's long waits at the tail once its client has gone: the request's `signal` (workerd aborts it
 * under the `enable_request_signal` compatibility flag), read by `readEndingWhen`, with the release kept past the
 * request (`waitUntil`): the response's work is over by then.
 */

import type { Context } from "hono";
import type { WaitEnd } from "../shared/log-reader.ts";
import type { AppEnv } from "./app-env.ts";

/** The end of `c`'s waits: its client gone. */
export const clientGone = (c: Context<AppEnv>): WaitEnd => ({ signal: c.req.raw.signal, keep: (work) => c.executionCtx.waitUntil(work) });
