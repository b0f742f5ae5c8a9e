/**
 * @module
 * The edge: one Hono app, one error path. Routes throw `ApiError` (or unwrap a Durable Object's `Result`);
 * `onError` renders it. A platform call that failed is 503 (`thrownError`); anything else is a bug: logged with
 * the request id, answered 500 without detail.
 */

import type { AppEnv } from "./app-env.ts";
import { confluentRoutes } from "./compat/confluent/routes.ts";
import { durableStreamsRoutes } from "./compat/durable-streams/routes.ts";
import { upstashRoutes } from "./compat/upstash/routes.ts";
import { errorResponse, failureOf } from "./errors.ts";
import { Hono } from "./hono.ts";
import { authenticate } from "./middleware/authenticate.ts";
import { authorize } from "./middleware/authorize.ts";
import { corsFromEnv } from "./middleware/cors.ts";
import { observe } from "./middleware/observe.ts";
import { quotas } from "./middleware/quotas.ts";
import { requestId } from "./middleware/request-id.ts";
import { securityHeaders } from "./middleware/security-headers.ts";
import { anonymousRoutes } from "./routes/anonymous.ts";
import { ASSET_PATHS, apiDocsRoutes, fromAssets } from "./routes/api-docs.ts";
import { groupRoutes } from "./routes/groups.ts";
import { inboundWebhookRoutes } from "./routes/inbound-webhooks.ts";
import { keyRoutes } from "./routes/keys.ts";
import { answerOtherMethods } from "./routes/method-not-allowed.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { produceStreamRoutes } from "./routes/produce-stream.ts";
import { producerRoutes } from "./routes/producers.ts";
import { recordRoutes } from "./routes/records.ts";
import { subscriptionRoutes } from "./routes/subscriptions.ts";
import { topicRoutes } from "./routes/topics.ts";

export const app = new Hono<AppEnv>();

// What these middleware cost a one-record produce, by bench:ab produce-32c-1r on a busy machine (load 4-9, ~900 µs
// of server CPU a request): the records routes mounted before all of them −92 µs (−66 to −116, lower in 6 of 6),
// about what a hand-routed produce in the entry saved with the same answer headers (−93: −31 to −159, 6 of 6), and
// 26 less than without those headers (−119), so Hono's router and context are not the cost. Nor are its layers: ten
// more no-op async middleware +5 (−12 to +60), so merging these into fewer would buy little. What remains is spread
// thin: without `observe` −8 (−20 to +20, lower in 3 of 6); authenticate, authorize and quotas replaced by a fixed
// admin principal −23 (−39 to +33, 3 of 6), both within the noise; the headers: security-headers.ts.
// First: the assets' GET and HEAD answers are the files as the assets layer serves them, none of the API's headers.
app.on("GET", ASSET_PATHS, fromAssets());
app.use(requestId());
app.use(observe());
// Its after-phase sees every answer, the router's 404 and the error handler's included: it also drains a refusal's body.
app.use(securityHeaders());
// Durable Streams answers CORS by its own policy, under its own mount.
const DURABLE_STREAMS_MOUNT = "/ds";
app.use(corsFromEnv(DURABLE_STREAMS_MOUNT));

app.route("/", apiDocsRoutes);

// Who is calling, whether the route's entry in the route table (route-table.ts) allows it, and its quotas.
app.use("/v1/*", authenticate(), authorize(), quotas());
app.route("/v1/topics", topicRoutes);
app.route("/v1/topics", recordRoutes);
app.route("/v1/topics", produceStreamRoutes);
app.route("/v1/topics", subscriptionRoutes);
app.route("/v1/topics", inboundWebhookRoutes);
app.route("/v1/groups", groupRoutes);
app.route("/v1/producers", producerRoutes);
app.route("/v1/keys", keyRoutes);
app.route("/v1/anonymous", anonymousRoutes);

app.route("/metrics", metricsRoutes);

// Compatibility APIs: each mount sets its error dialect first, then the same auth, ACL and quotas.
app.route("/upstash", upstashRoutes);
app.route("/kafka/v3", confluentRoutes);
app.route(DURABLE_STREAMS_MOUNT, durableStreamsRoutes);

// Every route is mounted: each path's other methods get a 405 that says which methods the path answers.
answerOtherMethods(app);
// After the 405s, so they leave it out: /healthz answers GET, and any other method on it is the app's 404.
app.get("/healthz", (c) => c.json({ status: "ok" }));

app.notFound((c) => errorResponse(c, { code: "not_found", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` }));

app.onError((error, c) => errorResponse(c, failureOf(c, error)));
