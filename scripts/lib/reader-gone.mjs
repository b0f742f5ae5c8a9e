// @ts-check
/**
 * @module
 * The rule for this process's own output when its reader goes away (`npm start | head -3`: head exits after its
 * lines): the next write to that pipe fails with EPIPE, emitted as an "error" on the stream, which, unhandled,
 * kills this process with a stack and status 1 and skips its clean-up (a runtime left running, data not closed).
 */

/**
 * Calls `fn` once, on the first failed write to `stream` (process.stdout or process.stderr): the reader of this
 * process's output went away, so the caller stops what it runs, quietly (nobody reads). Later failed writes (a
 * stream that errored is destroyed, and writes to it fail too) are absorbed, never an unhandled "error".
 * @param {NodeJS.WriteStream} stream
 * @param {() => void} fn
 */
export function onReaderGone(stream, fn) {
	let gone = false;
	stream.on("error", () => {
		if (gone) return;
		gone = true;
		fn();
	});
}
