// @ts-check
/**
 * @module
 * The gateway run for one test file against a stand-in for Tributary's HTTP API: a `node:http` server the file
 * builds, answering only what its tests ask. Kafka frames then go through the whole gateway (connection, codec,
 * handlers, the HTTP client) with no broker or Worker behind it.
 */

import { after, before } from "node:test";
import { startGateway } from "../../../gateway/server.js";

/**
 * Starts `worker` and a gateway over it before the file's tests, and closes both after them.
 * @param {import("node:http").Server} worker the stand-in, not yet listening
 * @returns {{ readonly port: number }} the gateway's port, known once the file's `before` ran
 */
export function gatewayOver(worker) {
	/** @type {{ port: number, close: () => Promise<void> } | null} */
	let gateway = null;
	before(async () => {
		await new Promise((resolve) => worker.listen(0, "127.0.0.1", () => resolve(undefined)));
		const { port } = /** @type {import("node:net").AddressInfo} */ (worker.address());
		gateway = await startGateway({ host: "127.0.0.1", port: 0, url: `http://127.0.0.1:${port}`, token: "t", log: () => {} });
	});
	after(async () => {
		await gateway?.close();
		await new Promise((resolve) => worker.close(() => resolve(undefined)));
	});
	return {
		get port() {
			if (gateway === null) throw new Error("the gateway starts in the file's before()");
			return gateway.port;
		},
	};
}
