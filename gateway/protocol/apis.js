// @ts-check
/**
 * @module
 * The APIs the gateway serves and the versions it advertises in ApiVersions: one table. A version range is the
 * intersection of what Kafka's definitions describe and what the gateway's handlers understand (e.g. Produce starts
 * at v3, the first with record batches v2; ListOffsets v10's one addition, a timeout for answers that read remote
 * storage (KIP-1075), is read and ignored: Tributary answers offsets within its own HTTP call's time).
 * Anything not in this table is not advertised, and a request for it is refused.
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ProtocolError, Reader, Writer } from "./io.js";
import { inRange, loadCodecs } from "./schema.js";

const MESSAGES_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "messages");

export const codecs = loadCodecs(MESSAGES_DIR);

/** name → [min, max] version served. */
const SERVED = {
	Produce: [3, 9],
	Fetch: [4, 17],
	ListOffsets: [1, 10],
	Metadata: [1, 12],
	OffsetCommit: [2, 8],
	OffsetFetch: [1, 8],
	FindCoordinator: [0, 3],
	JoinGroup: [0, 7],
	Heartbeat: [0, 4],
	LeaveGroup: [0, 4],
	SyncGroup: [0, 5],
	DescribeGroups: [0, 5],
	ListGroups: [0, 4],
	SaslHandshake: [0, 1],
	ApiVersions: [0, 3],
	CreateTopics: [2, 7],
	DeleteTopics: [1, 6],
	CreatePartitions: [0, 3],
	DeleteGroups: [0, 3],
	InitProducerId: [0, 4],
	DescribeConfigs: [1, 4],
	AlterConfigs: [0, 2],
	IncrementalAlterConfigs: [0, 1],
	DescribeAcls: [0, 3],
	SaslAuthenticate: [0, 2],
	DeleteRecords: [0, 2],
	DescribeClientQuotas: [0, 1],
	AlterClientQuotas: [0, 1],
};

/**
 * @typedef {object} Api
 * @property {string} name
 * @property {number} key
 * @property {number} minVersion
 * @property {number} maxVersion
 * @property {import("./schema.js").MessageCodec} request
 * @property {import("./schema.js").MessageCodec} response
 */

/** @type {Map<number, Api>} */
export const APIS = new Map();
for (const [name, [minVersion, maxVersion]] of Object.entries(SERVED)) {
	const request = codecs.get(`${name}Request`);
	const response = codecs.get(`${name}Response`);
	if (!request || !response || request.apiKey === null) throw new Error(`missing definition for ${name}`);
	if (!inRange(request.valid, minVersion) || !inRange(request.valid, maxVersion))
		throw new Error(`${name} ${minVersion}-${maxVersion} not defined`);
	APIS.set(request.apiKey, { name, key: request.apiKey, minVersion, maxVersion, request, response });
}

export const API_VERSIONS_KEY = 18;

const requestHeader = /** @type {import("./schema.js").MessageCodec} */ (codecs.get("RequestHeader"));
const responseHeader = /** @type {import("./schema.js").MessageCodec} */ (codecs.get("ResponseHeader"));

/**
 * The header of a request frame, read without knowing the API: key, version and correlation id first (fixed
 * in every header version), then the rest once the API tells whether this version is flexible.
 * @param {Buffer} frame the frame without its size prefix
 */
export function decodeRequest(frame) {
	const reader = new Reader(frame);
	const apiKey = reader.int16();
	const apiVersion = reader.int16();
	const correlationId = reader.int32();
	const api = APIS.get(apiKey);
	return { apiKey, apiVersion, correlationId, api, reader };
}

/**
 * The body of a request whose API is served: client id (and header tags when flexible), then the message.
 * @param {Api} api @param {number} version @param {Reader} reader positioned after the correlation id
 */
export function decodeBody(api, version, reader) {
	const flexible = inRange(api.request.flexible, version);
	reader.offset = 0;
	const header = requestHeader.decode(reader, flexible ? 2 : 1);
	const body = api.request.decode(reader, version);
	if (reader.remaining !== 0) throw new ProtocolError(`${reader.remaining} bytes after the end of ${api.name} v${version}`);
	return { clientId: header.clientId, body };
}

/**
 * A response frame: size, header (v1 with tags for flexible versions; ApiVersions always v0 so that a client
 * that asked with too new a version can still read it), body.
 * @param {Api} api @param {number} version @param {number} correlationId @param {object} body
 */
export function encodeResponse(api, version, correlationId, body) {
	const parts = encodeResponseParts(api, version, correlationId, body);
	// Most frames are one part, a view of the writer's buffer: joining would only copy it.
	return parts.length === 1 ? Buffer.from(parts[0].buffer, parts[0].byteOffset, parts[0].byteLength) : Buffer.concat(parts);
}

/**
 * A response frame as parts to write in order (`Writer.parts`): a Fetch response's record batches are sent as
 * they are, not copied into the frame.
 * @param {Api} api @param {number} version @param {number} correlationId @param {object} body
 */
export function encodeResponseParts(api, version, correlationId, body) {
	const writer = new Writer();
	writer.int32(0);
	const flexible = inRange(api.response.flexible, version) && api.key !== API_VERSIONS_KEY;
	responseHeader.encode(writer, { correlationId }, flexible ? 1 : 0);
	api.response.encode(writer, body, version);
	const parts = writer.parts();
	const bytes = parts.reduce((sum, part) => sum + part.length, 0);
	Buffer.from(parts[0].buffer, parts[0].byteOffset, parts[0].byteLength).writeInt32BE(bytes - 4, 0);
	return parts;
}

/** What ApiVersions lists: every served API and its range. */
export function advertisedApis() {
	return [...APIS.values()].map((api) => ({ apiKey: api.key, minVersion: api.minVersion, maxVersion: api.maxVersion }));
}
