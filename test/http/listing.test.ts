/**
 * Listings page with a cursor: `GET /v1/topics`, `/v1/groups`, `/v1/keys` and a topic's subscriptions answer at most
 * `limit` items (at most LIST_PAGE_LIMIT_MAX) and a `next_cursor` that continues after the last, null at the end.
 */

import { afterAll, describe, expect, it } from "vitest";
import { LIST_PAGE_LIMIT_MAX } from "../../src/shared/limits.ts";
import { join } from "../support/group.ts";
import { createKey } from "../support/keys.ts";
import { uniqueGroup, uniqueTopic } from "../support/names.ts";
import { useReceiver } from "../support/webhook-receiver.ts";
import { call, createTopic, expectError, json } from "../support/worker.ts";

useReceiver();

interface Listing {
	next_cursor: string | null;
	[items: string]: unknown;
}

/** Every page of `path` at `limit`, following next_cursor; the items of `field`, by `idOf`, and the page count. */
async function allPages(path: string, field: string, limit: number, idOf: (item: Record<string, unknown>) => string) {
	const ids: string[] = [];
	let cursor: string | null = null;
	let pages = 0;
	do {
		const query: string = `limit=${limit}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
		const page: Listing = await json<Listing>("GET", `${path}?${query}`, 200);
		const items = page[field] as Record<string, unknown>[];
		expect(items.length).toBeLessThanOrEqual(limit);
		ids.push(...items.map(idOf));
		cursor = page.next_cursor;
		pages++;
		expect(pages).toBeLessThan(1_000);
	} while (cursor !== null);
	return { ids, pages };
}

/** The listing without a limit: one page (all these tests list fewer than the page limit) and no next cursor. */
async function onePage(path: string, field: string, idOf: (item: Record<string, unknown>) => string) {
	const page = await json<Listing>("GET", path, 200);
	expect(page.next_cursor).toBeNull();
	return (page[field] as Record<string, unknown>[]).map(idOf);
}

const topicsToDelete: string[] = [];
afterAll(async () => {
	for (const topic of topicsToDelete) await call("DELETE", `/v1/topics/${topic}`);
});

/** Each test creates several objects one request after another: give a busy machine time. */
describe("listings page with a cursor", { timeout: 30_000 }, () => {
	it("pages GET /v1/topics by name, every topic once, in order", async () => {
		for (let i = 0; i < 5; i++) await createTopic(uniqueTopic("list"));
		const whole = await onePage("/v1/topics", "topics", (t) => t.name as string);
		expect(whole.length).toBeGreaterThanOrEqual(5);
		expect([...whole].sort()).toEqual(whole);
		const paged = await allPages("/v1/topics", "topics", 2, (t) => t.name as string);
		expect(paged.ids).toEqual(whole);
		// The last page is known as such: no empty page after it.
		expect(paged.pages).toBe(Math.ceil(whole.length / 2));
	});

	it("pages GET /v1/keys oldest first", async () => {
		for (let i = 0; i < 4; i++) await createKey([{ resource: "topic:*", operations: ["describe"] }], undefined, `list-${i}`);
		const whole = await onePage("/v1/keys", "keys", (k) => k.id as string);
		expect(whole.length).toBeGreaterThanOrEqual(4);
		expect((await allPages("/v1/keys", "keys", 3, (k) => k.id as string)).ids).toEqual(whole);
		expect((await allPages("/v1/keys", "keys", 1, (k) => k.id as string)).ids).toEqual(whole);
	});

	it("pages GET /v1/groups by id", async () => {
		const topic = uniqueTopic("list-groups");
		await createTopic(topic);
		topicsToDelete.push(topic);
		for (let i = 0; i < 3; i++) await join(uniqueGroup("list"), { topics: [topic] });
		const whole = await onePage("/v1/groups", "groups", (g) => g.group as string);
		expect(whole.length).toBeGreaterThanOrEqual(3);
		expect((await allPages("/v1/groups", "groups", 2, (g) => g.group as string)).ids).toEqual(whole);
	});

	it("pages a topic's webhook subscriptions oldest first", async () => {
		const topic = uniqueTopic("list-subs");
		await createTopic(topic);
		topicsToDelete.push(topic);
		const created: string[] = [];
		for (let i = 0; i < 3; i++) {
			const body = { url: `https://receiver.test/list/${i}` };
			created.push((await json<{ id: string }>("POST", `/v1/topics/${topic}/subscriptions`, 201, { body })).id);
		}
		const path = `/v1/topics/${topic}/subscriptions`;
		expect(await onePage(path, "subscriptions", (s) => s.id as string)).toEqual(created);
		expect((await allPages(path, "subscriptions", 2, (s) => s.id as string)).ids).toEqual(created);
	});

	it("refuses a cursor it did not answer and a limit below 1; lowers a limit above the page limit", async () => {
		await expectError("GET", "/v1/topics?cursor=not-a-cursor!", 400, "invalid_request");
		// A well-formed cursor of another listing's shape (a key cursor is [time, id]) is not a topic cursor.
		const keys = await json<Listing>("GET", "/v1/keys?limit=1", 200);
		expect(keys.next_cursor).not.toBeNull();
		await expectError("GET", `/v1/topics?cursor=${keys.next_cursor}`, 400, "invalid_request");
		await expectError("GET", "/v1/groups?limit=0", 400, "invalid_request");
		await expectError("GET", "/v1/keys?limit=-1", 400, "invalid_request");
		const capped = await json<Listing>("GET", `/v1/topics?limit=${LIST_PAGE_LIMIT_MAX * 10}`, 200);
		expect(capped.next_cursor).toBeNull();
	});
});
