#!/usr/bin/env node
// @ts-check
/**
 * A local webhook receiver for trying subscriptions (README, "Live delivery"): listens on 127.0.0.1 (a free port,
 * or $PORT), prints its URL as the first line, then one line per delivery: the `webhook-id` header and the body.
 * Answers 204 to every POST, so deliveries succeed. Ctrl-C (or `kill`) stops it.
 *
 *   node scripts/webhook-receiver.mjs > hooks.log &
 *   head -n1 hooks.log     # http://127.0.0.1:<port>/hooks
 */

import { createServer } from "node:http";

const HOST = "127.0.0.1";
const BODY_BYTES_MAX = 16 * 1024 * 1024;

const server = createServer((request, response) => {
	let body = "";
	let bytes = 0;
	request.setEncoding("utf8");
	request.on("data", (chunk) => {
		bytes += Buffer.byteLength(chunk);
		if (bytes <= BODY_BYTES_MAX) body += chunk;
	});
	request.on("end", () => {
		if (request.method === "POST") process.stdout.write(`${request.headers["webhook-id"] ?? "-"} ${body.replace(/\n/g, " ")}\n`);
		response.writeHead(request.method === "POST" ? 204 : 405).end();
	});
});

server.listen(Number(process.env.PORT ?? 0), HOST, () => {
	const address = server.address();
	process.stdout.write(`http://${HOST}:${typeof address === "object" && address !== null ? address.port : 0}/hooks\n`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
