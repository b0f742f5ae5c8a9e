// @ts-check
/**
 * The e2e tests' Kafka gateway start (test/e2e/lib/kafka.mjs, `startGatewayCommand`): a gateway that does not listen
 * in time is stopped before the start fails. Left running, it kept the test file's process alive after its tests,
 * until the runner's file timeout (docs, README.md's gateway at load 22: "timed out after 15000 ms waiting for
 * kafka-gateway to listen", then the file "timed out after 600000ms").
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { HOST, isAlive } from "../../scripts/lib/index.mjs";
import { startGatewayCommand } from "./lib/kafka.mjs";

test("a gateway that does not listen within its bound is stopped, and the start fails naming its pid", { timeout: 60_000 }, async () => {
	const start = startGatewayCommand(["kafka-gateway", "--listen", `${HOST}:0`, "--url", "http://127.0.0.1:9", "--token", "t"], {
		listenTimeoutMs: 1,
	});
	const failure = await start.then(
		() => assert.fail("the gateway listened within 1 ms"),
		(/** @type {Error} */ error) => error,
	);
	const pid = Number(/pid (\d+)/.exec(failure.message)?.[1]);
	assert.ok(pid > 0, failure.message);
	assert.equal(isAlive(pid), false, `kafka-gateway pid ${pid} still runs`);
});
