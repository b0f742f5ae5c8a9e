// @ts-check
/**
 * The console's Anonymous access page, in a real Chromium against a real `wrangler dev`: consume granted on a topic
 * pattern from the page makes the topic readable with no credentials at all, a bad pattern is refused in the API's
 * own words, quotas set from the page are anonymous's over HTTP, an entry is removed, and closing public access from
 * the page makes a credential-less read a 401 again. A key without admin on the cluster gets the page's refusal. Each
 * change from the page is a PATCH naming only what it changes, so another admin's change landing after the page read
 * the grant (made here as the page's write leaves) is kept; closing public access is refused, and says why, when
 * another admin changed the ACL since the page showed it.
 * Apart from console.test.mjs, whose steps build on each other: this one needs only a topic.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { generateToken, startWranglerDev, stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { launchBrowser, shoot } from "./lib/browser.mjs";
import { client } from "./lib/client.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const state = tempDir("console-anonymous");
/** @type {import("../../scripts/lib/wrangler-dev.mjs").WranglerDev} */
let dev;
/** @type {ReturnType<typeof client>} */
let api;
/** @type {string} */
let token;
/** @type {Awaited<ReturnType<typeof launchBrowser>>} */
let browser;
/** @type {import("playwright-core").Page} */
let page;

before(async () => {
	token = generateToken();
	dev = await startWranglerDev({ persistTo: state.path, token });
	api = client(dev.url, token);
	browser = await launchBrowser();
	page = await browser.context.newPage();
	await signIn(page, token);
});

after(async () => {
	await browser?.close();
	await stopAllWranglerDevs();
	state.remove();
});

/**
 * Signs `into` in with `secret` and waits for the Topics page.
 * @param {import("playwright-core").Page} into
 * @param {string} secret
 */
async function signIn(into, secret) {
	await into.goto(`${dev.url}/console/`);
	await into.getByLabel("Access token").fill(secret);
	await into.getByRole("button", { name: "Sign in" }).click();
	await into.getByRole("heading", { level: 1, name: "Topics" }).waitFor();
}

/** A read of `news.sports` with no credentials at all: its status, and the values it answered. */
async function readWithoutCredentials() {
	const { status, json } = await api.request("GET", "/v1/topics/news.sports/partitions/0/records", { auth: false });
	return { status, values: status === 200 ? json.records.map((/** @type {{ value: unknown }} */ r) => r.value) : [] };
}

/**
 * Fills the grant form's one rule and submits it.
 * @param {string} resource
 * @param {string[]} operations
 */
async function grant(resource, operations) {
	const form = page.getByRole("form", { name: "Grant anonymous access" });
	await form.getByLabel("Resource").fill(resource);
	for (const op of operations) await form.getByRole("group", { name: "Operations of rule 1" }).getByLabel(op).check();
	await form.getByRole("button", { name: "Grant" }).click();
	return form;
}

