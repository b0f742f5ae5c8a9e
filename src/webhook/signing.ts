/**
 * @module
 * Standard Webhooks signatures (https://www.standardwebhooks.com): `webhook-signature` is a space-separated
 * list of `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the base64 part of a `whsec_` secret.
 * During a secret rotation's grace period a delivery carries one signature per valid secret, so a receiver with
 * either secret verifies it. WebCrypto only: nothing here needs Node.
 *
 * @example
 * const headers = await signatureHeaders({ id: "msg_1", timestampS: 1_700_000_000, body: "{}", secrets: [secret] });
 */

import { assert } from "../shared/assert.ts";
import { base64Decode, base64Encode } from "../shared/base64.ts";
import { utf8Encoder } from "../shared/bytes.ts";

const SECRET_PREFIX = "whsec_";
/** 24 random bytes, as Svix issues them. */
const SECRET_BYTES = 24;

/** A new signing secret, `whsec_<base64>`. */
export function generateSecret(): string {
	return `${SECRET_PREFIX}${base64Encode(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)))}`;
}

/** A message id for `webhook-id`: stable across retries of one batch, unique across batches. */
export function generateMessageId(): string {
	return `msg_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** `v1,<signature>` of one message under one secret. */
export async function sign(secret: string, id: string, timestampS: number, body: string): Promise<string> {
	assert(secret.startsWith(SECRET_PREFIX), "whsec_ secret");
	const key = await crypto.subtle.importKey(
		"raw",
		base64Decode(secret.slice(SECRET_PREFIX.length)),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign"],
	);
	const mac = await crypto.subtle.sign("HMAC", key, utf8Encoder.encode(`${id}.${timestampS}.${body}`));
	return `v1,${base64Encode(new Uint8Array(mac))}`;
}

export interface SignedMessage {
	readonly id: string;
	readonly timestampS: number;
	readonly body: string;
	/** The current secret first, then any still in their grace period. */
	readonly secrets: readonly string[];
}

/** The three Standard Webhooks headers of one delivery attempt. */
export async function signatureHeaders(message: SignedMessage): Promise<Record<string, string>> {
	assert(message.secrets.length > 0, "has secrets");
	const signatures = await Promise.all(message.secrets.map((secret) => sign(secret, message.id, message.timestampS, message.body)));
	return {
		"webhook-id": message.id,
		"webhook-timestamp": String(message.timestampS),
		"webhook-signature": signatures.join(" "),
	};
}
