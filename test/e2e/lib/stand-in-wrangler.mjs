// @ts-check
/**
 * @module
 * A stand-in for `wrangler dev` in tests of the harness itself: an executable that writes its PID to `pidsFile`,
 * answers "ok" on the `--port` it is given, says it is ready as wrangler does, and exits on SIGTERM (writing a line to
 * `termsFile` first, when given: a graceful stop seen from outside).
 */

import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes the stand-in into `dir` and returns its path.
 * @param {string} dir
 * @param {{ pidsFile: string, termsFile?: string }} files
 */
export function writeStandInWrangler(dir, { pidsFile, termsFile }) {
	const bin = join(dir, "wrangler");
	const onTerm = termsFile === undefined ? "" : `appendFileSync(${JSON.stringify(termsFile)}, "SIGTERM\\n");\n\t`;
	writeFileSync(
		bin,
		`#!${process.execPath}
const { appendFileSync } = require("node:fs");
const { createServer } = require("node:http");
appendFileSync(${JSON.stringify(pidsFile)}, process.pid + "\\n");
const args = process.argv.slice(2);
const server = createServer((_request, response) => response.end("ok"));
server.listen(Number(args[args.indexOf("--port") + 1]), "127.0.0.1", () => {
	console.log("[wrangler:info] Ready on http://127.0.0.1:" + server.address().port);
});
process.on("SIGTERM", () => {
	${onTerm}process.exit(0);
});
`,
	);
	chmodSync(bin, 0o755);
	return bin;
}
