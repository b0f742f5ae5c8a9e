/**
 * What a key may see through the Upstash mount's admin calls (its routes' entries in the route table are checked
 * with every other mount's in test/http/route-table.test.ts).
 */
import { describe, expect, it } from "vitest";
import { basic, createKey } from "../support/keys.ts";
import { uniqueTopic } from "../support/names.ts";
import { ADMIN_TOKEN, call, createTopic, json } from "../support/worker.ts";

describe("what a key sees through the admin calls", () => {
	it("consumers and committed need describe on the group; listings show only what the key may describe", async () => {
		const topic = uniqueTopic("perm");
		await createTopic(topic, 1);
		const group = `perm-${crypto.randomUUID().slice(0, 8)}`;
		const hidden = `hidden-${crypto.randomUUID().slice(0, 8)}`;
		const admin = basic("admin", ADMIN_TOKEN);
		for (const g of [group, hidden]) {
			await json("POST", `/upstash/consume/${g}/i1`, 200, { token: null, headers: admin, body: { topic, timeout: 0 } });
		}
		const key = await createKey([
			{ resource: `topic:${topic}`, operations: ["describe"] },
			{ resource: `group:${group}`, operations: ["describe"] },
		]);
		const auth = { token: null, headers: basic(key.id, key.secret) };
		const consumers = await json<{ name: string }[]>("GET", "/upstash/consumers", 200, auth);
		expect(consumers.map((g) => g.name)).toContain(group);
		expect(consumers.map((g) => g.name)).not.toContain(hidden);
		await json("POST", `/upstash/committed/${group}/i1`, 200, { ...auth, body: [{ topic, partition: 0 }] });
		const refused = await call("POST", `/upstash/committed/${hidden}/i1`, { ...auth, body: [{ topic, partition: 0 }] });
		expect(refused.status).toBe(403);
		// Describing is not consuming.
		expect((await call("POST", `/upstash/consume/${group}/i2`, { ...auth, body: { topic, timeout: 0 } })).status).toBe(403);
	});
});
