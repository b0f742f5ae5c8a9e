/**
 * @module
 * A group member's poll, run at the edge: the coordinator plans it (which partitions, from where), the edge reads
 * the partitions in parallel, and the coordinator settles it (which reads the member may keep). Records never pass
 * through the coordinator, so one busy group does not serialise its traffic through one object, and a long-poll
 * never holds the coordinator: heartbeats of other members go on while this one waits.
 *
 * Where a poll's server CPU goes, by adding one more of a piece per poll (bench:ab group-4m-4p, 500 records a poll,
 * ~7.5 µs a record, 6 rounds each): one more partition read of the same range, its parts sent over RPC, +1.91 µs a
 * record (+1.89 to +2.52, higher in 6 of 6); one more splice (`pollBody`) +0.45 (+0.40 to +0.60, 6 of 6); one more
 * coordinator call that writes a row in its own transaction +0.19 (-0.06 to +0.36, 5 of 6); one more coordinator
 * call that writes nothing -0.03 (-0.08 to +0.33, 3 of 6). So the coordinator's own calls are a small part of a
 * poll; the reads and the splice, per record, are most of it. Again on group-4m-4p-partitions, a poll of one
 * partition with no settlement at all (its `completePoll` dropped: a bound on anything that settled later or
 * elsewhere) -0.13 (-0.30 to +0.24, lower in 4 of 6) of ~5.6: within noise.
 * Against a plain fetch of the same shape, by `perf record -g` on workerd (4 members or clients draining a
 * 200,000-record backlog in pages of 500, one run each on a loaded machine, workerd CPU per record): fetch 8.3 µs,
 * this poll 10.7, a poll laid out by partition 8.9. What the poll adds is mostly its records crossing RPC as parts:
 * capnp's arena for the answer (zero-filled, then copied into) 0.71 against 0.04, memmove 1.47 against 0.73 (V8's
 * serializer growing its buffer, the deserializer, the Response's copy of the body), deserializing 0.29 against
 * 0.06; the coordinator's transactions and storage commits ~0.3. A poll laid out by partition, whose records cross
 * as a stream as a fetch's do, was within 0.6 of the fetch in that run: what it lags by in records/s is more
 * likely waiting (the carried commit's shared turn and storage commit) than CPU.
 */

import { keyOf } from "../../group/assignors.ts";
import { pollStartOf, type Settlement, settlementOf } from "../../group/poll-answer.ts";
import type { FetchOutcome, FetchPlan, OffsetReset, PollCommit, PollPlan, PollSteering } from "../../group/types.ts";
import type { FetchBody, ReadResult, Utf8Parts } from "../../partition/types.ts";
import { assert } from "../../shared/assert.ts";
import { utf8Encoder } from "../../shared/bytes.ts";
import { err, ok, type Result } from "../../shared/errors.ts";
import { POLL_PARTITIONS_MAX } from "../../shared/limits.ts";
import { type BlobPiece, firstAnswer, pushParts, readEndingWhen, readRecordsUtf8, type WaitEnd } from "../../shared/log-reader.ts";
import { endsOfParts, pollBodyBlob } from "../../shared/poll-body.ts";
import { groupCoordinator, partitionLog } from "../../shared/stubs.ts";
import { statusOf } from "../errors.ts";
import { checkCommitBounds } from "./group-offsets.ts";

