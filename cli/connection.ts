/**
 * @module
 * Where the CLI connects: `--url`/`--token`, else `TRIBUTARY_URL`/`TRIBUTARY_TOKEN`, else the local broker that
 * `npm start` runs (http://127.0.0.1:8787, with the ADMIN_TOKEN it keeps in the project's `.dev.vars`).
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { brokerUrl } from "tributary/client";
import { UsageError } from "./usage-error.ts";

/** The repository root, seen from dist/cli/ (where this file runs from). */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Connection {
	readonly url: string;
	readonly token: string;
}

/**
 * `tokenRequired: false` answers an empty token when none is found: the Kafka gateway can run without one, its
 * clients then signing in with SASL/PLAIN.
 */
export async function resolveConnection(
	flags: { url?: string | undefined; token?: string | undefined },
	{ tokenRequired = true }: { tokenRequired?: boolean } = {},
): Promise<Connection> {
	const { url, problem } = brokerUrl(flags.url, process.env.TRIBUTARY_URL);
	if (url === null) throw new UsageError(problem);
	const local = flags.token === undefined && process.env.TRIBUTARY_TOKEN === undefined ? await localToken() : undefined;
	const token = flags.token ?? process.env.TRIBUTARY_TOKEN ?? local?.token;
	if (!tokenRequired) return { url, token: token ?? "" };
	if (token === "" && local !== undefined) {
		throw new UsageError(
			`the ADMIN_TOKEN in ${local.path} is empty: give it a token (\`npm start\` writes one into the project's), or pass --token or set TRIBUTARY_TOKEN`,
		);
	}
	if (token === "" && flags.token === undefined) {
		// Set but empty, as `export TRIBUTARY_TOKEN=$TOKEN` leaves it in a shell without TOKEN: it hides .dev.vars' token.
		throw new UsageError("TRIBUTARY_TOKEN is set but empty: give it a token, or unset it to use the one `npm start` keeps in .dev.vars");
	}
	if (token === undefined || token === "") {
		throw new UsageError("no token: pass --token, set TRIBUTARY_TOKEN, or run `npm start` once so .dev.vars holds an ADMIN_TOKEN");
	}
	return { url, token };
}

/**
 * The ADMIN_TOKEN of .dev.vars in the current directory or the project's root, parsed by the project's own reader,
 * with the file it came from (named when its line is empty).
 */
async function localToken(): Promise<{ token: string; path: string } | undefined> {
	const path = [join(process.cwd(), ".dev.vars"), join(PROJECT_ROOT, ".dev.vars")].find((p) => existsSync(p));
	if (path === undefined) return undefined;
	const reader = join(PROJECT_ROOT, "scripts", "lib", "dev-vars.mjs");
	const { parseDevVars } = (await import(pathToFileURL(reader).href)) as { parseDevVars: (text: string) => Record<string, string> };
	const token = parseDevVars(readFileSync(path, "utf8")).ADMIN_TOKEN;
	return token === undefined ? undefined : { token, path };
}
