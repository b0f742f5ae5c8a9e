/**
 * @module
 * Confluent REST v3's admin surface on Tributary's own: topics created, grown and deleted (the `/v1` topic
 * handlers' `createTopicAs`/`updateTopicAs`/`deleteTopicAs`, so rights, cache and audit are the same), a
 * topic's partitions, its configs (Tributary's topic configs already carry Kafka's names, so the mapping is the
 * identity over `DEFAULT_TOPIC_CONFIG`'s keys), and consumer groups read-only: the groups, their members, and the lag of each
 * committed partition and its summary from the group coordinator and the partitions' high watermarks (`describeGroup`). Shapes
 * follow confluentinc/kafka-rest `api/v3/openapi.yaml`.
 *
 * @example
 * curl -u "admin:$TOKEN" "$URL/kafka/v3/clusters/tributary/topics" \
 *   -d '{"topic_name":"orders","partitions_count":3,"configs":[{"name":"retention.ms","value":"86400000"}]}'
 */

import * as z from "zod/mini";
import { groupResource, topicResource } from "../../../auth/acl.ts";
import { keyOf } from "../../../group/assignors.ts";
import { ApiError, bare, thrownUnless, unwrap } from "../../../shared/errors.ts";
import { PARTITIONS_MAX } from "../../../shared/limits.ts";
import { groupCoordinator, groupDirectory, topicRegistry } from "../../../shared/stubs.ts";
import { applyConfigChanges, DEFAULT_TOPIC_CONFIG, type TopicConfigKey } from "../../../shared/topic-config.ts";
import { checkPartition, remember } from "../../../topic/topic-cache.ts";
import { may, requireAccess } from "../../access.ts";
import { readJson, validate } from "../../body.ts";
import { describeGroup } from "../../group/group-offsets.ts";
import { createTopicAs, deleteTopicAs, updateTopicAs } from "../../routes/topics.ts";
import { count, int, TopicName } from "../../schemas.ts";
import { CONFIG_CHANGES_MAX, REPLICATION_FACTOR_MAX } from "./limits.ts";
import { type C, checkCluster, groupPath, origin, PartitionIdPath, summary, topicPath } from "./paths.ts";
import {
	consumerAssignmentData,
	consumerData,
	consumerGroupData,
	consumerLagData,
	groupSelf,
	type Lag,
	lagSummaryData,
	partitionData,
	resourceList,
	topicConfigData,
	topicData,
	topicSelf,
	v3Base,
} from "./resources.ts";

const ConfigName = z.string();
const ConfigValue = z.nullish(z.string());

const CreateTopicBody = z.strictObject({
	topic_name: TopicName,
	partitions_count: z.optional(count(1, PARTITIONS_MAX)),
	// Accepted and not kept: a partition's one Durable Object is stored durably by the platform (reported as 1).
	replication_factor: z.optional(int(-1, REPLICATION_FACTOR_MAX)),
	configs: z.optional(z.array(z.strictObject({ name: ConfigName, value: ConfigValue })).check(z.maxLength(CONFIG_CHANGES_MAX))),
	validate_only: z.optional(z.boolean()),
});

const UpdatePartitionCountBody = z.strictObject({ partitions_count: count(1, PARTITIONS_MAX) });

const UpdateConfigBody = z.strictObject({ value: ConfigValue });

const AlterConfigsBody = z.strictObject({
	data: z
		.array(z.strictObject({ name: ConfigName, value: ConfigValue, operation: z.nullish(z.enum(["SET", "DELETE"])) }))
		.check(z.minLength(1), z.maxLength(CONFIG_CHANGES_MAX)),
	validate_only: z.optional(z.boolean()),
});

/** Kafka's name of a Tributary topic config, or Confluent's 404 for one the topic does not have. */
function configKey(topic: string, name: string): TopicConfigKey {
	if (Object.hasOwn(DEFAULT_TOPIC_CONFIG, name)) return name as TopicConfigKey;
	throw new ApiError("not_found", `Config ${name} cannot be found for topic ${topic}.`, { topic, config: name });
}

/**
 * The configs as one change. Kafka refuses a config named twice (InvalidRequestException): which of the values
 * was meant is the caller's to say, and taking the last would drop the others unchecked.
 */
function configOnce(changes: readonly [string, string | null][]): Record<string, string | null> {
	const seen = new Set<string>();
	for (const [name] of changes) {
		if (seen.has(name)) throw new ApiError("invalid_config", `Config ${name} is given more than once.`, { config: name });
		seen.add(name);
	}
	return Object.fromEntries(changes);
}

/** A SET's value: Kafka takes null only with DELETE, so a SET without one is refused rather than read as a reset. */
function setValue(name: string, value: string | null | undefined): string {
	if (value == null) throw new ApiError("invalid_config", `Config ${name} has no value: only DELETE resets a config.`, { config: name });
	return value;
}

/** The topic as the registry has it now (not the isolate's cache): a config just changed reads back changed. */
async function topicMeta(c: C) {
	const meta = unwrap(await topicRegistry(c.env).getTopic(topicPath(c)));
	remember(meta);
	return meta;
}

