// @ts-check
/**
 * @module
 * The gateway run for one test file against a stand-in for Tributary's HTTP API: a `node:http` server the file
 * builds, answering only what its tests ask. Kafka frames then go through the whole gateway (connection, codec,
 * handlers, the HTTP client) with no broker or Worker behind it.
 */

import { createServer, request } from "node:http";
import { connect } from "node:net";
import { after, before } from "node:test";
import { WebSocketServer } from "ws";
import { APIS, codecs } from "../../../gateway/protocol/apis.js";
import { Reader, Writer } from "../../../gateway/protocol/io.js";
import { startGateway } from "../../../gateway/server.js";
import { keptLog } from "../../e2e/lib/failure-output.mjs";

export { fetchRequest } from "../../e2e/lib/kafka.mjs";

/**
 * A stand-in answering each request with `route`'s `{ status, body }`, `body` as JSON (null: an empty body), given
 * the request's method, URL and JSON body (null when it has none).
 * @param {(method: string, url: URL, body: any) => { status: number, body: unknown }} route
 * @returns {import("node:http").Server} not yet listening (`gatewayOver` starts it)
 */
export function routeServer(route) {
	return createServer((req, res) => {
		/** @type {Buffer[]} */
		const chunks = [];
		req.on("data", (chunk) => chunks.push(chunk));
		req.on("end", () => {
			const text = Buffer.concat(chunks).toString("utf8");
			const { status, body } = route(req.method ?? "GET", new URL(req.url ?? "/", "http://worker"), text === "" ? null : JSON.parse(text));
			res.statusCode = status;
			res.setHeader("content-type", "application/json");
			res.end(body === null ? "" : JSON.stringify(body));
		});
	});
}

/**
 * Serves Tributary's streaming produce channel (`GET …/records/stream`, a WebSocket) on `worker` as the Worker does,
 * each message answered by `worker` itself as a `POST …/records` of it with the channel's credentials, one report per
 * message in order: a 200's body, or the error body with its status. So a stand-in written for HTTP produce answers
 * the gateway's channel too. `claim` is asked first, and serves the upgrades it answers true for itself. Returns
 * the channels' sockets, in the order they opened.
 * @param {import("node:http").Server} worker @param {Claim} [claim]
 * @returns {import("ws").WebSocket[]}
 */
export function serveProduceChannels(worker, claim = () => false) {
	/** @type {import("ws").WebSocket[]} */
	const sockets = [];
	const channels = new WebSocketServer({ noServer: true });
	worker.on("upgrade", (req, socket, head) => {
		if (claim(req, socket, head)) return;
		const url = new URL(req.url ?? "/", "http://worker");
		if (!url.pathname.endsWith("/records/stream")) return socket.destroy();
		channels.handleUpgrade(req, socket, head, (ws) => {
			sockets.push(ws);
			let reports = Promise.resolve();
			ws.on("message", (data) => {
				const answer = post(worker, url.pathname.slice(0, -"/stream".length), req.headers.authorization, /** @type {Buffer} */ (data));
				reports = reports.then(async () => {
					const { status, text } = await answer;
					if (ws.readyState !== ws.OPEN) return;
					ws.send(status === 200 ? text : JSON.stringify({ ...(text === "" ? {} : JSON.parse(text)), status }));
				});
			});
		});
	});
	worker.on("close", () => channels.close());
	return sockets;
}

/**
 * @typedef {(req: import("node:http").IncomingMessage, socket: import("node:stream").Duplex, head: Buffer) => boolean} Claim
 */

/**
 * `body` POSTed to `path` on `worker`: its status and body text.
 * @param {import("node:http").Server} worker @param {string} path @param {string | undefined} authorization @param {Buffer} body
 * @returns {Promise<{ status: number, text: string }>}
 */
function post(worker, path, authorization, body) {
	const { port } = /** @type {import("node:net").AddressInfo} */ (worker.address());
	const headers = { "content-type": "application/json", ...(authorization === undefined ? {} : { authorization }) };
	return new Promise((resolve, reject) => {
		const req = request({ host: "127.0.0.1", port, method: "POST", path, headers }, (res) => {
			/** @type {Buffer[]} */
			const chunks = [];
			res.on("data", (chunk) => chunks.push(chunk));
			res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
		});
		req.on("error", reject);
		req.end(body);
	});
}

