/**
 * @module
 * Reads the parts of wrangler.toml that a local Miniflare needs: the Worker's name, its compatibility date and
 * flags, its Durable Object bindings (and which classes are SQLite-backed), and plain `[vars]`.
 *
 * There is no TOML parser among the project's dependencies (wrangler bundles its own, but importing wrangler
 * costs ~3 s), so this reads the small subset of TOML that wrangler.toml uses: comments, `[table]`,
 * `[[array.of.tables]]`, and `key = value` with strings, numbers, booleans and (possibly multi-line) arrays of
 * those. Anything else is an error naming the line, never a silent misread.
 */

import { readFileSync } from "node:fs";

/** Parses one TOML value (string, number, boolean or array of those); returns [value, rest of the text]. */
function parseValue(text, where) {
	const s = text.trimStart();
	if (s.startsWith('"')) {
		let out = "";
		for (let i = 1; i < s.length; i++) {
			const ch = s[i];
			if (ch === '"') return [out, s.slice(i + 1)];
			if (ch === "\\") {
				const next = s[++i];
				const escapes = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
				if (next === "u") {
					out += String.fromCodePoint(Number.parseInt(s.slice(i + 1, i + 5), 16));
					i += 4;
				} else if (next !== undefined && next in escapes) out += escapes[next];
				else throw new Error(`${where}: unsupported escape \\${next}`);
			} else out += ch;
		}
		throw new Error(`${where}: unterminated string`);
	}
	if (s.startsWith("'")) {
		const end = s.indexOf("'", 1);
		if (end < 0) throw new Error(`${where}: unterminated string`);
		return [s.slice(1, end), s.slice(end + 1)];
	}
	if (s.startsWith("[")) {
		const items = [];
		let rest = s.slice(1);
		for (;;) {
			rest = rest.replace(/^(\s|#[^\n]*)*/, "");
			if (rest.startsWith("]")) return [items, rest.slice(1)];
			const [item, after] = parseValue(rest, where);
			items.push(item);
			rest = after.replace(/^(\s|#[^\n]*)*/, "");
			if (rest.startsWith(",")) rest = rest.slice(1);
			else if (!rest.startsWith("]")) throw new Error(`${where}: expected , or ] in array`);
		}
	}
	const bare = /^(true|false|[+-]?\d[\d_]*(\.\d+)?)/.exec(s);
	if (bare === null) throw new Error(`${where}: unsupported value ${JSON.stringify(s.slice(0, 40))}`);
	const token = bare[1];
	const value = token === "true" ? true : token === "false" ? false : Number(token.replaceAll("_", ""));
	return [value, s.slice(token.length)];
}

/** Parses the TOML subset described above into plain objects. */
export function parseTomlSubset(source, file = "wrangler.toml") {
	const root = {};
	let table = root;
	const lines = source.split(/\r?\n/);
	for (let n = 0; n < lines.length; n++) {
		const where = `${file}:${n + 1}`;
		const line = lines[n].trim();
		if (line === "" || line.startsWith("#")) continue;
		const header = /^(\[\[?)\s*([A-Za-z0-9_.-]+)\s*(\]\]?)\s*(#.*)?$/.exec(line);
		if (header !== null) {
			const isArray = header[1] === "[[";
			if (isArray !== (header[3] === "]]")) throw new Error(`${where}: malformed table header`);
			const path = header[2].split(".");
			let node = root;
			for (const [i, part] of path.entries()) {
				const last = i === path.length - 1;
				if (last && isArray) {
					node[part] ??= [];
					if (!Array.isArray(node[part])) throw new Error(`${where}: ${header[2]} is not an array of tables`);
					const fresh = {};
					node[part].push(fresh);
					node = fresh;
				} else {
					node[part] ??= {};
					node = Array.isArray(node[part]) ? node[part].at(-1) : node[part];
				}
			}
			table = node;
			continue;
		}
		const assignment = /^([A-Za-z0-9_-]+|"[^"]*")\s*=\s*(.*)$/.exec(line);
		if (assignment === null) throw new Error(`${where}: unsupported line ${JSON.stringify(line)}`);
		const key = assignment[1].replace(/^"|"$/g, "");
		// A value may continue over later lines (multi-line arrays): feed the parser the rest of the file.
		const remainder = [assignment[2], ...lines.slice(n + 1)].join("\n");
		const [value, after] = parseValue(remainder, where);
		const tail = after.split("\n")[0].trim();
		if (tail !== "" && !tail.startsWith("#")) throw new Error(`${where}: unexpected ${JSON.stringify(tail)} after value`);
		n += remainder.slice(0, remainder.length - after.length).split("\n").length - 1;
		table[key] = value;
	}
	return root;
}

/** Bindings and settings this reader does not translate: refuse them rather than start a Worker without them. */
const UNSUPPORTED_KEYS = new Set([
	"ai",
	"analytics_engine_datasets",
	"assets",
	"browser",
	"containers",
	"d1_databases",
	"dispatch_namespaces",
	"env",
	"hyperdrive",
	"images",
	"kv_namespaces",
	"mtls_certificates",
	"queues",
	"r2_buckets",
	"rules",
	"secrets_store_secrets",
	"send_email",
	"services",
	"site",
	"unsafe",
	"vectorize",
	"version_metadata",
	"workflows",
]);

/**
 * The Miniflare view of a wrangler.toml: `{ name, compatibilityDate, compatibilityFlags, durableObjects, vars }`,
 * with `durableObjects` in Miniflare's shape (`{ BINDING: { className, useSQLite } }`).
 */
export function readWranglerConfig(path) {
	const config = parseTomlSubset(readFileSync(path, "utf8"), path);
	const unsupported = Object.keys(config).filter((key) => UNSUPPORTED_KEYS.has(key));
	if (unsupported.length > 0) {
		throw new Error(`${path}: the Miniflare runner does not pass on ${unsupported.join(", ")}; extend scripts/lib or use --wrangler`);
	}
	if (typeof config.name !== "string") throw new Error(`${path}: no top-level name`);
	if (typeof config.compatibility_date !== "string") throw new Error(`${path}: no top-level compatibility_date`);
	const sqliteClasses = new Set((config.migrations ?? []).flatMap((migration) => migration.new_sqlite_classes ?? []));
	const durableObjects = {};
	for (const binding of config.durable_objects?.bindings ?? []) {
		if (binding.script_name !== undefined) throw new Error(`${path}: Durable Object ${binding.name} lives in another script`);
		durableObjects[binding.name] = { className: binding.class_name, useSQLite: sqliteClasses.has(binding.class_name) };
	}
	return {
		name: config.name,
		compatibilityDate: config.compatibility_date,
		compatibilityFlags: config.compatibility_flags ?? [],
		durableObjects,
		vars: config.vars ?? {},
	};
}
