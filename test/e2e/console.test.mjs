// @ts-check
/**
 * The web console in a real Chromium against a real `wrangler dev`: sign-in (good and bad token), creating a
 * topic, producing from the form and seeing the record, a live tail showing a record produced from outside,
 * a group's lag shown and falling as a consumer commits, a failing webhook's attempts and its dead letter
 * replayed, and a key restricted to one topic seeing only it. Screenshots of each page go to
 * test/e2e/screenshots/ (git-ignored).
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { generateToken, startLocalBroker, startWranglerDev, stopAllWranglerDevs, waitUntil } from "../../scripts/lib/index.mjs";
import { DESKTOP, launchBrowser, PHONE, shoot } from "./lib/browser.mjs";
import { client } from "./lib/client.mjs";
import { listenLocal } from "./lib/local-server.mjs";
import { tempDir } from "./lib/temp-dir.mjs";

const state = tempDir("console");
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
/** @type {Receiver} */
let receiver;
/** Whether the webhook receiver answers 2xx yet. */
let receiverUp = false;
/** Requests the page made to anywhere but the broker (must stay empty: the console works offline). @type {string[]} */
const foreignRequests = [];

/**
 * A delivery the receiver got, and what it answered.
 * @typedef {{ status: number, json: { records: { value: unknown }[] } }} Delivered
 * @typedef {{ received: Delivered[], url: string, close: () => Promise<void> }} Receiver
 */

