// @ts-check
/**
 * @module
 * The Kafka gateway: a TCP server speaking Kafka's protocol to clients and Tributary's HTTP API to the Worker.
 * It holds no state of its own (topics, offsets, groups and producer ids are Tributary's), so any number of
 * instances can serve one cluster and a restart loses nothing.
 *
 * @example
 * const gateway = await startGateway({ host: "127.0.0.1", port: 9092, url: "http://127.0.0.1:8787", token });
 * // kcat -b 127.0.0.1:9092 -L
 * await gateway.close();
 */

import { createServer } from "node:net";
import { serveConnection } from "./connection.js";
import { TopicList } from "./topic-list.js";
import { Tributary } from "./tributary.js";

/**
 * @param {{ host: string, port: number, url: string, token?: string | null,
 *   advertisedHost?: string, advertisedPort?: number, log?: (message: string) => void, now?: () => number,
 *   autoCreateTopics?: boolean }} options
 *   `now`: the clock the gateway's topic lists and configs age by (a test's, which stands still); `autoCreateTopics`:
 *   Metadata creates a missing topic it names, as a broker with `auto.create.topics.enable` (off by default, as on
 *   Confluent Cloud: a typo in a producer's topic would otherwise make a topic)
 */
export async function startGateway(options) {
	const log = options.log ?? ((message) => console.error(`kafka-gateway: ${message}`));
	const tributary = new Tributary(options.url, { authorization: options.token ? `Bearer ${options.token}` : null }, undefined, log);
	const sockets = new Set();
	const topicList = new TopicList(options.now);
	const server = createServer((socket) => {
		socket.setNoDelay(true);
		sockets.add(socket);
		socket.once("close", () => sockets.delete(socket));
		serveConnection(socket, { tributary, advertised, log, topicList, autoCreateTopics: options.autoCreateTopics });
	});
	await new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port, options.host, () => resolve(undefined));
	});
	const address = /** @type {import("node:net").AddressInfo} */ (server.address());
	const advertised = { host: options.advertisedHost ?? options.host, port: options.advertisedPort ?? address.port };
	return {
		host: address.address,
		port: address.port,
		advertised,
		/** Stops accepting connections and closes the open ones. */
		close() {
			for (const socket of sockets) socket.destroy();
			tributary.close();
			return new Promise((resolve) => server.close(() => resolve(undefined)));
		},
	};
}
