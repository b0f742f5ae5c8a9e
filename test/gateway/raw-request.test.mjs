/**
 * The raw-frame client the e2e and gateway tests share (test/e2e/lib/kafka.mjs `rawRequest`) fails as soon as the
 * gateway closes the connection without a whole answer (a version it does not serve, a malformed frame), naming
 * what happened, rather than waiting for the test's timeout.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { startGateway } from "../../gateway/server.js";
import { rawRequest, requestFrame } from "../e2e/lib/kafka.mjs";

const FETCH = 1;
/** A Fetch version no gateway serves: refused by closing the connection, as a broker does. */
const UNSERVED_VERSION = 99;

test("rawRequest rejects when the gateway closes the connection instead of answering", async () => {
	let closing = (/** @type {string} */ _line) => {};
	const closed = new Promise((resolve) => {
		closing = resolve;
	});
	// Refused before any call to Tributary, so no Worker is needed behind it.
	const gateway = await startGateway({
		host: "127.0.0.1",
		port: 0,
		url: "http://127.0.0.1:1",
		log: (line) => line.includes("closing") && closing(line),
	});
	const answer = rawRequest(gateway.port, requestFrame(FETCH, UNSERVED_VERSION));
	answer.catch(() => {});
	try {
		assert.match(await closed, /Fetch v99 is not served/);
	} finally {
		// Nothing else left running: an answer that never settles fails this test at once instead of hanging it.
		await gateway.close();
	}
	await assert.rejects(answer, /closed the connection before answering \(0 bytes received\)/);
});
