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

test("--help is answered whatever else the command line holds, a wildcard --listen too", () => {
	assert.equal(parseGatewayArgs(["--help", "--listen", "0.0.0.0:9092"], {}).help, true);
	assert.equal(parseGatewayArgs(["--listen", "nonsense", "-h"], {}).help, true);
});

test("every way of writing the any-address that node:net binds as one is a wildcard, refused without --advertised-host", () => {
	// Each binds 0.0.0.0, :: or ::ffff:0.0.0.0 (the IPv4 any-address in IPv6's form) in node:net.
	for (const host of ["0", "0.0", "0x0", "000.000.000.000", "[::0]", "[0:0:0:0:0:0:0:0]", "[::ffff:0.0.0.0]", "[::ffff:0:0]"])
		assert.throws(() => parseGatewayArgs(["--listen", `${host}:9092`], {}), /--advertised-host/, host);
	assert.equal(parseGatewayArgs(["--listen", "127.1:9092"], {}).host, "127.1");
	assert.equal(parseGatewayArgs(["--listen", "[::1]:9092"], {}).host, "::1");
});

test("a wildcard --advertised-host is refused for itself, not blamed on --listen", () => {
	for (const advertised of ["0.0.0.0", "0", "::", "[::0]"]) {
		const given = ["--listen", "127.0.0.1:9092", "--advertised-host", advertised];
		assert.throws(
			() => parseGatewayArgs(given, {}),
			(error) => {
				const { message } = /** @type {Error} */ (error);
				assert.match(message, new RegExp(`^--advertised-host ${advertised.replace(/[[\]]/g, "\\$&")} `));
				assert.doesNotMatch(message, /--listen|pass --advertised-host/);
				return true;
			},
			advertised,
		);
	}
});
