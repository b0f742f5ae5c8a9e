/**
 * @module
 * Subcommands that live in other parts of the repository and are built there. Each entry names a module under
 * the project root; when it is present the CLI imports it and calls its `main(args, connection)`, which returns
 * an exit status. This keeps the CLI free of their dependencies, and lets them ship independently.
 *
 * The contract for an extension module:
 * `export async function main(args: string[], connection: { url: string; token: string }): Promise<number>`.
 */

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Connection } from "./connection.ts";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Extension {
	/** The module, relative to the project root. */
	readonly module: string;
	readonly summary: string;
}

export const EXTENSIONS: Readonly<Record<string, Extension>> = {
	"kafka-gateway": { module: "gateway/main.js", summary: "serve the Kafka wire protocol in front of the broker" },
};

type ExtensionMain = (args: string[], connection: Connection) => Promise<number>;

/** Runs the extension `name`; a missing build is a clear error, never a stack trace. */
export async function runExtension(name: string, args: string[], connection: Connection): Promise<number> {
	const extension = EXTENSIONS[name] as Extension;
	const path = join(PROJECT_ROOT, extension.module);
	if (!existsSync(path)) throw new Error(`${name} is not built here (${extension.module} is missing; npm install builds it)`);
	const loaded = (await import(pathToFileURL(path).href)) as { main?: ExtensionMain };
	if (typeof loaded.main !== "function") throw new Error(`${extension.module} does not export main(args, connection)`);
	return loaded.main(args, connection);
}
