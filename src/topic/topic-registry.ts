/**
 * @module
 * `TopicRegistry`: one Durable Object (named "global") holding every topic's name, partition count and config.
 * It is off the produce and fetch paths: the edge caches what it says for `TOPIC_CACHE_TTL_MS`, and a partition
 * that was deleted or is behind on config tells the edge, which then asks again.
 */

import { MetricsReporter } from "../metrics/reporter.ts";
import { assert } from "../shared/assert.ts";
import { DurableObject } from "../shared/durable-object.ts";
import { err, type Failure, ok, type Result, settleEach, topicNotFound, unsettled } from "../shared/errors.ts";
import { CLEANUP_RETRY_MS, PARTITIONS_MAX, TOPICS_MAX } from "../shared/limits.ts";
import { type Page, type PageRequest, pageOf } from "../shared/page.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import { partitionLog } from "../shared/stubs.ts";
import { applyConfigChanges, DEFAULT_TOPIC_CONFIG, storedConfig } from "../shared/topic-config.ts";
import { REGISTRY_DDL, REGISTRY_SCHEMA_VERSION, REGISTRY_UPGRADES } from "./schema.ts";
import {
	type CreateTopicRequest,
	LOCATION_HINTS,
	type LocationHint,
	type ProducerIdentity,
	type TopicMeta,
	type UpdateTopicRequest,
} from "./types.ts";

interface TopicRow extends Record<string, SqlStorageValue> {
	name: string;
	topic_id: string;
	partitions: number;
	config: string;
	config_version: number;
	created_at_ms: number;
	location_hint: LocationHint | null;
}

function toMeta(row: TopicRow): TopicMeta {
	return {
		name: row.name,
		topicId: row.topic_id,
		partitions: row.partitions,
		config: storedConfig(row.config),
		configVersion: row.config_version,
		createdAtMs: row.created_at_ms,
		locationHint: row.location_hint,
	};
}

