/**
 * @module
 * Request bodies, bounded before they are parsed: a declared `Content-Length` over the limit is refused
 * unread, and a streamed body is counted as it arrives and abandoned as soon as it passes the limit. A body in a
 * gzip or deflate `Content-Encoding` (Confluent's REST clients and many HTTP producers compress) is decoded as it
 * is read, and the decoded bytes are what is counted, so a small body that inflates past the limit is a 413 long
 * before it fills memory; any other coding, and text in a charset other than UTF-8, is a 415.
 */

import * as z from "zod/mini";
import { concatBytes } from "../shared/bytes.ts";
import { ApiError } from "../shared/errors.ts";
import { isPlainObject, jsonShapeProblem, parameterBodyProblem, parseJsonExact } from "../shared/json.ts";
import { JSON_DEPTH_MAX, JSON_OBJECT_FIELDS_MAX, REQUEST_BYTES_MAX, VALIDATION_ISSUES_SHOWN_MAX } from "../shared/limits.ts";
import { describeIssues } from "./validation-messages.ts";

function tooLarge(limitBytes: number): ApiError {
	return new ApiError("request_too_large", `request body exceeds ${limitBytes} bytes`, { max_request_bytes: limitBytes });
}

/** The content codings a body may come in, as the `Accept-Encoding` of a 415 for another one says (RFC 9110 §15.5.16). */
const ACCEPTED_CODINGS = "gzip, deflate";

/**
 * The `DecompressionStream` format of the body's `Content-Encoding` (HTTP's `deflate` is the zlib format, as that
 * stream's "deflate" reads it; `x-gzip` is gzip, RFC 9110 §8.4.1.3); null when it has none. Anything else,
 * a list of codings included, is a 415 naming the codings taken (`accept_encoding`, sent as `Accept-Encoding`).
 */
function bodyCoding(request: Request): "gzip" | "deflate" | null {
	const coding = request.headers.get("Content-Encoding")?.trim().toLowerCase() || "identity";
	if (coding === "identity") return null;
	if (coding === "gzip" || coding === "x-gzip" || coding === "deflate") return coding === "deflate" ? coding : "gzip";
	throw new ApiError("unsupported_media_type", `Content-Encoding ${coding} is not supported: send ${ACCEPTED_CODINGS} or none`, {
		accept_encoding: ACCEPTED_CODINGS,
	});
}

/**
 * Why a read of the body (from `bodyStream`) failed: a decoded body that does not decode is the sender's fault, a
 * 400; a plain body's read fails only when its sender went away, and that cause is kept.
 */
export function bodyReadFailure(request: Request, body: ReadableStream<Uint8Array>, cause: Error): Error {
	if (body === request.body) return cause;
	return new ApiError("invalid_request", `the body is not valid ${request.headers.get("Content-Encoding")}: ${cause.message}`);
}

/** The body's bytes, decoded from its `Content-Encoding` (see `bodyCoding`, which refuses one it cannot decode). */
export function bodyStream(request: Request): ReadableStream<Uint8Array> | null {
	const format = bodyCoding(request);
	return format === null ? request.body : (request.body?.pipeThrough(new DecompressionStream(format)) ?? null);
}

/**
 * Refuses a body whose `Content-Type` names a charset other than UTF-8, where its text is read: every text body is
 * decoded as UTF-8, so Latin-1 text would be stored as other characters than were sent.
 */
export function requireUtf8(request: Request): void {
	const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(request.headers.get("Content-Type") ?? "")?.[1]?.toLowerCase();
	if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
		throw new ApiError("unsupported_media_type", `charset ${charset} is not supported: send UTF-8`);
	}
}

/** Requests whose body `requireText` passed: a route may check before its reader does, and the headers do not change. */
const textChecked = new WeakSet<Request>();

/**
 * Refuses, before anything is read, a body the text readers cannot read: one in a coding `bodyCoding` refuses, or
 * in a charset `requireUtf8` refuses. Checked once per request, however many readers ask.
 */
export function requireText(request: Request): void {
	if (textChecked.has(request)) return;
	bodyCoding(request);
	requireUtf8(request);
	textChecked.add(request);
}

/**
 * Reads and drops up to `bytesMax` more of a refused body, then cancels the rest. Answering while the client still
 * sends resets the connection under it, and it sees a broken pipe instead of the 413; a sender gone meanwhile is
 * answered all the same.
 */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, bytesMax: number): Promise<void> {
	try {
		for (let dropped = 0; dropped < bytesMax; ) {
			const { done, value } = await reader.read();
			if (done) return;
			dropped += value.byteLength;
		}
		await reader.cancel();
	} catch {}
}

