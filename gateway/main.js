#!/usr/bin/env node
// @ts-check
/**
 * @module
 * `kafka-gateway`: run the Kafka gateway in the foreground.
 *
 *   tributary kafka-gateway --listen 127.0.0.1:9092 [--url URL] [--token TOKEN]
 *                           [--advertised-host HOST] [--advertised-port PORT]
 *
 * `--url` defaults to $TRIBUTARY_URL, then http://127.0.0.1:8787; `--token` to $TRIBUTARY_TOKEN. Without a
 * token, clients must authenticate with SASL/PLAIN (key id and secret, or `admin` and the admin token).
 */

import { parseArgs } from "node:util";
import { startGateway } from "./server.js";

export const USAGE = `usage: kafka-gateway --listen HOST:PORT [--url URL] [--token TOKEN] [--advertised-host HOST] [--advertised-port PORT]`;

/** @param {string[]} argv */
export function parseGatewayArgs(argv, env = process.env) {
	const { values } = parseArgs({
		args: argv,
		options: {
			listen: { type: "string", default: "127.0.0.1:9092" },
			url: { type: "string" },
			token: { type: "string" },
			"advertised-host": { type: "string" },
			"advertised-port": { type: "string" },
			help: { type: "boolean", short: "h" },
		},
		strict: true,
	});
	const match = /^(.*):(\d{1,5})$/.exec(values.listen ?? "");
	if (!match) throw new Error(`--listen must be HOST:PORT, got ${values.listen}`);
	const advertisedPort = values["advertised-port"] === undefined ? undefined : Number(values["advertised-port"]);
	if (advertisedPort !== undefined && !(Number.isInteger(advertisedPort) && advertisedPort > 0 && advertisedPort < 65536)) {
		throw new Error("--advertised-port must be a port number");
	}
	return {
		help: values.help ?? false,
		host: match[1].replace(/^\[|\]$/g, ""),
		port: Number(match[2]),
		url: values.url ?? env.TRIBUTARY_URL ?? "http://127.0.0.1:8787",
		token: values.token ?? env.TRIBUTARY_TOKEN ?? null,
		advertisedHost: values["advertised-host"],
		advertisedPort,
	};
}

/** Runs the gateway until SIGINT/SIGTERM. @param {string[]} argv */
export async function runGateway(argv) {
	const options = parseGatewayArgs(argv);
	if (options.help) {
		console.log(USAGE);
		return;
	}
	const gateway = await startGateway(options);
	console.error(
		`kafka-gateway: listening on ${gateway.host}:${gateway.port} (advertised ${gateway.advertised.host}:${gateway.advertised.port}) → ${options.url}`,
	);
	const stop = async () => {
		await gateway.close();
		process.exit(0);
	};
	process.once("SIGINT", stop);
	process.once("SIGTERM", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
	runGateway(process.argv.slice(2)).catch((error) => {
		console.error(`kafka-gateway: ${error.message}\n${USAGE}`);
		process.exit(2);
	});
}
