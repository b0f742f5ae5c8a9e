// @ts-check
/**
 * @module
 * Kafka-side helpers for the gateway e2e tests: the gateway as its own process (the `kafka-gateway` command,
 * listening on port 0 so the kernel picks a free port as it binds, read back from its "listening on" line; stopped
 * by PID), Debian's kcat, and a raw TCP client for frames no well-behaved client sends.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before } from "node:test";
import { HOST, PROJECT_ROOT, stopAllWranglerDevs, stopChild, underLoad, waitUntil } from "../../../scripts/lib/index.mjs";
import { captureOutput } from "./child-output.mjs";
import { client } from "./client.mjs";
import { showOnFailure, watchKafkaClient } from "./failure-output.mjs";
import { plainDevToken, plainWranglerDev } from "./shared-dev.mjs";

/** The `tributary` CLI as npm installs it; the documented way to run the gateway is `tributary kafka-gateway`. */
const CLI_MAIN = join(PROJECT_ROOT, "dist", "cli", "main.js");
const KCAT_TIMEOUT_MS = 30_000;
/** The gateway's line once it listens: `kafka-gateway: listening on 127.0.0.1:40123 (advertised …)`. */
const LISTENING_LINE = /listening on \S*:(\d+) \(advertised (\S+)\)/;

/**
 * @typedef {Awaited<ReturnType<typeof startGatewayProcess>>} GatewayProcess
 * @typedef {{ disconnect(): Promise<void> }} KafkaClient
 */

/**
 * What every Kafka e2e file sets up, with its `before` and `after` hooks registered: a `wrangler dev` (the one
 * `npm run test:e2e` shares among files, else its own on a temp dir: shared-dev.mjs), the HTTP client on it, `gateways` gateway processes with the admin token, and teardown that disconnects
 * every kafkajs client a test opened (`track`) even when the test failed, stops every gateway `startGateway`
 * started, then wrangler dev. A test that fails prints wrangler dev's output, every gateway's and what every tracked
 * client went through (failure-output.mjs). `dev` and `api` are set, and `gateways` filled, by the `before` hook: read them inside
 * tests, not from another root `before` hook (Node 20 starts the next one without waiting for this one).
 * @param {string} name  names the temp dir of an own `wrangler dev`
 * @param {{ gateways?: number }} [options]
 * @example
 * const setup = kafkaE2eSetup("kafka-groups", { gateways: 2 });
 * test("…", async () => { await setup.api.createTopic("t", 2); setup.gateways[0].bootstrap; });
 */
export function kafkaE2eSetup(name, { gateways = 1 } = {}) {
	process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";
	/** @type {KafkaClient[]} */
	const clients = [];
	/** @type {GatewayProcess[]} */
	const started = [];
	const setup = {
		token: plainDevToken(),
		/** @type {import("./shared-dev.mjs").PlainDev} */
		dev: /** @type {any} */ (null),
		/** @type {ReturnType<typeof client>} */
		api: /** @type {any} */ (null),
		/** @type {GatewayProcess[]} */
		gateways: [],
		/**
		 * Starts a gateway on this wrangler dev (or on `url`: a stand-in in front of it), with the admin token unless
		 * `token` says otherwise, and `args` after the rest (`--auto-create-topics-enable`); stopped at the end.
		 * @param {{ token?: string | null, port?: number, url?: string, args?: string[] }} [options]
		 */
		async startGateway(options = {}) {
			const gateway = await startGatewayProcess({ url: setup.dev.url, token: setup.token, ...options });
			started.push(gateway);
			return gateway;
		},
		/**
		 * Registers a kafkajs client for disconnection at the end, so none keeps the process alive, and keeps its events
		 * for a test that fails.
		 * @template {KafkaClient} T
		 * @param {T} kafkaClient
		 * @returns {T}
		 */
		track(kafkaClient) {
			clients.push(kafkaClient);
			const kind = "run" in kafkaClient ? "consumer" : "send" in kafkaClient ? "producer" : "admin";
			watchKafkaClient(`kafkajs ${kind} ${clients.length}`, kafkaClient);
			return kafkaClient;
		},
	};
	let remove = () => {};
	before(async () => {
		const dev = await plainWranglerDev(name, setup.token);
		setup.dev = dev;
		remove = dev.remove;
		showOnFailure(dev.shared ? "wrangler dev (shared with other files)" : "wrangler dev", () => setup.dev.output());
		setup.api = client(setup.dev.url, setup.token);
		for (let i = 0; i < gateways; i++) setup.gateways.push(await setup.startGateway());
	});
	after(async () => {
		await Promise.all(clients.map((c) => c.disconnect().catch(() => {})));
		for (const gateway of started) await gateway.stop();
		await stopAllWranglerDevs();
		remove();
	});
	return setup;
}

