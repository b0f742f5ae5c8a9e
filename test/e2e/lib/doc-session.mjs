// @ts-check
/**
 * @module
 * Runs a Markdown file's shell blocks, in order, in one bash session against a running broker (`$URL`,
 * `$TOKEN`), with `curl` wrapped so that every response is checked: an unexpected status of 400 or more fails,
 * and every `# → …` expectation is compared with the response it follows (see doc-blocks.mjs).
 *
 * The expectations are checked by this process, which the session asks over HTTP on 127.0.0.1: a curl costs the
 * session a few milliseconds where starting a checker process per expectation cost a Node start-up each (most
 * of the README's session time on a loaded machine).
 */

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT, signal } from "../../../scripts/lib/index.mjs";
import { captureOutput } from "./child-output.mjs";
import { checkResponse, instrumentBlock } from "./doc-blocks.mjs";
import { listenLocal } from "./local-server.mjs";

/** Status of the checker's answer when an expectation does not hold (its body says why). */
const EXPECTATION_FAILED = 422;

/** The repository's own `tributary` command, where package.json's bin puts it: what `npx tributary` runs in a clone. */
const CLI_BIN = join(PROJECT_ROOT, JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")).bin.tributary);

/**
 * The session's prelude. `curl` keeps its interface (the body on stdout) but also leaves status and body in the
 * state directory; a response of 400 or more that no expectation claimed fails at the next curl or at the end.
 * A stream cut by the command's own --max-time (exit 28) after a 2xx is a success. `npx tributary` runs that bin
 * straight: npx's own start-up, about 2 s a call on a loaded machine against 0.5 s for the CLI, was most of the
 * README's CLI block's time.
 */
const PRELUDE = `set -eo pipefail
npx() { if [ "$1" = tributary ]; then shift; node ${JSON.stringify(CLI_BIN)} "$@"; else command npx "$@"; fi; }
__doc_state=$(mktemp -d)
trap 'rm -rf "$__doc_state"' EXIT
__doc_block() { __doc_where="$1"; echo "## $1" >&2; }
__doc_settle() {
	[ -f "$__doc_state/pending" ] || return 0
	local status
	status=$(cat "$__doc_state/status")
	if [ "$status" -ge 400 ]; then
		echo "doc test: block at $__doc_where: unexpected HTTP $status from $(cat "$__doc_state/command") (mark an expected failure '# → $status'): $(head -c 500 "$__doc_state/body")" >&2
		exit 1
	fi
	rm -f "$__doc_state/pending"
}
__doc_expect() { command curl -sS --noproxy "*" --fail-with-body -H "X-Doc-State: $__doc_state" --data-binary "$1" "$DOC_CHECK_URL" >&2 || exit 1; }
curl() {
	__doc_settle
	local rc=0
	printf 'curl %s' "$*" | head -c 300 > "$__doc_state/command"
	command curl -sS -o "$__doc_state/body" -w '%{http_code}' "$@" > "$__doc_state/status" || rc=$?
	touch "$__doc_state/pending" "$__doc_state/body"
	cat "$__doc_state/body"
	if [ "$rc" -ne 0 ] && ! { [ "$rc" -eq 28 ] && [ "$(cat "$__doc_state/status")" -lt 300 ]; }; then
		echo "doc test: block at $__doc_where: $(cat "$__doc_state/command") failed (curl exit $rc)" >&2
		exit 1
	fi
}
`;

/**
 * The whole bash script for `blocks` (already filtered to the runnable ones).
 * @param {import("./doc-blocks.mjs").ShellBlock[]} blocks
 */
export function sessionScript(blocks) {
	const parts = blocks.map((block) => `__doc_block ${JSON.stringify(`${block.file}:${block.line}`)}\n${instrumentBlock(block).script}\n`);
	return `${PRELUDE}\n${parts.join("\n")}\n__doc_settle\nenv -0 > "$DOC_ENV_OUT"\n`;
}

/** What bash sets in its own environment: not a block's export. */
const SHELL_OWN_VARS = new Set(["PWD", "OLDPWD", "SHLVL", "_"]);

/**
 * The variables the blocks exported (or changed), from the session's final environment (`env -0`, NUL-separated
 * NAME=value) against the one it started with: a reader's terminal has them when they run the doc's JavaScript next.
 * @param {string} dump
 * @param {Record<string, string | undefined>} started
 * @returns {Record<string, string>}
 */
export function exportedVars(dump, started) {
	/** @type {Record<string, string>} */
	const exported = {};
	for (const entry of dump.split("\0")) {
		const at = entry.indexOf("=");
		if (at <= 0) continue;
		const name = entry.slice(0, at);
		const value = entry.slice(at + 1);
		if (!SHELL_OWN_VARS.has(name) && !name.startsWith("DOC_") && started[name] !== value) exported[name] = value;
	}
	return exported;
}

/**
 * Checks the session's last curl response (status and body, in its state directory `dir`) against an
 * expectation (base64 JSON `{ where, expected }`); returns null when it holds, or what is wrong.
 * @param {string} dir
 * @param {string} encoded
 * @returns {string | null}
 */
export function checkLastResponse(dir, encoded) {
	/** @type {import("./doc-blocks.mjs").Expectation} */
	const expectation = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
	const pending = join(dir, "pending");
	if (!existsSync(pending)) return `doc test: ${expectation.where}: "# → ${expectation.expected}" follows no curl command`;
	const status = Number(readFileSync(join(dir, "status"), "utf8").trim());
	const body = readFileSync(join(dir, "body"), "utf8");
	rmSync(pending);
	const problem = checkResponse(expectation, status, body);
	return problem === null ? null : `doc test: ${expectation.where}: ${problem}`;
}

/**
 * The HTTP checker a session's `__doc_expect` asks: 200 when the expectation holds, EXPECTATION_FAILED with the
 * reason otherwise (curl --fail-with-body prints it and fails, which ends the session).
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
function startChecker() {
	const server = createServer((request, response) => {
		let encoded = "";
		request.setEncoding("utf8");
		request.on("data", (chunk) => {
			encoded += chunk;
		});
		request.on("end", () => {
			let problem;
			try {
				problem = checkLastResponse(String(request.headers["x-doc-state"] ?? ""), encoded);
			} catch (error) {
				problem = `doc test: the check itself failed: ${error instanceof Error ? error.message : String(error)}`;
			}
			response.writeHead(problem === null ? 200 : EXPECTATION_FAILED, { "Content-Type": "text/plain" });
			response.end(problem === null ? "" : `${problem}\n`);
		});
	});
	return listenLocal(server).then(({ url, close }) => ({ url: `${url}/check`, close }));
}

/**
 * Runs the blocks with bash in `cwd`; resolves `{ code, stdout, stderr, exported }`, `exported` what the blocks
 * exported (for the doc's JavaScript blocks). The session runs in its own process group, which is killed when it
 * ends, so background jobs a block started (a webhook receiver) never outlive it.
 * @param {import("./doc-blocks.mjs").ShellBlock[]} blocks
 * @param {{ cwd: string, env: Record<string, string>, timeoutMs: number }} options
 * @returns {Promise<{ code: number, stdout: string, stderr: string, exported: Record<string, string> }>}
 */
export async function runSession(blocks, { cwd, env, timeoutMs }) {
	const dir = mkdtempSync(join(tmpdir(), "tributary-doc-"));
	const scriptPath = join(dir, "session.sh");
	writeFileSync(scriptPath, sessionScript(blocks));
	const envOut = join(dir, "exports");
	const checker = await startChecker();
	const started = { ...process.env, ...env };
	return new Promise((resolve) => {
		const child = spawn("bash", [scriptPath], {
			cwd,
			env: { ...started, DOC_CHECK_URL: checker.url, DOC_ENV_OUT: envOut },
			detached: true,
			stdio: ["ignore", "pipe", "pipe"],
		});
		const group = -(child.pid ?? 0);
		const output = captureOutput(child);
		const timer = setTimeout(() => {
			output.stderr += `\ndoc test: the session took longer than ${timeoutMs} ms and was stopped`;
			if (group !== 0) signal(group, "SIGKILL");
		}, timeoutMs);
		/** @type {number | null} */
		let status = null;
		// bash is done: end its background jobs, whose inherited pipes would otherwise keep "close" from firing.
		child.on("exit", (code, sig) => {
			status = code ?? (sig === null ? 0 : 1);
			if (group !== 0) signal(group, "SIGTERM");
		});
		child.on("close", () => {
			clearTimeout(timer);
			checker.close();
			const exported = existsSync(envOut) ? exportedVars(readFileSync(envOut, "utf8"), started) : {};
			rmSync(dir, { recursive: true, force: true });
			resolve({ code: status ?? 1, ...output, exported });
		});
	});
}
