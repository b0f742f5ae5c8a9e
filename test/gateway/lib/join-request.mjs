// @ts-check
/**
 * @module
 * A JoinGroup request as a consumer sends it, for tests that call the gateway's handler directly.
 */

import { AssignerProtocol } from "kafkajs";

/** The session and rebalance timeouts of `joinRequest`'s member. */
export const JOIN_SESSION_TIMEOUT_MS = 10_000;

/**
 * A JoinGroup of a member of `groupId`, subscribed to `topics` with the range assignor's metadata: a new one by
 * default (no member id, as before KIP-394's handshake or for its first join), or `memberId` (its rejoin, or KIP-394's
 * retry), static when `groupInstanceId` is given.
 * @param {string} groupId @param {string[]} topics
 * @param {{ memberId?: string, groupInstanceId?: string | null }} [member]
 */
export function joinRequest(groupId, topics, { memberId = "", groupInstanceId = null } = {}) {
	const metadata = AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) });
	return {
		groupId,
		sessionTimeoutMs: JOIN_SESSION_TIMEOUT_MS,
		rebalanceTimeoutMs: JOIN_SESSION_TIMEOUT_MS,
		memberId,
		groupInstanceId,
		protocolType: "consumer",
		protocols: [{ name: "range", metadata }],
		reason: null,
	};
}
