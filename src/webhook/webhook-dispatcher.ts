/**
 * @module
 * `WebhookDispatcher`: one Durable Object per topic (named by topic id) holding the topic's webhook
 * subscriptions and delivering to them.
 *
 * Each (subscription, partition) is a *lane*: it reads its partition from the acknowledged offset, stores the
 * next batch (records, `webhook-id`) before the first attempt, and sends it until a 2xx, a 410, or
 * `max_attempts` (then the batch goes to the dead-letter topic). A lane never sends its next batch before the
 * previous one is settled, so each partition is delivered in offset order; lanes run concurrently, so a slow
 * partition or receiver stalls only itself. Everything a lane knows is in SQLite, so a restart resumes exactly
 * where it stopped: an unacknowledged batch is resent under the same `webhook-id`.
 *
 * One alarm is multiplexed over the lanes (the `lanes` table is the due-work table): a run lasts
 * `WEBHOOK_RUN_MS`; caught-up lanes long-poll their partition (woken by appends) for the run, lanes waiting for
 * a retry sleep if it falls inside the run, and at the end the alarm is set for the earliest due lane.
 *
 * An idle topic costs nothing: when a run ends with every lane caught up, the dispatcher asks each partition to
 * poke it on the next append (`PartitionLog.watchAppends`) and sleeps; `poke` starts a run. Only a retry due, a
 * partition already past a lane, a watch that failed (after a back-off) or the `WEBHOOK_IDLE_RECHECK_MS` safety net
 * set the alarm sooner.
 */

import { series } from "../metrics/catalog.ts";
import { MetricsReporter } from "../metrics/reporter.ts";
import { Waiters } from "../partition/waiters.ts";
import { assert } from "../shared/assert.ts";
import { DurableObject } from "../shared/durable-object.ts";
import { err, type Failure, ok, type Result, settleEach } from "../shared/errors.ts";
import {
	SUBSCRIPTIONS_PER_TOPIC_MAX,
	TOPIC_NAME_LENGTH_MAX,
	WEBHOOK_ERROR_RETRY_MS,
	WEBHOOK_IDLE_RECHECK_MS,
	WEBHOOK_POLL_WAIT_MS,
	WEBHOOK_RUN_MS,
	WEBHOOK_SECRET_GRACE_MS,
	WEBHOOK_WATCH_RETRY_MS_MAX,
} from "../shared/limits.ts";
import { resolvePosition } from "../shared/log-reader.ts";
import { type Page, type PageRequest, pageOf } from "../shared/page.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import { partitionLog } from "../shared/stubs.ts";
import { describeTopic, invalidate } from "../topic/topic-cache.ts";
import { Lane, type LaneHost } from "./lane.ts";
import { ReportedLanes } from "./metrics.ts";
import { deadLetterTopicName } from "./records.ts";
import { DISPATCHER_DDL, DISPATCHER_SCHEMA_VERSION } from "./schema.ts";
import { generateSecret } from "./signing.ts";
import {
	disableAll,
	type LaneRow,
	laneRow,
	laneView,
	logDelivery,
	recentDeliveries,
	type SubscriptionRow,
	subscriptionRow,
	subscriptionView,
} from "./store.ts";
import type { CreateSubscription, DeliveryView, LaneView, StartPosition, SubscriptionView, TopicRef, UpdateSubscription } from "./types.ts";

/** The storage key (the object's synchronous KV) of the watch's back-offs waited in a row; absent while none fails. */
const WATCH_BACKOFFS_KEY = "watch_backoffs";

