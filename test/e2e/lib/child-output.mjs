// @ts-check
/**
 * @module
 * What a child process writes, gathered as text, for the e2e helpers that run a CLI, a script, kcat or a doc's
 * blocks and read both streams whole once it has closed. Decoded as UTF-8 by the streams themselves, so a character
 * split between two chunks is not garbled.
 */

/**
 * Gathers `child`'s stdout and stderr from now on; read them from the returned object once the child has closed (a
 * caller may append its own lines to `stderr`, as a timeout's reason).
 * @param {{ stdout?: import("node:stream").Readable | null, stderr?: import("node:stream").Readable | null }} child  a child
 *   process, or anything with its two output streams (a worker thread's)
 * @returns {{ stdout: string, stderr: string }}
 */
export function captureOutput(child) {
	const output = { stdout: "", stderr: "" };
	child.stdout?.setEncoding("utf8").on("data", (chunk) => {
		output.stdout += chunk;
	});
	child.stderr?.setEncoding("utf8").on("data", (chunk) => {
		output.stderr += chunk;
	});
	return output;
}
