/**
 * Run before every workerd test file (vitest.config.ts `setupFiles`): what a file changed for the whole isolate is
 * undone when the file ends. The files of one test/ directory share a workerd, so a spy on `Date.now` (holdClock), a
 * faked `Date` or fake timers left by a failing test would otherwise reach every later file of that directory, and one
 * failure would show as many.
 */

import { afterAll, vi } from "vitest";

/**
 * The Worker logs one JSON line per request (for `wrangler tail`); in test output they are noise. Console output is
 * not intercepted by vitest (vitest.config.ts), so the isolate's `console.log` drops them, once per isolate; a spy on
 * `console.log` still sees them.
 */
const REQUEST_LINE = '{"msg":"request"';
const DROPS_REQUEST_LINES = Symbol.for("tributary.test.dropsRequestLines");
if (!(DROPS_REQUEST_LINES in console)) {
	const log = console.log.bind(console);
	Object.assign(console, {
		[DROPS_REQUEST_LINES]: true,
		log: (...args: unknown[]) => {
			if (typeof args[0] === "string" && args[0].startsWith(REQUEST_LINE)) return;
			log(...args);
		},
	});
}

afterAll(() => {
	vi.restoreAllMocks();
	vi.useRealTimers();
});
