/**
 * @module
 * Topic metadata as the registry hands it out.
 */

import type { TopicConfig } from "../shared/topic-config.ts";

export interface TopicMeta {
	readonly name: string;
	/** Names this incarnation of the topic: a topic deleted and created again gets new partitions. */
	readonly topicId: string;
	readonly partitions: number;
	readonly config: TopicConfig;
	/** Grows by one on every config change; partitions compare it to know when they are behind. */
	readonly configVersion: number;
	readonly createdAtMs: number;
}

export interface CreateTopicRequest {
	readonly name: string;
	readonly partitions: number;
	readonly config?: unknown;
}

export interface UpdateTopicRequest {
	readonly partitions?: number;
	readonly config?: unknown;
}

/** The Durable Object name of partition `partition` of topic incarnation `topicId`. */
export function partitionObjectName(topicId: string, partition: number): string {
	return `${topicId}/${partition}`;
}

export interface ProducerIdentity {
	readonly producerId: number;
	readonly epoch: number;
}
