// @ts-check
/**
 * @module
 * ApiVersions, Metadata, FindCoordinator and the topic admin calls (CreateTopics, DeleteTopics, CreatePartitions,
 * DescribeConfigs). The gateway presents itself as a one-broker cluster (node 0, the advertised address): it leads
 * every partition and coordinates every group, because the log and the coordinator live in Tributary and any gateway
 * instance reaches them alike.
 */

import { errorMessage, KAFKA, kafkaError, logRefusal } from "../errors.js";
import { withoutInert } from "../inert-configs.js";
import { TOPIC_NAME_LENGTH_MAX, TOPIC_PARTITIONS_MAX } from "../limits.js";
import { advertisedApis } from "../protocol/apis.js";
import { addedAssignmentRefusal, assignedPartitions, USE_DEFAULT } from "../replica-assignment.js";
import { heldConfigValue, TOPIC_CONFIG_DEFAULTS } from "../topic-config.js";
import { listingIndex, NO_TOPIC_ID, wireTopicId } from "../topic-list.js";
import { CLUSTER_ID, deadlineAfter } from "../tributary.js";

/** @typedef {import("../connection.js").RequestContext} RequestContext */

export const NODE_ID = 0;
/** Kafka's ConfigResource types the gateway knows. */
export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;
/** DescribeConfigs' config sources (Kafka's ConfigSource) by the names Confluent REST gives them. */
const CONFIG_SOURCES = /** @type {Record<string, number>} */ ({ DYNAMIC_TOPIC_CONFIG: 1, DEFAULT_CONFIG: 5 });
/**
 * The topics Metadata marks internal: Tributary's audit trail (src/http/access.ts AUDIT_TOPIC, which the Confluent
 * mount marks internal too) and Kafka's own. Nothing else: Java consumers leave internal topics out of pattern
 * subscriptions and `listTopics()` leaves them out by default, so a user's `_schemas` or `_events` marked internal
 * would vanish from both.
 */
const INTERNAL_TOPICS = new Set(["_audit", "__consumer_offsets", "__transaction_state"]);

/** @param {any} _request @param {RequestContext} _ctx */
export async function apiVersions(_request, _ctx) {
	return { errorCode: KAFKA.NONE, apiKeys: advertisedApis(), throttleTimeMs: 0 };
}

/** @param {string | null} name @param {number} partitions @param {string} [topicId] Tributary's */
function topicMetadata(name, partitions, topicId) {
	return {
		errorCode: KAFKA.NONE,
		name,
		topicId: wireTopicId(topicId),
		isInternal: name !== null && INTERNAL_TOPICS.has(name),
		partitions: Array.from({ length: partitions }, (_, i) => ({
			errorCode: KAFKA.NONE,
			partitionIndex: i,
			leaderId: NODE_ID,
			leaderEpoch: 0,
			replicaNodes: [NODE_ID],
			isrNodes: [NODE_ID],
			offlineReplicas: [],
		})),
		topicAuthorizedOperations: -2147483648,
	};
}

/** The characters Kafka allows in a topic name (Topic.validate), Tributary's too. */
const TOPIC_NAME_CHARS = /^[a-zA-Z0-9._-]+$/;

/**
 * Whether Kafka's Topic.validate takes `name`: not empty, not "." or "..", at most TOPIC_NAME_LENGTH_MAX characters of
 * TOPIC_NAME_CHARS. A Metadata for a name it refuses is INVALID_TOPIC_EXCEPTION, not UNKNOWN_TOPIC_OR_PARTITION, and is
 * not looked up: "", "." and ".." in a path would name another resource.
 * @param {string} name
 */
export function isValidTopicName(name) {
	return name.length <= TOPIC_NAME_LENGTH_MAX && TOPIC_NAME_CHARS.test(name) && name !== "." && name !== "..";
}

/** The first Metadata version in which a topic may be asked by id (KIP-516); v10 and v11 carry the field unused. */
const TOPIC_IDS_FROM_VERSION = 12;

