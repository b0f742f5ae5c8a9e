// @ts-check
/**
 * The `wrangler dev`s the tests start (`startWranglerDev`) run without wrangler's dev registry: Tributary binds no
 * other Worker, and with it every instance, all named "tributary", wrote and unlinked the one entry of the user's
 * ~/.config/.wrangler/registry, an instance stopping removed the entry of another still running (wrangler logs
 * `Failed to unregister worker "tributary": ENOENT` as the other stops), and a developer's own `wrangler dev` of
 * another project bound to "tributary" would have reached whichever test instance wrote it last. wrangler 4.86's
 * miniflare takes an empty WRANGLER_REGISTRY_PATH as no registry (no entry, no watch, no debug port). The wrangler here
 * is a stand-in: what is checked is the environment it is given.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { startWranglerDev, stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { writeStandInWrangler } from "../e2e/lib/stand-in-wrangler.mjs";
import { tempDir } from "../e2e/lib/temp-dir.mjs";

const dir = tempDir("wrangler-registry");
const bin = writeStandInWrangler(dir.path, { pidsFile: join(dir.path, "pids") });

after(async () => {
	await stopAllWranglerDevs();
	dir.remove();
});

test("a test's wrangler dev is started with no dev registry (an empty WRANGLER_REGISTRY_PATH)", async () => {
	const dev = await startWranglerDev({ bin, root: dir.path, persistTo: join(dir.path, "state"), token: "t", keepWarm: false });
	const environment = readFileSync(`/proc/${dev.pid}/environ`, "utf8").split("\0");
	assert.ok(environment.includes("WRANGLER_REGISTRY_PATH="), environment.filter((line) => line.includes("REGISTRY")).join("\n"));
	await dev.stop();
});
