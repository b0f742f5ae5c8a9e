// @ts-check
/**
 * The e2e launcher (`startWranglerDev`) reads wrangler dev's output as whole lines: a pipe may cut a line anywhere,
 * and the "Ready on" line that names the port bound must still be found, and kept as one line.
 * Regression: it split each chunk on "\n" by itself, so "Ready on http://127.0.0.1:" and "4321\n" as two chunks were
 * kept as two lines and no port was found (cut inside the number, the port read was its first digits).
 */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { outputKeeper } from "../../scripts/lib/wrangler-dev.mjs";

const READY = "[wrangler:info] Ready on http://127.0.0.1:4321";
const LAST = "[wrangler:info] GET /v1/topics 200 OK (3ms)";

test("outputKeeper finds a Ready on line cut across two chunks, and keeps each line whole", async () => {
	for (const cut of [READY.indexOf("4321"), READY.indexOf("21"), READY.indexOf("Ready") + 2]) {
		const output = outputKeeper(process.pid);
		const stream = new PassThrough();
		output.read(stream);
		stream.write(READY.slice(0, cut));
		stream.write(`${READY.slice(cut)}\n`);
		// The last line has no newline: it is kept once the stream ends (wrangler's last words before it exits).
		stream.end(LAST);
		await new Promise((resolve) => stream.once("end", resolve));
		assert.equal(output.readyPort, 4321, `cut at ${cut}`);
		assert.deepEqual(output.lines, [READY, LAST], `cut at ${cut}`);
	}
});