/**
 * The topics asked by id (a null name or a non-zero id), or null when every topic is asked by name.
 * @param {{ name: string | null, topicId?: string }[]} asked
 */
function askedById(asked) {
	const byId = asked.filter((t) => t.name === null || (t.topicId ?? NO_TOPIC_ID) !== NO_TOPIC_ID);
	return byId.length === 0 ? null : byId;
}

/**
 * Metadata of topics asked by id, as KafkaApis answers it. Before v12 a null name or a non-zero id is INVALID_REQUEST
 * for every topic asked (the request's error response). From v12 the ids alone are answered: a listed topic's id is
 * that topic; any other (one these credentials may not see, too) UNKNOWN_TOPIC_ID with a null name
 * (`TopicList.byId`).
 * @param {{ name: string | null, topicId?: string }[]} asked @param {{ name: string | null, topicId?: string }[]} byId
 * @param {RequestContext} ctx
 */
async function metadataById(asked, byId, ctx) {
	const failed = (/** @type {string | null} */ name, /** @type {string | undefined} */ topicId, /** @type {number} */ errorCode) => ({
		...topicMetadata(name, 0),
		topicId: topicId ?? NO_TOPIC_ID,
		errorCode,
	});
	if (ctx.version < TOPIC_IDS_FROM_VERSION) return asked.map((t) => failed(t.name ?? "", t.topicId, KAFKA.INVALID_REQUEST));
	const known = await ctx.session.topicList.byId(
		ctx.tributary,
		byId.map((t) => t.topicId ?? NO_TOPIC_ID),
	);
	return byId.map((t) => {
		const topic = known.get(t.topicId ?? NO_TOPIC_ID);
		return topic === undefined
			? failed(null, t.topicId, KAFKA.UNKNOWN_TOPIC_ID)
			: topicMetadata(topic.name, topic.partitions, topic.topic_id);
	});
}

/**
 * Metadata: all visible topics (null list; every page of Tributary's listing), the named ones, or those asked by id
 * (`metadataById`). A named topic missing from the visible list is looked up on its own (`namedTopic`).
 * @param {any} request @param {RequestContext} ctx
 */
export async function metadata(request, ctx) {
	const byId = request.topics === null ? null : askedById(request.topics);
	if (byId !== null) return metadataAnswer(await metadataById(request.topics, byId, ctx), ctx);
	const listed = await ctx.session.topicList.read(ctx.tributary);
	if (listed.status !== 200) throw new Error(`listing topics: ${listed.status} ${errorMessage(listed)}`);
	const visible = listingIndex(listed).byName;
	const wanted = request.topics === null ? null : request.topics.map((/** @type {{ name: string }} */ t) => t.name);
	const autoCreate = ctx.autoCreateTopics === true && request.allowAutoTopicCreation;
	const topics =
		wanted === null || (wanted.length === 0 && ctx.version === 0)
			? [...visible.values()].map((t) => topicMetadata(t.name, t.partitions, t.topic_id))
			: await Promise.all(
					wanted.map(async (/** @type {string} */ name) => {
						const listedTopic = visible.get(name);
						if (listedTopic !== undefined) return topicMetadata(name, listedTopic.partitions, listedTopic.topic_id);
						if (!isValidTopicName(name)) return { ...topicMetadata(name, 0), errorCode: KAFKA.INVALID_TOPIC_EXCEPTION };
						// Kafka's own topics are its coordinators' to create, with their own configs, never a client's Metadata.
						return namedTopic(ctx, name, listed, autoCreate && !INTERNAL_TOPICS.has(name));
					}),
				);
	return metadataAnswer(topics, ctx);
}

