/**
 * @module
 * The Hono environment shared by the app and its routes.
 */

import type { AuthVariables } from "./middleware/authenticate.ts";
import type { RequestIdVariables } from "./middleware/request-id.ts";

export type AppEnv = { Bindings: Env; Variables: RequestIdVariables & AuthVariables };
