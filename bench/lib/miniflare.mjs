/**
 * Serving a Worker with the `miniflare` package directly: bundle it as `wrangler deploy --dry-run` would upload
 * it, then run that bundle in workerd with SQLite-backed Durable Objects persisted to a directory on disk.
 */

import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify, stripVTControlCharacters } from "node:util";
import { Log, LogLevel, Miniflare } from "miniflare";

const run = promisify(execFile);

/** Bundles the Worker of `configPath` with wrangler's dry-run deploy; returns the entry module's path. */
export async function bundleWorker({ root, configPath, wranglerBin }) {
	const outdir = await mkdtemp(join(tmpdir(), "tributary-bench-bundle-"));
	try {
		await run(wranglerBin, ["deploy", "--dry-run", "--outdir", outdir, "--config", configPath], {
			cwd: root,
			env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
			timeout: 120_000,
			maxBuffer: 16 * 1024 * 1024,
		});
	} catch (error) {
		await rm(outdir, { recursive: true, force: true });
		// Keep what wrangler said about the failure (esbuild errors and their locations), not the whole dump.
		const said = stripVTControlCharacters(`${error.stderr ?? ""}\n${error.stdout ?? ""}`);
		const lines = said
			.split("\n")
			.map((line) => line.trimEnd())
			.filter((line) => /ERROR|✘|error|\.ts:\d+|╵|│/.test(line));
		throw new Error(
			`wrangler deploy --dry-run --config ${configPath} failed:\n${(lines.length > 0 ? lines : said.split("\n")).slice(0, 12).join("\n")}`,
		);
	}
	const entry = (await readdir(outdir)).find((name) => name.endsWith(".js"));
	if (entry === undefined) throw new Error(`wrangler --dry-run wrote no .js to ${outdir}`);
	return join(outdir, entry);
}

/**
 * The Durable Object bindings a wrangler.toml declares at top level: `[{ binding, className, useSQLite }]`, SQLite
 * for the classes its migrations list in `new_sqlite_classes`. Reads just that part of TOML (the
 * `[[durable_objects.bindings]]` and `[[migrations]]` tables, single- or multi-line string arrays); bindings to
 * another Worker's class (`script_name`) are left out.
 */
export function durableObjectsFromToml(text) {
	const bindings = [];
	const sqliteClasses = new Set();
	let section = "";
	let current = null;
	const lines = text.split(/\r?\n/);
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i]
			.replace(/\s+#.*$/, "")
			.replace(/^#.*$/, "")
			.trim();
		if (line.startsWith("[")) {
			section = line;
			current = section === "[[durable_objects.bindings]]" ? {} : null;
			if (current !== null) bindings.push(current);
			continue;
		}
		const match = /^([\w.-]+)\s*=\s*(.*)$/.exec(line);
		if (match === null) continue;
		let value = match[2];
		if (value.startsWith("[")) while (!value.includes("]") && i + 1 < lines.length) value += lines[++i];
		const strings = [...value.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2]);
		if (current !== null && ["name", "class_name", "script_name"].includes(match[1])) current[match[1]] = strings[0];
		if (section === "[[migrations]]" && match[1] === "new_sqlite_classes") for (const name of strings) sqliteClasses.add(name);
	}
	const local = bindings.filter((b) => b.name !== undefined && b.class_name !== undefined && b.script_name === undefined);
	if (local.length === 0) throw new Error("wrangler.toml declares no Durable Object bindings");
	return local.map((b) => ({ binding: b.name, className: b.class_name, useSQLite: sqliteClasses.has(b.class_name) }));
}

/**
 * Starts Miniflare on 127.0.0.1 (a free port) with `durableObjects` (from `durableObjectsFromToml`), persisted
 * under `persistDir`. Lines the runtime writes to stdout/stderr are kept in `logLines` (worker errors land there).
 */
export async function startMiniflare({ scriptPath, durableObjects, bindings, persistDir }) {
	const stderrLines = [];
	const keep = (stream, sink) => {
		let pending = "";
		stream.setEncoding("utf8");
		stream.on("data", (chunk) => {
			pending += chunk;
			const lines = pending.split("\n");
			pending = lines.pop() ?? "";
			for (const line of lines) if (line.trim() !== "" && sink.length < 1000) sink.push(line);
		});
	};
	const mf = new Miniflare({
		modules: true,
		scriptPath,
		modulesRoot: dirname(scriptPath),
		compatibilityDate: "2026-04-20",
		compatibilityFlags: ["nodejs_compat"],
		bindings,
		durableObjects: Object.fromEntries(durableObjects.map(({ binding, className, useSQLite }) => [binding, { className, useSQLite }])),
		durableObjectsPersist: persistDir,
		host: "127.0.0.1",
		port: 0,
		cf: false,
		log: new Log(LogLevel.WARN),
		handleRuntimeStdio(stdout, stderr) {
			keep(stdout, stderrLines);
			keep(stderr, stderrLines);
		},
	});
	const url = await mf.ready;
	return {
		url: url.origin,
		logLines: stderrLines,
		async stop() {
			await mf.dispose();
		},
	};
}

/**
 * Folds the write-ahead logs of every SQLite database under `persistDir` into their databases, with the Debian
 * `sqlite3` CLI (`sqlite3Bin`), while no server has them open. workerd leaves a Durable Object's WAL in place when
 * it stops, and the next start replays it (up to SQLite's auto-checkpoint size, ~4 MB): a cost of local storage
 * that depends on how recently an object was written, not on how much it holds. Returns the databases folded.
 */
export async function checkpointSqlite(persistDir, sqlite3Bin) {
	const files = (await readdir(persistDir, { recursive: true })).filter((f) => f.endsWith(".sqlite") && !f.endsWith("metadata.sqlite"));
	for (const file of files) {
		await run(sqlite3Bin, [join(persistDir, file), "PRAGMA wal_checkpoint(TRUNCATE);"], { timeout: 60_000 });
	}
	return files.length;
}
