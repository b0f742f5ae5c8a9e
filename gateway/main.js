#!/usr/bin/env node
// @ts-check
/**
 * @module
 * `kafka-gateway`: run the Kafka gateway in the foreground.
 *
 *   tributary kafka-gateway --listen 127.0.0.1:9092 [--url URL] [--token TOKEN]
 *                           [--advertised-host HOST] [--advertised-port PORT] [--auto-create-topics-enable]
 *
 * `--url` defaults to $TRIBUTARY_URL, then http://127.0.0.1:8787 (an http(s) base URL, without /v1); `--token` to
 * $TRIBUTARY_TOKEN. Without a
 * token, clients must authenticate with SASL/PLAIN (key id and secret, or `admin` and the admin token).
 * `--auto-create-topics-enable` is Kafka's `auto.create.topics.enable`: a Metadata request naming a missing topic
 * (with AllowAutoTopicCreation, producers' default) creates it with Tributary's default partitions, under the client's
 * rights.
 */

import { isIPv6 } from "node:net";
import { parseArgs } from "node:util";
import { brokerUrl } from "tributary/client";
import { startGateway } from "./server.js";

export const USAGE = `usage: kafka-gateway --listen HOST:PORT [--url URL] [--token TOKEN] [--advertised-host HOST] [--advertised-port PORT] [--auto-create-topics-enable]`;

/**
 * The any-addresses in the URL parser's canonical form, which folds every way of writing them that node:net binds as
 * one (`0`, `0x0`, `0.0`, `::0`, `0:0:0:0:0:0:0:0`); `::ffff:0.0.0.0` is the IPv4 any-address in IPv6's form.
 */
const WILDCARD_HOSTS = new Set(["0.0.0.0", "[::]", "[::ffff:0:0]"]);

/**
 * Whether `host` (brackets around an IPv6 address allowed) means "every interface", never an address to connect
 * to; an empty host too, as node:net takes it. @param {string} host
 */
function isWildcard(host) {
	const bare = host.replace(/^\[|\]$/g, "");
	if (bare === "") return true;
	try {
		return WILDCARD_HOSTS.has(new URL(`http://${isIPv6(bare) ? `[${bare}]` : bare}/`).hostname);
	} catch {
		return false;
	}
}

/**
 * The Worker's URL from `--url`, else $TRIBUTARY_URL, else the local one, checked by the CLI's rule (the SDK's
 * `brokerUrl`: an http(s) URL the parser takes, a base URL without the API's path, a query or a fragment, and no
 * TRIBUTARY_URL set but empty) before the gateway listens, naming where the URL came from.
 * @param {string | undefined} flag @param {string | undefined} fromEnv @returns {string}
 */
function workerUrl(flag, fromEnv) {
	const { url, problem } = brokerUrl(flag, fromEnv);
	if (url === null) throw new Error(problem);
	return url;
}

/**
 * @typedef {{ help: false, host: string, port: number, url: string, token: string | null, advertisedHost?: string,
 *   advertisedPort?: number, autoCreateTopics: boolean }} GatewayOptions
 */

/**
 * The gateway's command line, checked; `--help` is answered whatever else it holds, as it is asked for when the rest
 * is in doubt.
 * @param {string[]} argv @returns {{ help: true } | GatewayOptions}
 */
export function parseGatewayArgs(argv, env = process.env) {
	const { values } = parseArgs({
		args: argv,
		options: {
			listen: { type: "string", default: "127.0.0.1:9092" },
			url: { type: "string" },
			token: { type: "string" },
			"advertised-host": { type: "string" },
			"advertised-port": { type: "string" },
			"auto-create-topics-enable": { type: "boolean", default: false },
			help: { type: "boolean", short: "h" },
		},
		strict: true,
	});
	if (values.help) return { help: true };
	const match = /^(.*):(\d{1,5})$/.exec(values.listen ?? "");
	if (!match) throw new Error(`--listen must be HOST:PORT, got ${values.listen}`);
	const advertisedPort = values["advertised-port"] === undefined ? undefined : Number(values["advertised-port"]);
	if (advertisedPort !== undefined && !(Number.isInteger(advertisedPort) && advertisedPort > 0 && advertisedPort < 65536)) {
		throw new Error("--advertised-port must be a port number");
	}
	const host = match[1].replace(/^\[|\]$/g, "");
	// Metadata sends every client to the advertised address after bootstrap; a wildcard there points each client at its
	// own host. Kafka refuses it too ("advertised.listeners cannot use the nonroutable meta-address 0.0.0.0").
	const advertisedHost = values["advertised-host"];
	if (advertisedHost !== undefined && isWildcard(advertisedHost))
		throw new Error(
			`--advertised-host ${advertisedHost} means every interface, which clients cannot connect to: give the name or address they reach this gateway at`,
		);
	if (advertisedHost === undefined && isWildcard(host))
		throw new Error(
			`--listen ${values.listen} binds every interface, which clients cannot connect to: pass --advertised-host with the name or address they reach this gateway at`,
		);
	return {
		help: false,
		host,
		port: Number(match[2]),
		url: workerUrl(values.url, env.TRIBUTARY_URL),
		token: values.token ?? env.TRIBUTARY_TOKEN ?? null,
		advertisedHost,
		advertisedPort,
		autoCreateTopics: values["auto-create-topics-enable"] === true,
	};
}

/**
 * Runs the gateway until SIGINT or SIGTERM; resolves with the exit status. This is also the `tributary` CLI's
 * extension contract (`main(args, connection)`): the CLI resolves `--url`/`--token` and passes them in
 * `connection`, which flags in `args` still override.
 * @param {string[]} args @param {{ url?: string, token?: string }} [connection]
 * @returns {Promise<number>}
 */
export async function main(args, connection = {}) {
	const env = {
		...process.env,
		TRIBUTARY_URL: connection.url ?? process.env.TRIBUTARY_URL,
		TRIBUTARY_TOKEN: connection.token ?? process.env.TRIBUTARY_TOKEN,
	};
	let options;
	try {
		options = parseGatewayArgs(args, env);
	} catch (error) {
		console.error(`kafka-gateway: ${/** @type {Error} */ (error).message}\n${USAGE}`);
		return 2;
	}
	if (options.help) {
		console.log(USAGE);
		return 0;
	}
	const gateway = await startGateway(options);
	console.error(
		`kafka-gateway: listening on ${gateway.host}:${gateway.port} (advertised ${gateway.advertised.host}:${gateway.advertised.port}) → ${options.url}`,
	);
	await new Promise((resolve) => {
		process.once("SIGINT", resolve);
		process.once("SIGTERM", resolve);
	});
	await gateway.close();
	return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
	main(process.argv.slice(2)).then(
		(status) => process.exit(status),
		(error) => {
			console.error(`kafka-gateway: ${error.message}`);
			process.exit(1);
		},
	);
}