export interface PollOptions {
	readonly maxRecords: number;
	readonly maxBytes: number;
	readonly waitMs: number;
	readonly autoCommit: boolean;
	/**
	 * How long after the member's last auto-commit its polls leave what earlier polls returned uncommitted (Kafka's
	 * auto.commit.interval.ms); 0 or absent: every poll commits what the previous one returned.
	 */
	readonly autoCommitIntervalMs?: number;
	/** Offsets to commit before reading, fenced like `POST /v1/groups/{group}/offsets` (the member is the poller). */
	readonly commit?: PollCommit | null;
	readonly steering?: PollSteering | null;
	/** The static instance the member names: its poll is fenced when another member holds it (KIP-345). */
	readonly instanceId?: string | null;
	/**
	 * Whether the caller reads the body whole before it answers (the Upstash mount parses it): a read cut short then
	 * fails here, settled back (see `pollOnePartition`), instead of in the caller, after its records were handed out.
	 */
	readonly readWhole?: boolean;
	/** Whether the caller may read `topic`; a poll whose plan holds a topic it may not read is refused. */
	readonly mayConsume?: (topic: string) => boolean;
	/** What ends the poll's waits at the tail before `waitMs` (its client gone, `clientGone`). */
	readonly end: WaitEnd;
}

/**
 * How a poll's answer lays its records out: `records`, one list with each record's topic in it (the default, and
 * Confluent's REST consumers' shape); `partitions`, one entry per partition.
 */
export const POLL_LAYOUTS = ["records", "partitions"] as const;
export type PollLayout = (typeof POLL_LAYOUTS)[number];

interface ReadLimits {
	readonly maxRecords: number;
	readonly maxBytes: number;
	/**
	 * Whether the partition answers where each part's records end: `pollBody`'s splice walks them; a poll laid out
	 * by partition sends each part whole and needs none.
	 */
	readonly recordEnds: boolean;
}

interface PartitionRead {
	readonly plan: FetchPlan;
	readonly limits: ReadLimits;
	readonly result: ReadResult<Utf8Parts>;
}

/**
 * Polls for `memberId` and answers the response body as UTF-8, in `layout`. In the default, "records",
 * `{"records":[…],"generation","assignment"}`, with each record as the partition stored it plus its topic. Records come
 * in offset order per partition, and only from partitions the member owns in the generation the response names. The
 * partitions' bytes are copied once, into the body, with the topic spliced in as they go (`pollBody`). A poll of one
 * partition (its member owns one: as many members as partitions, the usual shape) is spliced by the partition itself
 * and crosses to the edge as a stream (`pollOnePartition`, `PartitionLog.readRecordsPollBody`), as one laid out by
 * partition does: no part serialised for RPC, no copy at the edge. What that spares, by `perf record -g` on the whole
 * workerd process (4 members draining group-4m-4p's backlog, one run each at load 6-11): with the parts over RPC, page
 * faults were 9 % of workerd's samples (memmove into fresh buffers: V8's serializer growing its buffer, the
 * deserializer, `new Response`'s copy; capnp's zero-filled arena for the answer) against 1.5 % for a poll laid out by
 * partition, memmove 9.0 % against 3.5 %, memset 5.9 % against 2.9 %. The isolate's own profile
 * (`npm run bench:profile -- group`) sees only part of it: `Response` 1.95 µs a record of 14.9 against 0.59 of 11.8
 * laid out by partition. bench:ab group-4m-4p against the parts over RPC, AB_UNCOUPLED, three runs of 6 rounds: at load
 * 8-12, -2.77 µs/record of ~10.6 (-2.93 to +0.33, lower in 5 of 6), records/s 108.4 % (94.4 to 126.3 %, higher in 5 of
 * 6); at load 6-10, -2.26 of ~11.8 (-2.81 to +0.14, lower in 5 of 6), records/s 114 % (90.5 to 146.3 %, higher in 5 of
 * 6); a third, at load 5-12, -0.94 of ~7.4 (-3.13 to -0.55, lower in 6 of 6), records/s 108.4 % (100.5 to 148.5 %,
 * higher in 6 of 6). An earlier run of paired steps (no AB_UNCOUPLED) read -0.08 (-0.21 to +0.04, lower in 5 of 6) of
 * ~6.0, and it was dropped then.
 *
 * Measured and dropped: splicing the body while the coordinator settles the reads, with the plan's tail (spliced
 * again when the settlement dropped a read or changed the tail), in case the settlement's answer waits for another
 * member's storage commit (the commit "Group poll (records layout): the body spliced while the coordinator settles
 * the reads", reverted, with its tests): bench:ab group-4m-4p, AB_UNCOUPLED, load 7-13, +0.41 µs/record of ~7.4
 * (-0.21 to +4.22, higher in 5 of 6), records/s 92 % (75.3 to 103.4 %, higher in 2 of 6); at load 3-4, +0.01 of
 * ~5.6 (-0.32 to +0.22, higher in 4 of 6), records/s 97.5 % (96.3 to 108.7 %, higher in 2 of 6). Likely as the
 * commit-overlapping read in `pollOnePartition`: the splice runs on the thread that serves the coordinator, first.
 *
 * Laid out by partition (`layout` "partitions"), as Kafka's fetch answers and its consumer hands records over:
 * `{"partitions":[{"topic","partition","records":[…]}…],"generation","assignment"}`, one entry per partition that
 * gave records, each record as a fetch answers it (no topic of its own). Nothing is spliced: a poll of one partition
 * is answered as the partition built it (`pollOnePartition`); the parts of several go into the body whole, a Blob
 * the runtime copies in outside the JS heap, as a fetch's body (`utf8Blob`), where the default's splice writes
 * each record's bytes in JS and the Response copies them again. Measured and dropped: each partition answering its
 * records as a Blob's stream (as `readFetchBody` does), read into a Blob at the edge (`Response.blob()`, in the
 * runtime) and put into the body as it is: bench:ab group-4m-4p-partitions +0.33 µs/record (+0.24 to +0.68, higher
 * in 6 of 6 rounds) of ~5.3. Parts over RPC are the cheaper crossing when the edge must join them.
 */
