// @ts-check
/**
 * @module
 * Reads what a local Miniflare needs from a wrangler.toml: the Worker's name, its compatibility date and flags,
 * its Durable Object bindings (and which classes are SQLite-backed), plain `[vars]` and the static assets directory
 * (the web console) with its `run_worker_first` rules. Parsed with smol-toml (a
 * complete TOML 1.0 parser); settings this reader cannot pass on to Miniflare are refused by name.
 */

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "smol-toml";

/**
 * @typedef {object} WranglerConfig
 * @property {string} name
 * @property {string} compatibilityDate
 * @property {string[]} compatibilityFlags
 * @property {Record<string, { className: string, useSQLite: boolean }>} durableObjects  Miniflare's shape, by binding
 * @property {Record<string, string>} vars
 * @property {Record<string, string>} r2Buckets  bucket name by binding
 * @property {{ directory: string, runWorkerFirst: string[], binding: string | null } | null} assets  the `[assets]`
 *   directory (absolute), the paths that go to the Worker without asking the assets first (`run_worker_first` rules)
 *   and the name of the Worker's binding to the assets, if any; or null
 * @property {{ ip?: string, port?: number }} dev  the `[dev]` table (where `wrangler dev` listens)
 * @property {{ required: string[] } | null} secrets  the `[secrets]` table, or null when there is none (what
 *   `wrangler dev` loads from .dev.vars depends on it: see `varsWranglerDevDrops`)
 */

/** Bindings and settings this reader does not translate: refuse them rather than start a Worker without them. */
const UNSUPPORTED_KEYS = new Set([
	"ai",
	"analytics_engine_datasets",
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
 * @typedef {object} RawConfig  the part of wrangler.toml read here, as TOML gives it
 * @property {unknown} [name]
 * @property {unknown} [compatibility_date]
 * @property {string[]} [compatibility_flags]
 * @property {{ new_sqlite_classes?: string[] }[]} [migrations]
 * @property {{ bindings?: { name: string, class_name: string, script_name?: string }[] }} [durable_objects]
 * @property {Record<string, string>} [vars]
 * @property {{ binding: string, bucket_name: string }[]} [r2_buckets]
 * @property {Record<string, unknown>} [assets]
 * @property {{ ip?: string, port?: number }} [dev]
 * @property {{ required?: string[] }} [secrets]
 */

/**
 * The Miniflare view of the wrangler.toml at `path`.
 * @param {string} path
 * @returns {WranglerConfig}
 * @example
 * const { name, compatibilityDate, durableObjects } = readWranglerConfig("wrangler.toml");
 */
export function readWranglerConfig(path) {
	const config = /** @type {RawConfig} */ (parse(readFileSync(path, "utf8")));
	const unsupported = Object.keys(config).filter((key) => UNSUPPORTED_KEYS.has(key));
	if (unsupported.length > 0) {
		throw new Error(`${path}: the Miniflare runner does not pass on ${unsupported.join(", ")}; extend scripts/lib or use --wrangler`);
	}
	if (typeof config.name !== "string") throw new Error(`${path}: no top-level name`);
	if (typeof config.compatibility_date !== "string") throw new Error(`${path}: no top-level compatibility_date`);
	const sqliteClasses = new Set((config.migrations ?? []).flatMap((migration) => migration.new_sqlite_classes ?? []));
	/** @type {WranglerConfig["durableObjects"]} */
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
		r2Buckets: Object.fromEntries((config.r2_buckets ?? []).map((bucket) => [bucket.binding, bucket.bucket_name])),
		assets: assetsSettings(config.assets, path),
		dev: config.dev ?? {},
		secrets: config.secrets === undefined ? null : { required: config.secrets.required ?? [] },
	};
}

/**
 * The `[assets]` directory, resolved against the config's folder, its `run_worker_first` rules (an array of
 * path globs; the boolean form is not supported) and its `binding`.
 * @param {Record<string, unknown> | undefined} assets
 * @param {string} path
 * @returns {{ directory: string, runWorkerFirst: string[], binding: string | null } | null}
 */
function assetsSettings(assets, path) {
	if (assets === undefined) return null;
	const extra = Object.keys(assets).filter((key) => key !== "directory" && key !== "run_worker_first" && key !== "binding");
	if (typeof assets.directory !== "string" || extra.length > 0 || (assets.binding !== undefined && typeof assets.binding !== "string")) {
		throw new Error(`${path}: the Miniflare runner supports [assets] with only a directory, run_worker_first and binding`);
	}
	const rules = assets.run_worker_first ?? [];
	if (!Array.isArray(rules) || rules.some((rule) => typeof rule !== "string")) {
		throw new Error(`${path}: the Miniflare runner supports run_worker_first as an array of path rules only`);
	}
	return { directory: resolve(dirname(path), assets.directory), runWorkerFirst: rules, binding: assets.binding ?? null };
}
