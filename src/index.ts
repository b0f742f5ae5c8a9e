/**
 * @module
 * Worker entry: the HTTP edge and the Durable Object classes it routes to.
 */

import { app } from "./http/app.ts";

export { KeyStore } from "./auth/key-store.ts";
export { GroupCoordinator } from "./group/group-coordinator.ts";
export { GroupDirectory } from "./group/group-directory.ts";
export { MetricsHub } from "./metrics/metrics-hub.ts";
export { PartitionLog } from "./partition/partition-log.ts";
export { TopicRegistry } from "./topic/topic-registry.ts";
export { WebhookDispatcher } from "./webhook/webhook-dispatcher.ts";

export default app;
