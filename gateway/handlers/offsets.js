// @ts-check
/**
 * @module
 * OffsetCommit and OffsetFetch: a group's committed offsets in Tributary, which Kafka and HTTP members share. A commit
 * is Tributary's, fenced by the member and its generation (or standalone while the group has no members), all or
 * nothing there; the gateway answers per partition as a broker does, sending again what a refusal did not name.
 */

import { mapAtMost } from "../at-most.js";
import { LOG_END_AT } from "../convert.js";
import { KAFKA, kafkaError, logRefusal, refusedResource } from "../errors.js";
import { COMMIT_METADATA_BYTES_MAX, WORKER_REQUESTS_AT_ONCE_MAX } from "../limits.js";
import { TIMESTAMP_TYPE_CONFIG } from "../topic-config.js";
import { listingIndex } from "../topic-list.js";
import { describedGroup, fencedOr, instanceHolders, isInstanceFenced, namingInstance } from "./groups.js";

/** @typedef {import("../connection.js").RequestContext} RequestContext */

/**
 * The key of a topic's partition in a commit's or a fetch's maps and sets ("orders/3"; a topic name holds no '/').
 * @param {string} topic @param {number} partition
 */
const partitionKey = (topic, partition) => `${topic}/${partition}`;

/**
 * OffsetCommit: Tributary's fenced commit (member and generation), all partitions or none, except that a topic
 * or partition Tributary does not have, or a topic the caller may not consume, is refused alone
 * (UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED: `aloneRefusal`) and the rest are committed, as a broker
 * refuses a partition alone; an offset past its partition's high watermark is committed at the high watermark
 * (`commitPending`). A partition whose metadata is over COMMIT_METADATA_BYTES_MAX is OFFSET_METADATA_TOO_LARGE alone,
 * after the member and generation and its topic's existence, in a broker's order. With generation -1 (a consumer that
 * assigns itself partitions, an admin setting offsets: Java's `assign()` and `commitSync()`,
 * `alterConsumerGroupOffsets`; not kafkajs' `setOffsets`, which commits through a consumer that joins the group),
 * Tributary's standalone commit, which a group takes only while it has no members; for one that has, the answer is a
 * Kafka broker's: UNKNOWN_MEMBER_ID with no member id or one the group does not have, ILLEGAL_GENERATION for a member
 * it has, FENCED_INSTANCE_ID naming an instance another member holds (`standaloneRefusal`). A committed -1 or -2
 * (`LOG_END_AT`: kafkajs' `admin.resetOffsets`) is resolved to the partition's offset when committed, as the group's
 * committed offsets are plain offsets in Tributary.
 * @param {any} request @param {RequestContext} ctx
 */
