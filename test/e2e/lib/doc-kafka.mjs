// @ts-check
/**
 * @module
 * What the doc test runs of a doc's Kafka section besides its shell blocks, read from the doc so that the lines a
 * reader copies are the lines that run: the gateway's start lines (a `text` block: each runs a server in the
 * foreground) and librdkafka's settings (a `properties` block, which a reader saves and hands to `kcat -F`).
 *
 * - A start line is `npx tributary kafka-gateway …`; it runs as the CLI's `kafka-gateway` with `$URL`, `$TOKEN` and
 *   `https://<worker>` filled in and its `--listen` port made 0, so the kernel picks a free one: 9092 may be a
 *   developer's own gateway, and two sessions run at once.
 * - A properties block runs in the doc's bash session where it stands, with `<key id>`/`<key secret>` filled from the
 *   session's `$KEY_ID`/`$SECRET` (the key the doc's kcat block makes) and 127.0.0.1:9092 from `$KAFKA_BOOTSTRAP`:
 *   `kcat -F` must list the topics and read a record the doc's earlier blocks produced.
 */

import { extractBlocks } from "./doc-blocks.mjs";

const START_LINE = /^npx tributary (kafka-gateway\b.*)$/;
const PROPERTIES_LANGS = new Set(["properties"]);
/** The gateway's default address, which the doc's lines name and the test swaps for the session's gateway. */
const DOC_BOOTSTRAP = "127.0.0.1:9092";
/** What a start line's `--url` may name for a reader's deployment: the session's broker stands in for it. */
const WORKER_PLACEHOLDER = "https://<worker>";

/**
 * @typedef {object} GatewayStartLine
 * @property {string} where  file:line
 * @property {string} text  the line as written
 * @property {string[]} args  the CLI's arguments, `kafka-gateway` first, placeholders filled and the port made 0
 */

/**
 * Every gateway start line of a doc's `text` blocks.
 * @param {string} markdown @param {string} file @param {{ url: string, token: string }} broker
 * @returns {GatewayStartLine[]}
 */
export function gatewayStartLines(markdown, file, { url, token }) {
	/** @type {GatewayStartLine[]} */
	const lines = [];
	for (const block of extractBlocks(markdown, file, new Set(["text"]))) {
		block.code.split("\n").forEach((text, i) => {
			const match = START_LINE.exec(text.trim());
			if (match === null) return;
			const fill = (/** @type {string} */ word) =>
				word === WORKER_PLACEHOLDER ? url : word.replaceAll("$URL", url).replaceAll("$TOKEN", token);
			const args = (match[1] ?? "").split(/\s+/).map(fill);
			const listen = args.indexOf("--listen");
			if (listen >= 0) args[listen + 1] = (args[listen + 1] ?? "").replace(/:\d+$/, ":0");
			lines.push({ where: `${file}:${block.line + i}`, text: text.trim(), args });
		});
	}
	return lines;
}

/**
 * A shell block, for the doc's session, per `properties` block: the settings as written, filled in, read by
 * `kcat -F`, which must list `topic` and read a record printed as `record` (`%k %s`) from it.
 * @param {string} markdown @param {string} file @param {{ topic: string, record: string }} expected
 * @returns {import("./doc-blocks.mjs").ShellBlock[]}
 */
export function propertiesBlocks(markdown, file, { topic, record }) {
	return extractBlocks(markdown, file, PROPERTIES_LANGS)
		.filter((block) => block.skip === null)
		.map((block) => {
			const where = `${file}:${block.line}`;
			const fail = (/** @type {string} */ what) =>
				`{ printf '%s\\n%s\\n' ${shellQuote(`doc test: ${where}: kcat -F with these settings ${what}:`)} "$__out" >&2; exit 1; }`;
			const code = [
				`: "\${KEY_ID:?${where}: these settings need KEY_ID and SECRET, the key that the kcat block before them makes}" "\${SECRET:?}"`,
				"__file=$(mktemp)",
				// A here-document straight to a file: inside $(…) bash matches the quotes of its text (librdkafka's `'`).
				"cat > \"$__file\" <<'DOC_PROPERTIES'",
				block.code,
				"DOC_PROPERTIES",
				'__props=$(<"$__file")',
				`__props=\${__props//"<key id>"/$KEY_ID}`,
				`__props=\${__props//"<key secret>"/$SECRET}`,
				`__props=\${__props//"${DOC_BOOTSTRAP}"/\${KAFKA_BOOTSTRAP:-${DOC_BOOTSTRAP}}}`,
				'printf \'%s\\n\' "$__props" > "$__file"',
				`__out=$(kcat -F "$__file" -L 2>&1) || ${fail("cannot list topics")}`,
				`grep -qF ${shellQuote(`topic "${topic}"`)} <<<"$__out" || ${fail(`lists no topic ${topic}`)}`,
				`__out=$(kcat -F "$__file" -C -t ${topic} -o beginning -e -f '%k %s\\n' 2>&1) || ${fail(`cannot consume ${topic}`)}`,
				`grep -qxF ${shellQuote(record)} <<<"$__out" || ${fail(`reads no ${record} from ${topic}`)}`,
				'rm -f "$__file"',
			].join("\n");
			return { file, line: block.line, code, skip: null };
		});
}

/** `text` as one bash word. @param {string} text */
const shellQuote = (text) => `'${text.replaceAll("'", "'\\''")}'`;