/**
 * A named topic the caller's listing lacks, looked up on its own so that "forbidden" (TOPIC_AUTHORIZATION_FAILED) and
 * "unknown" stay apart; a topic found so drops the listing, whose ids the client is about to use. With `autoCreate`
 * (the gateway's `--auto-create-topics-enable` and the request's AllowAutoTopicCreation, as a broker with
 * `auto.create.topics.enable` takes them) an unknown topic is created with Tributary's default partition count under
 * the caller's rights: a caller who may not create it is TOPIC_AUTHORIZATION_FAILED, as KafkaApis answers without
 * CREATE. The created topic is answered at once (a broker answers LEADER_NOT_AVAILABLE until its controller has
 * placed the partitions; Tributary's are there when the create answers). Two clients creating it at once: the one
 * whose create finds it made describes it instead.
 * @param {RequestContext} ctx @param {string} name @param {import("../tributary.js").Answer} listed @param {boolean} autoCreate
 */
async function namedTopic(ctx, name, listed, autoCreate) {
	let answer = await ctx.tributary.describeTopic(name);
	if (answer.status === 404 && autoCreate) {
		const created = /** @type {import("../tributary.js").Answer} */ (await ctx.tributary.createTopic({ name }));
		if (created.status === 201) {
			ctx.session.topicList.forget();
			return topicMetadata(name, created.body.partitions, created.body.topic_id);
		}
		const refused = created.body?.error?.code === "topic_exists" ? KAFKA.NONE : kafkaError(created, "topic");
		if (refused !== KAFKA.NONE) {
			logRefusal(ctx, `auto-create ${name}`, created);
			return { ...topicMetadata(name, 0), errorCode: refused };
		}
		answer = await ctx.tributary.describeTopic(name);
	}
	if (answer.status !== 200)
		return { ...topicMetadata(name, 0), errorCode: answer.status === 404 ? KAFKA.UNKNOWN_TOPIC_OR_PARTITION : kafkaError(answer, "topic") };
	ctx.session.topicList.outdated(ctx.tributary, listed);
	return topicMetadata(name, answer.body.partitions.length, answer.body.topic_id);
}

/** @param {object[]} topics @param {RequestContext} ctx */
function metadataAnswer(topics, ctx) {
	return {
		throttleTimeMs: 0,
		brokers: [{ nodeId: NODE_ID, host: ctx.advertised.host, port: ctx.advertised.port, rack: null }],
		clusterId: CLUSTER_ID,
		controllerId: NODE_ID,
		topics,
		clusterAuthorizedOperations: -2147483648,
	};
}

/** FindCoordinator: this gateway, for every group (the coordinator itself is in Tributary). @param {any} _request @param {RequestContext} ctx */
export async function findCoordinator(_request, ctx) {
	return {
		throttleTimeMs: 0,
		errorCode: KAFKA.NONE,
		errorMessage: null,
		nodeId: NODE_ID,
		host: ctx.advertised.host,
		port: ctx.advertised.port,
	};
}

/**
 * The partition count a CreatableTopic asks for (USE_DEFAULT: Tributary's default), or what Kafka refuses in it
 * before looking at the cluster: a partition count or replication factor that is neither positive nor the default
 * (-1), more partitions than Tributary's cap, or a manual assignment this one-broker cluster cannot hold
 * (`assignedPartitions`, which otherwise gives the count).
 * Tributary keeps no replication factor, so any positive one is taken, as the Confluent mount takes it.
 * @param {any} t
 * @returns {{ partitions: number } | { errorCode: number, errorMessage: string }}
 */
function requestedPartitions(t) {
	if (t.assignments.length > 0) return assignedPartitions(t, NODE_ID);
	if (t.numPartitions !== USE_DEFAULT && t.numPartitions <= 0)
		return { errorCode: KAFKA.INVALID_PARTITIONS, errorMessage: "Number of partitions was set to an invalid non-positive value." };
	// The Worker refuses it too, but with its schema's invalid_request, which reads as INVALID_TOPIC_EXCEPTION here.
	if (t.numPartitions > TOPIC_PARTITIONS_MAX)
		return { errorCode: KAFKA.INVALID_PARTITIONS, errorMessage: `A topic has at most ${TOPIC_PARTITIONS_MAX} partitions.` };
	if (t.replicationFactor !== USE_DEFAULT && t.replicationFactor <= 0)
		return {
			errorCode: KAFKA.INVALID_REPLICATION_FACTOR,
			errorMessage: "Replication factor must be larger than 0, or -1 to use the default value.",
		};
	return { partitions: t.numPartitions };
}

