/**
 * Producer ids in the topic registry: every init hands out a new id (never one handed out before), a named producer
 * keeps its id and bumps its epoch, and only named producers take a row. Anonymous producers are what serverless
 * callers create, often one per invocation: a row each would grow the one registry object without bound.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { unwrap } from "../../src/shared/errors.ts";
import { topicRegistry } from "../../src/shared/stubs.ts";
import { TopicRegistry } from "../../src/topic/topic-registry.ts";

const registry = () => topicRegistry(env);
const initProducer = async (transactionalId: string | null) => unwrap(await registry().initProducer(transactionalId));

function producerRows(state: DurableObjectState): number {
	return state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM producers").one().n;
}

describe("producer ids", () => {
	it("gives anonymous producers new ids without a row each, and knows every id it gave", async () => {
		const rowsBefore = await runInDurableObject(registry(), (_: TopicRegistry, state) => producerRows(state));
		const ids: number[] = [];
		for (let i = 0; i < 20; i++) {
			const identity = await initProducer(null);
			expect(identity.epoch).toBe(0);
			ids.push(identity.producerId);
		}
		expect(new Set(ids).size).toBe(ids.length);
		expect([...ids].sort((a, b) => a - b)).toEqual(ids);
		expect(await runInDurableObject(registry(), (_: TopicRegistry, state) => producerRows(state))).toBe(rowsBefore);
		for (const id of ids) expect(await registry().getProducer(id)).toEqual({ ok: true, value: { producerId: id, epoch: 0 } });
		const beyond = (ids.at(-1) as number) + 1;
		const unknown = await registry().getProducer(beyond);
		expect(unknown.ok).toBe(false);
		if (!unknown.ok) expect(unknown.error.code).toBe("unknown_producer");
		expect((await registry().getProducer(0)).ok).toBe(false);
		expect((await registry().getProducer(-1)).ok).toBe(false);
	});

	it("never hands an id out twice across named and anonymous producers, also after a restart", async () => {
		const name = `tx-${crypto.randomUUID()}`;
		const anonymous = await initProducer(null);
		const named = await initProducer(name);
		const again = await initProducer(null);
		expect(named.producerId).toBeGreaterThan(anonymous.producerId);
		expect(again.producerId).toBeGreaterThan(named.producerId);
		const bumped = await initProducer(name);
		expect(bumped).toEqual({ producerId: named.producerId, epoch: named.epoch + 1 });
		expect(await registry().getProducer(named.producerId)).toEqual({ ok: true, value: bumped });
		await abortAllDurableObjects();
		const afterRestart = await initProducer(null);
		expect(afterRestart.producerId).toBeGreaterThan(bumped.producerId);
		expect(await registry().getProducer(again.producerId)).toEqual({ ok: true, value: { producerId: again.producerId, epoch: 0 } });
	});

	it("upgrades a registry that kept a row per anonymous producer: the rows go, their ids stay valid", async () => {
		const name = `tx-${crypto.randomUUID()}`;
		const named = await initProducer(name);
		const highest = await runInDurableObject(registry(), (_: TopicRegistry, state) => {
			const sql = state.storage.sql;
			// The registry as it was before anonymous producers stopped taking rows.
			sql.exec("DROP TABLE producer_ids");
			sql.exec("ALTER TABLE topics DROP COLUMN config_pushed");
			const base = sql.exec<{ n: number }>("SELECT max(producer_id) AS n FROM producers").one().n;
			for (let i = 1; i <= 3; i++) {
				sql.exec("INSERT INTO producers (producer_id, transactional_id, epoch, updated_at_ms) VALUES (?, NULL, 0, 0)", base + i);
			}
			sql.exec("UPDATE schema_version SET version = 2");
			new TopicRegistry(state, env);
			expect(sql.exec("SELECT count(*) AS n FROM producers WHERE transactional_id IS NULL").one().n).toBe(0);
			expect(sql.exec("SELECT count(*) AS n FROM producers WHERE transactional_id = ?", name).one().n).toBe(1);
			return base + 3;
		});
		await abortAllDurableObjects();
		for (const id of [highest - 2, highest])
			expect(await registry().getProducer(id)).toEqual({ ok: true, value: { producerId: id, epoch: 0 } });
		expect(await registry().getProducer(named.producerId)).toEqual({ ok: true, value: named });
		expect((await registry().getProducer(highest + 1)).ok).toBe(false);
		expect((await initProducer(null)).producerId).toBe(highest + 1);
	});
});
