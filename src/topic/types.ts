/**
 * @module
 * Topic metadata as the registry hands it out.
 */

import type { TopicConfig } from "../shared/topic-config.ts";

/** Cloudflare's Durable Object location hints (https://developers.cloudflare.com/durable-objects/reference/data-location/). */
export const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;

export type LocationHint = (typeof LOCATION_HINTS)[number];

export interface TopicMeta {
	readonly name: string;
	/** Names this incarnation of the topic: a topic deleted and created again gets new partitions. */
	readonly topicId: string;
	readonly partitions: number;
	readonly config: TopicConfig;
	/** Grows by one on every config change; partitions compare it to know when they are behind. */
	readonly configVersion: number;
	readonly createdAtMs: number;
	/** Where the partitions' objects were asked to live (a Cloudflare location hint); null: near the first caller. */
	readonly locationHint: LocationHint | null;
}

export interface CreateTopicRequest {
	readonly name: string;
	readonly partitions: number;
	readonly config?: unknown;
	readonly locationHint?: LocationHint | null;
}

export interface UpdateTopicRequest {
	readonly partitions?: number;
	readonly config?: unknown;
	/**
	 * Kafka's CreatePartitions: a count the topic already has is refused, not a no-op. Checked where the count is
	 * written, so of two callers asking for the same new count at once, one is told it is already there.
	 */
	readonly partitionsMustGrow?: boolean;
}

/** The Durable Object name of partition `partition` of topic incarnation `topicId`. */
export function partitionObjectName(topicId: string, partition: number): string {
	return `${topicId}/${partition}`;
}

export interface ProducerIdentity {
	readonly producerId: number;
	readonly epoch: number;
}