/**
 * A validateOnly create's answer: what creating would say, nothing created. Confluent REST's dry run
 * (`validate_only` on the `/kafka/v3` mount, whose errors carry Tributary's `error` object too) checks what a create
 * checks: the caller's right to create the topic, the name, every config's name and value, and that the name is free.
 * @param {RequestContext} ctx @param {string} name @param {number} partitions USE_DEFAULT for Tributary's default
 * @param {Record<string, string>} config @param {number} deadlineAt CreateTopics' timeout, which ends a quota wait
 */
async function validateCreation(ctx, name, partitions, config, deadlineAt) {
	const body = {
		topic_name: name,
		...(partitions !== USE_DEFAULT ? { partitions_count: partitions } : {}),
		configs: Object.entries(config).map(([name, value]) => ({ name, value })),
		validate_only: true,
	};
	const answer = await ctx.tributary.call("POST", `/kafka/v3/clusters/${CLUSTER_ID}/topics`, body, { deadlineAt });
	if (answer.status !== 200) return { errorCode: kafkaError(answer, "topic"), errorMessage: errorMessage(answer) };
	// What the topic would get, as Kafka answers a dry run: the count asked for or the default, the replication factor
	// Tributary reports for every topic, and every config (those the request set as its own, the rest defaults), as a
	// created topic's answer has them.
	return {
		errorCode: KAFKA.NONE,
		errorMessage: null,
		numPartitions: answer.body.partitions_count,
		replicationFactor: answer.body.replication_factor,
		configs: createdConfigs(
			{
				...TOPIC_CONFIG_DEFAULTS,
				...Object.fromEntries(Object.entries(config).map(([name, value]) => [name, heldConfigValue(name, value)])),
			},
			config,
		),
	};
}

/**
 * The names given more than once in one request. Kafka (ControllerApis) answers each such name once with
 * INVALID_REQUEST and acts on none of its entries: which of them was meant is the caller's to say.
 * @param {string[]} names
 */
export function duplicateNames(names) {
	const seen = new Set();
	const duplicates = new Set();
	for (const name of names) (seen.has(name) ? duplicates : seen).add(name);
	return duplicates;
}

/**
 * Answers each of `items` whose name (`nameOf`) is given once with `act`, and each name given more than once with
 * `refused` (called with its first item), after the others, acting on none of its entries: see `duplicateNames`.
 * @template T, R
 * @param {T[]} items @param {(item: T) => string} nameOf @param {(item: T) => Promise<R>} act @param {(item: T) => R} refused
 * @returns {Promise<R[]>}
 */
export async function answerUnique(items, nameOf, act, refused) {
	const duplicates = duplicateNames(items.map(nameOf));
	const answered = await Promise.all(items.filter((item) => !duplicates.has(nameOf(item))).map(act));
	const firsts = [...duplicates].map((name) => /** @type {T} */ (items.find((item) => nameOf(item) === name)));
	return [...answered, ...firsts.map(refused)];
}

const DUPLICATE_NAME = { errorCode: KAFKA.INVALID_REQUEST, errorMessage: "Duplicate topic name." };

/**
 * A created topic's configs as CreateTopics v5+ answers them (Java's admin reads them from every successful result:
 * null fails its call): the ones the request set are the topic's own, the rest defaults.
 * @param {Record<string, unknown>} topicConfig Tributary's config of the new topic @param {Record<string, string>} requested
 */
function createdConfigs(topicConfig, requested) {
	return Object.entries(topicConfig ?? {}).map(([name, value]) => ({
		name,
		value: String(value),
		readOnly: false,
		configSource: Object.hasOwn(requested, name) ? CONFIG_SOURCES.DYNAMIC_TOPIC_CONFIG : CONFIG_SOURCES.DEFAULT_CONFIG,
		isSensitive: false,
	}));
}

/** A CreateTopics result's fields for a topic it did not create (v7 adds the id: none, for a dry run too). */
const NOT_CREATED = { topicId: NO_TOPIC_ID, numPartitions: -1, replicationFactor: -1, configs: null };