/**
 * Starts `kafka-gateway --listen 127.0.0.1:<port> --url <url> [--token] [args…]` and waits until it listens. Its output
 * is shown when a test fails.
 * @param {{ url: string, token?: string | null, port?: number, args?: string[] }} options  `port`: default 0 (any free one)
 */
export function startGatewayProcess({ url, token = null, port = 0, args = [] }) {
	// Through `tributary kafka-gateway … --url … [--token …]`, as the README shows it.
	return startGatewayCommand(["kafka-gateway", "--listen", `${HOST}:${port}`, "--url", url, ...(token ? ["--token", token] : []), ...args]);
}

/**
 * How long a gateway may take to say it listens: a bound on a hang, 15 s held up to load 16 (2 cores); docs starts
 * README.md's beside every doc's wrangler dev, and at load 22 it took longer. Stretched above it (`underLoad`).
 */
const GATEWAY_LISTEN_TIMEOUT_MS = underLoad(15_000, 16);

/**
 * kafkajs admin's `timeout` for a test's `createTopics`: sent as CreateTopics' timeout_ms, to which the gateway holds
 * the create (a topic not answered by then is REQUEST_TIMED_OUT, which kafkajs throws), and kafkajs's own wait for the
 * new topics' leaders. Its default, 5 s, bounds how fast the machine is: a create held 6 s (as a loaded machine's)
 * failed "Topic creation errors". No test here is about that bound, so each waits for the create's answer, as long as
 * kafkajs waits for any answer (its requestTimeout, 30 s), within the test's own timeout.
 */
export const CREATE_TOPICS_TIMEOUT_MS = 30_000;

/** How long a gateway has to exit on SIGTERM (it closes its connections first) before it is killed. */
const GATEWAY_STOP_GRACE_MS = underLoad(10_000, 16);

/**
 * Starts the CLI with `args` (`kafka-gateway …`, as a doc writes it, its --listen port free) and waits until the
 * gateway listens; `advertised` is what its "listening on" line says Metadata sends clients to. TRIBUTARY_TOKEN is
 * empty: the token is the one `args` give. One that does not listen within `listenTimeoutMs` is stopped before the
 * start fails: left running, it would keep the test file's process alive after its tests.
 * @param {string[]} args
 * @param {{ listenTimeoutMs?: number }} [options]
 */
export async function startGatewayCommand(args, { listenTimeoutMs = GATEWAY_LISTEN_TIMEOUT_MS } = {}) {
	const child = spawn(process.execPath, [CLI_MAIN, ...args], {
		cwd: PROJECT_ROOT,
		stdio: ["ignore", "pipe", "pipe"],
		env: { ...process.env, TRIBUTARY_TOKEN: "" },
	});
	/** @type {string[]} */
	const lines = [];
	child.stderr.on("data", (chunk) => lines.push(...String(chunk).split("\n").filter(Boolean)));
	child.stdout.on("data", (chunk) => lines.push(...String(chunk).split("\n").filter(Boolean)));
	let exited = false;
	child.once("exit", () => {
		exited = true;
	});
	const stop = async () => {
		if (!exited) await stopChild(child, GATEWAY_STOP_GRACE_MS);
	};
	const chosen = /** @type {{ port: number, advertised: string }} */ (
		await waitUntil(
			() => {
				if (exited) throw new Error(`kafka-gateway exited:\n${lines.join("\n")}`);
				const listening = lines.map((line) => LISTENING_LINE.exec(line)).find((match) => match !== null);
				return listening === undefined ? null : { port: Number(listening[1]), advertised: listening[2] ?? "" };
			},
			{ timeoutMs: listenTimeoutMs, message: `kafka-gateway pid ${child.pid} to listen` },
		).catch(async (/** @type {unknown} */ error) => {
			await stop();
			throw error;
		})
	);
	showOnFailure(`kafka-gateway pid ${child.pid} on port ${chosen.port}`, () => lines.join("\n"));
	return {
		port: chosen.port,
		advertised: chosen.advertised,
		bootstrap: `${HOST}:${chosen.port}`,
		pid: child.pid,
		output: () => lines.join("\n"),
		stop,
	};
}