/**
 * Reads and drops the body of a request answered before it was read (a refusal, or a 2xx of a route that takes no
 * body: a GET or DELETE sent with one), when its `Content-Length` declares it no larger than a request may be: workerd
 * as Miniflare serves it closes a connection whose request body was left unread, and says so in no header (it drops
 * a `Connection: close` the Worker sets), so a client that sends its next request on it meets a reset. A body
 * declared larger is left, and its connection closes; so is one sent without a length, which may never end (a produce
 * stream), and one its sender holds back until a `100 Continue` (`Expect`): its sender waits for the answer, not the
 * other way round.
 */
export async function drainUnreadBody(request: Request): Promise<void> {
	const { body } = request;
	if (body === null) return;
	const declared = request.headers.get("Content-Length");
	// Locked: a route took its reader and answered before reading (that reader's to release, not ours to take).
	if (request.bodyUsed || body.locked || declared === null || +declared > REQUEST_BYTES_MAX) return;
	// Its sender holds the body back for a 100 Continue, which workerd never sends: the answer is what it waits for.
	if (request.headers.get("Expect")?.toLowerCase() === "100-continue") return;
	await discard(body.getReader(), REQUEST_BYTES_MAX);
}

/**
 * The body's byte chunks, decoded (`bodyStream`), refusing more than `limitBytes` of them: a declared
 * `Content-Length` over the limit is refused unread, and a streamed body is abandoned as soon as it passes the limit,
 * unless the mount has it read on and dropped first, up to `drainBytesMax` (`discard`).
 */
export async function* readByteChunks(request: Request, limitBytes = REQUEST_BYTES_MAX, drainBytesMax = 0): AsyncGenerator<Uint8Array> {
	const declared = request.headers.get("Content-Length");
	if (declared !== null) {
		const length = Number(declared);
		if (!Number.isSafeInteger(length) || length < 0) throw new ApiError("invalid_request", "Content-Length is not a byte count");
		if (length > limitBytes) {
			if (drainBytesMax > 0 && request.body !== null) await discard(request.body.getReader(), drainBytesMax);
			throw tooLarge(limitBytes);
		}
	}
	const body = bodyStream(request);
	if (body === null) return;
	const reader = body.getReader();
	let received = 0;
	for (;;) {
		const { done, value } = await reader.read().catch((cause: Error) => {
			throw bodyReadFailure(request, body, cause);
		});
		if (done) return;
		received += value.byteLength;
		if (received > limitBytes) {
			await discard(reader, drainBytesMax);
			throw tooLarge(limitBytes);
		}
		yield value;
	}
}

/** The body as UTF-8 text chunks, bounded as `readByteChunks`; refused as `requireText` refuses. */
export async function* readTextChunks(request: Request, limitBytes = REQUEST_BYTES_MAX): AsyncGenerator<string> {
	requireText(request);
	const decoder = new TextDecoder();
	for await (const bytes of readByteChunks(request, limitBytes)) yield decoder.decode(bytes, { stream: true });
	const rest = decoder.decode();
	if (rest.length > 0) yield rest;
}

/** The whole body as bytes, bounded (and a refused one drained) as `readByteChunks`. */
export async function readBytes(request: Request, limitBytes = REQUEST_BYTES_MAX, drainBytesMax = 0): Promise<Uint8Array> {
	const chunks: Uint8Array[] = [];
	for await (const chunk of readByteChunks(request, limitBytes, drainBytesMax)) chunks.push(chunk);
	return concatBytes(chunks);
}

/** Reads the whole body as UTF-8 text, refusing more than `limitBytes`; refused as `requireText` refuses. */
export async function readText(request: Request, limitBytes = REQUEST_BYTES_MAX): Promise<string> {
	requireText(request);
	// The runtime enforces that a body matches its declared length, so a declared one can be read in one go.
	const declared = declaredTextBytes(request);
	if (declared !== null && declared <= limitBytes && Number.isSafeInteger(declared)) return request.text();
	let text = "";
	for await (const chunk of readTextChunks(request, limitBytes)) text += chunk;
	return text;
}

/**
 * The body's length in bytes as its text is, when the sender declared it: its `Content-Length`, unless a
 * `Content-Encoding` makes that the length of the coded bytes. Null otherwise (NaN for a length that is no number).
 */
export function declaredTextBytes(request: Request): number | null {
	const declared = request.headers.get("Content-Length");
	return declared === null || request.headers.has("Content-Encoding") ? null : Number(declared);
}

/**
 * A request's query parameters, one value each. A name given twice is refused rather than one of its values
 * picked: which one the sender meant cannot be known (`?offset=0&offset=5`).
 */
