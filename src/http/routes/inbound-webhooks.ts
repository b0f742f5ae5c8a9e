/**
 * @module
 * Inbound webhooks (issue 5): `POST /v1/topics/{topic}/webhook` turns any HTTP request into one record, so a
 * third party's webhooks can be captured into a topic. The body becomes the value (JSON bodies as JSON, other
 * text as a string, anything else as base64), the request headers become record headers (credentials and
 * cookies are never stored), and `?key=` sets the key.
 *
 * @example
 * curl -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
 *   "$URL/v1/topics/github-events/webhook?key=repo-1" -d '{"action":"opened"}'
 */

import { Hono } from "hono";
import { produce } from "../../broker/produce.ts";
import { unwrap } from "../../shared/errors.ts";
import { INBOUND_HEADER_VALUE_BYTES_MAX, RECORD_HEADERS_MAX } from "../../shared/limits.ts";
import type { RecordHeader, ValueEncoding } from "../../shared/record-codec.ts";
import type { AppEnv } from "../app-env.ts";
import { mediaType, parseJson, readBytes, readText, validate } from "../body.ts";
import { InboundWebhookQuery, TopicPath } from "../schemas.ts";
import { methodNotAllowed } from "./method-not-allowed.ts";

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

/** Reads a body as bytes, refusing more than `REQUEST_BYTES_MAX`. */
export async function bodyValue(request: Request): Promise<{ value: unknown; encoding: ValueEncoding }> {
	const type = mediaType(request);
	if (isJson(type)) {
		const text = await readText(request);
		return { value: text === "" ? null : parseJson(text), encoding: "json" };
	}
	if (isText(type)) {
		const text = await readText(request);
		return { value: text === "" && request.body === null ? null : text, encoding: "json" };
	}
	const bytes = await readBytes(request);
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return { value: btoa(binary), encoding: "base64" };
}

export function recordHeaders(headers: Headers): RecordHeader[] {
	const kept: RecordHeader[] = [];
	for (const [key, value] of headers) {
		if (SECRET_HEADERS.has(key) || kept.length >= RECORD_HEADERS_MAX) continue;
		kept.push({ key, value: value.slice(0, INBOUND_HEADER_VALUE_BYTES_MAX) });
	}
	return kept;
}

export const inboundWebhookRoutes = new Hono<AppEnv>()
	.post("/:topic/webhook", async (c) => {
		const { topic } = validate(TopicPath, c.req.param());
		const query = validate(InboundWebhookQuery, c.req.query(), "query");
		const { value, encoding } = await bodyValue(c.req.raw);
		const input = {
			key: query.key ?? null,
			value,
			headers: recordHeaders(c.req.raw.headers),
			timestampMs: null,
			keyEncoding: "json" as const,
			valueEncoding: encoding,
			partition: query.partition ?? null,
		};
		const outcome = unwrap(await produce(c.env, topic, [input]));
		return c.json(outcome.positions[0]);
	})
	.all("/:topic/webhook", methodNotAllowed);