export class WebhookDispatcher extends DurableObject<Env> {
	readonly #sql: SqlStorage;
	/** End of the current alarm run; 0 when no run is in progress. */
	deadlineMs = 0;
	/**
	 * How long one alarm run and one long-poll last; fields rather than constants so tests can shorten them (as
	 * instance fields, not methods, they are not reachable over RPC).
	 */
	runMs = WEBHOOK_RUN_MS;
	pollWaitMs = WEBHOOK_POLL_WAIT_MS;
	/** Woken when a subscription changes, so lanes sleeping on a retry look again. */
	readonly changed = new Waiters();
	readonly #running = new Map<string, Promise<void>>();
	/** A lane, or this run's sync (`#syncPartitions`), failed: the next run comes at the lane-error back-off. */
	#laneFailed = false;
	/**
	 * While a partition's watch keeps failing, the back-offs waited since the streak began (null: none failing): the next
	 * look backs off with it (`#watchPartitions`). Kept under `WATCH_BACKOFFS_KEY` too, written only when a back-off is
	 * waited, so a restart goes on with the streak, not back at the first back-off.
	 */
	#watchBackoffs: number | null;
	/**
	 * A poke, or a subscription made, resumed or replayed (`#kick`), arrived since `scheduleNextAlarm` began; it then runs
	 * again at once instead of sleeping.
	 */
	#poked = false;
	#scheduling = false;
	/** What lanes may touch: built here so that none of it is a public member, callable over RPC. */
	readonly #host: LaneHost;
	/** Meters every statement and reports deliveries and lanes to the metrics hub after a change. */
	readonly #metrics: MetricsReporter;
	/**
	 * What the report carries of the lanes, in memory: the lanes keep it at each write (last in its transaction, so a
	 * rolled-back one never reaches it); a subscription added, deleted or replayed, or a lane added, drop it to be
	 * read again by the next report (metrics.ts).
	 */
	readonly #reported: ReportedLanes;
	/** The topic, once known: written once and never changed. */
	#known: { topic: string; topicId: string } | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#metrics = new MetricsReporter(env, ctx, "WebhookDispatcher", () => this.#reported.figures(this.#topic?.topic as string));
		this.#sql = ctx.storage.sql;
		migrateSchema(ctx.storage, DISPATCHER_SCHEMA_VERSION, DISPATCHER_DDL);
		this.#watchBackoffs = ctx.storage.kv.get<number>(WATCH_BACKOFFS_KEY) ?? null;
		this.#reported = new ReportedLanes(this.#sql);
		const dispatcher = this;
		this.#host = {
			sql: this.#sql,
			storage: ctx.storage,
			reported: this.#reported,
			env,
			get deadlineMs() {
				return dispatcher.deadlineMs;
			},
			get pollWaitMs() {
				return dispatcher.pollWaitMs;
			},
			changed: this.changed,
			subscription: (id) => subscriptionRow(this.#sql, id),
			lane: (subscriptionId, partition) => laneRow(this.#sql, subscriptionId, partition),
			disableAll: (reason) => disableAll(this.#sql, reason, Date.now()),
			logDelivery: (entry, nowMs) => {
				logDelivery(this.#sql, entry, nowMs);
				const topic = this.#topic?.topic ?? "";
				const labels = { topic, subscription: entry.subscriptionId };
				this.#metrics.count(series("tributary_webhook_deliveries_total", { ...labels, outcome: entry.outcome }), 1);
				if (entry.outcome === "dead_lettered") {
					this.#metrics.count(series("tributary_webhook_dead_letter_records_total", labels), entry.batch.recordCount);
				}
			},
		};
	}

	get #topic(): { topic: string; topicId: string } | null {
		this.#known ??=
			this.#sql.exec<{ topic: string; topicId: string }>("SELECT topic, topic_id AS topicId FROM dispatcher_state").toArray()[0] ?? null;
		return this.#known;
	}

	#remember(ref: TopicRef): void {
		const known = this.#topic;
		assert(known === null || known.topicId === ref.topicId, "one topic");
		if (known === null) this.#sql.exec("INSERT INTO dispatcher_state (id, topic, topic_id) VALUES (1, ?, ?)", ref.topic, ref.topicId);
	}

	#subscription(id: string): SubscriptionRow | null {
		return subscriptionRow(this.#sql, id);
	}

