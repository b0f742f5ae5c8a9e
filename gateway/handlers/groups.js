// @ts-check
/**
 * @module
 * Consumer groups on Tributary's coordinator. A Kafka member is a Tributary member: its member id, generation,
 * assignment and commits are the coordinator's, so Kafka and HTTP members share one group, one assignment and
 * one set of committed offsets, and any gateway instance can serve any call.
 *
 * Kafka's classic protocol has the group leader compute the assignment. Here the coordinator computes it, with
 * the strategy matching the client's preferred assignor (range, roundrobin, sticky), and the gateway makes every
 * Kafka member a follower: JoinGroup answers with no member list, and SyncGroup hands each member the partitions
 * Tributary assigned it, encoded as Kafka's ConsumerProtocolAssignment. A rebalance in Tributary shows as a new
 * generation: the next Heartbeat answers REBALANCE_IN_PROGRESS and the member rejoins, as with a Kafka broker.
 * Kafka clients keep their read positions themselves, so a member (dynamic or static) joins as one that `rejoins`:
 * the coordinator moves its partitions to another member only at its own rejoin (or leave, or once its rebalance
 * timeout ran out), Kafka's JoinGroup barrier, and takes its commits of the generations since its last join meanwhile.
 */

import { randomBytes } from "node:crypto";
import { KAFKA, kafkaError, logRefusal, memberError, refusedResource } from "../errors.js";
import { MEMBER_ID_LENGTH_MAX, SESSION_TIMEOUT_MS_MAX, SESSION_TIMEOUT_MS_MIN } from "../limits.js";
import { codecs } from "../protocol/apis.js";
import { Reader, Writer } from "../protocol/io.js";

/** @typedef {import("../connection.js").RequestContext} RequestContext */

/** A leader id no member has: every Kafka member is a follower (see the module comment). */
export const NO_LEADER = "tributary-coordinator";
const PROTOCOL_TYPE = "consumer";
const ASSIGNMENT_VERSION = 0;
/** The first JoinGroup version that may answer MEMBER_ID_REQUIRED (KIP-394); older clients do not know the code. */
const MEMBER_ID_REQUIRED_FROM_VERSION = 4;
/**
 * A member id issued with MEMBER_ID_REQUIRED (`issueMemberId`): the client id and '-' (when it has one), a unique part,
 * then when it was issued (base-36 ms), which makes it pending. The unique part is ISSUED_RANDOM_BYTES in base64url, or
 * a UUID in the ids issued before client ids were carried (still pending for a session after an upgrade).
 */
const ISSUED_ID = /^(?:([a-zA-Z0-9._-]*)-)?(?:[A-Za-z0-9_-]{16}|[0-9a-f-]{36})\.([0-9a-z]+)$/;
/** How a Worker refuses join fields it does not know (its strict body's message names each; a guess follows "mean"). */
const UNKNOWN_FIELDS = /unknown fields? (.*)/;
const FIELD_NAMED = /(?<!mean )"(\w+)"/g;
/** How a Worker from before `instance_id` on member calls (heartbeat, commit) refuses it: its strict body names it. */
const INSTANCE_ID_REFUSED = /unknown fields? .*"instance_id"/;
/** Join fields a Worker may be too old for: members that rejoin, then their rebalance timeout (consumer-groups.md). */
const NEWER_JOIN_FIELDS = ["rejoins", "rebalance_timeout_ms"];
/** Marks a joined issued id (`joinedMemberId`); its '-' keeps it from matching `ISSUED_ID`. */
const JOINED_SUFFIX = "-joined";
/** Random bytes of an issued id: 96 bits, unique among a group's members as Kafka's UUID (122) is, in 16 characters. */
const ISSUED_RANDOM_BYTES = 12;
/** A client id's characters that a member id cannot hold (Tributary's ids are letters, digits, '.', '_', '-'). */
const NOT_IN_MEMBER_ID = /[^a-zA-Z0-9._-]/g;

