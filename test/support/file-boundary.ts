/**
 * Run before every workerd test file (vitest.config.ts `setupFiles`): what a file changed for the whole isolate is
 * undone when the file ends. The files of one test/ directory share a workerd, so a spy on `Date.now` (holdClock), a
 * faked `Date` or fake timers left by a failing test would otherwise reach every later file of that directory, and one
 * failure would show as many.
 */

import { afterAll, vi } from "vitest";

afterAll(() => {
	vi.restoreAllMocks();
	vi.useRealTimers();
});
