/**
 * Running a Durable Object's alarm from a test: one the runtime may already have run, and a partition's run expected
 * to fail.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { expect, vi } from "vitest";

/**
 * Runs `stub`'s alarm now, for an alarm that may fall due before the test gets here (set for now or the past, or a
 * few seconds ahead of the real clock): workerd then runs it by itself, and `runDurableObjectAlarm`, finding none
 * left, answers false though the work was done (seen under load). So nothing is answered: the caller proves the run
 * by what it leaves (a row gone, a record delivered), which neither run leaves undone. An alarm far ahead of the real
 * clock cannot be taken first: there, `expect(await runDurableObjectAlarm(stub)).toBe(true)` says more.
 */
export async function runDueAlarm(stub: DurableObjectStub): Promise<void> {
	await runDurableObjectAlarm(stub);
}

/**
 * A partition's alarm run expected to fail: the handler logs the failure and sets the alarm again (alarm-run.ts)
 * rather than throwing, so a test reads the failure from the log line it writes.
 */

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
