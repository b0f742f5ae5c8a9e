// @ts-check
/**
 * The console's API keys page changes a key's quotas, in a real Chromium against a real `wrangler dev`: quotas set
 * from the form are the key's over HTTP, emptying the fields removes them, and a value the API refuses (400) or a key
 * revoked meanwhile (404) shows the API's message in the form, changing nothing; so does a number field the browser
 * cannot parse, before anything is sent. Saving sends only the fields changed (a PATCH), so a quota another admin
 * changed while the form was open is kept; one the form changes too is told as a conflict, not overwritten, even when
 * it lands between the page's read of the key and its patch (sent If-Match the key read, read again on a 412). Apart
 * from console.test.mjs, whose steps build on each other: this one needs only a key. Under `npm run test:e2e` its
 * `wrangler dev` is the one other files share too (lib/shared-dev.mjs): the keys page lists their keys as well, and
 * this file's keys are found by names no other file gives one.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { stopAllWranglerDevs } from "../../scripts/lib/index.mjs";
import { launchBrowser, shoot } from "./lib/browser.mjs";
import { client } from "./lib/client.mjs";
import { plainDevToken, plainWranglerDev } from "./lib/shared-dev.mjs";

/** @type {Awaited<ReturnType<typeof plainWranglerDev>>} */
let dev;
/** @type {ReturnType<typeof client>} */
let api;
/** @type {Awaited<ReturnType<typeof launchBrowser>>} */
let browser;
/** @type {import("playwright-core").Page} */
let page;

before(async () => {
	const token = plainDevToken();
	dev = await plainWranglerDev("console-quotas", token);
	api = client(dev.url, token);
	browser = await launchBrowser();
	page = await browser.context.newPage();
	await page.goto(`${dev.url}/console/`);
	await page.getByLabel("Access token").fill(token);
	await page.getByRole("button", { name: "Sign in" }).click();
	await page.getByRole("heading", { level: 1, name: "Topics" }).waitFor();
});

after(async () => {
	await browser?.close();
	await stopAllWranglerDevs();
	dev?.remove();
});

/**
 * A key's quotas as `GET /v1/keys/{id}` answers them.
 * @param {string} id
 */
async function quotasOf(id) {
	return (await api.expect(200, "GET", `/v1/keys/${id}`)).quotas;
}

/** The keys page, its list loaded afresh (going to the page it is on already would not reload it). */
async function openKeys() {
	await page.goto(`${dev.url}/console/#/topics`);
	await page.getByRole("heading", { level: 1, name: "Topics" }).waitFor();
	await page.goto(`${dev.url}/console/#/keys`);
	await page.getByRole("heading", { level: 1, name: "API keys" }).waitFor();
	await page.locator("main .loading").waitFor({ state: "detached" });
}

/**
 * The keys page's row of key `name` and its quota form: `open()` opens the form, `shown()` is what its three fields
 * read. Locators, so they hold across the page opened again and the form reopened.
 * @param {string} name
 */
function quotaEditor(name) {
	const row = page.getByRole("table", { name: "API keys" }).getByRole("row").filter({ hasText: name });
	const form = page.getByRole("form", { name: `Quotas of ${name}` });
	const produce = form.getByLabel("Produce bytes per second");
	const fetchBytes = form.getByLabel("Fetch bytes per second");
	const requests = form.getByLabel("Requests per second");
	return {
		row,
		form,
		produce,
		fetchBytes,
		requests,
		save: form.getByRole("button", { name: "Save quotas" }),
		open: () => row.getByRole("button", { name: `Edit quotas of ${name}` }).click(),
		shown: async () => [await produce.inputValue(), await fetchBytes.inputValue(), await requests.inputValue()],
	};
}