const CREATE_UNKNOWN =
	"The create was not answered within timeoutMs, or its answer could not be read: its outcome is unknown (the topic may exist).";

/**
 * What one topic of a CreateTopics request asks for, checked as Kafka checks it before creating: its partition count
 * (`requestedPartitions`) and its configs, Kafka's replica configs taken as set and never sent (gateway/inert-configs.js);
 * or the topic's error.
 * @param {any} t
 * @returns {{ partitions: number, config: Record<string, string> } | { errorCode: number, errorMessage: string }}
 */
function checkedCreation(t) {
	const requested = requestedPartitions(t);
	if ("errorCode" in requested) return requested;
	const given = Object.fromEntries(t.configs.filter((c) => c.value !== null).map((c) => [c.name, c.value]));
	const held = withoutInert(given);
	if ("errorCode" in held) return held;
	return { partitions: requested.partitions, config: held.held };
}

/**
 * Creates one topic through the SDK's rule (`Tributary.createTopic`), bounded by CreateTopics' `timeout_ms`; its
 * result's fields: the created topic's, or its error.
 * @param {RequestContext} ctx @param {string} name @param {number} partitions USE_DEFAULT for Tributary's default
 * @param {Record<string, string>} config @param {number} timeoutMs
 */
async function createdTopic(ctx, name, partitions, config, timeoutMs) {
	const body = { name, config, ...(partitions !== USE_DEFAULT ? { partitions } : {}) };
	const answer = await ctx.tributary.createTopic(body, timeoutMs);
	// Not done within timeout_ms, no answer at all, or one unreadable: this topic's REQUEST_TIMED_OUT, as a broker's;
	// the others are answered as they went.
	if (answer === null) return { errorCode: KAFKA.REQUEST_TIMED_OUT, errorMessage: CREATE_UNKNOWN };
	const errorCode = kafkaError(answer, "topic");
	if (errorCode !== KAFKA.NONE) return { errorCode, errorMessage: errorMessage(answer) };
	return {
		topicId: wireTopicId(answer.body.topic_id),
		numPartitions: answer.body.partitions,
		replicationFactor: 1,
		configs: createdConfigs(answer.body.config, config),
	};
}

/**
 * One topic of a CreateTopics request answered: checked (`checkedCreation`), then validated (`validateOnly`) or created.
 * @param {any} t @param {{ validateOnly: boolean, timeoutMs: number }} request @param {RequestContext} ctx
 */
async function createOne(t, request, ctx) {
	const result = { ...NOT_CREATED, name: t.name, errorCode: KAFKA.NONE, errorMessage: null };
	const checked = checkedCreation(t);
	if ("errorCode" in checked) return { ...result, ...checked };
	const { partitions, config } = checked;
	if (request.validateOnly)
		return { ...result, ...(await validateCreation(ctx, t.name, partitions, config, deadlineAfter(request.timeoutMs))) };
	return { ...result, ...(await createdTopic(ctx, t.name, partitions, config, request.timeoutMs)) };
}

/** @param {any} request @param {RequestContext} ctx */
export async function createTopics(request, ctx) {
	const answers = await answerUnique(
		request.topics,
		(t) => t.name,
		(t) => createOne(t, request, ctx),
		(t) => ({ ...NOT_CREATED, name: t.name, ...DUPLICATE_NAME }),
	);
	// A topic timed out may exist too.
	const mayExist = (/** @type {{ errorCode: number }} */ t) => t.errorCode === KAFKA.NONE || t.errorCode === KAFKA.REQUEST_TIMED_OUT;
	if (!request.validateOnly && answers.some(mayExist)) ctx.session.topicList.forget();
	return { throttleTimeMs: 0, topics: answers };
}

/** The first DeleteTopics version that may name a topic by id (KIP-516). */
const TOPIC_IDS_FROM_DELETE_VERSION = 6;

/**
 * A DeletableTopicResult (v6 adds the topic id: the zero id where the answer names no topic).
 * @param {string | null} name @param {string} topicId @param {number} errorCode @param {string | null} [message]
 */
