// The bench's disk check (bench/lib/disk.mjs): the probe measures a real fsync, and a row measured while the disk
// was slow is marked in every table that marks noisy rows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DISK_SLOW_FSYNC_MS, fsyncProbeMs, ioStallSeconds } from "../../bench/lib/disk.mjs";
import { fsyncCell, noisy } from "../../bench/lib/format.mjs";

test("the fsync probe times real syncs, and the stall counter reads the kernel's", () => {
	const ms = fsyncProbeMs();
	assert.ok(ms > 0 && ms < 10_000, `probe ${ms} ms`);
	const stall = ioStallSeconds();
	// Pressure stall information is in every kernel the bench runs on; NaN would only mean a kernel without it.
	assert.ok(Number.isNaN(stall) || stall >= 0, `stall ${stall} s`);
});

test("a row measured with the disk slow is marked, one measured with it quiet is not", () => {
	const row = (/** @type {number | undefined} */ fsyncMs) =>
		/** @type {import("../../bench/scenarios/types.js").Row} */ ({
			cpu: { clientPercent: 50, serverPercent: 100, otherPercent: 1, fsyncMs },
		});
	assert.equal(noisy(row(DISK_SLOW_FSYNC_MS * 3)), " (slow disk)");
	assert.equal(noisy(row(DISK_SLOW_FSYNC_MS / 4)), "");
	assert.equal(noisy(row(undefined)), "", "results from before the probe are not marked");
	assert.match(fsyncCell(row(DISK_SLOW_FSYNC_MS * 3)), /slow disk/);
	assert.equal(fsyncCell(row(0.25)), "0.25");
});
