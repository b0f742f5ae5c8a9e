/**
 * The gateway's command line (gateway/main.js `parseGatewayArgs`): what Metadata will tell clients to connect to must
 * be an address they can reach. A wildcard listen address (every interface) is not one, so without
 * `--advertised-host` it is refused at start, as a Kafka broker refuses `advertised.listeners` on 0.0.0.0, instead of
 * sending every client to 0.0.0.0 (its own host) after bootstrap.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { parseGatewayArgs } from "../../gateway/main.js";

test("a wildcard --listen host without --advertised-host is refused, naming the flag; with it, or on a routable host, the gateway starts", () => {
	for (const listen of ["0.0.0.0:9092", "[::]:9092", ":9092"])
		assert.throws(() => parseGatewayArgs(["--listen", listen], {}), /--advertised-host/, listen);
	const behind = parseGatewayArgs(["--listen", "0.0.0.0:9092", "--advertised-host", "kafka.internal"], {});
	assert.deepEqual([behind.host, behind.port, behind.advertisedHost], ["0.0.0.0", 9092, "kafka.internal"]);
	const local = parseGatewayArgs(["--listen", "127.0.0.1:9092"], {});
	assert.deepEqual([local.host, local.advertisedHost], ["127.0.0.1", undefined]);
	assert.throws(() => parseGatewayArgs(["--listen", "127.0.0.1:9092", "--advertised-host", "0.0.0.0"], {}), /--advertised-host/);
});
