/**
 * @module
 * `GroupDirectory`: one Durable Object (named "global") that knows which consumer groups exist, for
 * `GET /v1/groups`. Coordinators publish a summary after every membership change; a summary carries the group's
 * generation, so one that arrives late never overwrites a newer one. It is off every member's hot path: only a
 * group's first join (admission, where the group limit is enforced) waits on it.
 */

import { MetricsReporter } from "../metrics/reporter.ts";
import { DurableObject } from "../shared/durable-object.ts";
import { err, type Failure, ok, type Result, settleEach } from "../shared/errors.ts";
import { GROUP_TOMBSTONE_MS, GROUPS_MAX } from "../shared/limits.ts";
import { type Page, type PageRequest, pageOf } from "../shared/page.ts";
import { migrateSchema } from "../shared/sqlite-schema.ts";
import { DIRECTORY_DDL, DIRECTORY_SCHEMA_VERSION } from "./schema.ts";
import type { GroupState, GroupSummary } from "./types.ts";

interface GroupRow extends Record<string, SqlStorageValue> {
	group_id: string;
	state: GroupState;
	members: number;
	generation: number;
}

function toSummary(row: GroupRow): GroupSummary {
	return { group: row.group_id, state: row.state, members: row.members, generation: row.generation };
}

export class GroupDirectory extends DurableObject<Env> {
	readonly #sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		// Meters every statement from here on, for the storage rows and bytes /metrics shows per class.
		new MetricsReporter(env, ctx, "GroupDirectory", () => ({ gauges: {} }));
		this.#sql = ctx.storage.sql;
		migrateSchema(ctx.storage, DIRECTORY_SCHEMA_VERSION, DIRECTORY_DDL);
	}

	/** Lets a new group in, unless `GROUPS_MAX` live groups exist. Idempotent for a group already listed. */
	async admit(groupId: string, generation: number): Promise<Result<void>> {
		const now = Date.now();
		this.#sql.exec("DELETE FROM groups WHERE state = 'dead' AND updated_at_ms < ?", now - GROUP_TOMBSTONE_MS);
		const row = this.#sql.exec<GroupRow>("SELECT * FROM groups WHERE group_id = ?", groupId).toArray()[0];
		if (row !== undefined && row.state !== "dead") return ok(undefined);
		const live = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM groups WHERE state != 'dead'").one().n;
		if (live >= GROUPS_MAX)
			return err("group_limit_reached", `at most ${GROUPS_MAX} consumer groups may exist`, { max_groups: GROUPS_MAX });
		this.#upsert({ group: groupId, state: "empty", members: 0, generation: Math.max(generation, row?.generation ?? 0) }, now);
		return ok(undefined);
	}

	/** Records a coordinator's summary unless a newer generation is already recorded. */
	async publish(summary: GroupSummary): Promise<Result<void>> {
		this.#upsert(summary, Date.now());
		return ok(undefined);
	}

	/** Live groups by name (at most `GROUPS_MAX`). */
	async list(): Promise<GroupSummary[] | Failure> {
		return this.#sql
			.exec<GroupRow>("SELECT * FROM groups WHERE state != 'dead' ORDER BY group_id LIMIT ?", GROUPS_MAX)
			.toArray()
			.map(toSummary);
	}

	/** One page of live groups by name, after `page.after` (a seek on the primary key). */
	async listPage(page: PageRequest): Promise<Page<GroupSummary> | Failure> {
		const after = page.after?.[0] ?? "";
		const rows = this.#sql
			.exec<GroupRow>("SELECT * FROM groups WHERE group_id > ? AND state != 'dead' ORDER BY group_id LIMIT ?", after, page.limit + 1)
			.toArray()
			.map(toSummary);
		return pageOf(rows, page.limit, (summary) => [summary.group]);
	}

	#upsert(summary: GroupSummary, nowMs: number): void {
		this.#sql.exec(
			"INSERT INTO groups (group_id, state, members, generation, updated_at_ms) VALUES (?, ?, ?, ?, ?) " +
				"ON CONFLICT (group_id) DO UPDATE SET state = excluded.state, members = excluded.members, generation = excluded.generation, " +
				"updated_at_ms = excluded.updated_at_ms WHERE excluded.generation >= groups.generation",
			summary.group,
			summary.state,
			summary.members,
			summary.generation,
			nowMs,
		);
	}
}

// Storage failing (or a bug) in any of them is answered a failure Result, not a rejection crossing RPC.
settleEach(GroupDirectory, ["admit", "publish", "list", "listPage"]);
