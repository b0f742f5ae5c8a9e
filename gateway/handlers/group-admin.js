// @ts-check
/**
 * @module
 * DescribeGroups, ListGroups and DeleteGroups, for `kafka-consumer-groups`, admin clients and kafkajs' admin:
 * Tributary's `GET /v1/groups`, `GET /v1/groups/{group}` and `DELETE /v1/groups/{group}` in Kafka's shape. Every group is a classic consumer group; HTTP
 * members show as members too, with their subscription and assignment in the consumer protocol's encoding.
 */

import { errorMessage, KAFKA, kafkaError, logRefusal } from "../errors.js";
import { codecs } from "../protocol/apis.js";
import { Writer } from "../protocol/io.js";
import { describedGroup, encodeAssignment, memberClientId, NO_SUCH_GROUP } from "./groups.js";

/** @typedef {import("../connection.js").RequestContext} RequestContext */

const STATE_NAMES = { stable: "Stable", empty: "Empty", dead: "Dead" };
const ASSIGNOR_NAMES = { range: "range", "round-robin": "roundrobin", sticky: "sticky" };
const SUBSCRIPTION_VERSION = 0;
const subscriptionCodec = /** @type {import("../protocol/schema.js").MessageCodec} */ (codecs.get("ConsumerProtocolSubscription"));

/** A member's topics as a ConsumerProtocolSubscription v0 (a pattern member shows its pattern's topics as none). @param {string[]} topics */
function encodeSubscription(topics) {
	const writer = new Writer().int16(SUBSCRIPTION_VERSION);
	subscriptionCodec.encode(writer, { topics, userData: null }, SUBSCRIPTION_VERSION);
	return Buffer.from(writer.done());
}

/** @param {string} groupId @param {number} errorCode @param {string} state */
function emptyGroup(groupId, errorCode, state) {
	return { errorCode, groupId, groupState: state, protocolType: "", protocolData: "", members: [], authorizedOperations: -2147483648 };
}

/** @param {any} request @param {RequestContext} ctx */
export async function describeGroups(request, ctx) {
	const groups = await Promise.all(
		request.groups.map(async (/** @type {string} */ groupId) => {
			const answer = await describedGroup(ctx, groupId);
			if (answer.status === 404) return emptyGroup(groupId, KAFKA.NONE, STATE_NAMES.dead);
			const errorCode = kafkaError(answer, "group");
			if (errorCode !== KAFKA.NONE) {
				logRefusal(ctx, `describe ${groupId}`, answer);
				return emptyGroup(groupId, errorCode, "");
			}
			const g = answer.body;
			return {
				...emptyGroup(groupId, KAFKA.NONE, STATE_NAMES[g.state] ?? g.state),
				protocolType: "consumer",
				protocolData: g.strategy === null ? "" : (ASSIGNOR_NAMES[g.strategy] ?? g.strategy),
				members: g.members.map((/** @type {any} */ m) => ({
					memberId: m.member_id,
					groupInstanceId: m.instance_id,
					// Carried in the id JoinGroup issued (as Kafka's member ids carry it); the host nowhere: Tributary keeps no
					// client address, and the gateway that serves this may not be the one the member came through.
					clientId: memberClientId(m.member_id),
					clientHost: "",
					memberMetadata: encodeSubscription(m.topics ?? []),
					memberAssignment: encodeAssignment(m.assignment),
				})),
			};
		}),
	);
	return { throttleTimeMs: 0, groups };
}

/** @param {any} request @param {RequestContext} ctx */
export async function listGroups(request, ctx) {
	const answer = await ctx.tributary.call("GET", "/v1/groups");
	const errorCode = kafkaError(answer, "cluster");
	if (errorCode !== KAFKA.NONE) return { throttleTimeMs: 0, errorCode, groups: [] };
	const wanted = new Set((request.statesFilter ?? []).map((/** @type {string} */ s) => s.toLowerCase()));
	const groups = answer.body.groups
		.map((/** @type {any} */ g) => ({
			groupId: g.group,
			protocolType: "consumer",
			groupState: STATE_NAMES[g.state] ?? g.state,
			groupType: "classic",
		}))
		.filter((/** @type {any} */ g) => wanted.size === 0 || wanted.has(g.groupState.toLowerCase()));
	return { throttleTimeMs: 0, errorCode: KAFKA.NONE, groups };
}

/**
 * DeleteGroups: each group through Tributary's group delete, which takes only an empty group (NON_EMPTY_GROUP, as
 * Kafka's coordinator answers; GROUP_ID_NOT_FOUND for one it does not know). A group named twice is one result: the
 * response is keyed by group id.
 * @param {any} request @param {RequestContext} ctx
 */
export async function deleteGroups(request, ctx) {
	const results = await Promise.all(
		[...new Set(/** @type {string[]} */ (request.groupsNames))].map(async (groupId) => {
			const answer = groupId === "" ? NO_SUCH_GROUP : await ctx.tributary.call("DELETE", `/v1/groups/${encodeURIComponent(groupId)}`);
			return { groupId, errorCode: kafkaError(answer, "group"), errorMessage: answer.status === 204 ? null : errorMessage(answer) };
		}),
	);
	return { throttleTimeMs: 0, results };
}
