// @ts-check
/**
 * @module
 * `.dev.vars`: the local secrets file that both `npm start` and `wrangler dev` read (dotenv syntax, gitignored).
 * With a `[secrets]` block in wrangler.toml, `wrangler dev` loads only the listed names from it, so the scripts pass
 * the other lines on themselves (`varsWranglerDevDrops`).
 */

import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/** The placeholder in .dev.vars.example: a token everyone can read is no token. */
export const PLACEHOLDER_TOKEN = "replace-with-a-long-random-token";

const LINE = /^\s*(?:export\s+)?([\w.-]+)\s*=\s*(.*)$/;

/**
 * Parses dotenv-style `KEY=value` lines (quotes optional, `#` comments) into an object.
 * @param {string} text
 */
export function parseDevVars(text) {
	/** @type {Record<string, string>} */
	const vars = {};
	for (const line of text.split(/\r?\n/)) {
		const match = LINE.exec(line);
		if (match === null) continue;
		const [, name = "", raw = ""] = match;
		let value = raw.trim();
		const quote = value[0];
		if ((quote === '"' || quote === "'" || quote === "`") && value.indexOf(quote, 1) > 0) {
			value = value.slice(1, value.indexOf(quote, 1));
			if (quote === '"') value = value.replaceAll("\\n", "\n");
		} else {
			value = value.replace(/\s+#.*$/, "").trim();
		}
		vars[name] = value;
	}
	return vars;
}

/** A fresh random admin token (24 bytes, base64url). */
export function generateToken() {
	return randomBytes(24).toString("base64url");
}

/**
 * Reads `path`, making sure it holds a usable ADMIN_TOKEN: if there is none (or it is empty or the example's
 * placeholder) a random one is written, keeping every other line. Returns `{ vars, token, created }`.
 * @param {string} path
 */
export function ensureAdminToken(path) {
	const text = existsSync(path) ? readFileSync(path, "utf8") : "";
	const vars = parseDevVars(text);
	const current = vars.ADMIN_TOKEN;
	if (current !== undefined && current !== "" && current !== PLACEHOLDER_TOKEN) return { vars, token: current, created: false };
	const token = generateToken();
	// Replace an empty or placeholder ADMIN_TOKEN line in place; otherwise append one.
	const lines = text.split(/\r?\n/);
	const at = lines.findIndex((line) => LINE.exec(line)?.[1] === "ADMIN_TOKEN");
	if (at >= 0) lines[at] = `ADMIN_TOKEN=${token}`;
	else {
		while (lines.length > 0 && lines.at(-1)?.trim() === "") lines.pop();
		lines.push(`ADMIN_TOKEN=${token}`);
	}
	writeFileSync(path, `${lines.join("\n").replace(/\n*$/, "")}\n`, { mode: 0o600 });
	return { vars: { ...vars, ADMIN_TOKEN: token }, token, created: true };
}

/**
 * A start-up warning when the .dev.vars at `path` holds no usable ADMIN_TOKEN (a Worker without one answers every
 * /v1 request 503 not_configured); null when it does.
 * @param {string} path
 * @returns {string | null}
 */
export function adminTokenWarning(path) {
	const token = existsSync(path) ? parseDevVars(readFileSync(path, "utf8")).ADMIN_TOKEN : undefined;
	if (token !== undefined && token !== "" && token !== PLACEHOLDER_TOKEN) return null;
	return [
		"warning: .dev.vars has no ADMIN_TOKEN, so every /v1 request will be answered 503 not_configured.",
		"         Run `npm start` once (it writes a random one), or add ADMIN_TOKEN=<a long random string> to .dev.vars.",
	].join("\n");
}

/**
 * The .dev.vars entries `wrangler dev` would silently drop, to pass on as `--var NAME:value`. With a `[secrets]`
 * block in wrangler.toml, wrangler (4.x, getVarsForDev) loads from .dev.vars only the names `secrets.required`
 * lists; without one it loads every line, and nothing needs passing. The listed names are left to wrangler, which
 * loads them as secrets (hidden in its bindings table, never on a command line).
 * @param {Record<string, string>} vars  the parsed .dev.vars
 * @param {{ required: string[] } | null} secrets  wrangler.toml's `[secrets]` (`readWranglerConfig(path).secrets`)
 * @returns {Record<string, string>}
 * @example
 * varsWranglerDevDrops({ ADMIN_TOKEN: "t", REQUEST_LOG: "all" }, { required: ["ADMIN_TOKEN"] }); // { REQUEST_LOG: "all" }
 */
export function varsWranglerDevDrops(vars, secrets) {
	if (secrets === null) return {};
	const loaded = new Set(secrets.required);
	return Object.fromEntries(Object.entries(vars).filter(([name]) => !loaded.has(name)));
}
