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
import { FrameBuffer } from "./frames.js";
import { describeAcls } from "./handlers/acls.js";
import { alterClientQuotas, describeClientQuotas } from "./handlers/client-quotas.js";
import {
	apiVersions,
	createPartitions,
	createTopics,
	deleteTopics,
	describeConfigs,
	findCoordinator,
	metadata,
} from "./handlers/cluster.js";
import { alterConfigs, incrementalAlterConfigs } from "./handlers/configs.js";
import { deleteRecords } from "./handlers/delete-records.js";
import { deleteGroups, describeGroups, listGroups } from "./handlers/group-admin.js";
import { heartbeat, joinGroup, leaveGroup, syncGroup } from "./handlers/groups.js";
import { offsetCommit, offsetFetch } from "./handlers/offsets.js";
import { fetch, fetchReadAhead, initProducerId, listOffsets, produce } from "./handlers/records.js";
import { authenticatePlain, saslAuthenticate, saslHandshake } from "./handlers/sasl.js";
import { PIPELINED_REQUESTS_MAX } from "./limits.js";
import { API_VERSIONS_KEY, APIS, advertisedApis, decodeBody, decodeRequest, encodeResponse, encodeResponseParts } from "./protocol/apis.js";
import { ProtocolError } from "./protocol/io.js";
import { ConnectionTopics, TopicList } from "./topic-list.js";

/**
 * @typedef {object} Session per-connection state
 * @property {import("./tributary.js").Tributary} tributary with this connection's credentials
 * @property {string | null} saslMechanism
 * @property {boolean} closeAfterResponse
 * @property {boolean} rawSaslNext the next frame is a bare SASL token (after SaslHandshake v0)
 * @property {import("./read-ahead.js").ReadAhead<import("./handlers/records.js").PartitionRead>} readAhead this connection's Fetch read-ahead
 * @property {TopicList | ConnectionTopics} topicList the gateway's topic lists, shared by its connections (as of this
 * connection's opening: `ConnectionTopics`)
 *
 * @typedef {object} RequestContext
 * @property {import("./tributary.js").Tributary} tributary
 * @property {Session} session
 * @property {number} version
 * @property {{ host: string, port: number }} advertised
 * @property {(message: string) => void} log
 * @property {string | null} [clientId] the request header's (Kafka's `client.id`)
 * @property {boolean} [autoCreateTopics] Metadata creates a missing topic it is asked for (`--auto-create-topics-enable`)
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
	CreatePartitions: createPartitions,
	DeleteGroups: deleteGroups,
	DescribeConfigs: describeConfigs,
	AlterConfigs: alterConfigs,
	IncrementalAlterConfigs: incrementalAlterConfigs,
	DescribeAcls: describeAcls,
	InitProducerId: initProducerId,
	SaslHandshake: saslHandshake,
	SaslAuthenticate: saslAuthenticate,
	DeleteRecords: deleteRecords,
	DescribeClientQuotas: describeClientQuotas,
	AlterClientQuotas: alterClientQuotas,
};

for (const api of APIS.values()) if (!HANDLERS[api.name]) throw new Error(`no handler for ${api.name}`);

/**
 * Decodes one request frame fully (header and body) or throws ProtocolError. An ApiVersions request of a
 * version the gateway does not know is answered (KIP-511) rather than refused; anything else unknown is refused.
 * @param {Buffer} frame
 */
export function parseRequest(frame) {
	const { apiKey, apiVersion, correlationId, api, reader } = decodeRequest(frame);
	if (api === undefined) throw new ProtocolError(`API key ${apiKey} is not served (it is not advertised in ApiVersions)`);
	if (apiVersion < api.minVersion || apiVersion > api.maxVersion) {
		if (apiKey === API_VERSIONS_KEY) return { api, apiVersion, correlationId, clientId: null, body: null, unsupported: true };
		throw new ProtocolError(`${api.name} v${apiVersion} is not served (${api.minVersion}-${api.maxVersion} are)`);
	}
	const { clientId, body } = decodeBody(api, apiVersion, reader);
	return { api, apiVersion, correlationId, clientId, body, unsupported: false };
}

/** @typedef {ReturnType<typeof parseRequest> | { rawSasl: Buffer }} QueuedRequest */

/**
 * @typedef {{ tributary: import("./tributary.js").Tributary, advertised: { host: string, port: number }, log: (m: string) => void,
 *   topicList?: TopicList, autoCreateTopics?: boolean }} ConnectionOptions `topicList`: the gateway's, shared by its connections;
 *   `autoCreateTopics`: as a broker's `auto.create.topics.enable`
 */