export async function offsetCommit(request, ctx) {
	// Kafka would keep it; Tributary cannot hold a group without a name, refused as every group id it cannot hold is.
	if (request.groupId === "") return commitAnswer(request, KAFKA.INVALID_GROUP_ID, new Map(), new Set());
	// Generation -1 is a broker's commit from outside the group's generations, taken only while the group is Empty, a
	// member id or not (GroupMetadata's validateOffsetCommit): Tributary's standalone commit.
	const standalone = request.generationIdOrMemberEpoch < 0;
	/** @type {CommitEntry[]} */
	const offsets = await mapAtMost(
		request.topics.flatMap((/** @type {any} */ t) => t.partitions.map((/** @type {any} */ p) => ({ t, p }))),
		WORKER_REQUESTS_AT_ONCE_MAX,
		async ({ t, p }) => {
			const at = LOG_END_AT.get(Number(p.committedOffset));
			const resolved = at === undefined ? null : await ctx.tributary.offsetAt(t.name, p.partitionIndex, at);
			return {
				topic: t.name,
				partition: p.partitionIndex,
				offset: resolved?.status === 200 ? resolved.body.offset : p.committedOffset,
				metadata: p.committedMetadata || null,
			};
		},
	);
	let errorCode = /** @type {number} */ (KAFKA.NONE);
	/** Partitions refused alone ("topic/partition" → Kafka code), as a broker refuses them: see `aloneRefusal`. */
	/** @type {Map<string, number>} */
	const refusedAlone = new Map();
	// A broker refuses these alone (OFFSET_METADATA_TOO_LARGE) and commits the rest; Tributary would refuse the whole
	// commit, so they are not sent.
	const tooLarge = new Set(offsets.filter((o) => metadataTooLarge(o.metadata)).map((o) => partitionKey(o.topic, o.partition)));
	// No member id to ask the Worker about: from v7 it names its group.instance.id, fenced from the describe.
	if (!standalone && request.memberId === "")
		errorCode = await fencedOr(ctx, request.groupId, "", request.groupInstanceId ?? null, KAFKA.UNKNOWN_MEMBER_ID);
	else {
		const fenced = standalone ? {} : { member_id: request.memberId, generation: request.generationIdOrMemberEpoch };
		const pending = offsets.filter((o) => !tooLarge.has(partitionKey(o.topic, o.partition)));
		// A broker checks the member and generation before any partition: with nothing left to send, they are
		// checked on their own.
		if (pending.length === 0 && tooLarge.size > 0) errorCode = await memberRefusal(ctx, request, standalone, fenced);
		else {
			// A standalone commit naming a member is not fenced by its instance (the Worker fences it against any holder,
			// the caller too): the member check below answers FENCED_INSTANCE_ID or ILLEGAL_GENERATION, as a broker does.
			const instanceId = standalone && request.memberId !== "" ? null : (request.groupInstanceId ?? null);
			const member = standalone ? "" : request.memberId;
			errorCode = await commitPending(ctx, request.groupId, { ...fenced, standalone, instanceId, member }, pending, refusedAlone);
			// Refused for the group's members, a commit naming one is checked as a broker checks it (a group emptied
			// since keeps the refusal).
			if (standalone && request.memberId !== "" && errorCode === KAFKA.UNKNOWN_MEMBER_ID)
				errorCode = (await standaloneRefusal(ctx, request)) || KAFKA.UNKNOWN_MEMBER_ID;
		}
		// A broker refuses a topic it does not have, or may not show, before looking at the metadata.
		if (errorCode === KAFKA.NONE) {
			const large = offsets.filter((o) => tooLarge.has(partitionKey(o.topic, o.partition)));
			const answers = await logEnds(ctx, large);
			large.forEach((o, i) => {
				const refused = aloneRefusal(answers[i], o);
				if (refused !== null) refusedAlone.set(partitionKey(o.topic, o.partition), refused);
			});
		}
	}
	return commitAnswer(request, errorCode, refusedAlone, tooLarge);
}

/**
 * Commits `pending` (Tributary: all or nothing) and answers the commit's Kafka error. A refusal naming entries that a
 * broker refuses alone (`aloneRefusal`) records them in `refusedAlone` and sends the rest again. The first naming an
 * offset past its partition's high watermark (the Worker names only the first such) moves every entry past its end
 * to its high watermark at once (`movedToEnds`; see docs/kafka-gateway.md, Deviations), so many partitions past their
 * end cost one more commit, not one each; a later refusal of an entry past its end refuses it alone. So this ends
 * within two tries, plus one per entry refused alone.
 * @param {RequestContext} ctx @param {string} group
 * @param {{ member_id?: string, generation?: number, standalone: boolean, instanceId: string | null, member: string }} fenced
 * the member's fencing, or none, and the instance id the Worker fences too, for `member` ("" standalone: `namingInstance`)
 * @param {CommitEntry[]} pending
 * @param {Map<string, number>} refusedAlone
 */
async function commitPending(ctx, group, { standalone, instanceId, member, ...fenced }, pending, refusedAlone) {
	let endsRead = false;
	let left = pending;
	while (left.length > 0) {
		const offsets = left;
		const ask = (/** @type {string | null} */ i) =>
			ctx.tributary.commit(group, { ...fenced, ...(i === null ? {} : { instance_id: i }), offsets });
		const answer = await namingInstance(ctx, group, member, instanceId, ask);
		if (!endsRead && left.some((o) => isPastEnd(answer, o))) {
			endsRead = true;
			left = await movedToEnds(ctx, group, left, answer);
			continue;
		}
		const refused = left.filter((o) => aloneRefusal(answer, o) !== null);
		if (refused.length === 0) {
			const errorCode = commitError(answer, standalone);
			if (errorCode !== KAFKA.NONE) logRefusal(ctx, `commit ${group}`, answer);
			return errorCode;
		}
		for (const o of refused) refusedAlone.set(partitionKey(o.topic, o.partition), /** @type {number} */ (aloneRefusal(answer, o)));
		left = left.filter((o) => !refused.includes(o));
	}
	return KAFKA.NONE;
}

