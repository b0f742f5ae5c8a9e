// @ts-check
/**
 * A client that keeps its connection alive may send its next request on it after any answer, a refusal included.
 * workerd as `npm start` serves it (Miniflare) closes the connection after answering a request whose body the
 * Worker did not read, and says so in no header (it drops a `Connection: close` the Worker sets): the next request,
 * sent on that socket before the client saw the close, meets a reset. Node's http.Agent and undici's Pool (the
 * Kafka gateway's) met it every time; `fetch` (the SDK's) and curl did not (curl sends again on a fresh connection).
 * `wrangler dev`'s proxy reads every body, so it kept the connection either way.
 */

import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, test } from "node:test";
import { Pool } from "undici";
import { generateToken, startLocalBroker, underLoad } from "../../scripts/lib/index.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

/** The broker's start (a bundle, then Miniflare) at load ~15 on 2 cores, and the requests after it. */
const TEST_TIMEOUT_MS = underLoad(120_000, 16);
const TOPIC = "keep-alive";
const RECORDS_PATH = `/v1/topics/${TOPIC}/records`;

const state = tempDir("keep-alive");
const token = generateToken();
/** @type {Awaited<ReturnType<typeof startLocalBroker>>} */
let broker;
/** @type {Record<string, string>} */
let outsiderAuth;
/** @type {Record<string, string>} */
let meteredAuth;

/**
 * Creates a key; resolves the `Authorization` header that sends it.
 * @param {Record<string, string>} admin
 * @param {object} body
 */