/**
 * Starts `worker` and a gateway over it before the file's tests, and closes both after them. The gateway's log is
 * printed after a test that fails.
 * @param {import("node:http").Server} worker the stand-in, not yet listening
 * @param {{ now?: () => number, claim?: Claim }} [options] `now`: the gateway's clock (`startGateway`); `claim`: upgrades
 *   the file serves itself (`serveProduceChannels`)
 * @returns {{ readonly port: number, channels: import("ws").WebSocket[] }} the gateway's port, known once the file's
 *   `before` ran, and the produce channels' sockets (the stand-in's ends), in the order they opened
 */
export function gatewayOver(worker, options = {}) {
	/** @type {{ port: number, close: () => Promise<void> } | null} */
	let gateway = null;
	const channels = serveProduceChannels(worker, options.claim);
	before(async () => {
		await new Promise((resolve) => worker.listen(0, "127.0.0.1", () => resolve(undefined)));
		const { port } = /** @type {import("node:net").AddressInfo} */ (worker.address());
		gateway = await startGateway({
			host: "127.0.0.1",
			port: 0,
			url: `http://127.0.0.1:${port}`,
			token: "t",
			log: keptLog("kafka-gateway (in this process)"),
			now: options.now,
		});
	});
	after(async () => {
		await gateway?.close();
		await new Promise((resolve) => worker.close(() => resolve(undefined)));
	});
	return {
		channels,
		get port() {
			if (gateway === null) throw new Error("the gateway starts in the file's before()");
			return gateway.port;
		},
	};
}

/** Whether `version` of a message is flexible (tagged fields, compact strings): `flexible` is its versions' range. */
const flexibleIn = (/** @type {{ min: number, max: number }} */ flexible, /** @type {number} */ version) =>
	version >= flexible.min && version <= flexible.max;

/**
 * A Kafka client connection to the gateway at `port`: writes requests (several may be in flight) and reads their
 * answers in order, all on the one connection (a request of its own per exchange would be a new connection each).
 * @param {number} port @param {string} clientId
 */
export async function connectClient(port, clientId) {
	const socket = connect({ host: "127.0.0.1", port });
	await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
	let received = Buffer.alloc(0);
	/** @type {{ api: any, version: number, resolve: (answer: any) => void, reject: (e: Error) => void }[]} */
	const waiting = [];
	socket.on("data", (chunk) => {
		received = Buffer.concat([received, chunk]);
		while (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
			const frame = received.subarray(4, 4 + received.readInt32BE(0));
			received = received.subarray(4 + frame.length);
			const next = /** @type {(typeof waiting)[number]} */ (waiting.shift());
			const reader = new Reader(frame);
			codecs.get("ResponseHeader").decode(reader, flexibleIn(next.api.response.flexible, next.version) ? 1 : 0);
			next.resolve(next.api.response.decode(reader, next.version));
		}
	});
	socket.on("close", () => {
		for (const w of waiting.splice(0)) w.reject(new Error("the gateway closed the connection"));
	});
	return {
		/** @param {string} name @param {number} version @param {object} body @returns {Promise<any>} */
		send(name, version, body) {
			const api = [...APIS.values()].find((a) => a.name === name);
			const writer = new Writer();
			writer.int32(0);
			const header = { requestApiKey: api.key, requestApiVersion: version, correlationId: waiting.length, clientId };
			codecs.get("RequestHeader").encode(writer, header, flexibleIn(api.request.flexible, version) ? 2 : 1);
			api.request.encode(writer, body, version);
			const frame = Buffer.from(writer.done());
			frame.writeInt32BE(frame.length - 4, 0);
			socket.write(frame);
			return new Promise((resolve, reject) => waiting.push({ api, version, resolve, reject }));
		},
		close: () => socket.destroy(),
	};
}