test("public access is granted, refused in the API's words, metered and closed from the Anonymous access page", async () => {
	await api.createTopic("news.sports", 1);
	await api.produce("news.sports", [{ value: { score: "2-1" } }]);
	assert.deepEqual(await readWithoutCredentials(), { status: 401, values: [] });

	await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Anonymous access" }).click();
	await page.getByRole("heading", { level: 1, name: "Anonymous access" }).waitFor();
	const entries = page.getByRole("region", { name: "ACL", exact: true });
	await entries.getByText("no access").waitFor();

	// A pattern the API does not take: its 400, word for word, and nothing granted.
	const form = await grant("everything", ["consume"]);
	const refused = form.getByRole("alert");
	await refused.waitFor();
	const answer = await api.expect(400, "PUT", "/v1/anonymous", { body: { acl: [{ resource: "everything", operations: ["consume"] }] } });
	assert.equal(await refused.textContent(), `Error: ${answer.error.message}`, "the API's own words");
	assert.deepEqual(await api.expect(200, "GET", "/v1/anonymous"), { acl: [], quotas: {} });

	await grant("topic:news.*", ["consume"]);
	await form.getByText("Granted consume on topic:news.*").waitFor();
	const table = entries.getByRole("table", { name: "Anonymous access" });
	await table.getByRole("row").filter({ hasText: "topic:news.*" }).getByText("consume").waitFor();
	assert.deepEqual(await api.expect(200, "GET", "/v1/anonymous"), {
		acl: [{ resource: "topic:news.*", operations: ["consume"] }],
		quotas: {},
	});
	assert.deepEqual(await readWithoutCredentials(), { status: 200, values: [{ score: "2-1" }] }, "public now");

	// Quotas through the keys page's form: same fields, the ACL kept.
	await page.getByRole("button", { name: "Edit quotas of anonymous" }).click();
	const quotas = page.getByRole("form", { name: "Quotas of anonymous" });
	await quotas.getByLabel("Requests per second").fill("100");
	await quotas.getByLabel("Fetch bytes per second").fill("0");
	await quotas.getByRole("button", { name: "Save quotas" }).click();
	const tooLow = quotas.getByRole("alert");
	await tooLow.waitFor();
	const lowAnswer = await api.expect(400, "PUT", "/v1/anonymous", { body: { acl: [], quotas: { fetch_bytes_per_sec: 0 } } });
	assert.equal(await tooLow.textContent(), `Error: ${lowAnswer.error.message}`);
	await quotas.getByLabel("Fetch bytes per second").fill("");
	await quotas.getByRole("button", { name: "Save quotas" }).click();
	await quotas.getByText("Quotas of anonymous saved: 100 requests/s").waitFor();
	assert.deepEqual(await api.expect(200, "GET", "/v1/anonymous"), {
		acl: [{ resource: "topic:news.*", operations: ["consume"] }],
		quotas: { requests_per_sec: 100 },
	});
	await page.getByRole("region", { name: "Quotas", exact: true }).getByText("100 requests/s").waitFor();

	// Another admin adds a fetch quota while the form is open: saving the form changes only the field changed in it.
	await api.expect(200, "PUT", "/v1/anonymous", {
		body: { acl: [{ resource: "topic:news.*", operations: ["consume"] }], quotas: { requests_per_sec: 100, fetch_bytes_per_sec: 4096 } },
	});
	await quotas.getByLabel("Produce bytes per second").fill("2048");
	await quotas.getByRole("button", { name: "Save quotas" }).click();
	await quotas.getByText("Quotas of anonymous saved: produce 2.0 KiB/s").waitFor();
	assert.deepEqual((await api.expect(200, "GET", "/v1/anonymous")).quotas, {
		requests_per_sec: 100,
		fetch_bytes_per_sec: 4096,
		produce_bytes_per_sec: 2048,
	});
	// The form now shows them as stored; emptying two removes those two.
	assert.equal(await quotas.getByLabel("Fetch bytes per second").inputValue(), "4096");
	await quotas.getByLabel("Fetch bytes per second").fill("");
	await quotas.getByLabel("Produce bytes per second").fill("");
	await quotas.getByRole("button", { name: "Save quotas" }).click();
	await quotas.getByText("Quotas of anonymous saved: 100 requests/s.").waitFor();

	// A second entry, then removed: only the first is left, quotas untouched.
	await grant("topic:weather", ["describe", "consume"]);
	await table.getByRole("row").filter({ hasText: "topic:weather" }).waitFor();
	await shoot(page, "19-anonymous-access");
	await table.getByRole("button", { name: "Remove topic:weather" }).click();
	await table.getByRole("row").filter({ hasText: "topic:weather" }).waitFor({ state: "detached" });
	assert.deepEqual(await api.expect(200, "GET", "/v1/anonymous"), {
		acl: [{ resource: "topic:news.*", operations: ["consume"] }],
		quotas: { requests_per_sec: 100 },
	});

	// Closing asks first; then the ACL is empty and a credential-less read is refused again.
	await page.getByRole("button", { name: "Close public access" }).click();
	await page.getByRole("dialog").getByRole("button", { name: "Close public access" }).click();
	await entries.getByText("no access").waitFor();
	assert.deepEqual(await api.expect(200, "GET", "/v1/anonymous"), { acl: [], quotas: { requests_per_sec: 100 } });
	assert.deepEqual(await readWithoutCredentials(), { status: 401, values: [] }, "closed again");
	await shoot(page, "20-anonymous-closed");
});