async function keyAuthorization(admin, body) {
	const created = await fetch(`${broker.url}/v1/keys`, { method: "POST", headers: admin, body: JSON.stringify(body) });
	assert.equal(created.status, 201, await created.clone().text());
	const { id, secret } = /** @type {{ id: string, secret: string }} */ (await created.json());
	return { Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}` };
}

before(
	async () => {
		broker = await startLocalBroker({ token, port: 0, persistTo: state.path, quiet: true });
		const admin = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
		const created = await fetch(`${broker.url}/v1/topics`, { method: "POST", headers: admin, body: JSON.stringify({ name: TOPIC }) });
		assert.equal(created.status, 201, await created.text());
		// A key that may produce to no topic (its produce is a 403), and one that may send one request a second (a 429).
		outsiderAuth = await keyAuthorization(admin, {
			name: "keep-alive-outsider",
			acl: [{ resource: "topic:other", operations: ["consume"] }],
		});
		meteredAuth = await keyAuthorization(admin, {
			name: "keep-alive-metered",
			acl: [{ resource: `topic:${TOPIC}`, operations: ["produce"] }],
			quotas: { requests_per_sec: 1 },
		});
	},
	{ timeout: TEST_TIMEOUT_MS },
);

after(async () => {
	await broker?.dispose();
	state.remove();
});

const JSON_TYPE = { "Content-Type": "application/json" };
const BODY = JSON.stringify({ records: [{ value: "x".repeat(200) }] });

/**
 * @typedef {object} Refusal
 * @property {string} name
 * @property {number} status
 * @property {string} method
 * @property {string} path
 * @property {() => Record<string, string>} headers
 */

/** @type {Refusal[]} Answers given before the route reads the body. */
const REFUSALS = [
	{ name: "no credentials", status: 401, method: "POST", path: RECORDS_PATH, headers: () => JSON_TYPE },
	{ name: "not allowed", status: 403, method: "POST", path: RECORDS_PATH, headers: () => ({ ...outsiderAuth, ...JSON_TYPE }) },
	{
		name: "no route",
		status: 404,
		method: "POST",
		path: "/v1/nothing-here",
		headers: () => ({ Authorization: `Bearer ${token}`, ...JSON_TYPE }),
	},
	{
		name: "wrong method",
		status: 405,
		method: "PUT",
		path: RECORDS_PATH,
		headers: () => ({ Authorization: `Bearer ${token}`, ...JSON_TYPE }),
	},
	{
		name: "wrong type",
		status: 415,
		method: "POST",
		path: RECORDS_PATH,
		headers: () => ({ Authorization: `Bearer ${token}`, "Content-Type": "text/csv" }),
	},
];

const GOOD = { method: "POST", path: RECORDS_PATH, body: JSON.stringify({ records: [{ value: 1 }] }) };

/**
 * One request through `agent`; resolves its status, `Connection` header and whether it went on a reused socket.
 * @param {http.Agent} agent
 * @param {{ method: string, path: string, headers?: Record<string, string>, body: string | Buffer }} request
 * @returns {Promise<{ status: number | undefined, connection: string | undefined, reused: boolean }>}
 */
function viaAgent(agent, { method, path, headers = {}, body }) {
	return new Promise((resolve, reject) => {
		const req = http.request(`${broker.url}${path}`, {
			method,
			agent,
			headers: { ...headers, "Content-Length": String(Buffer.byteLength(body)) },
		});
		req.on("response", (res) => {
			res.resume();
			res.on("end", () => resolve({ status: res.statusCode, connection: res.headers.connection, reused: req.reusedSocket }));
		});
		req.on("error", (error) => reject(Object.assign(error, { reused: req.reusedSocket })));
		req.end(body);
	});
}

const goodHeaders = () => ({ Authorization: `Bearer ${token}`, ...JSON_TYPE });

test("after each refusal answered before its body was read, the next request on the connection is answered", {
	timeout: TEST_TIMEOUT_MS,
}, async () => {
	/** @type {string[]} */
	const failed = [];
	for (const refusal of REFUSALS) {
		const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
		try {
			const refused = await viaAgent(agent, { ...refusal, headers: refusal.headers(), body: BODY });
			assert.equal(refused.status, refusal.status, refusal.name);
			const next = await viaAgent(agent, { ...GOOD, headers: goodHeaders() }).catch((/** @type {any} */ error) => {
				failed.push(`${refusal.name}: the produce after the ${refusal.status} failed (${error.code}, reused socket: ${error.reused})`);
			});
			if (next === undefined) continue;
			assert.equal(next.status, 200, refusal.name);
			assert.equal(next.reused, true, `${refusal.name}: the produce went on the connection the ${refusal.status} came on`);
		} finally {
			agent.destroy();
		}
	}
	assert.deepEqual(failed, []);
});

/**
 * Answers of 2xx that never read a body a client may send: every GET, and every DELETE (a topic's, a group's, a key's…).
 * An HTTP client may send one (a DELETE's body is allowed, a GET's only unusual), and the connection must survive it.
 * @type {{ name: string, status: number, method: string, path: () => Promise<string> }[]}
 */
const UNREAD_2XX = [
	{ name: "a GET with a body", status: 200, method: "GET", path: async () => `/v1/topics/${TOPIC}` },
	{
		name: "a DELETE with a body",
		status: 204,
		method: "DELETE",
		path: async () => {
			const name = `keep-alive-gone-${crypto.randomUUID().slice(0, 8)}`;
			const created = await fetch(`${broker.url}/v1/topics`, { method: "POST", headers: goodHeaders(), body: JSON.stringify({ name }) });
			assert.equal(created.status, 201, await created.text());
			return `/v1/topics/${name}`;
		},
	},
];

test("after a 2xx answered without reading the body sent with it, the next request on the connection is answered", {
	timeout: TEST_TIMEOUT_MS,
}, async () => {
	/** @type {string[]} */
	const failed = [];
	for (const answer of UNREAD_2XX) {
		const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
		try {
			const path = await answer.path();
			const answered = await viaAgent(agent, { method: answer.method, path, headers: goodHeaders(), body: BODY });
			assert.equal(answered.status, answer.status, answer.name);
			const next = await viaAgent(agent, { ...GOOD, headers: goodHeaders() }).catch((/** @type {any} */ error) => {
				failed.push(`${answer.name}: the produce after the ${answer.status} failed (${error.code}, reused socket: ${error.reused})`);
			});
			if (next === undefined) continue;
			assert.equal(next.status, 200, answer.name);
			assert.equal(next.reused, true, `${answer.name}: the produce went on the connection the ${answer.status} came on`);
		} finally {
			agent.destroy();
		}
	}
	assert.deepEqual(failed, []);
});

test("a 429 from the key's quota keeps the connection too, through the gateway's undici Pool", { timeout: TEST_TIMEOUT_MS }, async () => {
	const pool = new Pool(broker.url, { pipelining: 1, connections: 1 });
	try {
		/** @type {number[]} */
		const statuses = [];
		// The key's first produce in a second is served (its body read), the next one in that second is a 429.
		while (!statuses.includes(429)) {
			const refused = await pool.request({ method: "POST", path: RECORDS_PATH, headers: { ...meteredAuth, ...JSON_TYPE }, body: BODY });
			await refused.body.text();
			statuses.push(refused.statusCode);
			const next = await pool
				.request({ ...GOOD, method: "POST", headers: goodHeaders() })
				.catch((/** @type {any} */ error) => assert.fail(`the produce after a ${refused.statusCode} failed (${error.code})`));
			assert.equal(next.statusCode, 200, await next.body.text());
			assert.ok(statuses.length < 20, `no 429 in ${statuses.join(", ")}`);
		}
		assert.deepEqual([...new Set(statuses)].sort(), [200, 429]);
	} finally {
		await pool.close();
	}
});

test("a refusal of a request whose sender awaits a 100 Continue before its body comes without that body", {
	timeout: TEST_TIMEOUT_MS,
}, async () => {
	// workerd never sends a 100 Continue: a refusal that waited for the body would wait as long as the client holds it
	// back (curl 1 s, a strict client until it gives up).
	const { hostname, port } = new URL(broker.url);
	const socket = net.connect(Number(port), hostname);
	try {
		const statusLine = await new Promise((resolve, reject) => {
			let received = "";
			socket.on("data", (chunk) => {
				received += chunk.toString("latin1");
				if (received.includes("\r\n")) resolve(received.slice(0, received.indexOf("\r\n")));
			});
			socket.on("error", reject);
			socket.on("end", () => reject(new Error(`closed after ${JSON.stringify(received)}`)));
			socket.write(
				`POST ${RECORDS_PATH} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
					`Content-Length: ${Buffer.byteLength(BODY)}\r\nExpect: 100-continue\r\n\r\n`,
			);
		});
		assert.equal(statusLine, "HTTP/1.1 401 Unauthorized");
	} finally {
		socket.destroy();
	}
});
