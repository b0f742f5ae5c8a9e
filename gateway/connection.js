// @ts-check
/**
 * @module
 * One Kafka client connection: splits the byte stream into size-prefixed frames, decodes each request with
 * the generated codec, runs its handler and writes the response. Requests of one connection are handled one
 * at a time, in order, as a Kafka broker does (an idempotent producer's pipelined batches must be applied in
 * sequence order). A frame that breaks the protocol closes this connection with a log line and nothing is
 * written to Tributary; the gateway and its other connections go on.
 */

import { KAFKA } from "./errors.js";
import { apiVersions, createTopics, deleteTopics, describeConfigs, findCoordinator, metadata } from "./handlers/cluster.js";
import { describeGroups, listGroups } from "./handlers/group-admin.js";
import { heartbeat, joinGroup, leaveGroup, offsetCommit, offsetFetch, syncGroup } from "./handlers/groups.js";
import { fetch, initProducerId, listOffsets, produce } from "./handlers/records.js";
import { authenticatePlain, saslAuthenticate, saslHandshake } from "./handlers/sasl.js";
import { FRAME_BYTES_MAX, PIPELINED_REQUESTS_MAX } from "./limits.js";
import { API_VERSIONS_KEY, APIS, advertisedApis, decodeBody, decodeRequest, encodeResponse } from "./protocol/apis.js";
import { ProtocolError } from "./protocol/io.js";

/**
 * @typedef {object} Session per-connection state
 * @property {import("./tributary.js").Tributary} tributary with this connection's credentials
 * @property {string | null} saslMechanism
 * @property {boolean} closeAfterResponse
 * @property {boolean} rawSaslNext the next frame is a bare SASL token (after SaslHandshake v0)
 *
 * @typedef {object} RequestContext
 * @property {import("./tributary.js").Tributary} tributary
 * @property {Session} session
 * @property {number} version
 * @property {{ host: string, port: number }} advertised
 * @property {(message: string) => void} log
 */

/** @type {Record<string, (request: any, ctx: RequestContext) => Promise<object | null>>} */
const HANDLERS = {
	ApiVersions: apiVersions,
	Metadata: metadata,
	Produce: produce,
	Fetch: fetch,
	ListOffsets: listOffsets,
	FindCoordinator: findCoordinator,
	JoinGroup: joinGroup,
	SyncGroup: syncGroup,
	DescribeGroups: describeGroups,
	ListGroups: listGroups,
	Heartbeat: heartbeat,
	LeaveGroup: leaveGroup,
	OffsetCommit: offsetCommit,
	OffsetFetch: offsetFetch,
	CreateTopics: createTopics,
	DeleteTopics: deleteTopics,
	DescribeConfigs: describeConfigs,
	InitProducerId: initProducerId,
	SaslHandshake: saslHandshake,
	SaslAuthenticate: saslAuthenticate,
};

for (const api of APIS.values()) if (!HANDLERS[api.name]) throw new Error(`no handler for ${api.name}`);

/**
 * Splits `buffered` into complete frames. Returns the frames and the unconsumed rest; throws ProtocolError for
 * a size that is negative or over FRAME_BYTES_MAX.
 * @param {Buffer} buffered
 */
export function splitFrames(buffered) {
	const frames = [];
	let offset = 0;
	while (buffered.length - offset >= 4) {
		const size = buffered.readInt32BE(offset);
		if (size < 0 || size > FRAME_BYTES_MAX) throw new ProtocolError(`frame size ${size} out of range (0..${FRAME_BYTES_MAX})`);
		if (buffered.length - offset - 4 < size) break;
		frames.push(buffered.subarray(offset + 4, offset + 4 + size));
		offset += 4 + size;
	}
	return { frames, rest: buffered.subarray(offset) };
}

/**
 * Decodes one request frame fully (header and body) or throws ProtocolError. An ApiVersions request of a
 * version the gateway does not know is answered (KIP-511) rather than refused; anything else unknown is refused.
 * @param {Buffer} frame
 */
