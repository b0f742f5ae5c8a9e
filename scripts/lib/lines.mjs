// @ts-check
/**
 * @module
 * A child process's output read as lines: a chunk may end inside a line, which waits for its next chunk.
 */

/**
 * Calls `onLine` with each whole line `stream` gives (without its newline), in order, and with what follows the last
 * newline once the stream ends (a process's last words before it exits need not end in one); sets the stream to
 * UTF-8.
 * @param {import("node:stream").Readable} stream @param {(line: string) => void} onLine
 */
export function eachLine(stream, onLine) {
	let pending = "";
	stream.setEncoding("utf8");
	stream.on("data", (/** @type {string} */ chunk) => {
		const lines = (pending + chunk).split("\n");
		pending = lines.pop() ?? "";
		for (const line of lines) onLine(line);
	});
	stream.on("end", () => {
		if (pending !== "") onLine(pending);
	});
}