test("a key's quotas are set, shown, cleared and refused from the keys page", async () => {
	const key = await api.expect(201, "POST", "/v1/keys", {
		body: { name: "quota-metered", acl: [{ resource: "topic:orders", operations: ["produce"] }] },
	});
	await openKeys();
	const { row, form, produce, fetchBytes, requests, save, open, shown } = quotaEditor("quota-metered");
	await row.getByText("no quotas").waitFor();

	await open();
	assert.deepEqual(await shown(), ["", "", ""]);
	await produce.fill("1048576");
	await requests.fill("50");
	await save.click();
	await form.getByText("Quotas of quota-metered saved").waitFor();
	assert.deepEqual(await quotasOf(key.id), { produce_bytes_per_sec: 1_048_576, requests_per_sec: 50 });
	await row.getByText("produce 1.0 MiB/s").waitFor();
	assert.match((await row.textContent()) ?? "", /50 requests\/s/);
	await shoot(page, "17-key-quotas");

	// The form opened again starts from the key's quotas as they are now.
	await openKeys();
	await open();
	assert.deepEqual(await shown(), ["1048576", "", "50"]);

	// An emptied field removes that quota: emptying them all removes every quota.
	await produce.fill("");
	await requests.fill("");
	await save.click();
	await form.getByText("Quotas of quota-metered saved: none").waitFor();
	assert.deepEqual(await quotasOf(key.id), {});
	await row.getByText("no quotas").waitFor();

	// A rate below 1 is the API's to refuse: its message is shown, and nothing changes.
	await fetchBytes.fill("0");
	await save.click();
	const refused = form.getByRole("alert");
	await refused.waitFor();
	const answer = await api.expect(400, "PATCH", `/v1/keys/${key.id}/quotas`, { body: { fetch_bytes_per_sec: 0 } });
	assert.match(answer.error.message, /fetch_bytes_per_sec/);
	assert.equal(await refused.textContent(), `Error: ${answer.error.message}`, "the API's own words");
	assert.deepEqual(await quotasOf(key.id), {});

	// Text a number field cannot parse reads as "": it is refused here, not sent as "no quota", and nothing is saved.
	await requests.fill("50");
	await fetchBytes.fill("");
	await fetchBytes.pressSequentially("1e");
	await save.click();
	await form.getByRole("alert").getByText("Fetch bytes per second: give a whole number, or leave it empty for no quota.").waitFor();
	assert.deepEqual(await quotasOf(key.id), {});

	// A key revoked while its form is open: the 404's message, not a success.
	await api.expect(204, "DELETE", `/v1/keys/${key.id}`);
	await fetchBytes.fill("4096");
	await save.click();
	await form.getByRole("alert").getByText(`key "${key.id}" does not exist`).waitFor();
	await shoot(page, "18-key-quotas-refused");
});

test("saving the form changes only the quotas edited in it: one another admin changed meanwhile is kept", async () => {
	const key = await api.expect(201, "POST", "/v1/keys", {
		body: { name: "quota-shared", acl: [], quotas: { produce_bytes_per_sec: 1_048_576, requests_per_sec: 50 } },
	});
	await openKeys();
	const { row, form, produce, fetchBytes, save, open, shown } = quotaEditor("quota-shared");
	await open();
	assert.deepEqual(await shown(), ["1048576", "", "50"]);

	// Another admin, while the form is open: requests raised, a fetch quota added.
	await api.expect(200, "PATCH", `/v1/keys/${key.id}/quotas`, { body: { requests_per_sec: 200, fetch_bytes_per_sec: 4096 } });

	/**
	 * The page's requests about keys. Not every /v1 request: the topics page `openKeys` passes through may still be
	 * describing its topics, and on the shared instance every sharer's topics are listed.
	 * @type {{ method: string, path: string, body: unknown }[]}
	 */
	const sent = [];
	const record = (/** @type {import("playwright-core").Request} */ request) => {
		const url = new URL(request.url());
		if (url.pathname.startsWith("/v1/keys")) sent.push({ method: request.method(), path: url.pathname, body: request.postDataJSON() });
	};
	page.on("request", record);
	try {
		await produce.fill("2097152");
		await save.click();
		await form.getByText("Quotas of quota-shared saved").waitFor();
		assert.deepEqual(await quotasOf(key.id), { produce_bytes_per_sec: 2_097_152, requests_per_sec: 200, fetch_bytes_per_sec: 4096 });
		// The key read first (its quotas still as shown?), then a patch of the one quota edited.
		assert.deepEqual(sent, [
			{ method: "GET", path: `/v1/keys/${key.id}`, body: null },
			{ method: "PATCH", path: `/v1/keys/${key.id}/quotas`, body: { produce_bytes_per_sec: 2_097_152 } },
		]);
		// The form and the row now show the quotas as stored, the other admin's included.
		assert.deepEqual(await shown(), ["2097152", "4096", "200"]);
		await row.getByText("200 requests/s").waitFor();

		// An emptied field removes that quota alone.
		sent.length = 0;
		await fetchBytes.fill("");
		await save.click();
		await form.getByText("Quotas of quota-shared saved: produce 2.0 MiB/s · 200 requests/s").waitFor();
		assert.deepEqual(sent.slice(1), [{ method: "PATCH", path: `/v1/keys/${key.id}/quotas`, body: { fetch_bytes_per_sec: null } }]);
		assert.deepEqual(await quotasOf(key.id), { produce_bytes_per_sec: 2_097_152, requests_per_sec: 200 });

		// Nothing changed: no request, and the form says so.
		sent.length = 0;
		await save.click();
		await form.getByText("Nothing to save: the quotas of quota-shared are as shown.").waitFor();
		assert.deepEqual(sent, []);
	} finally {
		page.off("request", record);
	}
});