export async function pollGroup(
	env: Env,
	groupId: string,
	memberId: string,
	options: PollOptions,
	layout: PollLayout = "records",
): Promise<Result<FetchBody>> {
	const poll = { env, coordinator: groupCoordinator(env, groupId), groupId, memberId, options };
	const plan = await plannedPoll(poll);
	if (!plan.ok) return plan;
	if (plan.value.fetches.length === 1) {
		const alone = await pollOnePartition(poll, plan.value, layout);
		if (alone !== null) return alone;
	}
	const polled = await pollReads(poll, plan.value, layout === "records");
	if (!polled.ok) return polled;
	const body = pollBodyOf(layout, polled.value.kept, polled.value.settlement);
	return ok({ body, bytes: body.size });
}

/**
 * A poll's body: each read kept, then the envelope's tail; in the default layout its records with their topic
 * spliced in (`pollBody`), laid out by partition each read's parts whole in its partition's entry.
 */
function pollBodyOf(layout: PollLayout, kept: readonly PartitionRead[], settlement: Settlement): Blob {
	if (layout === "records") return pollBodyBlob(kept, utf8Encoder.encode(envelopeTail(settlement)));
	const pieces: BlobPiece[] = [PARTITIONS_BODY_HEAD];
	for (const [i, { plan, result }] of kept.entries()) {
		pieces.push(`${i > 0 ? "," : ""}${partitionEntryHead(plan)}`);
		pushParts(pieces, result.records);
		pieces.push(PARTITION_ENTRY_TAIL);
	}
	pieces.push(envelopeTail(settlement));
	return new Blob(pieces);
}

/** The head of one partition's entry in a poll laid out by partition, up to its first record. */
function partitionEntryHead(fetch: FetchPlan): string {
	return `{"topic":${JSON.stringify(fetch.topic)},"partition":${fetch.partition},"records":[`;
}

/** What ends a poll's body after its records: the generation it answers in and the member's assignment in it. */
function envelopeTail({ generation, assignmentJson }: Pick<Settlement, "generation" | "assignmentJson">): string {
	return `],"generation":${generation},"assignment":${assignmentJson}}`;
}