/** A webhook receiver that answers 500 until `receiverUp`, then 200. @returns {Promise<Receiver>} */
function startReceiver() {
	/** @type {Delivered[]} */
	const received = [];
	const server = createServer((req, res) => {
		/** @type {Buffer[]} */
		const chunks = [];
		req.on("data", (chunk) => chunks.push(chunk));
		req.on("end", () => {
			const status = receiverUp ? 200 : 500;
			received.push({ status, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
			res.writeHead(status, { "Content-Type": "text/plain" }).end(status === 200 ? "ok" : "down");
		});
	});
	return listenLocal(server).then(({ url, close }) => ({ received, url, close }));
}

before(async () => {
	token = generateToken();
	dev = await startWranglerDev({ persistTo: state.path, token, vars: { WEBHOOK_ALLOW_PRIVATE: "true" } });
	api = client(dev.url, token);
	receiver = await startReceiver();
	browser = await launchBrowser();
	page = await browser.context.newPage();
	page.on("request", (request) => {
		if (!request.url().startsWith(dev.url) && !request.url().startsWith("data:")) foreignRequests.push(request.url());
	});
});

after(async () => {
	await browser?.close();
	await receiver?.close();
	await stopAllWranglerDevs();
	state.remove();
});

/**
 * Waits for a page: its heading shown and its data loaded.
 * @param {string} heading
 */
async function ready(heading) {
	await page.getByRole("heading", { level: 1, name: heading }).waitFor();
	await page.locator("main .loading").waitFor({ state: "detached" });
}

/**
 * The console at a route (`#/topics`), waiting for the page (when its heading is given).
 * @param {string} route
 * @param {string} [heading]
 */
async function open(route, heading) {
	await page.goto(`${dev.url}/console/${route}`);
	if (heading !== undefined) await ready(heading);
}

/**
 * A locator's text ("" when it has none).
 * @param {import("playwright-core").Locator} locator
 */
async function text(locator) {
	return (await locator.textContent()) ?? "";
}

/** @param {string} secret */
async function signIn(secret) {
	await page.getByLabel("Access token").fill(secret);
	await page.getByRole("button", { name: "Sign in" }).click();
}

test("the console is static files under a strict Content-Security-Policy", async () => {
	const response = await fetch(`${dev.url}/console/`);
	assert.equal(response.status, 200);
	assert.match(response.headers.get("content-type") ?? "", /text\/html/);
	const csp = response.headers.get("content-security-policy") ?? "";
	assert.match(csp, /script-src 'self'/);
	assert.match(csp, /default-src 'none'/);
	assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
	assert.equal(response.headers.get("x-frame-options"), "DENY");
	const html = await response.text();
	assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, "no inline script");
	const bare = await fetch(`${dev.url}/console`, { redirect: "manual" });
	assert.equal(bare.status, 307);
	assert.equal(bare.headers.get("location"), "/console/");
	// The API is unchanged by the assets next to it.
	assert.equal((await fetch(`${dev.url}/v1/topics`)).status, 401);
});

test("sign-in: a bad token is refused with a clear message; the right one opens Topics", async () => {
	await open("");
	await page.getByRole("heading", { name: "Sign in to the console" }).waitFor();
	await shoot(page, "01-sign-in");
	await signIn("not-the-token");
	const alert = page.getByRole("alert");
	await alert.waitFor();
	assert.match(await text(alert), /not accepted/);
	await shoot(page, "02-sign-in-refused");
	await signIn(token);
	await page.getByRole("heading", { level: 1, name: "Topics" }).waitFor();
	assert.equal(await page.evaluate('sessionStorage.getItem("tributary.console.token")'), token);
	assert.equal(await page.evaluate("document.cookie"), "");
	assert.equal(await page.getByRole("link", { name: "API keys" }).count(), 1, "the admin token sees the keys page");
});

test("create a topic from the Topics page", async () => {
	await open("#/topics", "Topics");
	await page.getByRole("button", { name: "Create topic" }).click();
	await page.getByLabel("Name").fill("orders");
	await page.getByLabel("Partitions").fill("2");
	await page.getByLabel("Retention").selectOption({ label: "1 day" });
	await page.locator("form").getByRole("button", { name: "Create topic" }).click();
	await page.getByRole("heading", { level: 1, name: "orders" }).waitFor();
	const rows = page.getByRole("table", { name: "Partitions of orders" }).locator("tbody tr");
	await rows.first().waitFor();
	assert.equal(await rows.count(), 2);
	const described = await api.expect(200, "GET", "/v1/topics/orders");
	assert.equal(described.partitions.length, 2);
	assert.equal(described.config["retention.ms"], 86_400_000);
	await api.produce("orders", [
		{ key: "order-1", value: { sku: "A1", qty: 2 }, partition: 0, headers: [{ key: "source", value: "web" }] },
		{ key: "order-2", value: "plain text", partition: 0 },
		{ value: "AAEC/w==", value_encoding: "base64", partition: 0 },
	]);
	await open("#/topics", "Topics");
	const cells = await page.getByRole("row").filter({ hasText: "orders" }).getByRole("cell").allTextContents();
	assert.deepEqual(
		cells.slice(0, 6),
		["orders", "2", "3", cells[3], "1 day", "delete"],
		"name, partitions, records, size, retention, cleanup",
	);
	assert.match(cells[3] ?? "", /^\d+ B$/);
	await shoot(page, "03-topics");
	await open("#/topics/orders", "orders");
	// The topic's id (Kafka's topic id, new with each incarnation), as the API gives it, and in Kafka's own form.
	const topicId = page.locator(".page-header code.topic-id");
	assert.equal(await topicId.textContent(), described.topic_id);
	const kafkaForm = Buffer.from(described.topic_id.replaceAll("-", ""), "hex").toString("base64url");
	assert.equal(await topicId.getAttribute("title"), `Kafka's form: ${kafkaForm}`);
	await shoot(page, "04-topic");
});

test("alter a topic, and delete one only after typing its name (Escape cancels)", async () => {
	await api.expect(201, "POST", "/v1/topics", { body: { name: "scratch", partitions: 1 } });
	await open("#/topics/scratch", "scratch");
	const alter = page.getByRole("form", { name: "Alter topic" });
	await alter.getByLabel("Partitions").fill("3");
	await alter.getByLabel("Cleanup policy").selectOption("compact,delete");
	await alter.getByRole("button", { name: "Save changes" }).click();
	await page.getByRole("table", { name: "Partitions of scratch" }).locator("tbody tr").nth(2).waitFor();
	const altered = await api.expect(200, "GET", "/v1/topics/scratch");
	assert.equal(altered.partitions.length, 3);
	assert.equal(altered.config["cleanup.policy"], "compact,delete");

	await page.getByRole("button", { name: "Delete topic" }).click();
	const dialog = page.getByRole("dialog", { name: "Delete topic scratch?" });
	await dialog.waitFor();
	const confirm = dialog.getByRole("button", { name: "Delete topic" });
	assert.equal(await confirm.isDisabled(), true, "not before the name is typed");
	await page.keyboard.press("Escape");
	await dialog.waitFor({ state: "detached" });
	assert.equal((await api.request("GET", "/v1/topics/scratch")).status, 200, "Escape deletes nothing");

	await page.getByRole("button", { name: "Delete topic" }).click();
	await dialog.getByLabel("Type scratch to confirm").fill("scratch");
	await confirm.click();
	await ready("Topics");
	assert.equal((await api.request("GET", "/v1/topics/scratch")).status, 404);
});

/**
 * The value of a stat on the page (the `<dd>` under the `<dt>` labelled `label`).
 * @param {string} label
 */
async function stat(label) {
	return text(
		page
			.locator(".stat")
			.filter({ has: page.locator("dt", { hasText: new RegExp(`^${label}$`) }) })
			.locator("dd"),
	);
}

test("a tiered topic's records and bytes are counted in both tiers, local and in R2", { timeout: 120_000 }, async () => {
	const topic = "tiered";
	await api.expect(201, "POST", "/v1/topics", {
		body: { name: topic, partitions: 1, config: { "remote.storage.enable": true, "local.retention.bytes": 1 } },
	});
	// One batch per request: every batch but the newest goes to R2 at the next offload.
	for (let i = 0; i < 5; i++) await api.produce(topic, [{ value: `r${i}` }]);
	const partition = await waitUntil(
		async () => {
			const p = (await api.expect(200, "GET", `/v1/topics/${topic}`)).partitions[0];
			return p.local_log_start_offset === 4 ? p : null;
		},
		{ timeoutMs: 90_000, intervalMs: 500, message: "the offload of offsets 0 to 3 to R2" },
	);
	assert.deepEqual([partition.records, partition.remote_records], [1, 4]);
	await open(`#/topics/${topic}`, topic);
	assert.equal(await stat("Records"), "5");
	assert.equal(await stat("Stored"), `${partition.bytes + partition.remote_bytes} B`);
	const cells = await page
		.getByRole("table", { name: `Partitions of ${topic}` })
		.locator("tbody tr")
		.first()
		.getByRole("cell")
		.allTextContents();
	assert.deepEqual(cells.slice(0, 5), ["0", "0", "4", "5", "5"], "partition, log start, local log start, high watermark, records");
	await open("#/topics", "Topics");
	const listed = await page.getByRole("row").filter({ hasText: topic }).getByRole("cell").allTextContents();
	assert.equal(listed[2], "5", "the Topics page counts both tiers too");
});

test("produce from the form and see the record in the browser", async () => {
	await open("#/topics/orders/records", "Records");
	const browse = page.getByRole("table", { name: "Records of orders, partition 0" });
	await browse.waitFor();
	assert.match(await text(browse), /base64/, "a base64 value is marked as such");
	assert.match(await text(browse), /"sku": "A1"/, "JSON is pretty-printed");
	const form = page.getByRole("form", { name: "Produce a record" });
	await form.getByLabel("Key").fill("from-the-browser");
	await form.getByLabel("Value", { exact: true }).fill('{"made":"in chromium","n":42}');
	await form.getByLabel("Headers").fill("source: console");
	await form.getByLabel("Partition").selectOption({ label: "Partition 1" });
	await form.getByRole("button", { name: "Produce record" }).click();
	await page.getByText("Record written to partition 1 at offset 0.").waitFor();
	const shown = page.getByRole("table", { name: "Records of orders, partition 1" });
	await shown.getByText('"made": "in chromium"').waitFor();
	assert.match(await text(shown), /from-the-browser/);
	const stored = await api.fetchRecords("orders", 1, 0);
	assert.deepEqual(stored.records[0]?.value, { made: "in chromium", n: 42 });
	assert.deepEqual(stored.records[0]?.headers, [{ key: "source", value: "console" }]);
	await shoot(page, "05-records");
});

test("integers a double cannot hold keep their digits: shown as stored, and written from the form", async () => {
	await api.expect(201, "POST", "/v1/topics", { body: { name: "big-ids", partitions: 1 } });
	// JSON.stringify would round the number before it left: the body goes as text.
	await api.expect(200, "POST", "/v1/topics/big-ids/records", {
		bodyText: '{"records":[{"key":{"k":12345678901234567891},"value":{"id":12345678901234567890}}]}',
		headers: { "Idempotency-Key": "big-ids-1" },
	});
	await open("#/topics/big-ids/records", "Records");
	const browse = page.getByRole("table", { name: "Records of big-ids, partition 0" });
	await browse.getByText(/"id": 12345678901234567890/).waitFor();
	assert.match(await text(browse), /"k": 12345678901234567891/);
	const form = page.getByRole("form", { name: "Produce a record" });
	await form.getByLabel("Value", { exact: true }).fill('{"id": 98765432109876543210, "n": 1.5}');
	await form.getByRole("button", { name: "Produce record" }).click();
	await page.getByText("Record written to partition 0 at offset 1.").waitFor();
	const raw = await api.request("GET", "/v1/topics/big-ids/partitions/0/records?offset=1");
	assert.match(raw.text, /"value":\{"id":98765432109876543210,"n":1.5\}/);
	await form.getByLabel("Value", { exact: true }).fill('{"id": 1');
	await form.getByRole("button", { name: "Produce record" }).click();
	await page.getByText("The value is not valid JSON").waitFor();
});

test("the live tail shows a record produced from outside the browser", async () => {
	await open("#/topics/orders/records?partition=0", "Records");
	await page.getByRole("button", { name: "Start live tail" }).click();
	await page.getByText("Following partition 0 from offset").waitFor();
	const [written] = await api.produce("orders", [{ key: "outside", value: { via: "curl" }, partition: 0 }]);
	const live = page.getByRole("list", { name: "Records received live" });
	await live.getByText(`#${written?.offset}`).waitFor();
	assert.match(await text(live), /"via":"curl"/);
	await shoot(page, "06-live-tail");
	// docs/console.png is made from this one (without the toasts of earlier steps).
	await page.locator(".toasts").evaluate((toasts) => toasts.replaceChildren());
	await shoot(page, "readme", { fullPage: false });
	await page.getByRole("button", { name: "Stop live tail" }).click();
});

test("a group's lag is shown and falls as its consumer commits; an empty group's offsets can be reset", async () => {
	await api.expect(201, "POST", "/v1/topics", { body: { name: "payments", partitions: 1 } });
	await api.produce(
		"payments",
		Array.from({ length: 10 }, (_, i) => ({ key: `p${i}`, value: { amount: i } })),
	);
	const joined = await api.expect(200, "POST", "/v1/groups/billing/members", {
		body: { topics: ["payments"], auto_offset_reset: "earliest" },
	});
	const commit = (/** @type {number} */ offset) =>
		api.expect(200, "POST", "/v1/groups/billing/offsets", {
			body: { member_id: joined.member_id, generation: joined.generation, offsets: [{ topic: "payments", partition: 0, offset }] },
		});
	await open("#/groups", "Consumer groups");
	await page.getByRole("link", { name: "billing" }).click();
	await page.getByRole("heading", { level: 1, name: "billing" }).waitFor();
	const lag = page.getByTestId("total-lag");
	// Nothing committed yet: no lag to show (null from the API, "–" here), as Kafka's tools show "-".
	await lag.filter({ hasText: /^–$/ }).waitFor();
	await commit(4);
	await lag.filter({ hasText: /^6$/ }).waitFor();
	await commit(10);
	await lag.filter({ hasText: /^0$/ }).waitFor();
	const chart = page.getByRole("img", { name: /Total lag of billing/ });
	// Samples start with the first commit (before it there is no lag); each 2 s refresh adds one.
	await waitUntil(async () => ((await chart.locator("polyline").getAttribute("points")) ?? "").split(" ").length >= 3, {
		timeoutMs: 10_000,
		message: "the chart to hold a sample per refresh",
	});
	assert.match(await text(page.getByRole("table", { name: "Members of billing" })), /payments-0/);
	await shoot(page, "07-group");
	assert.equal(await page.getByRole("button", { name: "Reset offsets" }).isDisabled(), true, "not while the group has members");
	await api.expect(204, "DELETE", `/v1/groups/billing/members/${joined.member_id}`);
	const reset = page.getByRole("button", { name: "Reset offsets" });
	await waitUntil(async () => !(await reset.isDisabled()), { timeoutMs: 10_000, message: "reset to be enabled" });
	await page.getByLabel("Reset to").selectOption("earliest");
	await reset.click();
	await page.getByRole("dialog").getByRole("button", { name: "Reset offsets" }).click();
	await lag.filter({ hasText: /^10$/ }).waitFor();
	await open("#/groups", "Consumer groups");
	await shoot(page, "08-groups");
});

test("a group with nothing committed shows no lag range", async () => {
	await api.expect(201, "POST", "/v1/topics", { body: { name: "refunds", partitions: 1 } });
	await api.produce("refunds", [{ value: 1 }, { value: 2 }, { value: 3 }]);
	const joined = await api.expect(200, "POST", "/v1/groups/idle/members", { body: { topics: ["refunds"] } });
	await open("#/groups/idle", "idle");
	await page.getByTestId("total-lag").filter({ hasText: /^–$/ }).waitFor();
	const summary = await text(page.locator(".chart-summary"));
	assert.equal(summary, "Total lag is unknown (nothing committed yet).");
	await api.expect(204, "DELETE", `/v1/groups/idle/members/${joined.member_id}`);
});

test("resetting a group to an empty or negative offset is refused before the confirmation", async () => {
	await api.expect(200, "POST", "/v1/groups/idle/offsets/reset", { body: { topic: "refunds", to: "latest" } });
	await open("#/groups/idle", "idle");
	const reset = page.getByRole("button", { name: "Reset offsets" });
	await waitUntil(async () => !(await reset.isDisabled()), { timeoutMs: 10_000, message: "reset to be enabled" });
	await page.getByLabel("Reset to").selectOption("offset");
	for (const typed of ["", "-1"]) {
		await page.getByLabel("Offset", { exact: true }).fill(typed);
		await reset.click();
		await page.getByText("Give the offset as a whole number, 0 or more.").waitFor();
		assert.equal(await page.getByRole("dialog").count(), 0, `no confirmation for "${typed}"`);
	}
	const described = await api.expect(200, "GET", "/v1/groups/idle");
	assert.equal(described.offsets[0].committed, 3, "the group stays where it was");
});

test("a failing webhook: its attempts are visible and its dead letter is replayed", async () => {
	await api.expect(201, "POST", "/v1/topics", { body: { name: "invoices", partitions: 1 } });
	const sub = await api.expect(201, "POST", "/v1/topics/invoices/subscriptions", {
		body: { url: `${receiver.url}/hook`, start: "earliest", retry_schedule_ms: [0, 100], max_attempts: 2 },
	});
	await api.produce("invoices", [{ key: "inv-1", value: { total: 99 } }]);
	await open("#/webhooks", "Webhooks");
	await page.getByRole("link", { name: `${receiver.url}/hook` }).click();
	await page.getByRole("heading", { level: 1, name: `${receiver.url}/hook` }).waitFor();
	const attempts = page.getByRole("table", { name: "Recent delivery attempts" });
	await attempts.getByText("failed").first().waitFor({ timeout: 30_000 });
	assert.match(await text(attempts), /500/);
	const dead = page.getByRole("table", { name: "Dead letters" });
	await dead.waitFor({ timeout: 30_000 });
	assert.match(await text(dead), /partition 0, offset 0/);
	assert.match(await text(dead), /HTTP 500/);
	await shoot(page, "09-webhook-failing");
	receiverUp = true;
	await dead.getByRole("button", { name: "Replay partition 0 offset 0" }).click();
	const delivered = await waitUntil(() => receiver.received.find((r) => r.status === 200), {
		timeoutMs: 30_000,
		message: "the replayed delivery",
	});
	assert.deepEqual(
		delivered?.json.records.map((r) => r.value),
		[{ total: 99 }],
	);
	await attempts.getByText("delivered").first().waitFor({ timeout: 15_000 });
	const lanes = await api.expect(200, "GET", `/v1/topics/invoices/subscriptions/${sub.id}`);
	assert.equal(lanes.partitions[0].next_offset, 1);
	await shoot(page, "10-webhook-replayed");
	await open("#/webhooks", "Webhooks");
	await shoot(page, "11-webhooks");
});

test("a key restricted to one topic sees only it; revoking it signs the console out", async () => {
	await open("#/keys", "API keys");
	await page.getByLabel("Name", { exact: true }).fill("payments-reader");
	await page.getByLabel("Resource").fill("topic:payments");
	const rule = page.getByRole("group", { name: "Operations of rule 1" });
	await rule.getByLabel("consume").check();
	await rule.getByLabel("describe").check();
	await page.getByRole("button", { name: "Create key" }).click();
	const secret = await text(page.getByTestId("new-secret"));
	assert.match(secret, /^trb_[0-9a-f]+_/);
	await shoot(page, "12-key-created");
	await page.getByRole("button", { name: "Done" }).click();
	const keys = page.getByRole("table", { name: "API keys" });
	await keys.locator("strong", { hasText: "payments-reader" }).waitFor();
	assert.doesNotMatch(await text(keys), new RegExp(secret), "the secret is never listed");
	await shoot(page, "13-keys");

	await page.getByRole("button", { name: "Sign out" }).click();
	await signIn(secret);
	await ready("Topics");
	const names = await page.getByRole("table", { name: "Topics" }).locator("tbody tr a.strong-link").allInnerTexts();
	assert.deepEqual(names, ["payments"]);
	assert.equal(await page.getByRole("link", { name: "API keys" }).count(), 0, "no keys page for a topic-scoped key");
	await shoot(page, "14-key-sees-one-topic");

	const id = /^trb_([0-9a-f]+)_/.exec(secret)?.[1];
	await api.expect(204, "DELETE", `/v1/keys/${id}`);
	await page.getByRole("link", { name: "payments" }).first().click();
	await page.getByRole("heading", { name: "Sign in to the console" }).waitFor();
	assert.match(await text(page.getByRole("alert")), /session has ended/);
	assert.equal(await page.evaluate('sessionStorage.getItem("tributary.console.token")'), null);
});

test("readable at a phone's width", async () => {
	await page.setViewportSize(PHONE);
	await signIn(token);
	// The session that ended on a topic's page resumes there.
	await ready("payments");
	await open("#/topics", "Topics");
	const overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
	assert.ok(overflow <= 0, `the page does not scroll sideways (${overflow}px)`);
	await shoot(page, "15-phone-topics");
	await open("#/topics/orders/records", "Records");
	await page.getByRole("table", { name: "Records of orders, partition 0" }).waitFor();
	await shoot(page, "16-phone-records");
	await page.setViewportSize(DESKTOP);
	assert.deepEqual(foreignRequests, [], "nothing is fetched from anywhere but the broker");
});

test("npm start's Miniflare broker serves the same console, under the same headers", async () => {
	const dir = tempDir("console-miniflare");
	const broker = await startLocalBroker({ token, port: 0, persistTo: dir.path, outdir: `${dir.path}/dist`, quiet: true });
	try {
		const [fromWrangler, fromMiniflare] = await Promise.all([fetch(`${dev.url}/console/`), fetch(`${broker.url}/console/`)]);
		assert.equal(fromMiniflare.status, 200);
		assert.equal(fromMiniflare.headers.get("content-security-policy"), fromWrangler.headers.get("content-security-policy"));
		assert.equal(await fromMiniflare.text(), await fromWrangler.text());
		await client(broker.url, token).expect(201, "POST", "/v1/topics", { body: { name: "on-miniflare" } });
		await page.goto(`${broker.url}/console/`);
		await signIn(token);
		await ready("Topics");
		assert.match(await text(page.getByRole("table", { name: "Topics" })), /on-miniflare/);
	} finally {
		await broker.dispose();
		dir.remove();
	}
});