test("a key without admin on the cluster has no Anonymous access link, and the page refuses it", async () => {
	const key = await api.expect(201, "POST", "/v1/keys", {
		body: { name: "reader", acl: [{ resource: "topic:news.*", operations: ["consume", "describe"] }] },
	});
	const other = await browser.context.newPage();
	try {
		await signIn(other, key.secret);
		assert.equal(await other.getByRole("link", { name: "Anonymous access" }).count(), 0);
		await other.goto(`${dev.url}/console/#/anonymous`);
		await other.getByRole("heading", { level: 1, name: "Anonymous access" }).waitFor();
		await other
			.getByRole("alert")
			.getByText("Managing anonymous access needs the admin token or a key with admin on the cluster.")
			.waitFor();
		await api.expect(403, "GET", "/v1/anonymous", { headers: { Authorization: `Bearer ${key.secret}` }, auth: false });
	} finally {
		await other.close();
	}
});

test("another admin's change made while the page saves is kept: the page sends only what it changes", async () => {
	const news = { resource: "topic:news.*", operations: ["consume"] };
	await api.expect(200, "PUT", "/v1/anonymous", { body: { acl: [news], quotas: { requests_per_sec: 100 } } });
	/**
	 * Another admin's change, made as the page's next write leaves: after the page last read the grant, before its
	 * write lands. That window is where a read-and-replace loses the other change.
	 * @type {null | (() => Promise<unknown>)}
	 */
	let meanwhile = null;
	/** @type {{ method: string, body: unknown, ifMatch: string | undefined }[]} */
	const writes = [];
	await page.route("**/v1/anonymous", async (route) => {
		const request = route.request();
		if (request.method() !== "GET") {
			writes.push({ method: request.method(), body: request.postDataJSON(), ifMatch: (await request.allHeaders())["if-match"] });
			const change = meanwhile;
			meanwhile = null;
			await change?.();
		}
		await route.continue();
	});
	/** @param {unknown} quotas */
	const otherAdmin = (quotas) => () => api.expect(200, "PATCH", "/v1/anonymous", { body: { quotas } });
	/** Another admin's ACL change: `edit` of the ACL as stored then. @param {(acl: unknown[]) => unknown[]} edit */
	const otherAdminAcl = (edit) => async () => {
		const { acl } = await api.expect(200, "GET", "/v1/anonymous");
		await api.expect(200, "PATCH", "/v1/anonymous", { body: { acl: edit(acl) } });
	};
	try {
		await page.goto(`${dev.url}/console/#/topics`);
		await page.getByRole("heading", { level: 1, name: "Topics" }).waitFor();
		await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Anonymous access" }).click();
		const quotaRegion = page.getByRole("region", { name: "Quotas", exact: true });
		await quotaRegion.getByText("100 requests/s").waitFor();

		// The page saves a produce quota while another admin adds a fetch quota: both are kept.
		meanwhile = otherAdmin({ fetch_bytes_per_sec: 4096 });
		await page.getByRole("button", { name: "Edit quotas of anonymous" }).click();
		const quotas = page.getByRole("form", { name: "Quotas of anonymous" });
		await quotas.getByLabel("Produce bytes per second").fill("2048");
		await quotas.getByRole("button", { name: "Save quotas" }).click();
		await quotas.getByText(/Quotas of anonymous saved/).waitFor();
		const bothQuotas = { requests_per_sec: 100, fetch_bytes_per_sec: 4096, produce_bytes_per_sec: 2048 };
		assert.deepEqual(await api.expect(200, "GET", "/v1/anonymous"), { acl: [news], quotas: bothQuotas });
		await quotaRegion.getByText("fetch 4.0 KiB/s").waitFor();

		// The page changes the fetch quota while another admin changes that same quota: the page's value, chosen from the
		// 4096 it showed, would overwrite the other admin's silently. Nothing is saved; the form says so and shows the
		// quota as stored, and a second save, made on what it now shows, lands.
		meanwhile = otherAdmin({ fetch_bytes_per_sec: 8192 });
		await quotas.getByLabel("Fetch bytes per second").fill("1024");
		await quotas.getByRole("button", { name: "Save quotas" }).click();
		await quotas
			.getByRole("alert")
			.getByText("Another admin changed Fetch bytes per second to 8192 since this form showed 4096: nothing was saved.", { exact: false })
			.waitFor();
		assert.equal((await api.expect(200, "GET", "/v1/anonymous")).quotas.fetch_bytes_per_sec, 8192, "the other admin's quota is kept");
		assert.equal(await quotas.getByLabel("Fetch bytes per second").inputValue(), "8192", "the form shows the quota as stored");
		await quotaRegion.getByText("fetch 8.0 KiB/s").waitFor();
		await quotas.getByLabel("Fetch bytes per second").fill("4096");
		await quotas.getByRole("button", { name: "Save quotas" }).click();
		await quotas.getByText("Quotas of anonymous saved: produce 2.0 KiB/s · fetch 4.0 KiB/s · 100 requests/s.").waitFor();
		assert.deepEqual(await api.expect(200, "GET", "/v1/anonymous"), { acl: [news], quotas: bothQuotas });

		// The page grants an entry while another admin removes a quota: the removal is kept.
		meanwhile = otherAdmin({ requests_per_sec: null });
		const weather = { resource: "topic:weather", operations: ["describe"] };
		const form = await grant(weather.resource, weather.operations);
		await form.getByText("Granted describe on topic:weather").waitFor();
		const { requests_per_sec: _, ...withoutRequests } = bothQuotas;
		assert.deepEqual(await api.expect(200, "GET", "/v1/anonymous"), { acl: [news, weather], quotas: withoutRequests });

		// Public access is closed while another admin sets a quota: the close, sent If-Match the grant the page showed, is
		// refused (412); the ACL read again is still the one shown, so the close is sent again, and the quota is kept.
		meanwhile = otherAdmin({ requests_per_sec: 50 });
		await page.getByRole("button", { name: "Close public access" }).click();
		await page.getByRole("dialog").getByRole("button", { name: "Close public access" }).click();
		await page.getByRole("region", { name: "ACL", exact: true }).getByText("no access").waitFor();
		assert.deepEqual(await api.expect(200, "GET", "/v1/anonymous"), { acl: [], quotas: { ...withoutRequests, requests_per_sec: 50 } });

		// The page grants an entry while another admin grants one: the page's write, sent If-Match the grant it edited,
		// is refused (412); the page reads the grant again and adds its entry to it, so both entries are kept.
		const sports = { resource: "topic:sports", operations: ["consume"] };
		const scores = { resource: "topic:scores", operations: ["describe"] };
		meanwhile = otherAdminAcl((acl) => [...acl, sports]);
		await grant(scores.resource, scores.operations);
		await form.getByText("Granted describe on topic:scores").waitFor();
		assert.deepEqual((await api.expect(200, "GET", "/v1/anonymous")).acl, [sports, scores]);
		const table = page.getByRole("region", { name: "ACL", exact: true }).getByRole("table", { name: "Anonymous access" });
		await table.getByRole("row").filter({ hasText: "topic:sports" }).waitFor();

		// The page removes an entry while another admin grants one: the other admin's entry is kept.
		meanwhile = otherAdminAcl((acl) => [...acl, weather]);
		await table.getByRole("button", { name: "Remove topic:scores" }).click();
		await table.getByRole("row").filter({ hasText: "topic:scores" }).waitFor({ state: "detached" });
		assert.deepEqual((await api.expect(200, "GET", "/v1/anonymous")).acl, [sports, weather]);

		// Public access is closed while another admin grants an entry: closing emptied the ACL whatever it held, so the
		// entry the admin never saw was removed with the rest. The close, sent If-Match the grant the page showed, is
		// refused (412); the page reads the grant again, shows it, says what changed, and closes nothing. A close
		// decided on what it now shows lands.
		const late = { resource: "topic:late", operations: ["produce"] };
		meanwhile = otherAdminAcl((acl) => [...acl, late]);
		const acl = page.getByRole("region", { name: "ACL", exact: true });
		await acl.getByRole("button", { name: "Close public access" }).click();
		await page.getByRole("dialog").getByRole("button", { name: "Close public access" }).click();
		await acl
			.getByRole("alert")
			.getByText(
				"Another admin changed the ACL since this page showed it: added produce on topic:late. Public access was not closed: the table shows the ACL as stored now; close it again to close it.",
			)
			.waitFor();
		assert.deepEqual((await api.expect(200, "GET", "/v1/anonymous")).acl, [sports, weather, late], "the late entry is kept");
		await table.getByRole("row").filter({ hasText: "topic:late" }).waitFor();
		await acl.getByRole("button", { name: "Close public access" }).click();
		await page.getByRole("dialog").getByRole("button", { name: "Close public access" }).click();
		await acl.getByText("no access").waitFor();
		assert.equal(await acl.getByRole("alert").count(), 0, "the conflict's alert is gone with the grant it described");
		assert.deepEqual(await api.expect(200, "GET", "/v1/anonymous"), { acl: [], quotas: { ...withoutRequests, requests_per_sec: 50 } });

		// Another admin empties the ACL, or removes an entry, while the page's confirmation is open: neither leaves an entry
		// the page's admin never saw, so neither is a conflict (it was one: "Public access was not closed… close it
		// again" over a table already empty). An ACL already empty is the close in force, answered 200 (RFC 9110 §13.1.1),
		// shown closed; after the 412 for an entry removed, what is left of it is closed If-Match the grant read again.
		/** Closes public access from the page, another admin setting the ACL to `other` while it asks. @param {unknown[]} other */
		const closeWhileOtherAdminSets = async (other) => {
			await acl.getByRole("button", { name: "Close public access" }).click();
			const confirm = page.getByRole("dialog").getByRole("button", { name: "Close public access" });
			await confirm.waitFor();
			await api.expect(200, "PATCH", "/v1/anonymous", { body: { acl: other } });
			await confirm.click();
			await acl.getByText("no access").waitFor();
			assert.equal(await acl.getByRole("alert").count(), 0, "no conflict told");
			assert.deepEqual((await api.expect(200, "GET", "/v1/anonymous")).acl, []);
		};
		await grant(sports.resource, sports.operations);
		await table.getByRole("row").filter({ hasText: "topic:sports" }).waitFor();
		await closeWhileOtherAdminSets([]);
		await grant(sports.resource, sports.operations);
		await table.getByRole("row").filter({ hasText: "topic:sports" }).waitFor();
		await grant(weather.resource, weather.operations);
		await table.getByRole("row").filter({ hasText: "topic:weather" }).waitFor();
		await closeWhileOtherAdminSets([sports]);

		// Each write named only what the page changed: the ACL, an array, goes whole (RFC 7396 replaces arrays), sent
		// If-Match the tag of the grant the page edited; a 412 (another admin's change, quotas included) is followed
		// by the same entry's change made to the grant read again.
		assert.deepEqual(
			writes.map(({ method, body }) => ({ method, body })),
			[
				{ method: "PATCH", body: { quotas: { produce_bytes_per_sec: 2048 } } },
				{ method: "PATCH", body: { quotas: { produce_bytes_per_sec: 2048 } } },
				{ method: "PATCH", body: { quotas: { fetch_bytes_per_sec: 1024 } } },
				{ method: "PATCH", body: { quotas: { fetch_bytes_per_sec: 4096 } } },
				{ method: "PATCH", body: { acl: [news, weather] } },
				{ method: "PATCH", body: { acl: [news, weather] } },
				{ method: "PATCH", body: { acl: [] } },
				{ method: "PATCH", body: { acl: [] } },
				{ method: "PATCH", body: { acl: [scores] } },
				{ method: "PATCH", body: { acl: [sports, scores] } },
				{ method: "PATCH", body: { acl: [sports] } },
				{ method: "PATCH", body: { acl: [sports, weather] } },
				{ method: "PATCH", body: { acl: [] } },
				{ method: "PATCH", body: { acl: [] } },
				{ method: "PATCH", body: { acl: [sports] } },
				{ method: "PATCH", body: { acl: [] } },
				{ method: "PATCH", body: { acl: [sports] } },
				{ method: "PATCH", body: { acl: [sports, weather] } },
				{ method: "PATCH", body: { acl: [] } },
				{ method: "PATCH", body: { acl: [] } },
			],
		);
		assert.ok(
			writes.every((w) => typeof w.ifMatch === "string" && /^"[^"]+"$/.test(w.ifMatch)),
			"every quota change, every entry's grant or removal and every close is conditional",
		);
	} finally {
		await page.unroute("**/v1/anonymous");
	}
});