/**
 * A poll that reads one partition (its member owns one: as many members as partitions, the usual shape), answered
 * with the body the partition built (`PartitionLog.readPollBody` laid out by partition, `readRecordsPollBody` in the
 * default layout, the topic spliced into each record there): its bytes cross to the edge as a stream the runtime
 * pipes into the response, as a fetch's do, instead of parts that V8 serialises over RPC and the edge joins or splices. The envelope's tail is written from the plan, before the coordinator settles the read;
 * when the read is kept in a later generation (the member kept the partition through a rebalance), the body is read
 * and its tail written again; when the caller reads it whole anyway (`readWhole`), it is read here, where a read
 * cut short can still be settled back. The read waits for records here when the member may wait, as `firstRecords` would for
 * a lone partition. Null when this read is not a plain local one (no position and `auto_offset_reset` "latest",
 * outside the log, in R2, or its topic gone): `pollReads` reads it again and handles each case.
 *
 * What it changes in delivery: a poll's records count as handed out once settled, and a body lost on its way after
 * that (a client gone mid-answer) is not polled again; `pollReads` holds every byte at the edge before settling,
 * so only the leg to the client can fail. Here the partition's leg is piped after the settlement too, and could
 * break if the object were reset mid-pipe (Cloudflare defers a code update for in-flight requests, by default up
 * to 5 minutes). The same window, a few milliseconds longer.
 *
 * Laid out by partition, measured against the parts over RPC joined here (`pollBodyOf`), bench:ab
 * group-4m-4p-partitions (each of 4 members owns one partition): -0.26 µs/record (-0.35 to +0.03, lower in 5 of 6 rounds) of ~5.4. Measured and
 * dropped: starting this read before the plan arrives, when the poll carries the commit of one partition (the
 * member's, up to where it read: the read the plan will most likely ask for; used when the plan agreed, its tail
 * guessed from the commit's generation), so the read runs while the coordinator writes the commit: +0.10 µs/record
 * (-0.31 to +0.26, higher in 5 of 6 rounds) and poll p50 14.2 against 13.5 ms, with every guess right. One thread
 * serves the edge and the objects: the commit's wait is not idle time another read can fill.
 */
async function pollOnePartition(
	{ env, coordinator, groupId, memberId, options }: Poll,
	plan: PollPlan,
	layout: PollLayout,
): Promise<Result<FetchBody> | null> {
	const fetch = plan.fetches[0] as FetchPlan;
	// No position: "earliest" is the partition's own start, which it reads from when given no offset.
	if (fetch.offset === null && plan.autoOffsetReset !== "earliest") return null;
	const planned = { generation: plan.generation, assignmentJson: JSON.stringify(plan.assignment) };
	const tail = envelopeTail(planned);
	const request = {
		topicId: fetch.topicId,
		offset: fetch.offset,
		maxRecords: options.maxRecords,
		maxBytes: options.maxBytes,
		waitMs: Math.min(options.waitMs, plan.waitMsMax),
	};
	const partition = partitionLog(env, fetch.topicId, fetch.partition);
	const read = await readEndingWhen(partition, request, options.end, (r) =>
		layout === "records"
			? partition.readRecordsPollBody(r, fetch.topic, tail)
			: partition.readPollBody(r, `${PARTITIONS_BODY_HEAD}${partitionEntryHead(fetch)}`, `${PARTITION_ENTRY_TAIL}${tail}`),
	);
	// A bug (500) or a failed call (503) is the poll's answer: read again by `pollReads`, it would wait again, or miss the bug.
	if (!read.ok && statusOf(read.error.code) > 499) return read;
	if (!read.ok || "remote" in read.value) return null;
	const share = read.value;
	const settled = settlementOf(
		await coordinator.completePoll(
			groupId,
			memberId,
			plan.generation,
			[outcomeOf(fetch, share)],
			options.autoCommit,
			false,
			true,
			options.instanceId,
		),
	);
	if (!settled.ok || settled.value.accepted[0] !== true || share.body === null) {
		// Nothing reads the body: let the partition's stream go (a failure to is no failure of the poll).
		await share.body?.cancel().catch(() => undefined);
		if (!settled.ok) return settled;
		const body = pollBodyOf(layout, [], settled.value);
		return ok({ body, bytes: body.size });
	}
	const { generation, assignmentJson } = settled.value;
	const sameTail = generation === planned.generation && assignmentJson === planned.assignmentJson;
	if (sameTail && options.readWhole !== true) return ok({ body: share.body, bytes: share.bytes });
	const written = await new Response(share.body).arrayBuffer().catch(() => null);
	const tailBytes = utf8Encoder.encode(tail).byteLength;
	// The partition's stream cut short (its object restarted mid-pipe) is a retryable failure, not a wrong answer. The
	// read is settled: its position goes back to where the read began (the log start when it began with none), so the
	// poll a 503 invites reads these records again instead of skipping them.
	if (written === null || written.byteLength !== share.bytes) {
		const back = { ...outcomeOf(fetch, share), expectedPosition: share.nextOffset, nextOffset: fetch.offset ?? share.logStartOffset };
		const undone = settlementOf(
			await coordinator.completePoll(groupId, memberId, generation, [back], options.autoCommit, false, true, options.instanceId),
		);
		if (!undone.ok) return undone;
		return err("partition_unavailable", `${fetch.topic}/${fetch.partition}: the read was cut short; poll again`);
	}
	assert(written.byteLength > tailBytes, "poll tail");
	if (sameTail) return ok({ body: new Blob([written]), bytes: written.byteLength });
	const body = new Blob([new Uint8Array(written, 0, written.byteLength - tailBytes), envelopeTail(settled.value)]);
	return ok({ body, bytes: body.size });
}