export function queryOf(url: string): Record<string, string> {
	const query: Record<string, string> = Object.create(null);
	for (const [name, value] of new URL(url).searchParams) {
		if (name in query) throw new ApiError("invalid_request", `${name}: given more than once`);
		query[name] = value;
	}
	return query;
}

/** The media type of a request, lower-cased without parameters; null when absent. */
export function mediaType(request: Request): string | null {
	const header = request.headers.get("Content-Type");
	if (header === null) return null;
	return header.split(";")[0]?.trim().toLowerCase() ?? null;
}

/** The media types a JSON body may be sent as. */
export const JSON_TYPES: readonly string[] = ["application/json"];

/**
 * The media types a JSON Merge Patch may be sent as: its own, which RFC 7396 §4 registers, or plain JSON. The routes
 * whose body is one (`mergePatch` in the route table) read it with `readRouteJson`; the OpenAPI document lists these
 * for them.
 */
export const MERGE_PATCH_TYPES: readonly string[] = [...JSON_TYPES, "application/merge-patch+json"];

/** Refuses bodies that are not JSON, sent as one of `types` (a missing Content-Type is taken as JSON, as curl users expect). */
export function requireJson(request: Request, types = JSON_TYPES): void {
	requireText(request);
	const type = mediaType(request);
	if (type !== null && !types.includes(type)) {
		// curl -d without -H sends a form type: say what to add rather than leave a newcomer guessing.
		const hint =
			type === "application/x-www-form-urlencoded" ? ' (curl -d sends that by default: add -H "Content-Type: application/json")' : "";
		throw new ApiError("unsupported_media_type", `expected Content-Type ${types.join(" or ")}, got ${type}${hint}`);
	}
}

/**
 * Parses JSON text, keeping big numbers exact (and a zero's sign unless `keepZeroSign` is false); malformed JSON is
 * a 400 that quotes the parser. Depth and object width are bounded before any schema or encoder walks the value
 * recursively.
 */
export function parseJson(text: string, what = "request body", keepZeroSign = true): unknown {
	if (text.length === 0) throw new ApiError("invalid_json", `${what} is empty; expected JSON`);
	let value: unknown;
	try {
		value = parseJsonExact(text, keepZeroSign);
	} catch (cause) {
		throw new ApiError("invalid_json", `${what} is not valid JSON: ${(cause as Error).message}`);
	}
	const problem = jsonShapeProblem(value, JSON_DEPTH_MAX, JSON_OBJECT_FIELDS_MAX);
	if (problem !== null) {
		throw new ApiError("invalid_json", `${what}: ${problem}`, { max_depth: JSON_DEPTH_MAX, max_object_fields: JSON_OBJECT_FIELDS_MAX });
	}
	return value;
}

/**
 * Validates `data` with `schema`, or throws a 400 whose message is the first problem in plain words (an unknown
 * field first, with a did-you-mean) and whose `issues` list them all with their paths.
 */
export function validate<S extends z.core.$ZodType>(schema: S, data: unknown, what = "request"): z.output<S> {
	// reportInput lets a message say what was sent ("got 100000"); inputs are never put on the wire.
	const result = z.safeParse(schema, data, { reportInput: true });
	if (result.success) return result.data;
	const issues = describeIssues(schema, result.error.issues, data).slice(0, VALIDATION_ISSUES_SHOWN_MAX);
	const first = issues[0];
	const where = first === undefined || first.path === "" ? what : first.path;
	throw new ApiError("invalid_request", `${where}: ${first?.message ?? "invalid"}`, { issues });
}

/**
 * Reads and parses a JSON body in one step: the bodies of topics, keys, subscriptions and the like, whose maps hold
 * names the API acts on (a topic's config, a filter's header conditions), never records. A member named `__proto__`
 * is refused there: it would vanish in validation, and a dropped filter condition matches everything; so is a number
 * a double cannot hold (`parameterBodyProblem`), except, in a topic's body (`configIntegers`), an integer that is a
 * config's value: it goes on as its digits, which the config's own check reads (Kafka's Long.MAX_VALUE, "no limit",
 * sent as a JSON number; src/shared/topic-config.ts). A negative zero is a zero: no parameter tells the two apart.
 */
export async function readJson(request: Request, configIntegers = false, types = JSON_TYPES): Promise<unknown> {
	requireJson(request, types);
	const value = parseJson(await readText(request), undefined, false);
	const config = configIntegers && isPlainObject(value) ? value.config : null;
	if (isPlainObject(config)) {
		for (const [name, v] of Object.entries(config)) if (JSON.isRawJSON(v) && /^-?\d+$/.test(v.rawJSON)) config[name] = v.rawJSON;
	}
	const problem = parameterBodyProblem(value);
	if (problem !== null) throw new ApiError("invalid_request", `request body: ${problem}`);
	return value;
}
