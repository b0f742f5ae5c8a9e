#!/usr/bin/env node
// @ts-check
/**
 * `npm start`: a local Tributary broker on http://127.0.0.1:8787 (or $PORT), on workerd, with its data on disk
 * under .wrangler/state (the same place and layout `wrangler dev` uses, so either can read the other's data).
 *
 * - Makes sure .dev.vars holds an ADMIN_TOKEN (writes a random one if not) and prints it with a curl example.
 * - Default: bundles the Worker and serves it straight from Miniflare (faster than `wrangler dev`'s proxy).
 * - `--wrangler` (or TRIBUTARY_RUNTIME=wrangler): runs `wrangler dev` instead (reload on change, dev tools).
 * - `--allow-private-webhooks`: sets WEBHOOK_ALLOW_PRIVATE=true, so subscriptions may deliver to http:// and
 *   private hosts such as a receiver on 127.0.0.1 (the same as that line in .dev.vars).
 *
 *   npm start                                # Miniflare
 *   npm start -- --wrangler                  # wrangler dev
 *   npm start -- --allow-private-webhooks    # webhooks to local receivers
 *   PORT=9000 npm start                      # or npm start -- --port 9000
 *   PORT=0 npm start                         # any free port (the banner says which; with --wrangler, once it is ready)
 *   PERSIST_TO=/tmp/tributary npm start      # keep the data elsewhere than .wrangler/state
 *
 * Piped to a reader that stops reading (`| head -3`), it stops the broker and exits quietly with status 0: Miniflare
 * is disposed (its data on disk closed cleanly); with --wrangler on port 0 (wrangler's output is passed on through
 * this process), wrangler dev and its workerd are stopped.
 */

import { join } from "node:path";
import {
	assertPortFree,
	DEFAULT_PERSIST_TO,
	ensureAdminToken,
	HOST,
	onReaderGone,
	PROJECT_ROOT,
	parsePort,
	portInUse,
	portOption,
	readWranglerConfig,
	runWranglerForeground,
	startLocalBroker,
	varsWranglerDevDrops,
	wranglerDevArgs,
} from "./lib/index.mjs";

function usage() {
	console.log(`usage: npm start [-- --wrangler] [-- --allow-private-webhooks] [-- --port N]

  Serves Tributary on http://${HOST}:$PORT (default 8787) with data in $PERSIST_TO (default .wrangler/state).
  --port N                   the port, instead of $PORT (0: any free one, named in the banner)
  --wrangler                 run \`wrangler dev\` instead of Miniflare (same as TRIBUTARY_RUNTIME=wrangler)
  --allow-private-webhooks   let webhook subscriptions deliver to http:// and private hosts (127.0.0.1, 10.x, …):
                             WEBHOOK_ALLOW_PRIVATE=true, as that line in .dev.vars would
  --help                     this text`);
}

/**
 * @typedef {{ token: string, created: boolean }} Token  the admin token, and whether it was just written to .dev.vars
 */

/** The Worker var that lets subscriptions deliver to http:// and private hosts (src/webhook/url-policy.ts). */
const PRIVATE_WEBHOOKS_VAR = "WEBHOOK_ALLOW_PRIVATE";

/** The one line that explains a port in use, for both runtimes. */
const PORT_ADVICE = "stop it, or pick another port: PORT=8788 npm start";

/**
 * @typedef {{ privateWebhooks: boolean, persistTo: string }} Settings  what the flags and environment chose
 */

/**
 * What is running where, the line to paste, and how to try it.
 * @param {Token & Settings & { url: string, runtime: string }} options
 */
function banner({ url, token, created, runtime, privateWebhooks, persistTo }) {
	const lines = [
		"",
		`Tributary (${runtime}) on ${url}`,
		`  console: ${url}/console/   (sign in with the token below)`,
		`  data:  ${persistTo}`,
		`  token: ${token}${created ? "   (new: written to .dev.vars)" : "   (from .dev.vars)"}`,
		`  webhooks to private hosts: ${privateWebhooks ? "allowed (WEBHOOK_ALLOW_PRIVATE=true)" : "refused (start with --allow-private-webhooks to allow)"}`,
		"",
		"Paste into the shell you try things from (the README's curl examples use URL and TOKEN; the CLI, the SDK's",
		"examples and npm run example use TRIBUTARY_URL and TRIBUTARY_TOKEN):",
		`  export URL=${url} TOKEN=${token} TRIBUTARY_URL=${url} TRIBUTARY_TOKEN=${token}`,
		"",
		"Try:",
		`  curl -s -H "Authorization: Bearer ${token}" -H "Content-Type: application/json" \\`,
		`    -d '{"name":"demo","partitions":1}' ${url}/v1/topics`,
		`  curl -s -H "Authorization: Bearer ${token}" -H "Content-Type: application/json" \\`,
		`    -d '{"records":[{"key":"k","value":{"hello":"world"}}]}' ${url}/v1/topics/demo/records`,
		`  curl -s -H "Authorization: Bearer ${token}" "${url}/v1/topics/demo/partitions/0/records?offset=0"`,
		"",
		"Ctrl-C to stop.",
		"",
	];
	console.log(lines.join("\n"));
}