export function parseRequest(frame) {
	const { apiKey, apiVersion, correlationId, api, reader } = decodeRequest(frame);
	if (api === undefined) throw new ProtocolError(`API key ${apiKey} is not served (it is not advertised in ApiVersions)`);
	if (apiVersion < api.minVersion || apiVersion > api.maxVersion) {
		if (apiKey === API_VERSIONS_KEY) return { api, apiVersion, correlationId, body: null, unsupported: true };
		throw new ProtocolError(`${api.name} v${apiVersion} is not served (${api.minVersion}-${api.maxVersion} are)`);
	}
	const { body } = decodeBody(api, apiVersion, reader);
	return { api, apiVersion, correlationId, body, unsupported: false };
}

/**
 * Serves one socket.
 * @param {import("node:net").Socket} socket
 * @param {{ tributary: import("./tributary.js").Tributary, advertised: { host: string, port: number }, log: (m: string) => void }} options
 */
export function serveConnection(socket, options) {
	const peer = `${socket.remoteAddress}:${socket.remotePort}`;
	const log = (message) => options.log(`[${peer}] ${message}`);
	/** @type {Session} */
	const session = { tributary: options.tributary, saslMechanism: null, closeAfterResponse: false, rawSaslNext: false };
	/** @type {Buffer} */
	let buffered = Buffer.alloc(0);
	/** @type {(ReturnType<typeof parseRequest> | { rawSasl: Buffer })[]} */
	const queue = [];
	let running = false;
	let closed = false;

	const close = (reason) => {
		if (closed) return;
		closed = true;
		if (reason) log(`closing: ${reason}`);
		queue.length = 0;
		socket.destroy();
	};

	socket.on("data", (chunk) => {
		if (closed) return;
		buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
		try {
			const { frames, rest } = splitFrames(buffered);
			buffered = Buffer.from(rest);
			for (const frame of frames) {
				if (session.rawSaslNext) {
					session.rawSaslNext = false;
					queue.push({ rawSasl: frame });
				} else queue.push(parseRequest(frame));
			}
		} catch (error) {
			close(error instanceof ProtocolError ? `malformed frame: ${error.message}` : `unreadable frame: ${error}`);
			return;
		}
		if (queue.length > PIPELINED_REQUESTS_MAX) socket.pause();
		void drain();
	});
	socket.on("error", () => close(null));
	socket.on("close", () => {
		closed = true;
	});

	async function drain() {
		if (running) return;
		running = true;
		try {
			while (queue.length > 0 && !closed) {
				const request = /** @type {ReturnType<typeof parseRequest> | { rawSasl: Buffer }} */ (queue.shift());
				if (queue.length <= PIPELINED_REQUESTS_MAX) socket.resume();
				await handle(request).catch((error) => close(`unexpected: ${error?.stack ?? error}`));
				if (session.closeAfterResponse) close("authentication failed");
			}
		} finally {
			running = false;
		}
	}

	/** @param {ReturnType<typeof parseRequest> | { rawSasl: Buffer }} request */
	async function handle(request) {
		if ("rawSasl" in request) {
			const ctx = { tributary: session.tributary, session, version: 0, advertised: options.advertised, log };
			const { errorCode } = await authenticatePlain(request.rawSasl, ctx);
			// KIP-43: success is an empty frame; failure closes the connection.
			if (errorCode === KAFKA.NONE) socket.write(Buffer.alloc(4));
			return;
		}
		const { api, apiVersion, correlationId } = request;
		if (request.unsupported) {
			// KIP-511: answer in v0 with the versions we do serve, so the client can pick one.
			const body = { errorCode: KAFKA.UNSUPPORTED_VERSION, apiKeys: advertisedApis() };
			socket.write(encodeResponse(api, 0, correlationId, body));
			return;
		}
		/** @type {RequestContext} */
		const ctx = { tributary: session.tributary, session, version: apiVersion, advertised: options.advertised, log };
		let frame;
		try {
			const response = await HANDLERS[api.name](request.body, ctx);
			if (response === null) return;
			frame = encodeResponse(api, apiVersion, correlationId, response);
		} catch (error) {
			// Tributary unreachable, or a response this version cannot carry: the client reconnects and retries.
			close(`${api.name} v${apiVersion} failed: ${/** @type {Error} */ (error).message}`);
			return;
		}
		if (!closed) socket.write(frame);
	}
}
