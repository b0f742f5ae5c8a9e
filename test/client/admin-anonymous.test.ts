/**
 * The SDK's `anonymous.get`, `anonymous.set` and `anonymous.update` against the real Worker (inside workerd): what a
 * request without credentials may do, read, replaced whole (ACL and quotas at once) or changed in part (a merge
 * patch: quotas one by one, the ACL whole), or one ACL entry granted or revoked (read, edited, written If-Match the
 * grant read, again on a 412); an emptied ACL closes public access again, and `close` empties it If-Match the grant read
 * (an entry granted meanwhile refused as an `AclConflict`);
 * refusals are `TributaryError`s carrying the API's code and message.
 */

import { describe, expect, it } from "vitest";
import { ACL_CHANGE_ATTEMPTS } from "../../client/anonymous.ts";
import { AclConflict, preconditionRetry, Tributary, TributaryError } from "../../client/index.ts";
import { anonymousClosedAroundEach } from "../support/anonymous.ts";
import { uniqueTopic } from "../support/names.ts";
import { wiredClient } from "../support/sdk.ts";
import { ADMIN_TOKEN, BASE, call, createTopic, json, sized, workerFetch } from "../support/worker.ts";

const isAnonymous = (r: { path: string }) => r.path === "/v1/anonymous";

describe("SDK anonymous", { timeout: 20_000 }, () => {
	anonymousClosedAroundEach();

	it("reads and replaces anonymous's grant; an empty ACL closes public access again", async () => {
		const topic = uniqueTopic("public");
		await createTopic(topic, 1);
		const records = `/v1/topics/${topic}/partitions/0/records`;
		const { client, sent } = wiredClient();
		expect(await client.anonymous.get()).toEqual({ acl: [], quotas: {} });

		const grant = { acl: [{ resource: `topic:${topic}`, operations: ["consume"] }], quotas: { requests_per_sec: 100 } };
		expect(await client.anonymous.set(grant)).toEqual(grant);
		expect(await client.anonymous.get()).toEqual(grant);
		expect((await call("GET", records, { token: null })).status).toBe(200);

		expect(await client.anonymous.set({ acl: [], quotas: grant.quotas })).toEqual({ acl: [], quotas: grant.quotas });
		expect((await call("GET", records, { token: null })).status).toBe(401);
		expect(sent.filter(isAnonymous).map((r) => r.method)).toEqual(["GET", "PUT", "GET", "PUT"]);
	});

	it("sends a replacement again when its answer is lost (it is idempotent)", async () => {
		const { client, sent, dropAnswer } = wiredClient();
		dropAnswer((r) => isAnonymous(r) && r.method === "PUT");
		const grant = { acl: [{ resource: "topic:news.*", operations: ["consume", "describe"] }], quotas: {} };
		expect(await client.anonymous.set(grant)).toEqual(grant);
		expect(sent.filter(isAnonymous)).toHaveLength(2);
	});

	it("changes part of the grant (a PATCH): quotas one by one, the ACL whole when given; another admin's change is kept", async () => {
		const { client, sent } = wiredClient();
		const news = { resource: "topic:news.*", operations: ["consume"] };
		await client.anonymous.set({ acl: [news], quotas: { requests_per_sec: 100 } });
		const changed = await client.anonymous.update({ quotas: { fetch_bytes_per_sec: 4096, requests_per_sec: null } });
		expect(changed).toEqual({ acl: [news], quotas: { fetch_bytes_per_sec: 4096 } });
		// Another admin sets a produce quota; this client's next change, of the ACL alone, keeps it.
		await json("PATCH", "/v1/anonymous", 200, { body: { quotas: { produce_bytes_per_sec: 1000 } } });
		const closed = await client.anonymous.update({ acl: [] });
		expect(closed).toEqual({ acl: [], quotas: { fetch_bytes_per_sec: 4096, produce_bytes_per_sec: 1000 } });
		expect(await client.anonymous.get()).toEqual(closed);
		const patches = sent.filter((r) => isAnonymous(r) && r.method === "PATCH");
		expect(patches.map((r) => JSON.parse(r.body))).toEqual([
			{ quotas: { fetch_bytes_per_sec: 4096, requests_per_sec: null } },
			{ acl: [] },
		]);
	});

	it("sends a change again when its answer is lost (the same patch twice leaves the same grant)", async () => {
		const { client, sent, dropAnswer } = wiredClient();
		dropAnswer((r) => isAnonymous(r) && r.method === "PATCH");
		expect(await client.anonymous.update({ quotas: { requests_per_sec: 7 } })).toEqual({ acl: [], quotas: { requests_per_sec: 7 } });
		expect(sent.filter((r) => isAnonymous(r) && r.method === "PATCH")).toHaveLength(2);
	});

	it("refuses what the API refuses, in its words, and changes nothing", async () => {
		const { client } = wiredClient();
		const refused = await client.anonymous.set({ acl: [{ resource: "everything", operations: ["consume"] }] }).catch((e: unknown) => e);
		expect(refused).toBeInstanceOf(TributaryError);
		const answer = await call("PUT", "/v1/anonymous", { body: { acl: [{ resource: "everything", operations: ["consume"] }] } });
		const { error } = (await answer.json()) as { error: { code: string; message: string } };
		expect(refused).toMatchObject({ code: error.code, status: 400, message: error.message });
		expect(await client.anonymous.get()).toEqual({ acl: [], quotas: {} });
	});

	it("answers each grant's ETag, and changes it with ifMatch only while it is still that grant: a 412 is precondition_failed", async () => {
		const { client } = wiredClient();
		const news = { resource: "topic:news.*", operations: ["consume"] };
		const weather = { resource: "topic:weather", operations: ["describe"] };
		const read = await client.anonymous.get();
		expect(read, "the grant's shape is unchanged").toEqual({ acl: [], quotas: {} });
		const tag = client.anonymous.etagOf(read);
		expect(tag).toBe((await call("GET", "/v1/anonymous")).headers.get("ETag"));
		const set = await client.anonymous.set({ acl: [news] }, { ifMatch: tag });
		expect(set).toEqual({ acl: [news], quotas: {} });
		const setTag = client.anonymous.etagOf(set);
		expect(setTag, "a write answers the new grant's tag").toBe((await call("GET", "/v1/anonymous")).headers.get("ETag"));
		expect(setTag).not.toBe(tag);

		// Another admin's change between this client's read and its write: the write is refused, the change kept.
		await json("PATCH", "/v1/anonymous", 200, { body: { acl: [news, weather] } });
		const refused = await client.anonymous.update({ acl: [] }, { ifMatch: setTag }).catch((e: unknown) => e);
		expect(refused).toBeInstanceOf(TributaryError);
		expect(refused).toMatchObject({ code: "precondition_failed", status: 412, retriable: false });
		expect(await client.anonymous.get()).toEqual({ acl: [news, weather], quotas: {} });
		const again = await client.anonymous.get();
		expect(await client.anonymous.update({ acl: [news] }, { ifMatch: client.anonymous.etagOf(again) })).toEqual({
			acl: [news],
			quotas: {},
		});
		expect(client.anonymous.etagOf({ acl: [news], quotas: {} }), "only a grant this client was answered has a tag").toBeUndefined();
	});

	it("sends a conditional change again when its answer is lost: the repeat finds it in force; its 412 is thrown as the lost answer", async () => {
		const { client, sent, dropAnswer, beforeServing } = wiredClient();
		const isPatch = (r: { method: string; path: string }) => isAnonymous(r) && r.method === "PATCH";
		dropAnswer(isPatch);
		const updated = await client.anonymous.update(
			{ quotas: { requests_per_sec: 7 } },
			{ ifMatch: client.anonymous.etagOf(await client.anonymous.get()) },
		);
		expect(sent.filter(isPatch), "sent again").toHaveLength(2);
		expect(updated).toEqual({ acl: [], quotas: { requests_per_sec: 7 } });
		expect(client.anonymous.etagOf(updated)).toBe((await call("GET", "/v1/anonymous")).headers.get("ETag"));

		// Another admin's change of a quota the replacement leaves out lands before its repeat: the grant is then neither
		// the one read nor the replacement. The first may have landed (it had), so no precondition_failed.
		const isPut = (r: { method: string; path: string }) => isAnonymous(r) && r.method === "PUT";
		dropAnswer(isPut);
		let puts = 0;
		beforeServing(
			(r) => isPut(r) && ++puts === 2,
			() => json("PATCH", "/v1/anonymous", 200, { body: { quotas: { fetch_bytes_per_sec: 4096 } } }),
		);
		const unknown = await client.anonymous
			.set({ acl: [], quotas: { requests_per_sec: 8 } }, { ifMatch: client.anonymous.etagOf(updated) })
			.catch((e: unknown) => e);
		expect(sent.filter(isPut)).toHaveLength(2);
		expect(unknown).toMatchObject({ code: "network_error", status: 0, cause: { code: "precondition_failed", status: 412 } });
		expect(preconditionRetry(unknown, 1)).toBe(false);
		expect(await client.anonymous.get(), "it had landed").toEqual({ acl: [], quotas: { requests_per_sec: 8, fetch_bytes_per_sec: 4096 } });
	});

	it("grants operations on one resource: added to its entry, or a new entry; what is granted already writes nothing", async () => {
		const { client, sent } = wiredClient();
		const news = { resource: "topic:news.*", operations: ["consume"] };
		await client.anonymous.set({ acl: [news], quotas: { requests_per_sec: 100 } });
		const patches = () => sent.filter((r) => isAnonymous(r) && r.method === "PATCH").map((r) => JSON.parse(r.body));

		const added = await client.anonymous.grant({ resource: "topic:weather", operations: ["describe", "describe"] });
		const weather = { resource: "topic:weather", operations: ["describe"] };
		expect(added).toEqual({ acl: [news, weather], quotas: { requests_per_sec: 100 } });
		const widened = await client.anonymous.grant({ resource: "topic:news.*", operations: ["describe", "consume"] });
		expect(widened.acl, "the entry of that resource gains what it lacked").toEqual([
			{ resource: "topic:news.*", operations: ["consume", "describe"] },
			weather,
		]);
		expect(client.anonymous.etagOf(widened)).toBe((await call("GET", "/v1/anonymous")).headers.get("ETag"));
		expect(patches()).toEqual([{ acl: [news, weather] }, { acl: [widened.acl[0], weather] }]);

		const same = await client.anonymous.grant({ resource: "topic:weather", operations: ["describe"] });
		expect(same).toEqual(widened);
		expect(patches(), "granting what is there writes nothing").toHaveLength(2);
		const empty = await client.anonymous.grant({ resource: "topic:x", operations: [] }).catch((e: unknown) => e);
		expect(empty).toMatchObject({ code: "invalid_argument" });
		expect(await client.anonymous.get()).toEqual(widened);
	});

	it("revokes the operations named, or the whole entry; an entry left with none goes; what is not there writes nothing", async () => {
		const { client, sent } = wiredClient();
		const news = { resource: "topic:news.*", operations: ["consume", "describe"] };
		const weather = { resource: "topic:weather", operations: ["describe"] };
		const sports = { resource: "group:sports", operations: ["consume"] };
		await client.anonymous.set({ acl: [news, weather, sports] });
		const patches = () => sent.filter((r) => isAnonymous(r) && r.method === "PATCH").map((r) => JSON.parse(r.body));

		const narrowed = await client.anonymous.revoke({ resource: "topic:news.*", operations: ["describe", "produce"] });
		expect(narrowed.acl).toEqual([{ resource: "topic:news.*", operations: ["consume"] }, weather, sports]);
		expect((await client.anonymous.revoke({ resource: "topic:weather", operations: ["describe"] })).acl).toEqual([narrowed.acl[0], sports]);
		const left = await client.anonymous.revoke({ resource: "group:sports" });
		expect(left).toEqual({ acl: [narrowed.acl[0]], quotas: {} });
		expect(patches()).toHaveLength(3);

		expect(await client.anonymous.revoke({ resource: "topic:weather" })).toEqual(left);
		expect(await client.anonymous.revoke({ resource: "topic:news.*", operations: ["admin"] })).toEqual(left);
		expect(patches(), "revoking what is not there writes nothing").toHaveLength(3);
		const empty = await client.anonymous.revoke({ resource: "topic:news.*", operations: [] }).catch((e: unknown) => e);
		expect(empty).toMatchObject({ code: "invalid_argument" });
		expect(await client.anonymous.get()).toEqual(left);
	});

	it("removes one entry exactly (a console row's Remove), where revoke takes a right from every entry of its resource", async () => {
		const { client, sent } = wiredClient();
		const row = { resource: "topic:x", operations: ["consume"] };
		const other = { resource: "topic:x", operations: ["consume", "produce"] };
		await client.anonymous.set({ acl: [row, other] });
		expect((await client.anonymous.removeEntry({ resource: "topic:x", operations: ["consume"] })).acl).toEqual([other]);
		const patches = () => sent.filter((r) => isAnonymous(r) && r.method === "PATCH");
		expect(await client.anonymous.removeEntry(row), "an entry not there writes nothing").toEqual({ acl: [other], quotas: {} });
		expect(patches()).toHaveLength(1);
		// The same operations in another order are the same entry.
		expect((await client.anonymous.removeEntry({ resource: "topic:x", operations: ["produce", "consume"] })).acl).toEqual([]);
		await client.anonymous.set({ acl: [row, other] });
		expect((await client.anonymous.revoke(row)).acl).toEqual([{ resource: "topic:x", operations: ["produce"] }]);
	});

	it("keeps another admin's change made between its read and its write: the write is refused (412), read again and made again", async () => {
		const { client, sent, beforeServing } = wiredClient();
		const news = { resource: "topic:news.*", operations: ["consume"] };
		const weather = { resource: "topic:weather", operations: ["describe"] };
		await client.anonymous.set({ acl: [news] });
		let others = 0;
		beforeServing(
			(r) => isAnonymous(r) && r.method === "PATCH" && others === 0,
			() => {
				others++;
				return json("PATCH", "/v1/anonymous", 200, { body: { acl: [news, weather], quotas: { requests_per_sec: 9 } } });
			},
		);
		const sports = { resource: "topic:sports", operations: ["consume"] };
		expect(await client.anonymous.grant(sports)).toEqual({ acl: [news, weather, sports], quotas: { requests_per_sec: 9 } });
		const writes = sent.filter((r) => isAnonymous(r) && r.method !== "GET" && r.method !== "PUT");
		expect(writes.map((r) => JSON.parse(r.body))).toEqual([{ acl: [news, sports] }, { acl: [news, weather, sports] }]);

		// The same for a revocation: another admin's entry, added as the revocation's write left, is kept.
		others = 0;
		beforeServing(
			(r) => isAnonymous(r) && r.method === "PATCH" && others === 0,
			async () => {
				others++;
				await client.anonymous.update({ acl: [news, weather, sports, { resource: "cluster", operations: ["describe"] }] });
			},
		);
		expect((await client.anonymous.revoke({ resource: "topic:weather" })).acl).toEqual([
			news,
			sports,
			{ resource: "cluster", operations: ["describe"] },
		]);
	});

	it("grants or revokes once when a write's answer is lost: sent again, it is found in force, and what landed is not written twice", async () => {
		const { client, sent, dropAnswer } = wiredClient();
		const news = { resource: "topic:news.*", operations: ["consume"] };
		const sports = { resource: "topic:sports", operations: ["consume"] };
		await client.anonymous.set({ acl: [news] });
		dropAnswer((r) => isAnonymous(r) && r.method === "PATCH");
		expect(await client.anonymous.grant(sports)).toEqual({ acl: [news, sports], quotas: {} });
		dropAnswer((r) => isAnonymous(r) && r.method === "PATCH");
		expect(await client.anonymous.revoke({ resource: "topic:news.*" })).toEqual({ acl: [sports], quotas: {} });
		// Each change sent again after its lost answer, If-Match the grant read: the repeat finds it in force and writes nothing.
		const writes = sent.filter((r) => isAnonymous(r) && r.method === "PATCH");
		expect(writes.map((r) => JSON.parse(r.body))).toEqual([
			{ acl: [news, sports] },
			{ acl: [news, sports] },
			{ acl: [sports] },
			{ acl: [sports] },
		]);
	});

	it("closes public access If-Match the grant read: an entry granted meanwhile is an AclConflict naming it, nothing removed; any other change is kept and the close sent again", async () => {
		const { client, sent, beforeServing } = wiredClient();
		const news = { resource: "topic:news.*", operations: ["consume"] };
		const late = { resource: "topic:late", operations: ["produce"] };
		await client.anonymous.set({ acl: [news], quotas: { requests_per_sec: 100 } });
		const shown = await client.anonymous.get();
		let others = 0;
		beforeServing(
			(r) => isAnonymous(r) && r.method === "PATCH" && others === 0,
			() => {
				others++;
				return json("PATCH", "/v1/anonymous", 200, { body: { acl: [news, late] } });
			},
		);
		const refused = await client.anonymous.close(shown).catch((e: unknown) => e);
		expect(refused).toBeInstanceOf(AclConflict);
		expect(refused).toMatchObject({
			code: "precondition_failed",
			status: 412,
			added: [late],
			removed: [],
			changes: "added produce on topic:late",
		});
		expect(await client.anonymous.get()).toEqual({ acl: [news, late], quotas: { requests_per_sec: 100 } });

		// A quota changed and an entry removed meanwhile add none: kept, and the close is sent again If-Match the grant read.
		others = 0;
		beforeServing(
			(r) => isAnonymous(r) && r.method === "PATCH" && others === 0,
			() => {
				others++;
				return json("PATCH", "/v1/anonymous", 200, { body: { acl: [news], quotas: { requests_per_sec: 7 } } });
			},
		);
		const before = sent.length;
		expect(await client.anonymous.close()).toEqual({ acl: [], quotas: { requests_per_sec: 7 } });
		expect(sent.slice(before).map((r) => r.method)).toEqual(["GET", "PATCH", "GET", "PATCH"]);
		// Closed already by another admin meanwhile: the close finds its change in force, answered 200 (RFC 9110 §13.1.1),
		// nothing read or sent again.
		await client.anonymous.update({ acl: [news] });
		beforeServing(
			(r) => isAnonymous(r) && r.method === "PATCH" && others === 1,
			() => {
				others++;
				return json("PATCH", "/v1/anonymous", 200, { body: { acl: [] } });
			},
		);
		const from = sent.length;
		expect(await client.anonymous.close()).toEqual({ acl: [], quotas: { requests_per_sec: 7 } });
		expect(sent.slice(from).map((r) => r.method)).toEqual(["GET", "PATCH"]);
	});

	it("close() whose answer was lost reads the grant again and answers what is true: closed, or an AclConflict saying its close may have landed", async () => {
		const { client, sent, dropAnswer, beforeServing } = wiredClient();
		const news = { resource: "topic:news.*", operations: ["consume"] };
		const late = { resource: "topic:late", operations: ["produce"] };
		const isPatch = (r: { path: string; method: string }) => isAnonymous(r) && r.method === "PATCH";
		/** The close lands, its answer is lost, and another admin's `change` lands before the SDK's repeat (refused 412). */
		const lostThen = (change: unknown) => {
			dropAnswer(isPatch);
			let patches = 0;
			beforeServing(isPatch, async () => {
				if (++patches === 2) await json("PATCH", "/v1/anonymous", 200, { body: change });
			});
		};
		// Another admin granted a narrower entry after the close landed (no operation added): closed again, and answered.
		const wide = { resource: news.resource, operations: ["consume", "describe"] };
		await client.anonymous.set({ acl: [wide], quotas: {} });
		lostThen({ acl: [news] });
		expect(await client.anonymous.close().catch((e: unknown) => `threw ${String(e)}`)).toEqual({ acl: [], quotas: {} });
		// Another admin granted an entry after the close landed: not removed unseen, and not said never closed.
		await client.anonymous.set({ acl: [news], quotas: {} });
		lostThen({ acl: [late] });
		sent.length = 0;
		const refused = await client.anonymous.close().catch((e: unknown) => e);
		expect(refused).toBeInstanceOf(AclConflict);
		expect(refused).toMatchObject({
			code: "precondition_failed",
			added: [late],
			removed: [news],
			answerLost: true,
			message:
				"another admin changed the ACL since it was read: added produce on topic:late, and removed consume on topic:news.*; public access is open to it now: this close's answer was lost, so it may have closed public access before that change",
		});
		expect(sent.filter(isAnonymous).map((r) => r.method)).toEqual(["GET", "PATCH", "PATCH", "GET"]);
		expect(await client.anonymous.get()).toEqual({ acl: [late], quotas: {} });
	});

	it("close() answered a failure that proves nothing was done (a 429, a 503 unavailable) throws it: no re-read, no 'may have landed'", async () => {
		const late = { resource: "topic:late", operations: ["produce"] };
		for (const [status, code] of [
			[503, "unavailable"],
			[429, "quota_exceeded"],
		] as const) {
			await json("PUT", "/v1/anonymous", 200, { body: { acl: [{ resource: "topic:news.*", operations: ["consume"] }], quotas: {} } });
			const methods: string[] = [];
			const fetcher = async (request: Request): Promise<Response> => {
				methods.push(request.method);
				if (request.method !== "PATCH") return workerFetch(request);
				// Refused before it ran, while another admin grants an entry: the close never landed.
				await json("PATCH", "/v1/anonymous", 200, { body: { acl: [late] } });
				return Response.json({ error: { code, message: "refused before running", retriable: true } }, { status });
			};
			const client = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch: fetcher, retries: 0 });
			const thrown = await client.anonymous.close().catch((e: unknown) => e);
			expect(thrown, `${status} ${code}`).toBeInstanceOf(TributaryError);
			expect(thrown).not.toBeInstanceOf(AclConflict);
			expect(thrown).toMatchObject({ code, status });
			expect(methods).toEqual(["GET", "PATCH"]);
		}
	});

	it("gives up after ACL_CHANGE_ATTEMPTS refusals with the 412, each attempt made to the grant read again", async () => {
		const { client, sent, beforeServing } = wiredClient();
		let others = 0;
		beforeServing(
			(r) => isAnonymous(r) && r.method === "PATCH",
			() => json("PATCH", "/v1/anonymous", 200, { body: { quotas: { requests_per_sec: ++others } } }),
		);
		const refused = await client.anonymous.grant({ resource: "topic:news.*", operations: ["consume"] }).catch((e: unknown) => e);
		expect(refused).toBeInstanceOf(TributaryError);
		expect(refused).toMatchObject({ code: "precondition_failed", status: 412 });
		const anonymous = sent.filter(isAnonymous);
		expect(anonymous.map((r) => r.method)).toEqual(Array.from({ length: ACL_CHANGE_ATTEMPTS }, () => ["GET", "PATCH"]).flat());
		expect(others).toBe(ACL_CHANGE_ATTEMPTS);
		expect(await client.anonymous.get()).toEqual({ acl: [], quotas: { requests_per_sec: ACL_CHANGE_ATTEMPTS } });
	});

	it("close() reading a grant answered without an ETag (an older Worker) is the server's unexpected_response, as grant's; a grant the caller read without one is invalid_argument", async () => {
		// The real Worker behind a transport that drops the ETag header, as a Worker from before grant tags answers.
		const untagged = new Tributary({
			url: BASE,
			token: ADMIN_TOKEN,
			fetch: async (request: Request) => {
				const body = request.method === "GET" ? null : await request.clone().text();
				const answer = await workerFetch(body === null ? request : sized(request, body));
				const headers = new Headers(answer.headers);
				headers.delete("ETag");
				return new Response(answer.body, { status: answer.status, headers });
			},
		});
		await untagged.anonymous.set({ acl: [{ resource: "topic:news.*", operations: ["consume"] }] });
		const noTag = { code: "unexpected_response", message: expect.stringMatching(/^GET \/v1\/anonymous answered no ETag: /) };
		expect(await untagged.anonymous.grant({ resource: "topic:late", operations: ["produce"] }).catch((e: unknown) => e)).toMatchObject(
			noTag,
		);
		expect(await untagged.anonymous.close().catch((e: unknown) => e)).toMatchObject(noTag);
		const read = await untagged.anonymous.get();
		expect(await untagged.anonymous.close(read).catch((e: unknown) => e)).toMatchObject({ code: "invalid_argument" });
		expect(await json("GET", "/v1/anonymous", 200), "nothing written").toMatchObject({
			acl: [{ resource: "topic:news.*", operations: ["consume"] }],
		});
	});

	it("closes over an entry another admin only re-ordered or narrowed (no operation added); one widened is an AclConflict naming only the operation added", async () => {
		const { client, beforeServing } = wiredClient();
		const news = { resource: "topic:news.*", operations: ["consume", "describe"] };
		/** Another admin's change, landing after the close read the grant and before its first write. */
		const meanwhile = (acl: { resource: string; operations: string[] }[]) => {
			let landed = false;
			beforeServing(
				(r) => isAnonymous(r) && r.method === "PATCH" && !landed,
				() => {
					landed = true;
					return json("PATCH", "/v1/anonymous", 200, { body: { acl } });
				},
			);
		};
		for (const operations of [["describe", "consume"], ["consume"]]) {
			await client.anonymous.set({ acl: [news] });
			meanwhile([{ resource: news.resource, operations }]);
			expect(await client.anonymous.close(), operations.join()).toEqual({ acl: [], quotas: {} });
		}
		await client.anonymous.set({ acl: [news] });
		meanwhile([{ resource: news.resource, operations: ["describe", "produce", "consume"] }]);
		expect(await client.anonymous.close().catch((e: unknown) => e)).toMatchObject({
			code: "precondition_failed",
			added: [{ resource: news.resource, operations: ["produce"] }],
			removed: [],
			changes: "added produce on topic:news.*",
		});
	});

	it("close() gives up after ACL_CHANGE_ATTEMPTS refusals with the 412, another admin's quota change landing before each write", async () => {
		const { client, sent, beforeServing } = wiredClient();
		await client.anonymous.set({ acl: [{ resource: "topic:news.*", operations: ["consume"] }] });
		let others = 0;
		beforeServing(
			(r) => isAnonymous(r) && r.method === "PATCH",
			() => json("PATCH", "/v1/anonymous", 200, { body: { quotas: { requests_per_sec: ++others } } }),
		);
		sent.length = 0;
		const refused = await client.anonymous.close().catch((e: unknown) => e);
		expect(refused).toMatchObject({ code: "precondition_failed", status: 412 });
		expect(sent.filter((r) => isAnonymous(r) && r.method === "PATCH")).toHaveLength(ACL_CHANGE_ATTEMPTS);
		expect(others).toBe(ACL_CHANGE_ATTEMPTS);
	});
	it("reads the grant again after a write answered a bug's 500 (not retriable, yet it may have landed): a close that landed answers the grant closed, a grant that landed its grant", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [{ resource: "topic:news.*", operations: ["consume"] }], quotas: {} } });
		const landedThen500 = async (request: Request): Promise<Response> => {
			if (request.method !== "PATCH") return workerFetch(request);
			await workerFetch(request);
			return Response.json({ error: { code: "internal", message: "internal error", retriable: false, request_id: "r" } }, { status: 500 });
		};
		const client = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch: landedThen500, retries: 0 });
		const closed = await client.anonymous.close().catch((e: unknown) => `threw ${String(e)}`);
		expect(closed).toEqual({ acl: [], quotas: {} });
		const entry = { resource: "topic:news.*", operations: ["consume"] };
		const granted = await client.anonymous.grant(entry).catch((e: unknown) => `threw ${String(e)}`);
		expect(granted).toEqual({ acl: [entry], quotas: {} });
	});

	it("reads the grant again after a write served and answered with a body not the API's (unexpected_response: it may have landed), as after a lost answer", async () => {
		await json("PUT", "/v1/anonymous", 200, { body: { acl: [{ resource: "topic:news.*", operations: ["consume"] }], quotas: {} } });
		const landedUnreadable = async (request: Request): Promise<Response> => {
			if (request.method !== "PATCH") return workerFetch(request);
			await workerFetch(request);
			// A proxy's page in place of the Worker's answer: served, but unreadable.
			return new Response("<html>ok</html>", { status: 200 });
		};
		const client = new Tributary({ url: BASE, token: ADMIN_TOKEN, fetch: landedUnreadable, retries: 0 });
		const closed = await client.anonymous.close().catch((e: unknown) => `threw ${String(e)}`);
		expect(closed).toEqual({ acl: [], quotas: {} });
		const entry = { resource: "topic:news.*", operations: ["consume"] };
		const granted = await client.anonymous.grant(entry).catch((e: unknown) => `threw ${String(e)}`);
		expect(granted).toEqual({ acl: [entry], quotas: {} });
	});
});

describe("SDK preconditionRetry", () => {
	it("is a 412 while attempts remain: the last attempt's 412, and any other error, are the caller's to throw", () => {
		const refused = new TributaryError("precondition_failed", "the grant changed", { status: 412 });
		const attempts = Array.from({ length: ACL_CHANGE_ATTEMPTS }, (_, i) => preconditionRetry(refused, i + 1));
		expect(attempts).toEqual([...Array.from({ length: ACL_CHANGE_ATTEMPTS - 1 }, () => true), false]);
		expect(preconditionRetry(new TributaryError("unavailable", "try later", { retriable: true }), 1)).toBe(false);
		expect(preconditionRetry(new Error("precondition_failed"), 1)).toBe(false);
	});
});
