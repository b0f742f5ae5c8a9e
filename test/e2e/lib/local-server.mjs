// @ts-check
/**
 * @module
 * A node HTTP server of a test's own (a stand-in broker, a webhook receiver, a relay, a probe) on a port of 127.0.0.1
 * the kernel picks, as every e2e file starts one.
 */

import { HOST } from "../../../scripts/lib/index.mjs";

/**
 * @typedef {object} LocalServer
 * @property {string} url  `http://127.0.0.1:<port>`, no trailing slash
 * @property {number} port
 * @property {() => Promise<void>} close  stops listening and ends the connections still open (a kept-alive one would
 *   hold the test's process open), settling once the server closed
 */

/**
 * Starts `server` listening on a free port of HOST; settles once it listens (rejects if it cannot).
 * @param {import("node:http").Server} server  not yet listening
 * @returns {Promise<LocalServer>}
 */
export function listenLocal(server) {
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, HOST, () => {
			server.off("error", reject);
			const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
			const close = () =>
				new Promise((closed) => {
					server.close(() => closed(undefined));
					server.closeAllConnections();
				}).then(() => {});
			resolve({ url: `http://${HOST}:${port}`, port, close });
		});
	});
}
