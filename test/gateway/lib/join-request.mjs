// @ts-check
/**
 * @module
 * A JoinGroup request as a consumer sends it, for tests that call the gateway's handler directly.
 */

import { AssignerProtocol } from "kafkajs";

/**
 * A JoinGroup v3 (before KIP-394's member id handshake) of a new member of `groupId`, subscribed to `topics` with the
 * range assignor's metadata.
 * @param {string} groupId @param {string[]} topics
 */
export function joinRequest(groupId, topics) {
	const metadata = AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) });
	return {
		groupId,
		sessionTimeoutMs: 10_000,
		rebalanceTimeoutMs: 10_000,
		memberId: "",
		groupInstanceId: null,
		protocolType: "consumer",
		protocols: [{ name: "range", metadata }],
	};
}