/**
 * The form sets requests/s from 50 to 100 after another admin set it to 200: nothing is saved, the other admin's
 * value is kept and shown in the form and the row.
 * @param {Pick<ReturnType<typeof quotaEditor>, "row" | "form" | "requests" | "save" | "shown">} editor
 * @param {string} keyId
 */
async function savesRequestsAgainstTheirs({ row, form, requests, save, shown }, keyId) {
	await requests.fill("100");
	await save.click();
	await form
		.getByRole("alert")
		.getByText("Another admin changed Requests per second to 200 since this form showed 50: nothing was saved.", { exact: false })
		.waitFor();
	assert.deepEqual(await quotasOf(keyId), { requests_per_sec: 200 }, "the other admin's change is kept");
	assert.deepEqual(await shown(), ["", "", "200"]);
	await row.getByText("200 requests/s").waitFor();
}

test("a quota another admin changed while the form was open is told, not overwritten: the form and the row show it as stored", async () => {
	const key = await api.expect(201, "POST", "/v1/keys", { body: { name: "quota-contested", acl: [], quotas: { requests_per_sec: 50 } } });
	await openKeys();
	const { row, form, requests, save, open, shown } = quotaEditor("quota-contested");
	await open();
	assert.deepEqual(await shown(), ["", "", "50"]);

	// Another admin, while the form is open, changes the very quota this admin is about to edit.
	await api.expect(200, "PATCH", `/v1/keys/${key.id}/quotas`, { body: { requests_per_sec: 200 } });
	await savesRequestsAgainstTheirs({ row, form, requests, save, shown }, key.id);

	// Decided again on the quota as stored, the save goes through.
	await requests.fill("100");
	await save.click();
	await form.getByText("Quotas of quota-contested saved").waitFor();
	assert.deepEqual(await quotasOf(key.id), { requests_per_sec: 100 });
});

test("another admin's change landing between the page's read of the key and its patch is told or kept, never overwritten", async () => {
	const key = await api.expect(201, "POST", "/v1/keys", { body: { name: "quota-raced", acl: [], quotas: { requests_per_sec: 50 } } });
	/**
	 * Another admin's change, made as the page's next patch leaves: after the page read the key to compare it with the
	 * form, before its patch lands. A read-then-plain-patch loses the other change in that window.
	 * @type {null | (() => Promise<unknown>)}
	 */
	let meanwhile = null;
	/** @type {{ body: unknown, ifMatch: string | undefined }[]} */
	const patches = [];
	const quotasPath = `**/v1/keys/${key.id}/quotas`;
	await page.route(quotasPath, async (route) => {
		const request = route.request();
		patches.push({ body: request.postDataJSON(), ifMatch: (await request.allHeaders())["if-match"] });
		const change = meanwhile;
		meanwhile = null;
		await change?.();
		await route.continue();
	});
	try {
		await openKeys();
		const { row, form, fetchBytes, requests, save, open, shown } = quotaEditor("quota-raced");
		await open();
		assert.deepEqual(await shown(), ["", "", "50"]);

		// The very quota the page changes: nothing is saved, the form and the row show the other admin's value.
		meanwhile = () => api.expect(200, "PATCH", `/v1/keys/${key.id}/quotas`, { body: { requests_per_sec: 200 } });
		await savesRequestsAgainstTheirs({ row, form, requests, save, shown }, key.id);

		// Another quota: the patch, refused (412), is read again and sent again; both changes are kept.
		meanwhile = () => api.expect(200, "PATCH", `/v1/keys/${key.id}/quotas`, { body: { produce_bytes_per_sec: 2048 } });
		await fetchBytes.fill("4096");
		await save.click();
		await form.getByText("Quotas of quota-raced saved").waitFor();
		assert.deepEqual(await quotasOf(key.id), { requests_per_sec: 200, produce_bytes_per_sec: 2048, fetch_bytes_per_sec: 4096 });
		assert.deepEqual(await shown(), ["2048", "4096", "200"]);

		assert.deepEqual(
			patches.map((p) => p.body),
			[{ requests_per_sec: 100 }, { fetch_bytes_per_sec: 4096 }, { fetch_bytes_per_sec: 4096 }],
		);
		assert.ok(
			patches.every((p) => typeof p.ifMatch === "string" && /^"[^"]+"$/.test(p.ifMatch)),
			"every quota change is sent If-Match the key read",
		);
	} finally {
		await page.unroute(quotasPath);
	}
});