const deleted = (name, topicId, errorCode, message = null) => ({ name, topicId, errorCode, errorMessage: message });

/**
 * One topic deleted by name. From v6 the topic is described first, for the id its result names (Kafka's
 * ControllerApis answers a topic deleted by name with its id; Tributary's delete answers nothing); asked by id
 * (`askedId` not zero), it is left alone unless it is still that incarnation: the name may have been deleted and
 * created again since the listing the id was resolved from, and its new incarnation is another topic (KIP-516).
 * @param {RequestContext} ctx @param {string} name @param {string} askedId
 * @param {number} deadlineAt DeleteTopics' timeout, which ends a quota wait (REQUEST_TIMED_OUT)
 */
async function deleteTopic(ctx, name, askedId, deadlineAt) {
	let topicId = askedId;
	if (ctx.version >= TOPIC_IDS_FROM_DELETE_VERSION) {
		const described = await ctx.tributary.describeTopic(name, deadlineAt);
		// Past the deadline already (still over quota): nothing is sent after it.
		if (kafkaError(described, "topic") === KAFKA.REQUEST_TIMED_OUT)
			return deleted(name, askedId, KAFKA.REQUEST_TIMED_OUT, errorMessage(described));
		const heldId = described.status === 200 ? wireTopicId(described.body.topic_id) : askedId;
		if (askedId !== NO_TOPIC_ID && heldId !== askedId)
			return deleted(null, askedId, KAFKA.UNKNOWN_TOPIC_ID, "This server does not host this topic ID.");
		topicId = heldId;
	}
	const answer = await ctx.tributary.deleteTopic(name, deadlineAt);
	const errorCode = kafkaError(answer, "topic");
	if (errorCode === KAFKA.UNKNOWN_TOPIC_OR_PARTITION && askedId !== NO_TOPIC_ID)
		return deleted(null, askedId, KAFKA.UNKNOWN_TOPIC_ID, "This server does not host this topic ID.");
	// A topic Tributary did not delete is answered as asked: by name, the zero id.
	return deleted(name, errorCode === KAFKA.NONE ? topicId : askedId, errorCode, answer.status === 204 ? null : errorMessage(answer));
}

/**
 * DeleteTopics, its entries checked as Kafka's ControllerApis checks them before deleting any: from v6 an entry
 * names a topic by name or by id, not both and not neither (INVALID_REQUEST); a name or id given twice is
 * INVALID_REQUEST, answered once, and not deleted (`duplicateNames`); an id is resolved from the connection's topic
 * list (`TopicList.byId`), UNKNOWN_TOPIC_ID when no topic has it; a name whose topic's id is also given is
 * INVALID_REQUEST, and the topic deleted once, by its id. Results name the topic and, from v6, its id.
 * @param {any} request @param {RequestContext} ctx
 */
