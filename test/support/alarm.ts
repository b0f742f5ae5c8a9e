/**
 * A partition's alarm run expected to fail: the handler logs the failure and sets the alarm again (alarm-run.ts)
 * rather than throwing, so a test reads the failure from the log line it writes.
 */
import { expect, vi } from "vitest";

export async function expectAlarmFailure(run: () => Promise<void>, message: string): Promise<void> {
	const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
	try {
		await run();
		const lines = logged.mock.calls.map((args) => args.map(String).join(" "));
		expect(lines.some((line) => line.startsWith("partition alarm failed") && line.includes(message))).toBe(true);
	} finally {
		logged.mockRestore();
	}
}