/** @typedef {{ topic: string, partition: number, offset: number, metadata: string | null }} CommitEntry */

/**
 * The Worker's answers for each entry's partition's log end (its high watermark), WORKER_REQUESTS_AT_ONCE_MAX at a time.
 * @param {RequestContext} ctx @param {readonly { topic: string, partition: number }[]} entries
 */
function logEnds(ctx, entries) {
	return mapAtMost(entries, WORKER_REQUESTS_AT_ONCE_MAX, (o) => ctx.tributary.offsetAt(o.topic, o.partition, "latest"));
}

/**
 * `entries` with every offset past its partition's high watermark moved to it (the ends read by `logEnds`). An entry
 * whose end cannot be read keeps its offset (the commit refuses it on its own terms), except the one `refusal` names
 * past its end, which moves to the high watermark that refusal gives.
 * @param {RequestContext} ctx @param {string} group @param {CommitEntry[]} entries
 * @param {{ status: number, body: any }} refusal the commit's refusal naming an entry past its end
 * @returns {Promise<CommitEntry[]>}
 */
async function movedToEnds(ctx, group, entries, refusal) {
	const ends = await logEnds(ctx, entries);
	let moved = 0;
	const result = entries.map((o, i) => {
		const end = ends[i].status === 200 ? ends[i].body.offset : isPastEnd(refusal, o) ? refusal.body.error.high_watermark : null;
		if (typeof end !== "number" || o.offset <= end) return o;
		moved++;
		return { ...o, offset: end };
	});
	ctx.log(`commit ${group}: ${moved} of ${entries.length} partitions past their end, committed at their high watermarks`);
	return result;
}

/**
 * Whether a refused commit's answer names `entry` as committed past its partition's high watermark (and says where
 * that is). @param {{ status: number, body: any }} answer @param {{ topic: string, partition: number }} entry
 */
function isPastEnd(answer, entry) {
	const error = answer.body?.error;
	return (
		error?.code === "offset_out_of_range" &&
		error.topic === entry.topic &&
		error.partition === entry.partition &&
		typeof error.high_watermark === "number"
	);
}

/**
 * The Kafka error refusing a commit's member and generation, checked without committing: a commit of no partition,
 * which the Worker judges by its commit rule (a member that rejoins may commit the generations since it last joined,
 * as a broker takes the ending generation's commits until the member rejoins) and which renews the member's session as
 * a broker's commit does; or a standalone commit's (`standaloneRefusal`). A Worker from before a commit of no partition
 * refuses it (400): the member's heartbeat judges it then, its current generation only, as before.
 * @param {RequestContext} ctx @param {any} request @param {boolean} standalone
 * @param {{ member_id?: string, generation?: number }} fenced the member's fencing
 */
async function memberRefusal(ctx, request, standalone, fenced) {
	if (standalone) return standaloneRefusal(ctx, request);
	const { groupId, memberId } = request;
	const ask = (/** @type {(i: string | null) => Promise<any>} */ call) =>
		namingInstance(ctx, groupId, memberId, request.groupInstanceId ?? null, call);
	const judged = await ask((i) => ctx.tributary.commit(groupId, { ...fenced, ...(i === null ? {} : { instance_id: i }), offsets: [] }));
	if (judged.status !== 400) return commitError(judged, false);
	const answer = await ask((i) => ctx.tributary.heartbeat(groupId, memberId, i));
	if (answer.status !== 200) return commitError(answer, false);
	return answer.body.generation === request.generationIdOrMemberEpoch ? KAFKA.NONE : KAFKA.ILLEGAL_GENERATION;
}

/**
 * A standalone commit's (generation -1) refusal, from the group's describe, in a broker's order (validateOffsetCommit):
 * none while the group has no members (it takes the commit then); else FENCED_INSTANCE_ID for an instance another
 * member holds, UNKNOWN_MEMBER_ID for a member id it does not list (or none), ILLEGAL_GENERATION for one it lists (-1
 * is no generation). Not by the member's heartbeat, which would renew the session of a member whose commit is
 * refused, where a broker's refusal does not.
 * @param {RequestContext} ctx @param {any} request
 */
