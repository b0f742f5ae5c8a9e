// @ts-check
/**
 * @module
 * Temp dirs for the e2e tests, kept for post-mortems when E2E_KEEP=1.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A fresh temp dir, and a function that deletes it.
 * @param {string} prefix
 */
export function tempDir(prefix) {
	const path = mkdtempSync(join(tmpdir(), `tributary-e2e-${prefix}-`));
	return {
		path,
		remove() {
			if (process.env.E2E_KEEP === "1") console.log(`# kept ${path}`);
			else rmSync(path, { recursive: true, force: true });
		},
	};
}