/**
 * Serves one socket.
 * @param {import("node:net").Socket} socket @param {ConnectionOptions} options
 */
export function serveConnection(socket, options) {
	return new KafkaConnection(socket, options);
}

class KafkaConnection {
	/** @param {import("node:net").Socket} socket @param {ConnectionOptions} options */
	constructor(socket, options) {
		this.socket = socket;
		this.advertised = options.advertised;
		this.autoCreateTopics = options.autoCreateTopics === true;
		const peer = `${socket.remoteAddress}:${socket.remotePort}`;
		/** @param {string} message */
		this.log = (message) => options.log(`[${peer}] ${message}`);
		/** Aborted when the connection ends: its requests' quota waits end with it (`Tributary.withSignal`). */
		this.ended = new AbortController();
		/** @type {Session} */
		this.session = {
			tributary: options.tributary.withSignal(this.ended.signal),
			saslMechanism: null,
			closeAfterResponse: false,
			rawSaslNext: false,
			readAhead: fetchReadAhead(),
			topicList: new ConnectionTopics(options.topicList ?? new TopicList()),
		};
		this.frames = new FrameBuffer();
		/** @type {QueuedRequest[]} */
		this.queue = [];
		this.running = false;
		this.closed = false;
		socket.on("data", (chunk) => this.receive(chunk));
		socket.on("error", () => this.close(null));
		socket.on("close", () => {
			this.closed = true;
			this.ended.abort();
			this.session.readAhead.close();
		});
	}

	/** @param {string | null} reason logged when given */
	close(reason) {
		if (this.closed) return;
		this.closed = true;
		if (reason) this.log(`closing: ${reason}`);
		this.queue.length = 0;
		this.session.readAhead.close();
		this.socket.destroy();
	}

	/** Queues every complete frame of the stream; a malformed one closes the connection before anything runs. @param {Buffer} chunk */
	receive(chunk) {
		if (this.closed) return;
		try {
			for (const frame of this.frames.push(chunk)) {
				if (this.session.rawSaslNext) {
					this.session.rawSaslNext = false;
					this.queue.push({ rawSasl: frame });
				} else this.queue.push(parseRequest(frame));
			}
		} catch (error) {
			this.close(error instanceof ProtocolError ? `malformed frame: ${error.message}` : `unreadable frame: ${error}`);
			return;
		}
		if (this.queue.length > PIPELINED_REQUESTS_MAX) this.socket.pause();
		void this.drain();
	}

	/** Handles queued requests one at a time, in order. */
	async drain() {
		if (this.running) return;
		this.running = true;
		try {
			while (this.queue.length > 0 && !this.closed) {
				const request = /** @type {QueuedRequest} */ (this.queue.shift());
				if (this.queue.length <= PIPELINED_REQUESTS_MAX) this.socket.resume();
				await this.handle(request).catch((error) => this.close(`unexpected: ${error?.stack ?? error}`));
				if (this.session.closeAfterResponse) this.close("authentication failed");
			}
		} finally {
			this.running = false;
		}
	}

	/** @param {number} version @param {string | null} [clientId] @returns {RequestContext} */
	context(version, clientId = null) {
		const { session, advertised, log, autoCreateTopics } = this;
		return { tributary: session.tributary, session, version, advertised, log, autoCreateTopics, clientId };
	}

	/** @param {QueuedRequest} request */
	async handle(request) {
		if ("rawSasl" in request) {
			const { errorCode } = await authenticatePlain(request.rawSasl, this.context(0));
			// KIP-43: success is an empty frame; failure closes the connection.
			if (errorCode === KAFKA.NONE) this.socket.write(Buffer.alloc(4));
			return;
		}
		const { api, apiVersion, correlationId } = request;
		if (request.unsupported) {
			// KIP-511: answer in v0 with the versions we do serve, so the client can pick one.
			this.socket.write(encodeResponse(api, 0, correlationId, { errorCode: KAFKA.UNSUPPORTED_VERSION, apiKeys: advertisedApis() }));
			return;
		}
		let parts;
		try {
			const response = await HANDLERS[api.name](request.body, this.context(apiVersion, request.clientId));
			if (response === null) return;
			parts = encodeResponseParts(api, apiVersion, correlationId, response);
		} catch (error) {
			// Tributary unreachable, or a response this version cannot carry: the client reconnects and retries.
			this.close(`${api.name} v${apiVersion} failed: ${/** @type {Error} */ (error).message}`);
			return;
		}
		if (this.closed) return;
		this.socket.cork();
		for (const part of parts) this.socket.write(part);
		this.socket.uncork();
	}
}