/** What every step of one poll works from: the member's call as the route received it. */
interface Poll {
	readonly env: Env;
	readonly coordinator: ReturnType<typeof groupCoordinator>;
	readonly groupId: string;
	readonly memberId: string;
	readonly options: PollOptions;
}

/** What the coordinator settles of one read: where it started (the position the plan saw) and where it ended. */
function outcomeOf(fetch: FetchPlan, read: Pick<ReadResult<Utf8Parts>, "nextOffset" | "recordCount">): FetchOutcome {
	return {
		topic: fetch.topic,
		partition: fetch.partition,
		expectedPosition: fetch.expectedPosition,
		nextOffset: read.nextOffset,
		recordCount: read.recordCount,
	};
}

/** The coordinator's plan for a poll, refused if it holds a topic the caller may not read. */
async function plannedPoll(poll: Poll): Promise<Result<PollPlan>> {
	const { options } = poll;
	const plan = await beginPoll(poll);
	if (!plan.ok) return plan;
	const denied = plan.value.fetches.find((fetch) => options.mayConsume?.(fetch.topic) === false);
	if (denied !== undefined) {
		return err("forbidden", `this key may not consume topic "${denied.topic}", which is in the member's assignment`, {
			operation: "consume",
			resource: `topic:${denied.topic}`,
		});
	}
	return plan;
}

/**
 * The reads of `plan` a poll keeps (settled by the coordinator, each with records) and the settlement;
 * `recordEnds`: each part with where its records end (see `ReadLimits`).
 */
async function pollReads(
	{ env, coordinator, groupId, memberId, options }: Poll,
	plan: PollPlan,
	recordEnds: boolean,
): Promise<Result<{ kept: PartitionRead[]; settlement: Settlement }>> {
	const read = await readPlanned(env, plan, options, Math.min(options.waitMs, plan.waitMsMax), recordEnds);
	if (!read.ok) return read;
	const { reads, topicsStale } = read.value;
	const outcomes = reads.map((r) => outcomeOf(r.plan, r.result));
	const settled = settlementOf(
		await coordinator.completePoll(groupId, memberId, plan.generation, outcomes, options.autoCommit, topicsStale, true, options.instanceId),
	);
	if (!settled.ok) return settled;
	const { accepted } = settled.value;
	assert(accepted.length === reads.length, "reads settled");
	const kept = reads.filter((r, i) => accepted[i] === true && r.result.recordCount > 0);
	return ok({ kept, settlement: settled.value });
}

