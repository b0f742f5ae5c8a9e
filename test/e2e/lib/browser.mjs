// @ts-check
/**
 * @module
 * A real Chromium for the console tests: Debian's `chromium` package (never a downloaded build), driven by
 * playwright-core over CDP, headless, with a throwaway profile. `shoot()` keeps screenshots of each page in
 * test/e2e/screenshots/ (git-ignored) so a person can look at them after a run.
 */

import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "screenshots");

export const CHROMIUM_ARGS = [
	"--no-sandbox",
	"--headless",
	"--disable-gpu",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--no-first-run",
];

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** Launches Chromium with a fresh profile; `close()` stops it and deletes the profile. */
export async function launchBrowser() {
	if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
	const profile = mkdtempSync(join(tmpdir(), "tributary-chromium-"));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM_PATH,
		headless: true,
		args: CHROMIUM_ARGS,
		viewport: DESKTOP,
		timeout: 60_000,
	});
	context.setDefaultTimeout(20_000);
	return {
		context,
		async close() {
			await context.close().catch(() => {});
			rmSync(profile, { recursive: true, force: true });
		},
	};
}

/**
 * Saves a screenshot as screenshots/<name>.png, of the whole page unless `fullPage` is false (scrolled to the top
 * first, so sticky parts sit where they belong).
 * @param {import("playwright-core").Page} page
 * @param {string} name
 * @param {{ fullPage?: boolean }} [options]
 */
export async function shoot(page, name, { fullPage = true } = {}) {
	mkdirSync(SCREENSHOTS_DIR, { recursive: true });
	await page.evaluate("window.scrollTo(0, 0)");
	await page.mouse.move(0, 0); // no row left highlighted under the pointer
	await page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage });
}