async function standaloneRefusal(ctx, request) {
	const described = await describedGroup(ctx, request.groupId);
	if (described.status === 404) return KAFKA.NONE;
	if (described.status !== 200) return kafkaError(described, "group");
	const members = /** @type {{ member_id: string, instance_id: string | null }[]} */ (described.body.members);
	if (members.length === 0) return KAFKA.NONE;
	if (isInstanceFenced(instanceHolders(members), request.groupInstanceId ?? null, request.memberId)) return KAFKA.FENCED_INSTANCE_ID;
	return members.some((m) => m.member_id === request.memberId) ? KAFKA.ILLEGAL_GENERATION : KAFKA.UNKNOWN_MEMBER_ID;
}

/** Whether a commit's metadata is more than Tributary keeps (UTF-8 bytes, as the Worker counts them). @param {string | null} metadata */
function metadataTooLarge(metadata) {
	return metadata !== null && Buffer.byteLength(metadata, "utf8") > COMMIT_METADATA_BYTES_MAX;
}

/**
 * An OffsetCommit's answer: `errorCode` for every partition but those refused alone (`refusedAlone`, "topic/partition"
 * → code), and those in `tooLarge` when the commit was taken (a broker checks the member and generation before any
 * partition's metadata).
 * @param {any} request @param {number} errorCode @param {Map<string, number>} refusedAlone @param {Set<string>} tooLarge
 */
function commitAnswer(request, errorCode, refusedAlone, tooLarge) {
	/** @param {string} key */
	const codeOf = (key) => {
		const alone = refusedAlone.get(key);
		if (alone !== undefined) return alone;
		return errorCode === KAFKA.NONE && tooLarge.has(key) ? KAFKA.OFFSET_METADATA_TOO_LARGE : errorCode;
	};
	return {
		throttleTimeMs: 0,
		topics: request.topics.map((/** @type {any} */ t) => ({
			name: t.name,
			partitions: t.partitions.map((/** @type {any} */ p) => ({
				partitionIndex: p.partitionIndex,
				errorCode: codeOf(partitionKey(t.name, p.partitionIndex)),
			})),
		})),
	};
}

/**
 * The Kafka code refusing `entry` alone when a refused call's answer names it, else null: a topic or partition
 * Tributary does not have (its error carries the topic, and for a partition the topic's partition count) is
 * UNKNOWN_TOPIC_OR_PARTITION; a topic the caller may not consume or describe (the 403's `resource`) is
 * TOPIC_AUTHORIZATION_FAILED, as KafkaApis refuses the partitions of a topic the caller may not read; a partition
 * still past its high watermark once moved to it (`commitPending`: its log shrank meanwhile) is OFFSET_OUT_OF_RANGE.
 * @param {{ status: number, body: any }} answer @param {{ topic: string, partition: number }} entry
 */
function aloneRefusal(answer, entry) {
	const error = answer.body?.error;
	if (answer.status === 403 && error?.resource === `topic:${entry.topic}`) return KAFKA.TOPIC_AUTHORIZATION_FAILED;
	if (error?.code === "offset_out_of_range" && error.topic === entry.topic && error.partition === entry.partition)
		return KAFKA.OFFSET_OUT_OF_RANGE;
	return isMissing(answer, entry) ? KAFKA.UNKNOWN_TOPIC_OR_PARTITION : null;
}

/**
 * Whether a refused call's answer names `entry` as a topic or partition Tributary does not have.
 * @param {{ status: number, body: any }} answer @param {{ topic: string, partition: number }} entry
 */
function isMissing(answer, entry) {
	const error = answer.body?.error;
	if (error?.topic !== entry.topic) return false;
	if (error.code === "topic_not_found") return true;
	return (
		error.code === "partition_not_found" &&
		typeof error.partitions === "number" &&
		(entry.partition < 0 || entry.partition >= error.partitions)
	);
}

/**
 * The Kafka error code of a commit's answer. A standalone commit refused because the group has members is
 * UNKNOWN_MEMBER_ID, and a member's commit to a group Tributary does not know ILLEGAL_GENERATION, as a broker
 * answers OffsetCommit below v9 (the versions served); a 403 naming a topic is that topic's.
 * @param {{ status: number, body: any }} answer @param {boolean} standalone
 */
function commitError(answer, standalone) {
	const code = answer.body?.error?.code;
	if (standalone && code === "group_not_empty") return KAFKA.UNKNOWN_MEMBER_ID;
	if (!standalone && code === "group_not_found") return KAFKA.ILLEGAL_GENERATION;
	return kafkaError(answer, refusedResource(answer, "group"));
}