const PARTITIONS_BODY_HEAD = '{"partitions":[';
const PARTITION_ENTRY_TAIL = "]}";

/**
 * The coordinator's plan for this poll, after it wrote the commit the poll carries. A carried offset beyond the
 * member's read position is checked against its partition first (as a commit on its own is), then sent again.
 */
async function beginPoll({ env, coordinator, groupId, memberId, options }: Poll): Promise<Result<PollPlan>> {
	const partitionsMax = Math.min(POLL_PARTITIONS_MAX, options.maxRecords);
	const commit = options.commit ?? null;
	const interval = options.autoCommitIntervalMs ?? 0;
	const steering = options.steering ?? null;
	const instance = options.instanceId;
	let started = pollStartOf(
		await coordinator.beginPoll(groupId, memberId, partitionsMax, commit, false, true, interval, steering, instance),
	);
	if (started.ok && !started.value.started && commit !== null) {
		const unverified = new Set(started.value.unverified.map(keyOf));
		const bounds = await checkCommitBounds(
			env,
			commit.offsets.filter((o) => unverified.has(keyOf(o))),
		);
		if (!bounds.ok) return bounds;
		started = pollStartOf(await coordinator.beginPoll(groupId, memberId, partitionsMax, commit, true, true, interval, steering, instance));
	}
	if (!started.ok) return started;
	assert(started.value.started, "poll judged");
	return ok(started.value.plan);
}

/** Reads every planned partition at once; if all are empty and the member may wait, waits for the first records. */
async function readPlanned(
	env: Env,
	plan: PollPlan,
	options: PollOptions,
	waitMs: number,
	recordEnds: boolean,
): Promise<Result<{ reads: PartitionRead[]; topicsStale: boolean }>> {
	const count = plan.fetches.length;
	if (count === 0) {
		// Nothing to read (more members than partitions): wait anyway, so an idle member does not spin.
		if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
		return ok({ reads: [], topicsStale: false });
	}
	assert(count <= options.maxRecords, "partitions <= records");
	const first = await Promise.all(
		plan.fetches.map((fetch, i) => {
			const limits = {
				maxRecords: share(options.maxRecords, count, i),
				maxBytes: Math.max(1, Math.ceil(options.maxBytes / count)),
				recordEnds,
			};
			return readPartition(env, fetch, plan.autoOffsetReset, limits, 0);
		}),
	);
	const reads: PartitionRead[] = [];
	let topicsStale = false;
	for (const result of first) {
		if (!result.ok) return result;
		if (result.value === null) topicsStale = true;
		else reads.push(result.value);
	}
	const empty = reads.every((r) => r.result.recordCount === 0);
	if (!empty) return ok({ reads: await topUp(env, reads, options), topicsStale });
	if (waitMs === 0 || reads.length === 0) return ok({ reads, topicsStale });
	return ok({ reads: await firstRecords(env, reads, plan.autoOffsetReset, waitMs, options.end), topicsStale });
}

/**
 * One more round for partitions that stopped short of their high watermark, with the budget the others left
 * unused: without it a member whose records sit in one of its partitions would get a fraction of `max_records`.
 * A top-up read that fails is dropped; what was read first stands.
 */
