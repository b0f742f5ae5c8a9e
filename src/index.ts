/**
 * @module
 * Worker entry: the HTTP edge and the Durable Object classes it routes to.
 */

import { app } from "./http/app.ts";

export { PartitionLog } from "./partition/partition-log.ts";
export { TopicRegistry } from "./topic/topic-registry.ts";

export default app;
