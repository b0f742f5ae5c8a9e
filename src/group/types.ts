/**
 * @module
 * The RPC vocabulary of a consumer group: what the edge sends a `GroupCoordinator` and what it answers.
 * Everything here is plain data, so it crosses the RPC boundary unchanged.
 */

/** Assignment strategies; `sticky` is the default. */
export const STRATEGIES = ["sticky", "range", "round-robin"] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Where a member starts on a partition with no committed offset (Kafka's `auto.offset.reset`). */
export const OFFSET_RESETS = ["earliest", "latest", "none"] as const;
export type OffsetReset = (typeof OFFSET_RESETS)[number];

/** `stable`: has members; `empty`: no members but committed offsets; `dead`: deleted (never listed). */
export type GroupState = "stable" | "empty" | "dead";

export interface TopicPartition {
	readonly topic: string;
	readonly partition: number;
}

/** What a member subscribes to: a list of topics or one pattern, never both. */
export type Subscription =
	| { readonly topics: readonly string[]; readonly pattern: null }
	| { readonly topics: null; readonly pattern: string };

export interface JoinRequest {
	readonly subscription: Subscription;
	readonly sessionTimeoutMs: number;
	/** KIP-345 static membership: a member that returns within its session timeout keeps its assignment. */
	readonly instanceId: string | null;
	/**
	 * The id the member proposes: a join retried after its answer was lost finds the member it made instead of leaving
	 * that one to hold partitions until its session ends, which KIP-394 does with a round trip for an id the coordinator
	 * picks. Absent: the coordinator picks one. With `instanceId`, only the static member's own id counts (its rejoin);
	 * any other is its restart, under an id the coordinator picks (KIP-345).
	 */
	readonly memberId?: string | null;
	/** Null: whatever the group uses (sticky for a new group). */
	readonly strategy: Strategy | null;
	readonly autoOffsetReset: OffsetReset;
	/**
	 * Auto-commit settings the member keeps for its life (an Upstash consumer instance's, fixed by the consume that
	 * creates it); absent: its polls say, each for itself (/v1, the SDK, the Kafka gateway).
	 */
	readonly autoCommit?: AutoCommitSettings;
	/**
	 * The member rejoins on a rebalance and reads from positions it keeps itself (Kafka's classic protocol: the
	 * gateway's members). Its partitions move to another member only when it rejoins or leaves, or its rebalance timeout
	 * runs out (a dynamic member is removed then, a static one keeps its share of the new assignment; group-rules.ts).
	 */
	readonly rejoins?: boolean;
	/**
	 * How long after a rebalance asks a member that rejoins to rejoin it may hold partitions without doing so
	 * (Kafka's JoinGroup `rebalanceTimeoutMs`); absent: its session timeout, as JoinGroup v0.
	 */
	readonly rebalanceTimeoutMs?: number;
}

/** A live member as the coordinator stores it (`members`; the live session deadline in memory, store.ts). */
export interface Member {
	readonly memberId: string;
	readonly instanceId: string | null;
	readonly subscription: Subscription;
	readonly sessionTimeoutMs: number;
	readonly autoOffsetReset: OffsetReset;
	readonly autoCommit: AutoCommitSettings | null;
	readonly deadlineMs: number;
	/** The generation a member that rejoins (`JoinRequest.rejoins`) last joined in; null for the others. */
	readonly rejoinedGeneration: number | null;
	/** `JoinRequest.rebalanceTimeoutMs`, or its session timeout. */
	readonly rebalanceTimeoutMs: number;
}

/** Kafka's `enable.auto.commit` and `auto.commit.interval.ms`. */
export interface AutoCommitSettings {
	readonly enabled: boolean;
	readonly intervalMs: number;
}

/** What every member call answers: the current generation and this member's partitions in it. */
export interface MemberView {
	readonly generation: number;
	readonly assignment: readonly TopicPartition[];
}

export interface JoinResult extends MemberView {
	readonly memberId: string;
}

/** One partition a poll reads. */
export interface FetchPlan extends TopicPartition {
	readonly topicId: string;
	/** The member's position, else the committed offset; null when neither exists (apply `auto_offset_reset`). */
	readonly offset: number | null;
	/** The position the coordinator held when the poll began; a read is kept only if it is still the same. */
	readonly expectedPosition: number | null;
}

export interface PollPlan extends MemberView {
	readonly autoOffsetReset: OffsetReset;
	/** Longest a poll may wait and still find its member alive: half its session timeout. */
	readonly waitMsMax: number;
	readonly fetches: readonly FetchPlan[];
}

/** What a poll does to the member's partitions before it reads (Kafka's `seek` and `pause`); unowned ones are skipped. */
export interface PollSteering {
	/** Read positions to move: the poll reads from there (the member's auto-commit pending there is dropped). */
	readonly seek: readonly (TopicPartition & { readonly offset: number })[];
	/** Partitions this poll does not read; the member keeps them and its positions on them. */
	readonly paused: readonly TopicPartition[];
}

/** Offsets a poll commits before it reads (Kafka commits with the fetch loop; here one request does both). */
export interface PollCommit {
	readonly generation: number;
	readonly offsets: readonly OffsetCommit[];
}

/** A poll's start: its plan, or (see `CommitOutcome`) the carried offsets the edge must bounds-check first. */
export type PollStart =
	| { readonly started: true; readonly plan: PollPlan }
	| { readonly started: false; readonly unverified: readonly TopicPartition[] };

/** What a poll read from one partition, reported back so the coordinator can advance the position. */
export interface FetchOutcome extends TopicPartition {
	readonly expectedPosition: number | null;
	readonly nextOffset: number;
	readonly recordCount: number;
}

export interface PollCompletion extends MemberView {
	/** Per outcome, in order: whether its records may be handed out (the member still owns the partition). */
	readonly accepted: readonly boolean[];
}

export interface OffsetCommit extends TopicPartition {
	readonly offset: number;
	readonly metadata: string | null;
}

export interface CommitRequest {
	readonly memberId: string;
	readonly generation: number;
	readonly offsets: readonly OffsetCommit[];
	/** The static instance the committer names, if any: fenced when another member holds it (`GroupRules.fenced`). */
	readonly instanceId?: string | null;
}

/**
 * A commit's answer: stored, or not looked at because some offsets may lie past their partition's high watermark
 * (the edge checks those against the partitions and commits again). An offset up to the member's own read
 * position needs no check: that position came from a read, so it is within the log.
 */
export type CommitOutcome =
	| ({ readonly committed: true } & MemberView)
	| { readonly committed: false; readonly unverified: readonly TopicPartition[] };

export interface CommittedOffset extends TopicPartition {
	readonly offset: number;
	readonly metadata: string | null;
}

export interface SubscribedTopic {
	readonly topic: string;
	readonly topicId: string;
	readonly partitions: number;
}

/** A member as a describe shows it: what it joined with and its partitions, not its session's live state. */
export interface MemberDescription extends Omit<Member, "deadlineMs" | "rejoinedGeneration" | "rebalanceTimeoutMs"> {
	readonly assignment: readonly TopicPartition[];
}

export interface GroupDescription {
	readonly state: GroupState;
	readonly generation: number;
	readonly strategy: Strategy | null;
	readonly members: readonly MemberDescription[];
	/** The topics the current assignment was computed from. */
	readonly topics: readonly SubscribedTopic[];
	readonly committed: readonly CommittedOffset[];
}

/** One group as `GET /v1/groups` lists it; `generation` orders summaries that arrive out of order. */
export interface GroupSummary {
	readonly group: string;
	readonly state: GroupState;
	readonly members: number;
	readonly generation: number;
}