export class TopicRegistry extends DurableObject<Env> {
	readonly #sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		// Meters every statement from here on, for the storage rows and bytes /metrics shows per class.
		new MetricsReporter(env, ctx, "TopicRegistry", () => ({ gauges: {} }));
		this.#sql = ctx.storage.sql;
		migrateSchema(ctx.storage, REGISTRY_SCHEMA_VERSION, REGISTRY_DDL, REGISTRY_UPGRADES);
	}

	/**
	 * Creates the topic. With a location hint, its partitions' objects are created here, with the hint (it counts
	 * only when an object is first created), and configured; without, they are created when first used.
	 */
	async createTopic(request: CreateTopicRequest): Promise<Result<TopicMeta>> {
		const config = applyConfigChanges(DEFAULT_TOPIC_CONFIG, request.config);
		if (!config.ok) return config;
		if (this.find(request.name) !== null) return err("topic_exists", `topic "${request.name}" already exists`, { topic: request.name });
		const count = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM topics").one().n;
		if (count >= TOPICS_MAX) return err("topic_limit_reached", `at most ${TOPICS_MAX} topics may exist`);
		assert(request.partitions >= 1 && request.partitions <= PARTITIONS_MAX, "partitions checked");
		const row: TopicRow = {
			name: request.name,
			topic_id: crypto.randomUUID(),
			partitions: request.partitions,
			config: JSON.stringify(config.value),
			config_version: 1,
			created_at_ms: Date.now(),
			location_hint: request.locationHint ?? null,
		};
		assert(row.location_hint === null || LOCATION_HINTS.includes(row.location_hint), "hint checked");
		this.#sql.exec(
			"INSERT INTO topics (name, topic_id, partitions, config, config_version, created_at_ms, location_hint) VALUES (?, ?, ?, ?, ?, ?, ?)",
			row.name,
			row.topic_id,
			row.partitions,
			row.config,
			row.config_version,
			row.created_at_ms,
			row.location_hint,
		);
		const meta = toMeta(row);
		if (meta.locationHint !== null) await this.#configurePartitions(meta, 0);
		return ok(meta);
	}

	/**
	 * Pushes the topic's config to its partitions from `from` on, obtaining each with the topic's location hint.
	 * Answers whether every push was taken (an append also carries the config version to a partition behind).
	 */
	async #configurePartitions(meta: TopicMeta, from: number): Promise<boolean> {
		const pushes = await Promise.allSettled(
			Array.from({ length: meta.partitions - from }, (_, i) =>
				partitionLog(this.env, meta.topicId, from + i, meta.locationHint)
					.configure({
						topic: meta.name,
						topicId: meta.topicId,
						partition: from + i,
						configVersion: meta.configVersion,
						config: meta.config,
					})
					.then(unsettled),
			),
		);
		// A partition whose call failed (its storage, answered as a Result) did not take the push, as when it rejected.
		return pushes.every((p) => p.status === "fulfilled");
	}

	/**
	 * Pushes config version `meta.configVersion` to every partition, and marks the topic pushed once all took it;
	 * otherwise the alarm pushes again.
	 */
	async #pushConfig(meta: TopicMeta): Promise<void> {
		if (await this.#configurePartitions(meta, 0)) {
			this.#sql.exec("UPDATE topics SET config_pushed = 1 WHERE topic_id = ? AND config_version = ?", meta.topicId, meta.configVersion);
		} else {
			console.error(`registry: config of "${meta.name}" not taken by every partition; again in ${CLEANUP_RETRY_MS} ms`);
			await this.ctx.storage.setAlarm(Date.now() + CLEANUP_RETRY_MS);
		}
	}

	async getTopic(name: string): Promise<Result<TopicMeta>> {
		const row = this.find(name);
		return row === null ? topicNotFound(name) : ok(toMeta(row));
	}

	/** Every topic, by name: at most `TOPICS_MAX` (for pattern subscriptions and the compatibility mounts). */
	async listTopics(): Promise<Result<TopicMeta[]>> {
		return ok(this.#sql.exec<TopicRow>("SELECT * FROM topics ORDER BY name").toArray().map(toMeta));
	}

	/** One page of topics by name, after `page.after` (a seek on the primary key). */
	async listTopicsPage(page: PageRequest): Promise<Result<Page<TopicMeta>>> {
		const after = page.after?.[0];
		const rows =
			after === undefined
				? this.#sql.exec<TopicRow>("SELECT * FROM topics ORDER BY name LIMIT ?", page.limit + 1)
				: this.#sql.exec<TopicRow>("SELECT * FROM topics WHERE name > ? ORDER BY name LIMIT ?", after, page.limit + 1);
		return ok(pageOf(rows.toArray().map(toMeta), page.limit, (meta) => [meta.name]));
	}

	/**
	 * Grows partitions and/or changes config, then pushes the new config to every partition so lifecycle work
	 * (retention, offload) sees it without waiting for the next append.
	 */
	async updateTopic(name: string, request: UpdateTopicRequest): Promise<Result<TopicMeta>> {
		const row = this.find(name);
		if (row === null) return topicNotFound(name);
		const config = applyConfigChanges(storedConfig(row.config), request.config);
		if (!config.ok) return config;
		const partitions = request.partitions ?? row.partitions;
		if (partitions < row.partitions) {
			return err("invalid_partitions", `partitions may only grow: "${name}" has ${row.partitions}`, { partitions: row.partitions });
		}
		if (request.partitionsMustGrow === true && partitions === row.partitions) {
			return err("invalid_partitions", `Topic already has ${row.partitions} partitions.`, { partitions: row.partitions });
		}
		assert(partitions <= PARTITIONS_MAX, "partitions checked");
		if (storedConfig(row.config)["remote.storage.enable"] && !config.value["remote.storage.enable"]) {
			const refused = await this.#refuseRemoteOff(toMeta(row));
			if (refused !== null) return refused;
			// The awaits let other changes in: decide again on the topic as it is now.
			if (this.find(name)?.config_version !== row.config_version) return this.updateTopic(name, request);
		}
		const next: TopicRow = { ...row, partitions, config: JSON.stringify(config.value), config_version: row.config_version + 1 };
		this.#sql.exec(
			"UPDATE topics SET partitions = ?, config = ?, config_version = ?, config_pushed = 0 WHERE name = ?",
			next.partitions,
			next.config,
			next.config_version,
			name,
		);
		const meta = toMeta(next);
		await this.#pushConfig(meta);
		return ok(meta);
	}

	/**
	 * Remote storage may not be turned off while a partition holds segments in R2, as Kafka 3.6 to 3.8 refuse it
	 * (KIP-405); KIP-950's `remote.log.delete.on.disable` is not offered. An offload committed after this check, by a
	 * partition that had none, leaves its segments readable and dropped by retention as before.
	 */
	async #refuseRemoteOff(meta: TopicMeta): Promise<Failure | null> {
		try {
			const offsets = await Promise.all(
				Array.from({ length: meta.partitions }, (_, i) => partitionLog(this.env, meta.topicId, i, meta.locationHint).offsets()),
			);
			const held = offsets.filter((o) => o.remoteBytes > 0).length;
			if (held === 0) return null;
			const message = `"remote.storage.enable" cannot be turned off while ${held} of ${meta.partitions} partitions hold segments in remote storage`;
			return err("invalid_config", message, { config: "remote.storage.enable" });
		} catch (cause) {
			console.error(`registry: a partition of "${meta.name}" did not say whether it holds remote segments: ${String(cause)}`);
			return err("unavailable", `a partition of "${meta.name}" did not answer; retry`);
		}
	}

	/**
	 * Removes the topic and wipes its partitions before answering; wipes that fail are retried by the alarm. `topicId`:
	 * only that topic, not one made at the same name since (a drop decided on what a caller found earlier).
	 */
	async deleteTopic(name: string, topicId?: string): Promise<Result<void>> {
		const row = this.find(name);
		if (row === null || (topicId !== undefined && row.topic_id !== topicId)) {
			return topicNotFound(name);
		}
		this.ctx.storage.transactionSync(() => {
			this.#sql.exec("DELETE FROM topics WHERE name = ?", name);
			for (let partition = 0; partition < row.partitions; partition++) {
				this.#sql.exec("INSERT OR IGNORE INTO pending_deletions (topic_id, partition) VALUES (?, ?)", row.topic_id, partition);
			}
		});
		await this.#wipePending();
		return ok(undefined);
	}

	/**
	 * A producer id and epoch. Anonymous producers get a new id each time and leave no row (serverless callers may
	 * create one per invocation); a named one keeps its id and gets the next epoch, fencing whoever held the
	 * previous one.
	 */
	async initProducer(transactionalId: string | null): Promise<Result<ProducerIdentity>> {
		const nowMs = Date.now();
		if (transactionalId !== null) {
			const bumped = this.#sql
				.exec<{ producer_id: number; epoch: number }>(
					"UPDATE producers SET epoch = epoch + 1, updated_at_ms = ? WHERE transactional_id = ? RETURNING producer_id, epoch",
					nowMs,
					transactionalId,
				)
				.toArray()[0];
			if (bumped !== undefined) return ok({ producerId: bumped.producer_id, epoch: bumped.epoch });
		}
		const producerId = this.#sql
			.exec<{ last_issued: number }>("UPDATE producer_ids SET last_issued = last_issued + 1 WHERE id = 1 RETURNING last_issued")
			.one().last_issued;
		if (transactionalId !== null) {
			this.#sql.exec(
				"INSERT INTO producers (producer_id, transactional_id, epoch, updated_at_ms) VALUES (?, ?, 0, ?)",
				producerId,
				transactionalId,
				nowMs,
			);
		}
		return ok({ producerId, epoch: 0 });
	}

	async getProducer(producerId: number): Promise<Result<ProducerIdentity>> {
		const row = this.#sql.exec<{ epoch: number }>("SELECT epoch FROM producers WHERE producer_id = ?", producerId).toArray()[0];
		if (row !== undefined) return ok({ producerId, epoch: row.epoch });
		// Every named producer has a row, so an issued id without one is an anonymous producer's.
		const lastIssued = this.#sql.exec<{ last_issued: number }>("SELECT last_issued FROM producer_ids WHERE id = 1").one().last_issued;
		if (Number.isSafeInteger(producerId) && producerId >= 1 && producerId <= lastIssued) return ok({ producerId, epoch: 0 });
		return err("unknown_producer", `producer ${producerId} does not exist`, { producer_id: producerId });
	}

	override async alarm(): Promise<void> {
		await this.#wipePending();
		for (const row of this.#sql.exec<TopicRow>("SELECT * FROM topics WHERE config_pushed = 0").toArray())
			await this.#pushConfig(toMeta(row));
	}

	async #wipePending(): Promise<void> {
		const pending = this.#sql.exec<{ topic_id: string; partition: number }>("SELECT topic_id, partition FROM pending_deletions").toArray();
		const results = await Promise.allSettled(
			pending.map(async ({ topic_id, partition }) => {
				unsettled(await partitionLog(this.env, topic_id, partition).destroy(topic_id));
				this.#sql.exec("DELETE FROM pending_deletions WHERE topic_id = ? AND partition = ?", topic_id, partition);
			}),
		);
		const failed = results.filter((r) => r.status === "rejected");
		if (failed.length > 0) {
			console.error(`registry: ${failed.length} partition wipes failed; retrying in ${CLEANUP_RETRY_MS} ms`);
			await this.ctx.storage.setAlarm(Date.now() + CLEANUP_RETRY_MS);
		}
	}

	private find(name: string): TopicRow | null {
		return this.#sql.exec<TopicRow>("SELECT * FROM topics WHERE name = ?", name).toArray()[0] ?? null;
	}
}

// Storage failing (or a bug) in any of them is answered a failure Result, not a rejection crossing RPC.
settleEach(TopicRegistry, [
	"createTopic",
	"getTopic",
	"listTopics",
	"listTopicsPage",
	"updateTopic",
	"deleteTopic",
	"initProducer",
	"getProducer",
]);
