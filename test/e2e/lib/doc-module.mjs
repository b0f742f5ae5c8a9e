// @ts-check
/**
 * @module
 * Runs a Markdown file's JavaScript blocks, in order, as one ES module (a name one block declares is there in the
 * next, as a reader who pastes them one after another has it) in Node, from the repository's root, so that
 * `import … from "tributary/client"` resolves through package.json's exports to the built SDK, as it does for a
 * newcomer's script in a clone. A block that throws, or a module that has not ended by `timeoutMs`, fails it.
 */

import { spawn } from "node:child_process";
import { signal } from "../../../scripts/lib/index.mjs";
import { captureOutput } from "./child-output.mjs";

/**
 * The module's source: `prelude` (what the text leaves to its reader, such as the records to send), then the
 * blocks, each announced on stderr before it runs. Imports go first, as a module needs them at its top.
 * @param {import("./doc-blocks.mjs").ShellBlock[]} blocks
 * @param {string} prelude
 */
export function moduleSource(blocks, prelude) {
	/** @type {string[]} */
	const imports = [];
	const body = [prelude];
	for (const block of blocks) {
		body.push(`console.error(${JSON.stringify(`## ${block.file}:${block.line}`)});`);
		for (const line of block.code.split("\n")) (/^import\s/.test(line) ? imports : body).push(line);
	}
	return `${imports.join("\n")}\n${body.join("\n")}\n`;
}

/**
 * Runs the module from stdin in `cwd`; resolves `{ code, stdout, stderr }`.
 * @param {import("./doc-blocks.mjs").ShellBlock[]} blocks
 * @param {{ cwd: string, env: Record<string, string>, prelude: string, timeoutMs: number }} options
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
export function runModule(blocks, { cwd, env, prelude, timeoutMs }) {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, ["--input-type=module"], {
			cwd,
			env: { ...process.env, ...env },
			stdio: ["pipe", "pipe", "pipe"],
		});
		const output = captureOutput(child);
		const timer = setTimeout(() => {
			output.stderr += `\ndoc test: the module took longer than ${timeoutMs} ms and was stopped`;
			if (child.pid !== undefined) signal(child.pid, "SIGKILL");
		}, timeoutMs);
		child.on("close", (code) => {
			clearTimeout(timer);
			resolve({ code: code ?? 1, ...output });
		});
		child.stdin.end(moduleSource(blocks, prelude));
	});
}

/**
 * Runs the blocks as one module, or with `apart` each as a module of its own (a doc whose blocks are separate
 * programs, such as two importing a `Kafka` from different clients), in order, stopping at the first that fails.
 * Resolves the last exit code with every module's output joined.
 * @param {import("./doc-blocks.mjs").ShellBlock[]} blocks
 * @param {{ apart: boolean, cwd: string, env: Record<string, string>, prelude: string, timeoutMs: number }} options
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
export async function runModules(blocks, { apart, ...options }) {
	let joined = { code: 0, stdout: "", stderr: "" };
	for (const moduleBlocks of apart ? blocks.map((block) => [block]) : [blocks]) {
		const result = await runModule(moduleBlocks, options);
		joined = { code: result.code, stdout: joined.stdout + result.stdout, stderr: joined.stderr + result.stderr };
		if (result.code !== 0) break;
	}
	return joined;
}