/**
 * kcat's `-X` settings for logging in with SASL/PLAIN as `username` (a key's id, or `admin` with the admin token).
 * @param {string} username @param {string} password
 */
export function kcatSasl(username, password) {
	return [
		"-X",
		"security.protocol=SASL_PLAINTEXT",
		"-X",
		"sasl.mechanisms=PLAIN",
		"-X",
		`sasl.username=${username}`,
		"-X",
		`sasl.password=${password}`,
	];
}

/**
 * Runs kcat with `args` (and `input` on stdin); resolves with `{ status, stdout, stderr }` once it exits, and rejects
 * when it cannot be started or has not exited within KCAT_TIMEOUT_MS (it is then killed). Not spawnSync: that would
 * stop this process's event loop while kcat runs, and with it whatever the test serves from here (a gateway, a
 * webhook receiver) that kcat or the Worker may be waiting on.
 * @param {string[]} args @param {string} [input]
 * @returns {Promise<{ status: number | null, stdout: string, stderr: string }>}
 */
export function kcat(args, input = "") {
	return new Promise((resolve, reject) => {
		const child = spawn("kcat", args, { stdio: ["pipe", "pipe", "pipe"] });
		const output = captureOutput(child);
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			child.kill("SIGKILL");
		}, KCAT_TIMEOUT_MS);
		child.once("error", (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.once("close", (status) => {
			clearTimeout(timer);
			if (timedOut) reject(new Error(`kcat ${args.join(" ")}: still running after ${KCAT_TIMEOUT_MS} ms\n${output.stderr}`));
			else resolve({ status, ...output });
		});
		// kcat may exit before reading all of its input (a refused connection): its status and stderr say why, not EPIPE.
		child.stdin.on("error", () => {});
		child.stdin.end(input);
	});
}

/**
 * Every message of `topic` from the beginning to its end, as kcat's JSON envelopes (`-J`); asserts kcat exited 0.
 * @param {string} bootstrap @param {string} topic @returns {Promise<any[]>}
 */
export async function kcatReadAll(bootstrap, topic) {
	const consumed = await kcat(["-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-J"]);
	assert.equal(consumed.status, 0, consumed.stderr);
	return consumed.stdout
		.trim()
		.split("\n")
		.map((line) => JSON.parse(line));
}

/**
 * Sends raw bytes to the gateway and resolves with everything it answers until it closes the connection
 * (or `idleMs` passes without it closing: then `closed` is false).
 * @param {number} port @param {Buffer} bytes
 */
export function rawExchange(port, bytes, idleMs = 3_000) {
	return new Promise((resolve, reject) => {
		const socket = connect({ host: HOST, port });
		/** @type {Buffer[]} */
		const chunks = [];
		const timer = setTimeout(() => {
			socket.destroy();
			resolve({ closed: false, answer: Buffer.concat(chunks) });
		}, idleMs);
		socket.on("connect", () => socket.write(bytes));
		socket.on("data", (chunk) => chunks.push(chunk));
		socket.on("error", (error) => {
			clearTimeout(timer);
			if (/** @type {any} */ (error).code === "ECONNRESET") resolve({ closed: true, answer: Buffer.concat(chunks) });
			else reject(error);
		});
		socket.on("close", () => {
			clearTimeout(timer);
			resolve({ closed: true, answer: Buffer.concat(chunks) });
		});
	});
}