	#notFound(id: string): Result<never> {
		return err("subscription_not_found", `subscription "${id}" does not exist`, { subscription: id });
	}

	/** Where `start` is on `partition`, or on each of the topic's partitions (null). */
	async #resolveStarts(ref: TopicRef, start: StartPosition, partition: number | null = null): Promise<Result<Map<number, number>>> {
		const partitions = partition === null ? Array.from({ length: ref.partitions }, (_, p) => p) : [partition];
		const offsets = new Map<number, number>();
		const results = await Promise.all(partitions.map((p) => resolvePosition(this.env, ref.topicId, p, start)));
		for (const [i, result] of results.entries()) {
			if (!result.ok) return result;
			offsets.set(partitions[i] as number, result.value);
		}
		return ok(offsets);
	}

	async createSubscription(ref: TopicRef, input: CreateSubscription): Promise<Result<SubscriptionView>> {
		this.#remember(ref);
		const count = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM subscriptions").one().n;
		if (count >= SUBSCRIPTIONS_PER_TOPIC_MAX) {
			return err("subscription_limit_reached", `a topic may have at most ${SUBSCRIPTIONS_PER_TOPIC_MAX} subscriptions`);
		}
		const starts = await this.#resolveStarts(ref, input.start);
		if (!starts.ok) return starts;
		const id = `sub_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
		const secret = generateSecret();
		const nowMs = Date.now();
		this.ctx.storage.transactionSync(() => {
			this.#sql.exec(
				"INSERT INTO subscriptions (id, url, secret, status, start, batch_max_records, batch_max_wait_ms, max_attempts, retry_schedule_ms, filter, dead_letter_topic, created_at_ms, updated_at_ms) VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				id,
				input.url,
				secret,
				JSON.stringify(input.start),
				input.batchMaxRecords,
				input.batchMaxWaitMs,
				input.maxAttempts,
				JSON.stringify(input.retryScheduleMs),
				input.filter === null ? null : JSON.stringify(input.filter),
				deadLetterTopicName(ref.topic, id, TOPIC_NAME_LENGTH_MAX),
				nowMs,
				nowMs,
			);
			for (const [partition, offset] of starts.value) {
				this.#sql.exec("INSERT INTO lanes (subscription_id, partition, next_offset) VALUES (?, ?, ?)", id, partition, offset);
			}
		});
		this.#reported.forget();
		await this.#kick();
		return ok({ ...subscriptionView(this.#subscription(id) as SubscriptionRow, ref.topic), secret });
	}

	/** One page of the topic's subscriptions (at most `SUBSCRIPTIONS_PER_TOPIC_MAX` in all), oldest first. */
	async listSubscriptions(ref: TopicRef, page: PageRequest): Promise<Page<SubscriptionView> | Failure> {
		const rows = this.#sql
			.exec<SubscriptionRow>(
				"SELECT * FROM subscriptions WHERE (created_at_ms, id) > (?, ?) ORDER BY created_at_ms, id LIMIT ?",
				page.after?.[0] ?? -1,
				page.after?.[1] ?? "",
				page.limit + 1,
			)
			.toArray();
		const listed = pageOf(rows, page.limit, (row) => [row.created_at_ms, row.id]);
		return { items: listed.items.map((row) => subscriptionView(row, ref.topic)), next: listed.next };
	}

	async getSubscription(ref: TopicRef, id: string): Promise<Result<SubscriptionView & { partitions: LaneView[] }>> {
		const row = this.#subscription(id);
		if (row === null) return this.#notFound(id);
		const lanes = this.#sql.exec<LaneRow>("SELECT * FROM lanes WHERE subscription_id = ? ORDER BY partition", id).toArray();
		return ok({ ...subscriptionView(row, ref.topic), partitions: lanes.map(laneView) });
	}

	async updateSubscription(ref: TopicRef, id: string, patch: UpdateSubscription): Promise<Result<SubscriptionView>> {
		const row = this.#subscription(id);
		if (row === null) return this.#notFound(id);
		const nowMs = Date.now();
		const secret = patch.rotateSecret ? generateSecret() : null;
		const next: SubscriptionRow = {
			...row,
			url: patch.url ?? row.url,
			batch_max_records: patch.batchMaxRecords ?? row.batch_max_records,
			batch_max_wait_ms: patch.batchMaxWaitMs ?? row.batch_max_wait_ms,
			max_attempts: patch.maxAttempts ?? row.max_attempts,
			retry_schedule_ms: patch.retryScheduleMs === undefined ? row.retry_schedule_ms : JSON.stringify(patch.retryScheduleMs),
			filter: patch.filter === undefined ? row.filter : patch.filter === null ? null : JSON.stringify(patch.filter),
			// Resuming also re-enables a subscription that a 410 or a deleted topic disabled.
			status: patch.status ?? row.status,
			disabled_reason: patch.status === "active" ? null : row.disabled_reason,
			secret: secret ?? row.secret,
			previous_secret: secret === null ? row.previous_secret : row.secret,
			previous_secret_until_ms: secret === null ? row.previous_secret_until_ms : nowMs + WEBHOOK_SECRET_GRACE_MS,
			updated_at_ms: nowMs,
		};
		this.#sql.exec(
			"UPDATE subscriptions SET url = ?, batch_max_records = ?, batch_max_wait_ms = ?, max_attempts = ?, retry_schedule_ms = ?, filter = ?, status = ?, disabled_reason = ?, secret = ?, previous_secret = ?, previous_secret_until_ms = ?, updated_at_ms = ? WHERE id = ?",
			next.url,
			next.batch_max_records,
			next.batch_max_wait_ms,
			next.max_attempts,
			next.retry_schedule_ms,
			next.filter,
			next.status,
			next.disabled_reason,
			next.secret,
			next.previous_secret,
			next.previous_secret_until_ms,
			next.updated_at_ms,
			id,
		);
		if (patch.status === "active" && row.status !== "active") {
			// Resuming means "try now": a batch waiting out a backoff is sent at once.
			this.#sql.exec(
				"UPDATE lanes SET next_attempt_at_ms = MIN(next_attempt_at_ms, ?) WHERE subscription_id = ? AND batch_id IS NOT NULL",
				nowMs,
				id,
			);
		}
		if (next.status === "active") await this.#kick();
		else this.changed.wakeAll();
		const view = subscriptionView(next, ref.topic);
		return ok(secret === null ? view : { ...view, secret });
	}

	async deleteSubscription(id: string): Promise<Result<void>> {
		if (this.#subscription(id) === null) return this.#notFound(id);
		this.ctx.storage.transactionSync(() => {
			this.#sql.exec("DELETE FROM subscriptions WHERE id = ?", id);
			this.#sql.exec("DELETE FROM lanes WHERE subscription_id = ?", id);
			this.#sql.exec("DELETE FROM deliveries WHERE subscription_id = ?", id);
		});
		this.#reported.forget();
		this.changed.wakeAll();
		return ok(undefined);
	}

	/**
	 * Moves a subscription's lanes (all, or one partition's) back or forward to `start`. A pending batch is
	 * dropped, and an attempt in flight is ignored when it ends: the lane's epoch moved on.
	 */
	async replay(
		ref: TopicRef,
		id: string,
		start: StartPosition,
		partition: number | null,
	): Promise<Result<{ partition: number; offset: number }[]>> {
		if (this.#subscription(id) === null) return this.#notFound(id);
		const starts = await this.#resolveStarts(ref, start, partition);
		if (!starts.ok) return starts;
		if (this.#subscription(id) === null) return this.#notFound(id);
		this.ctx.storage.transactionSync(() => {
			for (const [p, offset] of starts.value) {
				this.#sql.exec(
					"INSERT INTO lanes (subscription_id, partition, next_offset) VALUES (?1, ?2, ?3) ON CONFLICT (subscription_id, partition) DO UPDATE SET next_offset = ?3, epoch = epoch + 1, batch_id = NULL, batch_first_offset = NULL, batch_last_offset = NULL, batch_next_offset = NULL, batch_record_count = NULL, batch_records = NULL, attempts = 0, next_attempt_at_ms = NULL, last_error = NULL",
					id,
					p,
					offset,
				);
			}
		});
		this.#reported.forget();
		await this.#kick();
		return ok([...starts.value].map(([p, offset]) => ({ partition: p, offset })));
	}

	async deliveries(id: string, limit: number): Promise<Result<DeliveryView[]>> {
		if (this.#subscription(id) === null) return this.#notFound(id);
		return ok(recentDeliveries(this.#sql, id, limit));
	}

	/** Starts work now: inside a running alarm, the new lanes join it; otherwise the alarm fires at once. */
	async #kick(): Promise<void> {
		this.changed.wakeAll();
		if (this.deadlineMs > Date.now()) return this.#startLanes();
		// A run's end setting its next alarm meanwhile (its watch awaited) runs at once all the same, as after a poke.
		this.#poked = true;
		await this.ctx.storage.setAlarm(Date.now());
	}

	/**
	 * A partition this object watches has grown, or the topic gained partitions: start a run. A run going reads on with
	 * its lanes and gives a partition the topic gained its lanes now; one past its deadline is followed by another.
	 */
	async poke(): Promise<undefined | Failure> {
		const topic = this.#topic;
		if (topic === null) return;
		if (this.deadlineMs > Date.now()) {
			// Read afresh: the change that poked may be newer than this isolate's copy. A registry that fails leaves the
			// lanes to the next run (flagged below): the poke's caller (a topic's PATCH) has nothing to answer for it.
			invalidate(topic.topic);
			if ((await this.#syncPartitions(topic)) && this.deadlineMs > Date.now()) return this.#startLanes();
		}
		this.#poked = true;
		if (this.#scheduling) return;
		const alarm = await this.ctx.storage.getAlarm();
		if (alarm === null || alarm > Date.now()) await this.ctx.storage.setAlarm(Date.now());
	}

	override async alarm(): Promise<void> {
		const topic = this.#topic;
		if (topic === null) return;
		this.deadlineMs = Date.now() + this.runMs;
		this.#poked = false;
		try {
			this.#laneFailed = !(await this.#syncPartitions(topic));
			this.#startLanes();
			while (this.#running.size > 0) await Promise.all([...this.#running.values()]);
		} finally {
			this.deadlineMs = 0;
			await this.#scheduleNextAlarm();
		}
	}

	/**
	 * Adds lanes for partitions the topic gained (from their start, as Kafka consumers take new partitions); false when
	 * the registry (describeTopic throws that) or this object's storage failed, logged, the lanes then going on as they
	 * are until the next run (`WEBHOOK_ERROR_RETRY_MS` later). Never throws: a run's failure flag is always this run's.
	 */
	async #syncPartitions(topic: { topic: string; topicId: string }): Promise<boolean> {
		try {
			const described = await describeTopic(this.env, topic.topic);
			if (!described.ok || described.value.topicId !== topic.topicId) {
				disableAll(this.#sql, "the topic was deleted", Date.now());
				return true;
			}
			const subscriptions = this.#sql.exec<{ id: string }>("SELECT id FROM subscriptions WHERE status = 'active'").toArray();
			let added = 0;
			for (const { id } of subscriptions) {
				for (let partition = 0; partition < described.value.partitions; partition++) {
					added += this.#sql
						.exec("INSERT OR IGNORE INTO lanes (subscription_id, partition, next_offset) VALUES (?, ?, 0) RETURNING 1", id, partition)
						.toArray().length;
				}
			}
			if (added > 0) this.#reported.forget();
			return true;
		} catch (cause) {
			console.error(`webhook dispatcher of "${topic.topic}": ${cause}`);
			return false;
		}
	}

	#startLanes(): undefined {
		const topic = this.#topic;
		if (topic === null) return;
		const lanes = this.#sql
			.exec<{ subscription_id: string; partition: number }>(
				"SELECT l.subscription_id, l.partition FROM lanes l JOIN subscriptions s ON s.id = l.subscription_id WHERE s.status = 'active'",
			)
			.toArray();
		for (const { subscription_id, partition } of lanes) {
			const key = `${subscription_id}/${partition}`;
			if (this.#running.has(key)) continue;
			const lane = new Lane(this.#host, topic, subscription_id, partition);
			const run = lane
				.run()
				.catch((cause: unknown) => {
					this.#laneFailed = true;
					console.error(
						`webhook lane ${key} of "${topic.topic}" failed: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`,
					);
				})
				.finally(() => this.#running.delete(key));
			this.#running.set(key, run);
		}
	}

	/**
	 * The next run: `WEBHOOK_ERROR_RETRY_MS` after a lane or the sync failed; at the earliest retry of a pending batch;
	 * at once if a partition is already past one of its caught-up lanes; after a back-off when a partition's watch
	 * failed; otherwise when a partition pokes, with `WEBHOOK_IDLE_RECHECK_MS` as the latest.
	 */
	async #scheduleNextAlarm(): Promise<void> {
		this.#scheduling = true;
		try {
			await this.#setNextAlarm();
		} finally {
			this.#scheduling = false;
		}
	}

	async #setNextAlarm(): Promise<void> {
		const active = "FROM lanes l JOIN subscriptions s ON s.id = l.subscription_id WHERE s.status = 'active'";
		const retryDue = this.#sql
			.exec<{ due: number | null }>(`SELECT MIN(l.next_attempt_at_ms) AS due ${active} AND l.batch_id IS NOT NULL`)
			.one().due;
		const tailing = this.#sql
			.exec<{ partition: number; from_offset: number }>(
				`SELECT l.partition, MIN(l.next_offset) AS from_offset ${active} AND l.batch_id IS NULL GROUP BY l.partition`,
			)
			.toArray();
		if (retryDue === null && tailing.length === 0) {
			// No active lane (all paused or gone): the streak goes with the lanes that made it.
			this.#endStreak();
			await this.ctx.storage.deleteAlarm();
			return;
		}
		const nowMs = Date.now();
		const lookMs = this.#laneFailed ? 0 : await this.#watchPartitions(tailing);
		const due = this.#poked ? nowMs : Math.min(retryDue ?? Number.POSITIVE_INFINITY, nowMs + lookMs);
		// The streak grows only with a back-off actually waited: a run at once (a poke, another partition behind) or a
		// retry due sooner serves none.
		if (this.#watchBackoffs !== null && lookMs > 0 && due === nowMs + lookMs)
			this.ctx.storage.kv.put(WATCH_BACKOFFS_KEY, ++this.#watchBackoffs);
		await this.ctx.storage.setAlarm(Math.max(due, nowMs + (this.#laneFailed ? WEBHOOK_ERROR_RETRY_MS : 0)));
	}

	/**
	 * Asks each partition with caught-up lanes to poke this object on its next append, and answers how soon to look
	 * again: at once if one is already past, at the idle recheck if all watch. A watch that fails (a partition
	 * unreachable or overloaded, or one that answers for another topic) cannot poke: look again after a back-off that
	 * doubles while the failures last, so a persistent one is not retried in a loop; logged once a streak.
	 */
	async #watchPartitions(tailing: readonly { partition: number; from_offset: number }[]): Promise<number> {
		const topic = this.#topic;
		if (topic === null) return WEBHOOK_IDLE_RECHECK_MS;
		// No lane tails (each retries a batch): no watch is asked, so none fails: the streak ends, as when all answer.
		const answers = await Promise.all(
			tailing.map(({ partition, from_offset }) =>
				partitionLog(this.env, topic.topicId, partition)
					.watchAppends(topic.topicId, topic.topicId, from_offset)
					.catch((cause: unknown) => err("partition_unavailable", String(cause))),
			),
		);
		const failed = answers.find((answer) => !answer.ok);
		if (!failed) this.#endStreak();
		else if (this.#watchBackoffs === null) {
			this.#watchBackoffs = 0;
			console.error(`webhook dispatcher of "${topic.topic}": watch failed: ${failed.error.message}`);
		}
		if (answers.some((answer) => answer.ok && answer.value.behind)) return 0;
		return failed
			? Math.min(WEBHOOK_ERROR_RETRY_MS * 2 ** (this.#watchBackoffs ?? 0), WEBHOOK_WATCH_RETRY_MS_MAX)
			: WEBHOOK_IDLE_RECHECK_MS;
	}

	/** No watch fails (or none is asked): the streak ends, its stored back-offs with it. */
	#endStreak(): void {
		if (this.#watchBackoffs) this.ctx.storage.kv.delete(WATCH_BACKOFFS_KEY);
		this.#watchBackoffs = null;
	}
}

// Storage failing (or a bug) in any of them is answered a failure Result, not a rejection crossing RPC.
settleEach(WebhookDispatcher, [
	"createSubscription",
	"listSubscriptions",
	"getSubscription",
	"updateSubscription",
	"deleteSubscription",
	"replay",
	"deliveries",
	"poke",
]);
