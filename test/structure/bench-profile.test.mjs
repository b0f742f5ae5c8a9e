// @ts-check
/**
 * bench:profile samples the Worker's own isolate: of the inspector targets workerd lists for the local broker, the
 * one named `core:user:tributary`, not an assets front whose name also holds "tributary" (sampling one of those gave
 * an empty profile: two samples, both idle, over an 8-second load).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { workerTarget } from "../../bench/lib/profile-split.mjs";

/** The titles workerd's inspector listed for the local broker (wrangler 4.86.0), in its order. */
const LISTED = [
	"core:user:tributary-assets",
	"strip-cf-connecting-ip:0",
	"cache:0",
	"cache:cache",
	"assets:kv:tributary-assets",
	"assets:assets-service:tributary-assets",
	"assets:router:tributary-assets",
	"assets:rpc-proxy:tributary-assets",
	"core:user:tributary-asset-files",
	"strip-cf-connecting-ip:1",
	"cache:1",
	"assets:kv:tributary-asset-files",
	"assets:assets-service:tributary-asset-files",
	"assets:router:tributary-asset-files",
	"assets:rpc-proxy:tributary-asset-files",
	"core:user:tributary",
	"strip-cf-connecting-ip:2",
	"cache:2",
	"r2:bucket:tributary-segments",
	"r2:bucket",
	"core:entry",
].map((name) => ({ title: `workerd: worker ${name}` }));

test("the profiled target is the Worker's own isolate, wherever workerd lists it", () => {
	assert.equal(workerTarget(LISTED)?.title, "workerd: worker core:user:tributary");
	assert.equal(workerTarget([...LISTED].reverse())?.title, "workerd: worker core:user:tributary");
});

test("no Worker target: none is picked rather than another isolate", () => {
	assert.equal(workerTarget(LISTED.filter((t) => !t.title.endsWith("core:user:tributary"))), undefined);
});
