/**
 * @module
 * Stream paths to topic names. A Durable Streams stream `/ds/v1/stream/{path}` is the one-partition topic
 * `ds.{encoded path}`: the `ds.` prefix is the streams' namespace (grant `topic:ds.*` to reach every stream, or
 * `topic:ds.{encoded prefix}*` for some), and the encoding keeps `[A-Za-z0-9-]` as they are and writes every other
 * UTF-8 byte as `_XX` (two upper-case hex digits), so any path maps into the topic-name charset
 * `[a-zA-Z0-9._-]` and back, one to one: `orders/eu.1` → `ds.orders_2Feu_2E1`. Pure.
 *
 * @example
 * streamTopic("chat/room-1"); // "ds.chat_2Froom-1"
 * streamPathOf("ds.chat_2Froom-1"); // "chat/room-1"
 */

import { utf8Encoder } from "./bytes.ts";
import { TOPIC_NAME_LENGTH_MAX } from "./limits.ts";

/** The namespace of stream topics. */
export const STREAM_TOPIC_PREFIX = "ds.";

const KEPT = /^[A-Za-z0-9-]$/;
// Marked pure: only `streamPathOf` reads it, and the Worker never calls that, so the bundler may leave both out.
const decoder = /* @__PURE__ */ new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The topic that holds the stream at `path` (no leading slash); may exceed the topic-name limit (`checkStreamPath`). */
export function streamTopic(path: string): string {
	let out = STREAM_TOPIC_PREFIX;
	for (const char of path) {
		if (KEPT.test(char)) {
			out += char;
			continue;
		}
		for (const byte of utf8Encoder.encode(char)) out += `_${byte.toString(16).toUpperCase().padStart(2, "0")}`;
	}
	return out;
}

/** The stream path a stream topic stands for; null for a topic outside the namespace or not an encoding. */
export function streamPathOf(topic: string): string | null {
	if (!topic.startsWith(STREAM_TOPIC_PREFIX)) return null;
	const body = topic.slice(STREAM_TOPIC_PREFIX.length);
	const bytes: number[] = [];
	for (let i = 0; i < body.length; ) {
		const char = body[i] as string;
		if (KEPT.test(char)) {
			bytes.push(char.charCodeAt(0));
			i++;
			continue;
		}
		const hex = /^_([0-9A-F]{2})/.exec(body.slice(i));
		if (hex === null) return null;
		bytes.push(Number.parseInt(hex[1] as string, 16));
		i += 3;
	}
	try {
		const path = decoder.decode(new Uint8Array(bytes));
		return streamTopic(path) === topic ? path : null;
	} catch {
		return null;
	}
}

/** Why `path` cannot name a stream, or null when it can. */
export function checkStreamPath(path: string): string | null {
	if (path.length === 0) return "the stream path is empty";
	if (streamTopic(path).length > TOPIC_NAME_LENGTH_MAX) {
		return `the stream path is too long: its topic name would exceed ${TOPIC_NAME_LENGTH_MAX} characters`;
	}
	return null;
}