export async function createTopic(c: C): Promise<Response> {
	checkCluster(c);
	const body = validate(CreateTopicBody, await readJson(c.req.raw));
	const name = body.topic_name;
	const config = configOnce((body.configs ?? []).map((entry) => [entry.name, entry.value ?? null]));
	const request = { name, partitions: body.partitions_count ?? 1, config };
	if (body.replication_factor === 0) {
		throw new ApiError("invalid_replication_factor", "Replication factor must be larger than 0, or -1 to use the default value.");
	}
	// kafka-rest points Location at the topic, whether it was created or only validated.
	const location = { Location: topicSelf(origin(c), name) };
	if (body.validate_only !== true) return c.json(topicData(origin(c), summary(await createTopicAs(c, request))), 201, location);
	// A dry run checks what creating would: the right, the configs, and that the name is free.
	requireAccess(c, topicResource(name), "admin");
	unwrap(applyConfigChanges(DEFAULT_TOPIC_CONFIG, config));
	if (thrownUnless(await topicRegistry(c.env).getTopic(name), "topic_not_found").ok)
		throw new ApiError("topic_exists", `topic "${name}" already exists`, { topic: name });
	return c.json(topicData(origin(c), summary(request)), 200, location);
}

export async function updatePartitionCount(c: C): Promise<Response> {
	const topic = topicPath(c);
	const body = validate(UpdatePartitionCountBody, await readJson(c.req.raw));
	// Kafka's CreatePartitions to the count the topic has is InvalidPartitionsException, not a no-op that bumps
	// the config version and writes an audit record.
	const request = { partitions: body.partitions_count, partitionsMustGrow: true };
	return c.json(topicData(origin(c), summary(await updateTopicAs(c, topic, request))));
}

export async function deleteTopic(c: C): Promise<Response> {
	await deleteTopicAs(c, topicPath(c));
	return c.body(null, 204);
}

export async function listPartitions(c: C): Promise<Response> {
	const meta = await topicMeta(c);
	const data = Array.from({ length: meta.partitions }, (_, p) => partitionData(origin(c), meta.name, p));
	return c.json(resourceList("KafkaPartition", `${topicSelf(origin(c), meta.name)}/partitions`, data));
}

export async function getPartition(c: C): Promise<Response> {
	const meta = await topicMeta(c);
	const { partition_id } = validate(PartitionIdPath, c.req.param(), "path");
	return c.json(partitionData(origin(c), meta.name, unwrap(checkPartition(meta, partition_id))));
}

export async function listConfigs(c: C): Promise<Response> {
	const meta = await topicMeta(c);
	const data = Object.entries(DEFAULT_TOPIC_CONFIG).map(([name, fallback]) =>
		topicConfigData(origin(c), meta.name, name, meta.config[name as TopicConfigKey], fallback),
	);
	return c.json(resourceList("KafkaTopicConfig", `${topicSelf(origin(c), meta.name)}/configs`, data));
}

export async function getConfig(c: C): Promise<Response> {
	const meta = await topicMeta(c);
	const key = configKey(meta.name, c.req.param("name") ?? "");
	return c.json(topicConfigData(origin(c), meta.name, key, meta.config[key], DEFAULT_TOPIC_CONFIG[key]));
}

/**
 * Changes configs: a value sets one, null (a DELETE) returns it to the default. Every name is checked before
 * anything changes, and the registry applies them together or not at all.
 */
async function alterConfigs(c: C, changes: readonly [string, string | null][], validateOnly: boolean): Promise<Response> {
	const meta = await topicMeta(c);
	const config = configOnce(changes.map(([name, value]) => [configKey(meta.name, name), value]));
	if (validateOnly) unwrap(applyConfigChanges(meta.config, config));
	else await updateTopicAs(c, meta.name, { config });
	return c.body(null, 204);
}

export async function updateConfig(c: C): Promise<Response> {
	const { value } = validate(UpdateConfigBody, await readJson(c.req.raw));
	const name = c.req.param("name") ?? "";
	return alterConfigs(c, [[name, setValue(name, value)]], false);
}

export function resetConfig(c: C): Promise<Response> {
	return alterConfigs(c, [[c.req.param("name") ?? "", null]], false);
}

export async function alterConfigBatch(c: C): Promise<Response> {
	const body = validate(AlterConfigsBody, await readJson(c.req.raw));
	const changes = body.data.map((entry): [string, string | null] => [
		entry.name,
		entry.operation === "DELETE" ? null : setValue(entry.name, entry.value),
	]);
	return alterConfigs(c, changes, body.validate_only === true);
}

export async function listGroups(c: C): Promise<Response> {
	checkCluster(c);
	// The directory's summaries hold no strategy: `partition_assignor` is in each group's own document.
	const groups = bare(await groupDirectory(c.env).list()).filter((g) => may(c, groupResource(g.group), "describe"));
	const data = groups.map((g) => consumerGroupData(origin(c), g.group, g.state, null));
	return c.json(resourceList("KafkaConsumerGroup", `${v3Base(origin(c))}/consumer-groups`, data));
}