async function topUp(env: Env, reads: readonly PartitionRead[], options: PollOptions): Promise<PartitionRead[]> {
	const records = options.maxRecords - reads.reduce((n, r) => n + r.result.recordCount, 0);
	const bytes = options.maxBytes - reads.reduce((n, r) => n + r.result.records.reduce((m, part) => m + part.byteLength, 0), 0);
	const behind = reads.flatMap((r, i) => (r.result.nextOffset < r.result.highWatermark ? [i] : [])).slice(0, Math.max(0, records));
	if (behind.length === 0 || bytes <= 0) return [...reads];
	const extra = await Promise.allSettled(
		behind.map((i, j) => {
			const { plan, result, limits } = reads[i] as PartitionRead;
			const request = {
				topicId: plan.topicId,
				offset: result.nextOffset,
				maxRecords: share(records, behind.length, j),
				maxBytes: Math.max(1, Math.ceil(bytes / behind.length)),
				waitMs: 0,
			};
			return readRecordsUtf8(env, plan.topicId, plan.partition, request, limits.recordEnds);
		}),
	);
	const merged = [...reads];
	extra.forEach((outcome, j) => {
		if (outcome.status !== "fulfilled" || !outcome.value.ok || outcome.value.value.recordCount === 0) return;
		const i = behind[j] as number;
		const first = merged[i] as PartitionRead;
		const more = outcome.value.value;
		merged[i] = {
			...first,
			result: {
				...more,
				records: [...first.result.records, ...more.records],
				recordEnds: [...endsOfParts(first.result), ...endsOfParts(more)],
				recordCount: first.result.recordCount + more.recordCount,
			},
		};
	});
	return merged;
}

/** The `i`-th of `parts` shares of `total`, all within one of each other. */
function share(total: number, parts: number, i: number): number {
	return Math.floor(total / parts) + (i < total % parts ? 1 : 0);
}

/**
 * Long-polls every partition from where the empty reads ended and settles on the first that returns records
 * (`firstAnswer`: the other waits are ended then). A failed wait is an empty answer: the next poll reads it again.
 */
function firstRecords(
	env: Env,
	reads: readonly PartitionRead[],
	reset: OffsetReset,
	waitMs: number,
	end: WaitEnd,
): Promise<PartitionRead[]> {
	return firstAnswer(
		reads,
		end,
		(read, race) => readPartition(env, { ...read.plan, offset: read.result.nextOffset }, reset, read.limits, waitMs, race),
		(outcome, i) => {
			const read = outcome.ok ? outcome.value : null;
			return read === null || read.result.recordCount === 0 ? undefined : reads.map((r, j) => (j === i ? { ...read, plan: r.plan } : r));
		},
		() => [...reads],
	);
}

/**
 * Reads one partition from the planned offset, applying `auto_offset_reset` when there is none or when it is
 * outside the log (below the log start after retention, or past the end after the topic was recreated).
 * Null when the topic no longer exists.
 */
async function readPartition(
	env: Env,
	fetch: FetchPlan,
	reset: OffsetReset,
	limits: ReadLimits,
	waitMs: number,
	end?: WaitEnd,
): Promise<Result<PartitionRead | null>> {
	let offset = fetch.offset;
	if (offset === null) {
		assert(reset !== "none", "reset none refused");
		if (reset === "latest") offset = (await partitionLog(env, fetch.topicId, fetch.partition).offsets()).highWatermark;
	}
	const { maxRecords, maxBytes, recordEnds } = limits;
	const read = (from: number | null) =>
		readRecordsUtf8(
			env,
			fetch.topicId,
			fetch.partition,
			{ topicId: fetch.topicId, offset: from, maxRecords, maxBytes, waitMs },
			recordEnds,
			end,
		);
	let result = await read(offset);
	if (!result.ok && result.error.code === "offset_out_of_range") {
		const logStartOffset = Number(result.error.details?.log_start_offset);
		const highWatermark = Number(result.error.details?.high_watermark);
		if (reset === "none") {
			return err(
				"offset_out_of_range",
				`${fetch.topic}/${fetch.partition}: offset ${offset} is outside the log and auto_offset_reset is "none"`,
				{
					topic: fetch.topic,
					partition: fetch.partition,
					offset,
					log_start_offset: logStartOffset,
					high_watermark: highWatermark,
				},
			);
		}
		result = await read(reset === "earliest" ? null : highWatermark);
	}
	if (!result.ok && result.error.code === "topic_not_found") return ok(null);
	if (!result.ok) return result;
	return ok({ plan: fetch, limits, result: result.value });
}
