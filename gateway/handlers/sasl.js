// @ts-check
/**
 * @module
 * SASL/PLAIN (RFC 4616) over SaslHandshake v1 + SaslAuthenticate (KIP-152), or after SaslHandshake v0 as one
 * raw size-prefixed token (what librdkafka checks for before it speaks SASL at all). The username is a Tributary key id
 * and the password its secret, or `admin` and the admin token. The gateway checks them by asking Tributary,
 * then sends every later request of the connection with them, so the key's ACLs and quotas apply.
 */

import { KAFKA } from "../errors.js";
import { credentialsFor } from "../tributary.js";

/** @typedef {import("../connection.js").RequestContext} RequestContext */

const MECHANISM = "PLAIN";

/** @param {any} request @param {RequestContext} ctx */
export async function saslHandshake(request, ctx) {
	if (request.mechanism !== MECHANISM) return { errorCode: KAFKA.UNSUPPORTED_SASL_MECHANISM, mechanisms: [MECHANISM] };
	ctx.session.saslMechanism = MECHANISM;
	// v0: the client's next frame is the bare PLAIN token, answered by an empty frame (KIP-43).
	if (ctx.version === 0) ctx.session.rawSaslNext = true;
	return { errorCode: KAFKA.NONE, mechanisms: [MECHANISM] };
}

/** `[authzid] NUL authcid NUL passwd`. @param {Buffer} bytes */
export function parsePlain(bytes) {
	const parts = bytes.toString("utf8").split("\0");
	if (parts.length !== 3 || parts[1] === "" || parts[2] === "") return null;
	return { username: parts[1], password: parts[2] };
}

/**
 * Checks a PLAIN token with Tributary; on success the connection speaks with those credentials from now on.
 * @param {Buffer} authBytes @param {RequestContext} ctx
 * @returns {Promise<{ errorCode: number, errorMessage: string | null }>}
 */
export async function authenticatePlain(authBytes, ctx) {
	const fail = (errorCode, errorMessage) => {
		ctx.session.closeAfterResponse = true;
		return { errorCode, errorMessage };
	};
	if (ctx.session.saslMechanism !== MECHANISM) return fail(KAFKA.ILLEGAL_SASL_STATE, "SaslHandshake first");
	const plain = parsePlain(authBytes);
	if (plain === null) return fail(KAFKA.SASL_AUTHENTICATION_FAILED, "malformed PLAIN message");
	const tributary = ctx.tributary.as(credentialsFor(plain.username, plain.password));
	const answer = await tributary.listTopics();
	if (answer.status !== 200) {
		ctx.log(`SASL/PLAIN for "${plain.username}" refused (${answer.status})`);
		return fail(KAFKA.SASL_AUTHENTICATION_FAILED, "Authentication failed: invalid username or password");
	}
	ctx.session.tributary = tributary;
	ctx.session.saslMechanism = null;
	return { errorCode: KAFKA.NONE, errorMessage: null };
}

/** @param {any} request @param {RequestContext} ctx */
export async function saslAuthenticate(request, ctx) {
	const outcome = await authenticatePlain(request.authBytes, ctx);
	return { ...outcome, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 };
}
