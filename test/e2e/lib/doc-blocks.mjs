// @ts-check
/**
 * @module
 * The doc test's reading of Markdown: which shell blocks run, what each command is expected to answer, and the
 * bash script that runs them in order and checks every expectation (the convention is in docs/doc-tests.md).
 *
 * - Every ```sh / ```bash / ```shell block runs, in document order, in one bash session per file (variables
 *   carry over from block to block), unless the line before its fence is `<!-- doc-test: skip (reason) -->`.
 * - `curl` is wrapped: a response of 400 or more fails the test unless the command carries an expectation that
 *   names that status.
 * - `# → …` after a curl command (at the end of its last line, or on the next line, continued on lines starting
 *   with "#" and two or more spaces, for a body only) is checked against that command's response: `# → 409`,
 *   `# → 404 topic_not_found` (status and error code), `# → 201 {…}` (status and body) or `# → {…}` (a 2xx body).
 *   Bodies are compared without whitespace, and `…` matches anything.
 */

/**
 * @typedef {object} ShellBlock
 * @property {string} file  where it is written
 * @property {number} line  its first line of code, 1-based
 * @property {string} code
 * @property {string | null} skip  the reason given by a skip marker, or null when it runs
 */

/**
 * @typedef {object} Expectation
 * @property {string} where  file:line of its last line
 * @property {string} expected  the text after "# →", continuation lines joined with a space
 */

const SHELL_LANGS = new Set(["sh", "bash", "shell"]);
/** The JavaScript blocks a doc's module runs (test/e2e/lib/doc-module.mjs). */
export const JS_LANGS = new Set(["js", "javascript"]);
const FENCE = /^(\s*)```\s*([\w-]*)\s*$/;
const SKIP = /^<!--\s*doc-test:\s*skip\s*\((.+)\)\s*-->$/;
const OWN_LINE_EXPECTATION = /^#\s*→\s?(.*)$/;
const TRAILING_EXPECTATION = /\s#\s*→\s?(.*)$/;
const CONTINUATION = /^#\s{2,}(\S.*)$/;

/**
 * Shell blocks of a Markdown text.
 * @param {string} markdown
 * @param {string} file
 * @returns {ShellBlock[]}
 */
export function extractShellBlocks(markdown, file) {
	return extractBlocks(markdown, file, SHELL_LANGS);
}

/**
 * Fenced blocks of a Markdown text in one of `langs`, with their skip markers.
 * @param {string} markdown
 * @param {string} file
 * @param {Set<string>} langs
 * @returns {ShellBlock[]}
 */
export function extractBlocks(markdown, file, langs) {
	const lines = markdown.split("\n");
	/** @type {ShellBlock[]} */
	const blocks = [];
	for (let i = 0; i < lines.length; i++) {
		const open = FENCE.exec(lines[i] ?? "");
		if (open === null) continue;
		const indent = open[1] ?? "";
		const end = lines.findIndex((line, j) => j > i && line.trim() === "```");
		if (end < 0) throw new Error(`${file}:${i + 1}: a code fence that never closes`);
		if (langs.has(open[2] ?? "")) {
			const code = lines.slice(i + 1, end).map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line));
			const before =
				lines
					.slice(0, i)
					.findLast((line) => line.trim() !== "")
					?.trim() ?? "";
			const skip = SKIP.exec(before)?.[1] ?? null;
			if (skip === null && /doc-test/.test(before)) throw new Error(`${file}:${i}: malformed doc-test marker ${before}`);
			blocks.push({ file, line: i + 2, code: code.join("\n"), skip });
		}
		i = end;
	}
	return blocks;
}

/**
 * The block's code with a check after every expectation: `__doc_expect '<base64 JSON>'`, carrying where it is
 * written and what it expects.
 * @param {ShellBlock} block
 * @returns {{ script: string, expectations: Expectation[] }}
 */
export function instrumentBlock(block) {
	const lines = block.code.split("\n");
	/** @type {string[]} */
	const out = [];
	/** @type {Expectation[]} */
	const expectations = [];
	/** @param {number} at */
	const continuationAt = (at) => {
		const next = (lines[at] ?? "").trim();
		return at < lines.length && CONTINUATION.test(next) && !OWN_LINE_EXPECTATION.test(next);
	};
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i] ?? "";
		const found = OWN_LINE_EXPECTATION.exec(line.trim()) ?? TRAILING_EXPECTATION.exec(line);
		out.push(line);
		if (found === null) continue;
		const parts = [(found[1] ?? "").trim()];
		// Only a body continues on later lines: after a bare status ("# → 409 out_of_order_sequence") comments are prose.
		const continues = parseExpectation(parts[0] ?? "").pattern !== null;
		while (continues && continuationAt(i + 1)) {
			i++;
			const next = lines[i] ?? "";
			out.push(next);
			parts.push(CONTINUATION.exec(next.trim())?.[1] ?? "");
		}
		const expectation = { where: `${block.file}:${block.line + i}`, expected: parts.join(" ") };
		expectations.push(expectation);
		out.push(`__doc_expect ${Buffer.from(JSON.stringify(expectation)).toString("base64")}`);
	}
	return { script: out.join("\n"), expectations };
}

/**
 * Parses an expectation: `{ status, code, pattern }` (each may be null; a null status means any 2xx).
 * @param {string} text
 * @returns {{ status: number | null, code: string | null, pattern: string | null }}
 */
export function parseExpectation(text) {
	const match = /^([1-5]\d\d)(?:\s+(.*))?$/.exec(text.trim());
	if (match === null) return { status: null, code: null, pattern: text.trim() };
	const rest = (match[2] ?? "").trim();
	if (rest === "") return { status: Number(match[1]), code: null, pattern: null };
	if (/^[a-z][a-z_]*$/.test(rest)) return { status: Number(match[1]), code: rest, pattern: null };
	return { status: Number(match[1]), code: null, pattern: rest };
}

/**
 * Whether `body` matches a pattern: whitespace ignored on both sides, `…` standing for anything.
 * @param {string} body
 * @param {string} pattern
 */
export function matchesPattern(body, pattern) {
	const squeeze = (/** @type {string} */ text) => text.replace(/\s+/g, "");
	const source = squeeze(pattern)
		.split("…")
		.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
		.join("[\\s\\S]*?");
	return new RegExp(`^${source}$`).test(squeeze(body));
}

/**
 * Checks one response against one expectation; returns null when it holds, or what is wrong.
 * @param {Expectation} expectation
 * @param {number} status
 * @param {string} body
 * @returns {string | null}
 */
export function checkResponse(expectation, status, body) {
	const { status: wantStatus, code, pattern } = parseExpectation(expectation.expected);
	if (wantStatus === null ? status < 200 || status > 299 : status !== wantStatus) {
		return `expected ${wantStatus ?? "a 2xx"}, got ${status}: ${body.slice(0, 500)}`;
	}
	if (code !== null) {
		let actual;
		try {
			actual = JSON.parse(body)?.error?.code;
		} catch {
			actual = undefined;
		}
		if (actual !== code) return `expected error code ${code}, got ${actual}: ${body.slice(0, 500)}`;
	}
	if (pattern !== null && !matchesPattern(body, pattern)) return `expected ${pattern}\n      got ${body.slice(0, 1000)}`;
	return null;
}