/**
 * Sends one request frame (size prefix included) to the gateway and resolves with its answer's frame, without the
 * size prefix: for well-formed requests that kcat and kafkajs never send. Rejects when the connection closes first.
 * @param {number} port @param {Buffer} frame @returns {Promise<Buffer>}
 */
export function rawRequest(port, frame) {
	return new Promise((resolve, reject) => {
		const socket = connect({ host: HOST, port });
		let received = Buffer.alloc(0);
		socket.on("connect", () => socket.write(frame));
		socket.on("data", (chunk) => {
			received = Buffer.concat([received, chunk]);
			if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
			socket.destroy();
			resolve(received.subarray(4, 4 + received.readInt32BE(0)));
		});
		socket.on("error", reject);
		// After an answer this is a no-op; before one, the gateway refused the request (or broke off its answer).
		socket.on("close", () => reject(new Error(`the gateway closed the connection before answering (${received.length} bytes received)`)));
	});
}

/**
 * One request to the gateway on `port`, encoded and its answer decoded with Kafka's own message definitions (the
 * gateway's codec, loaded by URL so that the tools' typecheck does not take gateway/ in through this file).
 * @param {number} port @param {string} name the API, e.g. "LeaveGroup" @param {number} version @param {object} body
 * @returns {Promise<any>}
 */
export async function exchange(port, name, version, body) {
	const { APIS, codecs } = await import(new URL("../../../gateway/protocol/apis.js", import.meta.url).href);
	const { Reader, Writer } = await import(new URL("../../../gateway/protocol/io.js", import.meta.url).href);
	const api = [...APIS.values()].find((a) => a.name === name);
	// An API with no flexible version at all (SaslHandshake) has an empty range: min above max.
	const flexible = version >= api.request.flexible.min && version <= api.request.flexible.max;
	const writer = new Writer();
	writer.int32(0);
	codecs
		.get("RequestHeader")
		.encode(writer, { requestApiKey: api.key, requestApiVersion: version, correlationId: 9, clientId: "e2e" }, flexible ? 2 : 1);
	api.request.encode(writer, body, version);
	const frame = Buffer.from(writer.done());
	frame.writeInt32BE(frame.length - 4, 0);
	const reader = new Reader(await rawRequest(port, frame));
	// ApiVersions answers with header v0 in every version, so a client that asked too new a one can read it.
	const flexibleAnswer = version >= api.response.flexible.min && version <= api.response.flexible.max && name !== "ApiVersions";
	codecs.get("ResponseHeader").decode(reader, flexibleAnswer ? 1 : 0);
	return api.response.decode(reader, version);
}

/**
 * A Fetch request that does not wait, for `topics` (`{ topic, partitions }` by name, or `{ topicId, partitions }` from
 * v13), with a client's fields (no replica, no fetch session, up to 1 MiB): each version's encoder takes what it has.
 * @param {object[]} topics
 */
export const fetchRequest = (topics) => ({
	replicaId: -1,
	maxWaitMs: 0,
	minBytes: 1,
	maxBytes: 1_048_576,
	isolationLevel: 0,
	sessionId: 0,
	sessionEpoch: -1,
	topics,
	forgottenTopicsData: [],
	rackId: "",
});

/** Correlation id of a `requestFrame`: its answer starts with it. */
export const REQUEST_CORRELATION_ID = 7;

/**
 * A request frame: size, api key, version, correlation id (`REQUEST_CORRELATION_ID`), a null client id, body.
 * @param {number} apiKey @param {number} version @param {Buffer} [body]
 */
export function requestFrame(apiKey, version, body = Buffer.alloc(0)) {
	const header = Buffer.alloc(10);
	header.writeInt16BE(apiKey, 0);
	header.writeInt16BE(version, 2);
	header.writeInt32BE(REQUEST_CORRELATION_ID, 4);
	header.writeInt16BE(-1, 8);
	const size = Buffer.alloc(4);
	size.writeInt32BE(header.length + body.length);
	return Buffer.concat([size, header, body]);
}
