// @ts-check
/**
 * No port is picked ahead and handed to wrangler dev: between "found free" and "bound" another process (a parallel
 * e2e file, another wrangler dev on the machine) can take it. A start binds port 0 and reads the port back; a
 * restart asks for its old port, and here that port is taken in between, as the race would take it: the restart
 * must come up on another port with the data intact. An explicit port that is taken fails at once, in one line.
 */

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, test } from "node:test";
import { generateToken, HOST, startWranglerDev, stopAllWranglerDevs, waitForPortClosed } from "../../scripts/lib/index.mjs";
import { client } from "./lib/client.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const state = tempDir("ports");
/** @type {import("node:net").Server[]} */
const squatters = [];

after(async () => {
	await stopAllWranglerDevs();
	await Promise.all(squatters.map((server) => new Promise((resolve) => server.close(resolve))));
	state.remove();
});

/**
 * Listens on `port` of 127.0.0.1 (0: any), as the process that wins the race would.
 * @param {number} port
 * @returns {Promise<number>} the port now taken
 */
async function occupy(port) {
	const server = createServer();
	squatters.push(server);
	await new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, HOST, () => resolve(undefined));
	});
	const address = server.address();
	assert.ok(typeof address === "object" && address !== null);
	return address.port;
}

test("wrangler dev: a restart whose port was taken meanwhile comes up on another port, data intact", { timeout: 180_000 }, async () => {
	const token = generateToken();
	const first = await startWranglerDev({ persistTo: state.path, token });
	assert.ok(first.port > 0, `the port wrangler bound is known (${first.port})`);
	assert.equal(first.url, `http://${HOST}:${first.port}`);
	await client(first.url, token).createTopic("kept", 3);
	await first.stop();
	await waitForPortClosed(first.port);

	await occupy(first.port);
	const second = await first.restart();
	assert.notEqual(second.port, first.port, "the taken port was left to whoever took it");
	const topic = await client(second.url, token).describeTopic("kept");
	assert.equal(topic.partitions.length, 3, JSON.stringify(topic));
	await second.stop();
});

test("wrangler dev: an explicit port that is taken fails with one line and EADDRINUSE", { timeout: 120_000 }, async () => {
	const port = await occupy(0);
	await assert.rejects(startWranglerDev({ persistTo: state.path, token: generateToken(), port }), (error) => {
		assert.ok(error instanceof Error);
		assert.equal(/** @type {NodeJS.ErrnoException} */ (error).code, "EADDRINUSE");
		assert.match(error.message, new RegExp(`^port ${port} is in use `));
		return true;
	});
});