/**
 * Serves the Worker from Miniflare until SIGINT/SIGTERM, or until the reader of this process's output goes away (a
 * write to it fails: nobody reads the request log), then disposes of it and exits.
 * @param {Token & Settings & { port: number, vars: Record<string, string> }} options
 */
async function startMiniflare({ port, vars, token, created, privateWebhooks, persistTo }) {
	/** @type {Awaited<ReturnType<typeof startLocalBroker>> | undefined} */
	let broker;
	let stopping = false;
	let readerGone = false;
	/** @param {NodeJS.Signals | null} sig  null: the reader went away, so nothing is said */
	const stop = async (sig) => {
		if (sig === null) readerGone = true;
		if (broker === undefined) return; // still starting: stopped as soon as it has started
		if (stopping) {
			if (sig === null) return;
			console.error(`\n${sig} again: exiting without waiting.`);
			process.exit(1);
		}
		stopping = true;
		if (!readerGone) console.log(`\n${sig}: stopping ...`);
		try {
			await broker.dispose();
			process.exit(0);
		} catch (error) {
			console.error(error);
			process.exit(1);
		}
	};
	// Miniflare logs every request to stdout: once nobody reads it, the next line would end this process with an EPIPE
	// stack and status 1, without disposing of Miniflare.
	for (const stream of [process.stdout, process.stderr]) onReaderGone(stream, () => stop(null));
	console.log("Bundling the Worker (wrangler deploy --dry-run) ...");
	try {
		broker = await startLocalBroker({ host: HOST, port, token, bindings: vars, persistTo });
	} catch (error) {
		const { code, message } = /** @type {NodeJS.ErrnoException} */ (error);
		if (code === "EADDRINUSE" || /address already in use/i.test(String(message))) {
			throw new Error(portInUse(port, PORT_ADVICE));
		}
		throw error;
	}
	if (readerGone) return stop(null);
	banner({ url: broker.url, token, created, runtime: "Miniflare", privateWebhooks, persistTo });
	// Miniflare's exit hook answers SIGINT/SIGTERM by killing workerd and exiting at once (status 130/143). Replace
	// it with a full dispose (loopback server, temp files) and a clean exit; its "exit" hook stays as a backstop.
	for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
		process.removeAllListeners(sig);
		process.on(sig, () => stop(sig));
	}
}

/**
 * Runs `wrangler dev` in the foreground (its output on this terminal), passing signals on to its whole tree.
 * `bindings`: .dev.vars with the flags applied; wrangler loads the `[secrets]` names from .dev.vars itself and
 * drops the rest, which are passed on as `--var`s. Given a port, the banner comes first and wrangler keeps its
 * interactive session (key shortcuts); given port 0, the banner waits for wrangler's "Ready on" line, which names
 * the port bound (wrangler's output then goes through a pipe, and its session is off: it needs a terminal).
 * @param {Token & Settings & { port: number, bindings: Record<string, string> }} options
 */
function startWrangler({ port, bindings, token, created, privateWebhooks, persistTo }) {
	const announce = (/** @type {number} */ bound) =>
		banner({ url: `http://${HOST}:${bound}`, token, created, runtime: "wrangler dev", privateWebhooks, persistTo });
	if (port !== 0) announce(port);
	const { secrets } = readWranglerConfig(join(PROJECT_ROOT, "wrangler.toml"));
	const vars = varsWranglerDevDrops(bindings, secrets);
	runWranglerForeground(wranglerDevArgs({ port, persistTo, vars }), "npm start", port === 0 ? { onReady: announce } : {});
}

async function main() {
	const args = process.argv.slice(2);
	if (args.includes("--help") || args.includes("-h")) return usage();
	const flagPort = portOption(args);
	const unknown = args.filter(
		(arg, i) =>
			arg !== "--wrangler" &&
			arg !== "--allow-private-webhooks" &&
			arg !== "--port" &&
			!arg.startsWith("--port=") &&
			args[i - 1] !== "--port",
	);
	if (unknown.length > 0) {
		usage();
		throw new Error(`unknown argument ${unknown[0]}`);
	}
	const runtime = process.env.TRIBUTARY_RUNTIME ?? "";
	if (!["", "miniflare", "wrangler"].includes(runtime)) throw new Error(`TRIBUTARY_RUNTIME must be miniflare or wrangler, got ${runtime}`);
	const useWrangler = args.includes("--wrangler") || runtime === "wrangler";
	const port = flagPort ?? parsePort(process.env.PORT);
	await assertPortFree(port, PORT_ADVICE);
	const { vars, token, created } = ensureAdminToken(join(PROJECT_ROOT, ".dev.vars"));
	const privateWebhooks = args.includes("--allow-private-webhooks") || vars[PRIVATE_WEBHOOKS_VAR] === "true";
	const bindings = privateWebhooks ? { ...vars, [PRIVATE_WEBHOOKS_VAR]: "true" } : vars;
	const persistTo = process.env.PERSIST_TO || DEFAULT_PERSIST_TO;
	if (useWrangler) startWrangler({ port, bindings, token, created, privateWebhooks, persistTo });
	else await startMiniflare({ port, vars: bindings, token, created, privateWebhooks, persistTo });
}

main().catch((error) => {
	console.error(`npm start: ${error instanceof Error ? error.message : String(error)}`);
	process.exit(1);
});