export async function deleteTopics(request, ctx) {
	/** @type {{ name: string | null, topicId: string }[]} */
	const asked =
		ctx.version < TOPIC_IDS_FROM_DELETE_VERSION
			? request.topicNames.map((/** @type {string} */ name) => ({ name, topicId: NO_TOPIC_ID }))
			: request.topics;
	const responses = [];
	for (const t of asked) {
		if (t.name === null && t.topicId === NO_TOPIC_ID)
			responses.push(deleted(null, NO_TOPIC_ID, KAFKA.INVALID_REQUEST, "Neither topic name nor id were specified."));
		else if (t.name !== null && t.topicId !== NO_TOPIC_ID)
			responses.push(deleted(t.name, t.topicId, KAFKA.INVALID_REQUEST, "You may not specify both topic name and topic id."));
	}
	const names = asked.flatMap((t) => (t.name !== null && t.topicId === NO_TOPIC_ID ? [t.name] : []));
	const ids = asked.flatMap((t) => (t.name === null && t.topicId !== NO_TOPIC_ID ? [t.topicId] : []));
	const duplicateNamesAsked = duplicateNames(names);
	const duplicateIds = duplicateNames(ids);
	for (const name of duplicateNamesAsked) responses.push(deleted(name, NO_TOPIC_ID, KAFKA.INVALID_REQUEST, "Duplicate topic name."));
	for (const id of duplicateIds) responses.push(deleted(null, id, KAFKA.INVALID_REQUEST, "Duplicate topic id."));
	const known = ids.length === 0 ? new Map() : await ctx.session.topicList.byId(ctx.tributary, ids);
	/** @type {Map<string, string>} name → the id it was asked by */
	const byId = new Map();
	for (const id of new Set(ids)) {
		if (duplicateIds.has(id)) continue;
		const name = known.get(id)?.name;
		if (name === undefined) responses.push(deleted(null, id, KAFKA.UNKNOWN_TOPIC_ID, "This server does not host this topic ID."));
		else byId.set(name, id);
	}
	const byName = [...new Set(names)].filter((name) => !duplicateNamesAsked.has(name));
	for (const name of byName.filter((n) => byId.has(n)))
		responses.push(
			deleted(
				name,
				/** @type {string} */ (byId.get(name)),
				KAFKA.INVALID_REQUEST,
				"The provided topic name maps to an ID that was already supplied.",
			),
		);
	const deadlineAt = deadlineAfter(request.timeoutMs);
	const results = await Promise.all([
		...byName.filter((name) => !byId.has(name)).map((name) => deleteTopic(ctx, name, NO_TOPIC_ID, deadlineAt)),
		...[...byId].map(([name, id]) => deleteTopic(ctx, name, id, deadlineAt)),
	]);
	if (results.some((t) => t.errorCode === KAFKA.NONE)) ctx.session.topicList.forget();
	return { throttleTimeMs: 0, responses: [...responses, ...results] };
}

/** A topic on the Confluent mount: its PATCH sets the partition count, its `/configs` lists its configs. @param {string} topic */
export const topicPath = (topic) => `/kafka/v3/clusters/${CLUSTER_ID}/topics/${encodeURIComponent(topic)}`;

/**
 * A topic's configs as the Confluent mount lists them (`{ name, value, source }` each: it alone knows each config's
 * default), or the Kafka error of reading them.
 * @param {RequestContext} ctx @param {string} topic
 * @returns {Promise<{ configs: { name: string, value: string, source: string }[] } | { errorCode: number, errorMessage: string | null }>}
 */
export async function topicConfigs(ctx, topic) {
	const answer = await ctx.tributary.call("GET", `${topicPath(topic)}/configs`);
	const errorCode = kafkaError(answer, "topic");
	return errorCode === KAFKA.NONE ? { configs: answer.body.data } : { errorCode, errorMessage: errorMessage(answer) };
}

/**
 * What Kafka refuses in a CreatePartitionsTopic before looking at the topic, or null: a count no topic may have (the
 * Worker's schema would refuse it as a malformed request, which reads as another error here).
 * @param {any} t
 */
function growthRefusal(t) {
	if (t.count <= 0 || t.count > TOPIC_PARTITIONS_MAX)
		return { errorCode: KAFKA.INVALID_PARTITIONS, errorMessage: `A topic has 1 to ${TOPIC_PARTITIONS_MAX} partitions.` };
	return null;
}

/**
 * What growing would answer, nothing changed: a validateOnly grow's answer, and a manual assignment's check (Kafka's
 * controller takes one assignment per new partition, so it is judged against the count the topic has). The
 * partition-count update has no dry run, but one to a single partition never changes a topic (counts only grow) and
 * is refused only after the caller's right and the topic are checked, with the count the topic has: what growing to
 * `t.count` would answer follows from it. (A grow by another client between this and the update may make the
 * assignment's count stale; every assignment it takes is node 0's anyway.)
 * @param {RequestContext} ctx @param {any} t @param {number} deadlineAt CreatePartitions' timeout, as `createPartitions`'
 */