/** Kafka assignor names → Tributary strategies. */
const STRATEGY_OF = new Map([
	["range", "range"],
	["roundrobin", "round-robin"],
	["RoundRobinAssigner", "round-robin"],
	["sticky", "sticky"],
	["cooperative-sticky", "sticky"],
]);

const subscriptionCodec = /** @type {import("../protocol/schema.js").MessageCodec} */ (codecs.get("ConsumerProtocolSubscription"));
const assignmentCodec = /** @type {import("../protocol/schema.js").MessageCodec} */ (codecs.get("ConsumerProtocolAssignment"));

/** The topics of a member's ConsumerProtocolSubscription (any version; newer ones are read as the newest known). @param {Buffer} metadata */
export function subscribedTopics(metadata) {
	const reader = new Reader(metadata);
	const version = Math.min(reader.int16(), subscriptionCodec.valid.max);
	return /** @type {string[]} */ (subscriptionCodec.decode(reader, version).topics);
}

/** A ConsumerProtocolAssignment (v0) for `assignment` (Tributary's `[{topic, partition}]`). */
export function encodeAssignment(assignment) {
	/** @type {Map<string, number[]>} */
	const byTopic = new Map();
	for (const { topic, partition } of assignment) {
		if (!byTopic.has(topic)) byTopic.set(topic, []);
		byTopic.get(topic)?.push(partition);
	}
	const writer = new Writer().int16(ASSIGNMENT_VERSION);
	const assignedPartitions = [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
	assignmentCodec.encode(writer, { assignedPartitions, userData: Buffer.alloc(0) }, ASSIGNMENT_VERSION);
	return Buffer.from(writer.done());
}

/** The first protocol the client offers that Tributary has a strategy for (else its first, with the group's strategy). */
function chooseProtocol(protocols) {
	const known = protocols.find((p) => STRATEGY_OF.has(p.name));
	const chosen = known ?? protocols[0];
	return { name: chosen.name, strategy: known ? STRATEGY_OF.get(known.name) : null, metadata: chosen.metadata };
}

/**
 * A member id to hand out with MEMBER_ID_REQUIRED. It begins with the client id, as Kafka's coordinator's
 * (`<client.id>-<UUID>`), which is where DescribeGroups finds the member's clientId (`memberClientId`): Tributary keeps
 * nothing else of a Kafka client. It carries when it was issued, so any gateway instance can tell the retry it comes
 * back with (a pending member, kept for a session as Kafka's coordinator keeps one) from a stale id, without state of
 * its own. Within Tributary's member id charset and length once joined (`joinedMemberId`): the client id's other
 * characters become '_' and it is cut to the room left.
 * @param {number} nowMs @param {string | null} [clientId] the request header's
 */
export function issueMemberId(nowMs, clientId = null) {
	const unique = `${randomBytes(ISSUED_RANDOM_BYTES).toString("base64url")}.${nowMs.toString(36)}`;
	const room = MEMBER_ID_LENGTH_MAX - JOINED_SUFFIX.length - unique.length - 1;
	const client = (clientId ?? "").replace(NOT_IN_MEMBER_ID, "_").slice(0, room);
	return client === "" ? unique : `${client}-${unique}`;
}

/**
 * The client id a member id issued by `issueMemberId` carries, joined or not (as far as it fit); "" for any other
 * member id (an HTTP member's, a static member's, one joined below JoinGroup v4): Tributary's coordinator picked it.
 * @param {string} memberId
 */
export function memberClientId(memberId) {
	const issued = memberId.endsWith(JOINED_SUFFIX) ? memberId.slice(0, -JOINED_SUFFIX.length) : memberId;
	return ISSUED_ID.exec(issued)?.[1] ?? "";
}

/**
 * The id a member issued `issued` joins Tributary under. Kafka's coordinator forgets a pending id once its member
 * joins, so a join with that id after the member left is UNKNOWN_MEMBER_ID; the gateway keeps no state to forget it
 * in, so the member joins under an id that is not an issued one (the suffix is outside `ISSUED_ID`), which clients
 * take from JoinGroup's answer. Within Tributary's member id charset and length.
 * @param {string} issued
 */
export function joinedMemberId(issued) {
	return `${issued}${JOINED_SUFFIX}`;
}

/** Whether `memberId` was issued by `issueMemberId` within `sessionTimeoutMs` of `nowMs`. @param {string} memberId @param {number} nowMs @param {number} sessionTimeoutMs */
export function isPending(memberId, nowMs, sessionTimeoutMs) {
	const issued = ISSUED_ID.exec(memberId);
	if (issued === null) return false;
	// Absolute: another gateway instance may have issued it, and its clock may be ahead of this one's.
	return Math.abs(nowMs - Number.parseInt(issued[2], 36)) <= sessionTimeoutMs;
}

function joinFailure(errorCode, memberId = "") {
	return { throttleTimeMs: 0, errorCode, generationId: -1, protocolType: null, protocolName: "", leader: "", memberId, members: [] };
}

/** @param {any} request @param {RequestContext} ctx */
export async function joinGroup(request, ctx) {
	if (request.groupId === "") return joinFailure(KAFKA.INVALID_GROUP_ID);
	// Tributary's bounds are Kafka's defaults (group.min/max.session.timeout.ms), outside which a broker refuses a join.
	if (request.sessionTimeoutMs < SESSION_TIMEOUT_MS_MIN || request.sessionTimeoutMs > SESSION_TIMEOUT_MS_MAX)
		return joinFailure(KAFKA.INVALID_SESSION_TIMEOUT);
	if (request.protocolType !== PROTOCOL_TYPE || request.protocols.length === 0) return joinFailure(KAFKA.INCONSISTENT_GROUP_PROTOCOL);
	const protocol = chooseProtocol(request.protocols);
	let topics;
	try {
		topics = subscribedTopics(protocol.metadata);
	} catch {
		return joinFailure(KAFKA.INCONSISTENT_GROUP_PROTOCOL);
	}
	// KIP-394: a dynamic member first gets an id to join with, so a join whose answer is lost is retried under that id
	// and finds the member it made instead of adding a second one, which would hold partitions for a session.
	const proposes = ctx.version >= MEMBER_ID_REQUIRED_FROM_VERSION && (request.groupInstanceId ?? null) === null;
	if (proposes && request.memberId === "") return joinFailure(KAFKA.MEMBER_ID_REQUIRED, issueMemberId(Date.now(), ctx.clientId));
	const issued = proposes && ISSUED_ID.test(request.memberId);
	let memberId = issued ? joinedMemberId(request.memberId) : request.memberId;
	let generation;
	const instanceId = request.groupInstanceId ?? null;
	const subscribed = memberId === "" ? "absent" : await subscriptionOf(ctx, request.groupId, memberId, instanceId, topics);
	if (subscribed === "fenced") return joinFailure(KAFKA.FENCED_INSTANCE_ID);
	// The member id is in the group under another instance id, or none: not this member's rejoin, and joined under it,
	// it would take that member's place. A broker finds no static member of this instance (UNKNOWN_MEMBER_ID); it
	// would take a dynamic join naming a static member's id as that member, which no client sends.
	if (subscribed === "foreign") return joinFailure(KAFKA.UNKNOWN_MEMBER_ID);
	const pending = subscribed === "absent" && issued && isPending(request.memberId, Date.now(), request.sessionTimeoutMs);
	// A member's rejoin is a join again under its id: it has stopped reading (a Kafka client rejoins only after committing
	// what it processed), so the partitions the coordinator held on it for others may move now. A static member's names
	// its instance id too: with its own member id that is its rejoin, not KIP-345's restart (consumer-groups.md).
	const rejoin = subscribed === "same";
	if (subscribed === "absent" && memberId !== "" && !pending) {
		// A member id Tributary does not have (it left, or its session ran out): the heartbeat answers unknown_member, as a
		// broker's JoinGroup does, and nothing joins under it.
		const answer = await namingInstance(ctx, request.groupId, memberId, instanceId, (i) =>
			ctx.tributary.heartbeat(request.groupId, memberId, i),
		);
		const errorCode = memberError(answer);
		if (errorCode !== KAFKA.NONE) return joinFailure(errorCode);
		generation = answer.body.generation;
	} else {
		// A rejoin with other topics (a pattern that now matches a new topic, a new subscribe()): the member leaves and
		// joins again with them, which the client takes from this answer. From v4 it keeps its id, so a retry of this
		// join whose answer is lost finds it; below v4, the coordinator picks a new one.
		if (subscribed === "other") await ctx.tributary.leaveGroup(request.groupId, memberId);
		const proposed = pending || rejoin || (proposes && subscribed === "other");
		const body = {
			topics,
			session_timeout_ms: request.sessionTimeoutMs,
			instance_id: instanceId,
			strategy: protocol.strategy,
			...(proposed ? { member_id: memberId } : {}),
			// Its read positions are the client's: its partitions go to others only once it rejoins (consumer-groups.md),
			// or once its rebalance timeout (JoinGroup v1+; v0 has the session timeout, as on a broker) has run out.
			rejoins: true,
			rebalance_timeout_ms: rebalanceTimeoutMs(request),
		};
		/** @type {Record<string, unknown>} */
		let sent = body;
		let answer = await ctx.tributary.joinGroup(request.groupId, sent);
		// A Worker from before these fields refuses them (its bodies are strict): a gateway deployed ahead of its Worker
		// joins without them, as before (without `rejoins`, no barrier), rather than fail every consumer's join.
		const older = withoutUnknownFields(body, answer);
		if (older !== null) {
			sent = older;
			answer = await ctx.tributary.joinGroup(request.groupId, sent);
		}
		// The group already assigns with another strategy (e.g. its HTTP members chose it): join with the group's.
		if (answer.status === 409 && answer.body?.error?.code === "inconsistent_strategy") {
			answer = await ctx.tributary.joinGroup(request.groupId, { ...sent, strategy: null });
		}
		const errorCode = kafkaError(answer, refusedResource(answer, "group"));
		if (errorCode !== KAFKA.NONE) {
			logRefusal(ctx, `join ${request.groupId}`, answer);
			return joinFailure(errorCode);
		}
		memberId = answer.body.member_id;
		generation = answer.body.generation;
	}
	return {
		throttleTimeMs: 0,
		errorCode: KAFKA.NONE,
		generationId: generation,
		protocolType: PROTOCOL_TYPE,
		protocolName: protocol.name,
		leader: NO_LEADER,
		skipAssignment: false,
		memberId,
		members: [],
	};
}

/** JoinGroup's rebalance timeout: v0 has none (it decodes as -1), and a broker uses the session timeout. @param {any} request */
function rebalanceTimeoutMs(request) {
	return request.rebalanceTimeoutMs > 0 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs;
}

/**
 * `body` without the `NEWER_JOIN_FIELDS` that `answer` refused as unknown, or null if it refused none of them.
 * @param {Record<string, unknown>} body @param {any} answer
 */
function withoutUnknownFields(body, answer) {
	const named = answer.status === 400 ? UNKNOWN_FIELDS.exec(answer.body?.error?.message ?? "")?.[1] : undefined;
	if (named === undefined) return null;
	const unknown = new Set([...named.matchAll(FIELD_NAMED)].map((m) => m[1]));
	const refused = NEWER_JOIN_FIELDS.filter((field) => field in body && unknown.has(field));
	return refused.length === 0 ? null : Object.fromEntries(Object.entries(body).filter(([field]) => !refused.includes(field)));
}

/**
 * How `member` of `group` is subscribed in Tributary: to exactly `topics` ("same"), to others ("other"), or not a
 * member ("absent", also when the group does not exist); "fenced" if `instanceId` is another member id's (a broker's
 * doCurrentMemberJoinGroup asks isStaticMemberFenced before whether the member id is known, as `leaveGroup` fences);
 * "foreign" if the member's instance id is not `instanceId` (null: dynamic). When the group cannot be described (a
 * key refused it; a 429 or 5xx), the member's heartbeat, which needs only `consume`, says whether Tributary has it:
 * "same" if so (its topics and instance unknown), else "absent", so a member Tributary removed is not made again by
 * a join under its id, and the heartbeat path answers its error (UNKNOWN_MEMBER_ID), as a broker's. The Worker's
 * join fences as well (`fenced_instance`, FENCED_INSTANCE_ID here): that covers what this describe cannot see (a key refused it; another join in between), while "fenced" still comes
 * first here because a member id the group does not have is answered without a join, and because a Worker from
 * before that fence would take a fenced join as the instance's restart.
 * @param {RequestContext} ctx @param {string} group @param {string} member @param {string | null} instanceId
 * @param {string[]} topics
 * @returns {Promise<"same" | "other" | "absent" | "fenced" | "foreign">}
 */
async function subscriptionOf(ctx, group, member, instanceId, topics) {
	const answer = await ctx.tributary.describeGroup(group);
	if (answer.status === 404) return "absent";
	if (answer.status !== 200)
		return (await namingInstance(ctx, group, member, instanceId, (i) => ctx.tributary.heartbeat(group, member, i))).status === 200
			? "same"
			: "absent";
	if (isInstanceFenced(instanceHolders(answer.body.members), instanceId, member)) return "fenced";
	const described = answer.body.members.find((/** @type {any} */ m) => m.member_id === member);
	if (described === undefined) return "absent";
	if ((described.instance_id ?? null) !== instanceId) return "foreign";
	if (!Array.isArray(described.topics)) return "same";
	const wanted = [...new Set(topics)].sort();
	const current = [...described.topics].sort();
	return wanted.length === current.length && wanted.every((topic, i) => topic === current[i]) ? "same" : "other";
}

/**
 * Whether a call naming `member` and `instanceId` (KIP-345's group.instance.id; null: a dynamic member) is fenced: the
 * group's static members (`holders`, instance id → member id) give that instance to another member id, as a broker's
 * isStaticMemberFenced. The one rule for every call that names both (JoinGroup, Heartbeat, SyncGroup, OffsetCommit,
 * LeaveGroup).
 * @param {Map<string, string>} holders @param {string | null} instanceId @param {string} member
 */
export function isInstanceFenced(holders, instanceId, member) {
	const holder = instanceId === null ? undefined : holders.get(instanceId);
	return holder !== undefined && holder !== member;
}

/**
 * Asks the Worker a member call (its heartbeat, its commit: `ask`) naming `instanceId` (KIP-345's group.instance.id;
 * null: none), so that the Worker itself fences a static member another process with that instance id replaced
 * (`fenced_instance`, FENCED_INSTANCE_ID), whatever the key may describe. Its refusal is then the answer: it judged the
 * instance as a broker does (after expiring sessions that ran out), and the group's describe would say the same, so
 * it is not asked. A Worker from before `instance_id` on those calls refuses the field (its bodies are strict): the
 * call is asked again without it, and a refusal then is fenced from the describe (`heldByAnother`), as before, the
 * instance first, as the Worker and a broker ask it. Kept because a gateway may run ahead of its Worker (deployed
 * first, or the Worker rolled back): without it every static member's call there is INVALID_REQUEST. That Worker
 * cannot judge an instance no member holds, so such a call from a member it has is served (docs/kafka-gateway.md).
 * @param {RequestContext} ctx @param {string} group @param {string} member the member id the call names
 * @param {string | null} instanceId @param {(instanceId: string | null) => Promise<any>} ask
 */
export async function namingInstance(ctx, group, member, instanceId, ask) {
	const answer = await ask(instanceId);
	const older = instanceId !== null && answer.status === 400 && INSTANCE_ID_REFUSED.test(answer.body?.error?.message ?? "");
	if (!older) return answer;
	const unnamed = await ask(null);
	return unnamed.status === 409 && (await heldByAnother(ctx, group, member, instanceId)) ? FENCED_FROM_DESCRIBE : unnamed;
}

/** The Worker's `fenced_instance`, for a refusal `namingInstance` fenced from the group's describe. */
const FENCED_FROM_DESCRIBE = {
	status: 409,
	body: { error: { code: "fenced_instance", message: "another member holds the instance (from the group's describe)", retriable: false } },
};

/**
 * `errorCode` for a call naming `member` and `instanceId` whose instance id no Worker judged, except that
 * UNKNOWN_MEMBER_ID is FENCED_INSTANCE_ID when the group's describe gives the instance to another member id
 * (`heldByAnother`): a static member that another process with its instance id replaced (KIP-345's restart) is told
 * so, as by a broker, and Kafka clients take that as fatal and stop, where on UNKNOWN_MEMBER_ID they join again
 * without a member id, another restart, and the two take the instance from each other in turn. For the calls the
 * Worker is not asked (no member id) and LeaveGroup's refusal: a Worker from before `instance_id` on the leave ignores
 * the parameter, so its `unknown_member` may not have judged the instance. A describe that fails (the Worker busy, a
 * key refused it) keeps UNKNOWN_MEMBER_ID here.
 * @param {RequestContext} ctx @param {string} group @param {string} member @param {string | null} instanceId
 * @param {number} errorCode the call's error without the fence
 */
export async function fencedOr(ctx, group, member, instanceId, errorCode) {
	if (errorCode !== KAFKA.UNKNOWN_MEMBER_ID || instanceId === null || group === "") return errorCode;
	return (await heldByAnother(ctx, group, member, instanceId)) ? KAFKA.FENCED_INSTANCE_ID : errorCode;
}

/**
 * Whether the group's describe gives `instanceId` to another member id than `member` (`isInstanceFenced`); false when
 * the describe fails (a key refused it; the Worker busy), which leaves the call's own answer.
 * @param {RequestContext} ctx @param {string} group @param {string} member @param {string} instanceId
 */
async function heldByAnother(ctx, group, member, instanceId) {
	const statics = await staticMembers(ctx, group);
	return statics.errorCode === KAFKA.NONE && isInstanceFenced(statics.byInstance, instanceId, member);
}

/**
 * The member's current view, checked against the generation the client believes in; a static member another process
 * replaced is fenced (`namingInstance`; without a member id, `fencedOr`).
 * @param {RequestContext} ctx @param {any} request a SyncGroup's or Heartbeat's (group.instance.id from v3)
 */
async function currentView(ctx, { groupId: group, memberId: member, generationId: generation, groupInstanceId = null }) {
	if (group === "") return { errorCode: KAFKA.INVALID_GROUP_ID, view: null };
	if (member === "") return { errorCode: await fencedOr(ctx, group, member, groupInstanceId, KAFKA.UNKNOWN_MEMBER_ID), view: null };
	const answer = await namingInstance(ctx, group, member, groupInstanceId, (i) => ctx.tributary.heartbeat(group, member, i));
	const errorCode = memberError(answer);
	if (errorCode !== KAFKA.NONE) return { errorCode, view: null };
	if (answer.body.generation !== generation) return { errorCode: KAFKA.REBALANCE_IN_PROGRESS, view: null };
	return { errorCode: KAFKA.NONE, view: answer.body };
}

/** @param {any} request @param {RequestContext} ctx */
export async function syncGroup(request, ctx) {
	const { errorCode, view } = await currentView(ctx, request);
	if (view === null) return { throttleTimeMs: 0, errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
	return {
		throttleTimeMs: 0,
		errorCode: KAFKA.NONE,
		protocolType: request.protocolType ?? PROTOCOL_TYPE,
		protocolName: request.protocolName,
		assignment: encodeAssignment(view.assignment),
	};
}

/** @param {any} request @param {RequestContext} ctx */
export async function heartbeat(request, ctx) {
	const { errorCode } = await currentView(ctx, request);
	return { throttleTimeMs: 0, errorCode };
}

/**
 * The member ids of `group`'s static members by instance id, or the Kafka error of describing the group (none
 * when it does not exist: it has no members to name).
 * @param {RequestContext} ctx @param {string} group
 * @returns {Promise<{ errorCode: number, byInstance: Map<string, string> }>}
 */
async function staticMembers(ctx, group) {
	const answer = await ctx.tributary.describeGroup(group);
	if (answer.status === 404) return { errorCode: KAFKA.NONE, byInstance: new Map() };
	const errorCode = kafkaError(answer, "group");
	if (errorCode !== KAFKA.NONE) return { errorCode, byInstance: new Map() };
	return { errorCode, byInstance: instanceHolders(answer.body.members) };
}

/** The member ids of a group's static members (its describe's `members`) by instance id. @param {any[]} members */
export function instanceHolders(members) {
	const named = members.filter((m) => m.instance_id !== null);
	return new Map(named.map((m) => [m.instance_id, m.member_id]));
}

/**
 * LeaveGroup. From v3 a member may be named by its group.instance.id (KIP-345; Java admin's
 * `removeMembersFromConsumerGroup` sends no member id): the static member with that instance id, found in the group's
 * describe, leaves. Named with a member id too, the Worker's leave names the instance and fences it, as a broker's
 * (validateCurrentMember): a member id that is not the instance's holder is FENCED_INSTANCE_ID and the member stays,
 * under any key, with no describe. A Worker from before `instance_id` on the leave ignores it: its refusal is fenced
 * from the describe (`fencedOr`).
 * @param {any} request @param {RequestContext} ctx
 */
export async function leaveGroup(request, ctx) {
	if (request.groupId === "") return { throttleTimeMs: 0, errorCode: KAFKA.INVALID_GROUP_ID, members: [] };
	const leaving = ctx.version >= 3 ? request.members : [{ memberId: request.memberId, groupInstanceId: null }];
	const byInstanceAlone = (/** @type {any} */ m) => m.memberId === "" && m.groupInstanceId !== null;
	const statics = leaving.some(byInstanceAlone) ? await staticMembers(ctx, request.groupId) : null;
	const members = await Promise.all(
		leaving.map(async (/** @type {any} */ m) => {
			const result = (/** @type {number} */ errorCode) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
			if (statics !== null && byInstanceAlone(m)) {
				if (statics.errorCode !== KAFKA.NONE) return result(statics.errorCode);
				const holder = statics.byInstance.get(m.groupInstanceId);
				// The holder the describe named leaves as itself: a restart in between is not this call's to fence.
				return result(
					holder === undefined ? KAFKA.UNKNOWN_MEMBER_ID : memberError(await ctx.tributary.leaveGroup(request.groupId, holder)),
				);
			}
			if (m.memberId === "") return result(KAFKA.UNKNOWN_MEMBER_ID);
			// An issued id is a client's whose join answer never came (it closes mid-join): the member that join made, if
			// any, is under the joined id, and leaves as a broker's pending member would, not held for a session.
			const member = ISSUED_ID.test(m.memberId) ? joinedMemberId(m.memberId) : m.memberId;
			const answer = await ctx.tributary.leaveGroup(request.groupId, member, m.groupInstanceId);
			return result(await fencedOr(ctx, request.groupId, member, m.groupInstanceId, memberError(answer)));
		}),
	);
	const errorCode = ctx.version >= 3 ? KAFKA.NONE : members[0].errorCode;
	return { throttleTimeMs: 0, errorCode, members };
}

/** Tributary's answer for a group it does not have. */
export const NO_SUCH_GROUP = { status: 404, body: { error: { code: "group_not_found", message: "no group has the empty group id" } } };

/**
 * `group` as Tributary describes it. The empty group id, which Kafka takes in OffsetCommit, OffsetFetch,
 * DescribeGroups and DeleteGroups (kept for old clients), names no Tributary group (its ids need a character): it is
 * answered as a group Tributary does not have, not sent as a path that names another resource.
 * @param {RequestContext} ctx @param {string} group
 */
export function describedGroup(ctx, group) {
	return group === "" ? Promise.resolve(NO_SUCH_GROUP) : ctx.tributary.describeGroup(group);
}