/** The first OffsetFetch version that asks for several groups at once (KIP-709). */
const GROUPS_FROM_OFFSET_FETCH_VERSION = 8;

/**
 * OffsetFetch: each group's committed offsets from Tributary (-1 where nothing is committed). From v8 one request
 * asks for several groups (Java's admin batches `listConsumerGroupOffsets` so), each answered on its own.
 * @param {any} request @param {RequestContext} ctx
 */
export async function offsetFetch(request, ctx) {
	if (ctx.version < GROUPS_FROM_OFFSET_FETCH_VERSION)
		return { throttleTimeMs: 0, ...(await groupOffsets(ctx, request.groupId, request.topics)) };
	const groups = await Promise.all(
		request.groups.map(async (/** @type {any} */ g) => ({ groupId: g.groupId, ...(await groupOffsets(ctx, g.groupId, g.topics)) })),
	);
	return { throttleTimeMs: 0, groups };
}

/**
 * One group's committed offsets for the topics asked, or for every partition it has committed (topics null). The
 * group's describe leaves out the offsets of topics the caller may not describe, so a topic asked by name that it
 * has no row for is either uncommitted or hidden: one the caller may not describe (`hiddenTopics`) is
 * TOPIC_AUTHORIZATION_FAILED for each partition asked, as KafkaApis answers it, not "nothing committed"; asked for
 * every topic, hidden ones are left out, as a broker leaves them out.
 * @param {RequestContext} ctx @param {string} groupId @param {{ name: string, partitionIndexes: number[] }[] | null} topicsAsked
 */
async function groupOffsets(ctx, groupId, topicsAsked) {
	const answer = await describedGroup(ctx, groupId);
	const groupError = answer.status === 404 ? KAFKA.NONE : kafkaError(answer, "group");
	/** @type {Map<string, {offset: number, metadata: string | null}>} */
	const committed = new Map();
	/** @type {Set<string>} */
	const described = new Set();
	/** @type {Map<string, number[]>} the committed partitions of each topic, for a request asking for all */
	const committedByTopic = new Map();
	if (answer.status === 200) {
		for (const o of answer.body.offsets) {
			described.add(o.topic);
			if (o.committed === null) continue;
			committed.set(partitionKey(o.topic, o.partition), { offset: o.committed, metadata: o.metadata });
			committedByTopic.set(o.topic, [...(committedByTopic.get(o.topic) ?? []), o.partition]);
		}
	}
	const asked = topicsAsked ?? [...committedByTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
	const hidden =
		topicsAsked === null || groupError !== KAFKA.NONE
			? new Set()
			: await hiddenTopics(
					ctx,
					asked.map((t) => t.name).filter((name) => !described.has(name)),
				);
	const topics = asked.map((t) => ({
		name: t.name,
		partitions: t.partitionIndexes.map((partitionIndex) => {
			const c = committed.get(partitionKey(t.name, partitionIndex));
			return {
				partitionIndex,
				committedOffset: c?.offset ?? -1,
				committedLeaderEpoch: -1,
				metadata: c?.metadata ?? "",
				errorCode: hidden.has(t.name) ? KAFKA.TOPIC_AUTHORIZATION_FAILED : KAFKA.NONE,
			};
		}),
	}));
	return { topics, errorCode: groupError };
}

/**
 * Those of `names` the caller may not describe. A topic in the caller's listing (shared, usually fresh: consumers ask
 * Metadata first) may be described; any other is asked on its own, by the lightest call that needs that right (one
 * config, the registry's entry alone), whose 403 says so whether the topic exists or not, as Kafka's authorizer does.
 * @param {RequestContext} ctx @param {string[]} names @returns {Promise<Set<string>>}
 */
async function hiddenTopics(ctx, names) {
	if (names.length === 0) return new Set();
	const listed = await ctx.session.topicList.read(ctx.tributary);
	const visible = listed.status === 200 ? listingIndex(listed).byName : new Map();
	const unlisted = [...new Set(names)].filter((name) => !visible.has(name));
	const answers = await Promise.all(unlisted.map((name) => ctx.tributary.topicConfig(name, TIMESTAMP_TYPE_CONFIG)));
	return new Set(unlisted.filter((_, i) => answers[i].status === 403 || answers[i].status === 401));
}
