/**
 * @module
 * Any HTTP request as one record, for the inbound webhook mounts (`/v1/topics/{topic}/webhook` and Upstash's
 * `/webhook`): the body becomes the value, the request headers become record headers (credentials and cookies are
 * never stored), and the caller's key and partition come along.
 */

import { base64Encode } from "../shared/base64.ts";
import { INBOUND_HEADER_VALUE_BYTES_MAX, RECORD_HEADERS_MAX } from "../shared/limits.ts";
import type { RecordHeader, ValueEncoding } from "../shared/record-codec.ts";
import type { ProduceInput } from "../topic/produce.ts";
import { mediaType, parseJson, readBytes, readText } from "./body.ts";

/** Headers that carry credentials: never written into a record anyone with read access can see. */
const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);

function isText(type: string | null): boolean {
	return (
		type === null ||
		type.startsWith("text/") ||
		type === "application/x-www-form-urlencoded" ||
		type.endsWith("+xml") ||
		type === "application/xml"
	);
}

function isJson(type: string | null): boolean {
	return type === "application/json" || (type?.endsWith("+json") ?? false);
}

/** A body as a record value: JSON as JSON, other text as a string, anything else as base64 (at most `REQUEST_BYTES_MAX`). */
async function bodyValue(request: Request): Promise<{ value: unknown; encoding: ValueEncoding }> {
	const type = mediaType(request);
	if (isJson(type)) {
		const text = await readText(request);
		return { value: text === "" ? null : parseJson(text), encoding: "json" };
	}
	if (isText(type)) {
		const text = await readText(request);
		return { value: text === "" && request.body === null ? null : text, encoding: "json" };
	}
	return { value: base64Encode(await readBytes(request)), encoding: "base64" };
}

/** The request headers a record keeps: never credentials or cookies, at most `RECORD_HEADERS_MAX`. */
function recordHeaders(headers: Headers): RecordHeader[] {
	const kept: RecordHeader[] = [];
	for (const [key, value] of headers) {
		if (SECRET_HEADERS.has(key) || kept.length >= RECORD_HEADERS_MAX) continue;
		kept.push({ key, value: value.slice(0, INBOUND_HEADER_VALUE_BYTES_MAX) });
	}
	return kept;
}

/**
 * The record an inbound webhook request stands for.
 *
 * @example
 * const input = await inboundRecord(c.req.raw, query.key ?? null, query.partition ?? null);
 */
export async function inboundRecord(request: Request, key: string | null, partition: number | null): Promise<ProduceInput> {
	const { value, encoding } = await bodyValue(request);
	return {
		key,
		value,
		headers: recordHeaders(request.headers),
		timestampMs: null,
		keyEncoding: "json",
		valueEncoding: encoding,
		partition,
	};
}