async function validateGrowth(ctx, t, deadlineAt) {
	const answer = await ctx.tributary.call("PATCH", topicPath(t.name), { partitions_count: 1 }, { deadlineAt });
	const current = answer.body?.error?.partitions;
	if (answer.body?.error?.code !== "invalid_partitions" || typeof current !== "number")
		return { errorCode: kafkaError(answer, "topic"), errorMessage: errorMessage(answer) };
	if (t.count <= current)
		return {
			errorCode: KAFKA.INVALID_PARTITIONS,
			errorMessage: `Topic currently has ${current} partitions, which is not fewer than the requested ${t.count}.`,
		};
	const refused = t.assignments === null ? null : addedAssignmentRefusal(t.assignments, t.count - current, NODE_ID);
	return refused ?? { errorCode: KAFKA.NONE, errorMessage: null };
}

/**
 * CreatePartitions: each topic grown through the Confluent mount's partition-count update, which refuses a count
 * that does not grow (INVALID_PARTITIONS, as Kafka's controller does). Its timeoutMs ends a quota wait
 * (REQUEST_TIMED_OUT).
 * @param {any} request @param {RequestContext} ctx
 */
export async function createPartitions(request, ctx) {
	const deadlineAt = deadlineAfter(request.timeoutMs);
	const results = await answerUnique(
		request.topics,
		(/** @type {any} */ t) => t.name,
		async (/** @type {any} */ t) => {
			const refusal = growthRefusal(t);
			if (refusal !== null) return { name: t.name, ...refusal };
			if (request.validateOnly || t.assignments !== null) {
				const checked = await validateGrowth(ctx, t, deadlineAt);
				if (request.validateOnly || checked.errorCode !== KAFKA.NONE) return { name: t.name, ...checked };
			}
			const answer = await ctx.tributary.call("PATCH", topicPath(t.name), { partitions_count: t.count }, { deadlineAt });
			return { name: t.name, errorCode: kafkaError(answer, "topic"), errorMessage: answer.status === 200 ? null : errorMessage(answer) };
		},
		(/** @type {any} */ t) => ({ name: t.name, ...DUPLICATE_NAME }),
	);
	if (!request.validateOnly && results.some((t) => t.errorCode === KAFKA.NONE)) ctx.session.topicList.forget();
	return { throttleTimeMs: 0, results };
}

/**
 * DescribeConfigs for topics; brokers have none to show. A topic's configs come from the Confluent mount's listing
 * (`GET /kafka/v3/clusters/tributary/topics/{topic}/configs`), which alone knows each config's default and so
 * tells a topic's own setting (DYNAMIC_TOPIC_CONFIG) from a default (DEFAULT_CONFIG): `kafka-configs --describe`
 * shows only the former as the topic's.
 * @param {any} request @param {RequestContext} ctx
 */
export async function describeConfigs(request, ctx) {
	const results = await Promise.all(
		request.resources.map(async (r) => {
			const base = { errorCode: KAFKA.NONE, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] };
			if (r.resourceType === RESOURCE_BROKER) return base;
			if (r.resourceType !== RESOURCE_TOPIC)
				return { ...base, errorCode: KAFKA.INVALID_REQUEST, errorMessage: "only topic and broker configs exist" };
			const listed = await topicConfigs(ctx, r.resourceName);
			if (!("configs" in listed)) return { ...base, ...listed };
			const keys = r.configurationKeys === null ? null : new Set(r.configurationKeys);
			const configs = listed.configs
				.filter((c) => keys === null || keys.has(c.name))
				.map((c) => {
					const configSource = CONFIG_SOURCES[c.source] ?? CONFIG_SOURCES.DYNAMIC_TOPIC_CONFIG;
					return {
						name: c.name,
						value: c.value,
						readOnly: false,
						isDefault: configSource === CONFIG_SOURCES.DEFAULT_CONFIG,
						configSource,
						isSensitive: false,
						synonyms: request.includeSynonyms ? [{ name: c.name, value: c.value, source: configSource }] : [],
						configType: 0,
						documentation: null,
					};
				});
			return { ...base, configs };
		}),
	);
	return { throttleTimeMs: 0, results };
}