export async function getGroup(c: C): Promise<Response> {
	const group = groupPath(c);
	const { state, strategy } = unwrap(await groupCoordinator(c.env, group).describe(group));
	return c.json(consumerGroupData(origin(c), group, state, strategy));
}

export async function listConsumers(c: C): Promise<Response> {
	const group = groupPath(c);
	const { members } = unwrap(await groupCoordinator(c.env, group).describe(group));
	const data = members.map((m) => consumerData(origin(c), group, { consumer_id: m.memberId, instance_id: m.instanceId, client_id: "" }));
	return c.json(resourceList("KafkaConsumer", `${groupSelf(origin(c), group)}/consumers`, data));
}

/** The member the path names (`:consumer_id`), or Confluent's 404. */
async function consumerPath(c: C) {
	const group = groupPath(c);
	const consumer = c.req.param("consumer_id") ?? "";
	const { members } = unwrap(await groupCoordinator(c.env, group).describe(group));
	const member = members.find((m) => m.memberId === consumer);
	if (member === undefined) {
		throw new ApiError("not_found", `Consumer ${consumer} cannot be found in consumer group ${group}.`, { group, consumer });
	}
	return { group, member };
}

export async function getConsumer(c: C): Promise<Response> {
	const { group, member } = await consumerPath(c);
	return c.json(consumerData(origin(c), group, { consumer_id: member.memberId, instance_id: member.instanceId, client_id: "" }));
}

/** A member's assigned partitions, of the topics the caller may describe (as the group's lags). */
export async function listAssignments(c: C): Promise<Response> {
	const { group, member } = await consumerPath(c);
	const data = member.assignment
		.filter((tp) => may(c, topicResource(tp.topic), "describe"))
		.map((tp) => consumerAssignmentData(origin(c), group, member.memberId, tp.topic, tp.partition));
	return c.json(resourceList("KafkaConsumerAssignment", `${groupSelf(origin(c), group)}/consumers/${member.memberId}/assignments`, data));
}

/** One assigned partition (`…/assignments/{topic}/partitions/{id}`), or Confluent's 404. */
export async function getAssignment(c: C): Promise<Response> {
	const { group, member } = await consumerPath(c);
	const topic = topicPath(c);
	const { partition_id } = validate(PartitionIdPath, c.req.param(), "path");
	const assigned = member.assignment.some((tp) => tp.topic === topic && tp.partition === partition_id);
	if (!assigned || !may(c, topicResource(topic), "describe")) {
		throw new ApiError("not_found", `Partition ${partition_id} of topic ${topic} is not assigned to consumer ${member.memberId}.`, {
			topic,
			partition: partition_id,
		});
	}
	return c.json(consumerAssignmentData(origin(c), group, member.memberId, topic, partition_id));
}

/**
 * Lag of each committed partition of a topic the caller may describe, with the member it is assigned to ("" when
 * none is), as Kafka's `kafka-consumer-groups --describe` shows it.
 */
async function lagsOf(c: C): Promise<{ group: string; lags: Lag[] }> {
	const group = groupPath(c);
	const { description, offsets } = unwrap(await describeGroup(c.env, group));
	const lags = offsets
		.filter((o) => o.committed !== null && may(c, topicResource(o.topic), "describe"))
		.map((o) => {
			const owner = description.members.find((m) => m.assignment.some((tp) => keyOf(tp) === keyOf(o)));
			return {
				consumer_id: owner?.memberId ?? "",
				instance_id: owner?.instanceId ?? null,
				client_id: "",
				topic_name: o.topic,
				partition_id: o.partition,
				current_offset: o.committed as number,
				log_end_offset: o.high_watermark,
				lag: o.lag as number,
			};
		});
	// kafka-rest's answer when the group has no commit (here: none the caller may see), for the list and summary alike.
	if (lags.length === 0) throw new ApiError("not_found", "Consumer group offsets could not be found.", { group });
	return { group, lags };
}

export async function listLags(c: C): Promise<Response> {
	const { group, lags } = await lagsOf(c);
	const data = lags.map((lag) => consumerLagData(origin(c), group, lag));
	return c.json(resourceList("KafkaConsumerLag", `${groupSelf(origin(c), group)}/lags`, data));
}

/** One committed partition's lag (`…/lags/{topic}/partitions/{id}`); a partition with no commit has none (404). */
export async function getLag(c: C): Promise<Response> {
	const { group, lags } = await lagsOf(c);
	const topic = topicPath(c);
	const { partition_id } = validate(PartitionIdPath, c.req.param(), "path");
	const lag = lags.find((l) => l.topic_name === topic && l.partition_id === partition_id);
	if (lag === undefined) {
		throw new ApiError(
			"not_found",
			`Consumer lag for partition ${partition_id} of topic ${topic} cannot be found in consumer group ${group}.`,
			{
				group,
				topic,
				partition: partition_id,
			},
		);
	}
	return c.json(consumerLagData(origin(c), group, lag));
}

export async function lagSummary(c: C): Promise<Response> {
	const { group, lags } = await lagsOf(c);
	return c.json(lagSummaryData(origin(c), group, lags));
}
