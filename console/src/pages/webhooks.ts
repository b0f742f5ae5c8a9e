/**
 * @module
 * Webhooks: every subscription of every topic the token administers, with status and lag; one subscription with
 * its per-partition position, recent delivery attempts (outcome, HTTP status, latency) and its dead letters, each
 * of which can be replayed (the subscription rewinds that partition to the dead-lettered offset).
 */

import type { Delivery, Lane, StoredRecord, Subscription, TopicDetail } from "../api.ts";
import { href, type PageContext } from "../context.ts";
import { field, formValue, h, mount, topicField } from "../dom.ts";
import { formatAgo, formatCount, formatTime } from "../format.ts";
import { preview } from "../record-view.ts";
import { mapLimited, topicKind } from "../topic-stats.ts";
import { badge, button, card, confirmDialog, formStatus, loading, pageHeader, stats, type Tone, table, toast } from "../ui.ts";

const POLL_MS = 3_000;
const DELIVERIES_SHOWN = 50;
const DEAD_LETTERS_SHOWN = 50;
const DESCRIBE_CONCURRENCY = 6;

const STATUS_TONES: Record<Subscription["status"], Tone> = { active: "ok", paused: "warn", disabled: "bad" };
const OUTCOME_TONES: Record<Delivery["outcome"], Tone> = {
	delivered: "ok",
	failed: "bad",
	gone: "bad",
	dead_lettered: "warn",
	skipped: "muted",
};

function lag(lanes: readonly Lane[], detail: TopicDetail): number {
	return lanes.reduce((n, lane) => n + Math.max(0, (detail.partitions[lane.partition]?.high_watermark ?? 0) - lane.next_offset), 0);
}

export async function webhooksPage(ctx: PageContext): Promise<void> {
	mount(ctx.main, pageHeader("Webhooks"), loading("Loading subscriptions"));
	const topics = (await ctx.api.listTopics()).filter((t) => topicKind(t.name) === null);
	// Subscriptions need admin on their topic: topics this token may only read are skipped.
	const administered: string[] = [];
	const perTopic = await mapLimited(topics, DESCRIBE_CONCURRENCY, async (t) => {
		try {
			const subs = await ctx.api.subscriptions(t.name);
			administered.push(t.name);
			if (subs.length === 0) return [];
			const detail = await ctx.api.topic(t.name);
			return Promise.all(subs.map(async (sub) => ({ sub, lag: lag((await ctx.api.subscription(t.name, sub.id)).partitions, detail) })));
		} catch {
			return [];
		}
	});
	if (!ctx.alive()) return;
	const rows = perTopic.flat();
	administered.sort();
	mount(
		ctx.main,
		pageHeader("Webhooks", {
			subtitle: "Subscriptions push a topic's records to an HTTPS endpoint, signed, with retries and a dead-letter topic.",
		}),
		card(
			null,
			table(
				"Webhook subscriptions",
				[{ label: "Endpoint", kind: "wide" }, { label: "Topic" }, { label: "Status" }, { label: "Lag", kind: "num" }],
				rows.map(({ sub, lag }) => [
					h("a", { href: href("webhooks", sub.topic, sub.id), class: "strong-link break" }, sub.url),
					h("a", { href: href("topics", sub.topic) }, sub.topic),
					badge(sub.status, STATUS_TONES[sub.status]),
					formatCount(lag),
				]),
				"No webhook subscriptions yet.",
			),
		),
		createForm(ctx, administered),
	);
}

function createForm(ctx: PageContext, topics: readonly string[]): HTMLElement {
	const status = formStatus();
	const form = h(
		"form",
		{ class: "form-grid", novalidate: true },
		topicField(topics),
		field(
			"Endpoint URL",
			h("input", { name: "url", type: "url", class: "input", placeholder: "https://example.com/hooks/orders", required: true }),
		),
		field(
			"Start from",
			h(
				"select",
				{ name: "start", class: "input" },
				h("option", { value: "latest" }, "New records only"),
				h("option", { value: "earliest" }, "The beginning of the topic"),
			),
		),
		h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Create subscription")),
		status.el,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		const topic = formValue(form, "topic");
		try {
			const created = await ctx.api.createSubscription(topic, {
				url: formValue(form, "url").trim(),
				start: formValue(form, "start") as "earliest" | "latest",
			});
			status.success(
				h("span", null, "Subscription created. Its signing secret is shown once: "),
				h("code", { class: "secret" }, created.secret ?? ""),
				" ",
				h("a", { href: href("webhooks", topic, created.id) }, "Open it"),
			);
		} catch (error) {
			status.error((error as Error).message);
		}
	});
	return topics.length === 0 ? h("div") : card("New subscription", form);
}

export async function webhookPage(ctx: PageContext): Promise<void> {
	const [topic = "", id = ""] = ctx.params;
	const crumbs: [string, string][] = [["Webhooks", href("webhooks")]];
	mount(ctx.main, pageHeader("Subscription", { crumbs }), loading());
	const sub = await ctx.api.subscription(topic, id);
	if (!ctx.alive()) return;
	const summary = h("div");
	const lanes = h("div");
	const attempts = h("div");
	const dead = h("div");
	const actions = h("div", { class: "actions" });
	mount(
		ctx.main,
		pageHeader(sub.url, {
			crumbs,
			subtitle: ["Subscription ", h("code", null, sub.id), " on topic ", h("a", { href: href("topics", topic) }, topic)],
			actions,
		}),
		summary,
		card("Partitions", lanes),
		card("Recent delivery attempts", attempts),
		card("Dead letters", dead),
	);
	const refresh = async () => {
		const [current, detail, deliveries, letters] = await Promise.all([
			ctx.api.subscription(topic, id),
			ctx.api.topic(topic),
			ctx.api.deliveries(topic, id, DELIVERIES_SHOWN),
			deadLetters(ctx, sub.dead_letter_topic),
		]);
		if (!ctx.alive()) return;
		mount(actions, statusActions(ctx, current));
		mount(
			summary,
			stats([
				{
					label: "Status",
					value: badge(current.status, STATUS_TONES[current.status]),
					...(current.disabled_reason ? { hint: current.disabled_reason } : {}),
				},
				{ label: "Lag", value: formatCount(lag(current.partitions, detail)), hint: "records" },
				{ label: "Attempts before dead letter", value: formatCount(current.max_attempts) },
				{ label: "Dead letters", value: formatCount(letters?.length ?? 0) },
			]),
		);
		mount(lanes, laneTable(current.partitions, detail));
		mount(attempts, deliveryTable(deliveries));
		mount(dead, deadLetterView(ctx, sub, letters));
	};
	await refresh();
	const timer = setInterval(() => void refresh().catch(() => {}), POLL_MS);
	ctx.onLeave(() => clearInterval(timer));
}

function statusActions(ctx: PageContext, sub: Subscription) {
	const toggle =
		sub.status === "active"
			? button("Pause", () => setStatus("paused"))
			: button(sub.status === "disabled" ? "Re-enable" : "Resume", () => setStatus("active"), "primary");
	async function setStatus(status: "active" | "paused") {
		try {
			await ctx.api.updateSubscription(sub.topic, sub.id, { status });
			toast(status === "active" ? "Subscription resumed." : "Subscription paused.");
			ctx.refresh();
		} catch (error) {
			toast((error as Error).message);
		}
	}
	const remove = button(
		"Delete",
		async () => {
			const ok = await confirmDialog({
				title: "Delete this subscription?",
				body: h("p", null, `Deliveries to ${sub.url} stop. The dead-letter topic is kept.`),
				confirmLabel: "Delete subscription",
			});
			if (!ok) return;
			await ctx.api.deleteSubscription(sub.topic, sub.id);
			toast("Subscription deleted.");
			location.hash = href("webhooks");
		},
		"danger",
	);
	return [toggle, remove];
}

function laneTable(lanes: readonly Lane[], detail: TopicDetail): HTMLElement {
	return table(
		"Delivery position by partition",
		[
			{ label: "Partition", kind: "num" },
			{ label: "Position", kind: "num" },
			{ label: "High watermark", kind: "num" },
			{ label: "Lag", kind: "num" },
			{ label: "In flight", kind: "wide" },
		],
		lanes.map((lane) => {
			const hwm = detail.partitions[lane.partition]?.high_watermark ?? 0;
			const p = lane.pending;
			return [
				String(lane.partition),
				formatCount(lane.next_offset),
				formatCount(hwm),
				formatCount(Math.max(0, hwm - lane.next_offset)),
				p === null
					? h("span", { class: "muted" }, "idle")
					: h(
							"span",
							null,
							`offsets ${p.first_offset}–${p.last_offset}, ${p.attempts} attempt${p.attempts === 1 ? "" : "s"}`,
							p.attempts > 0 ? `, next ${p.next_attempt_at <= Date.now() ? "now" : `at ${formatTime(p.next_attempt_at)}`}` : "",
							p.last_error ? h("span", { class: "error-text" }, ` · ${p.last_error}`) : null,
						),
			];
		}),
	);
}

function deliveryTable(deliveries: readonly Delivery[]): HTMLElement {
	return table(
		"Recent delivery attempts",
		[
			{ label: "When" },
			{ label: "Partition", kind: "num" },
			{ label: "Offsets" },
			{ label: "Attempt", kind: "num" },
			{ label: "Outcome" },
			{ label: "HTTP", kind: "num" },
			{ label: "Latency", kind: "num" },
			{ label: "Error", kind: "wide" },
		],
		deliveries.map((d) => [
			h("time", { datetime: new Date(d.at).toISOString(), title: formatTime(d.at), class: "nowrap" }, formatAgo(d.at)),
			String(d.partition),
			`${d.first_offset}–${d.last_offset}`,
			String(d.attempt),
			badge(d.outcome.replace("_", " "), OUTCOME_TONES[d.outcome]),
			d.response_status === null ? "—" : String(d.response_status),
			`${formatCount(d.latency_ms)} ms`,
			d.error === null ? "" : h("span", { class: "error-text" }, d.error),
		]),
		"No delivery attempts yet.",
	);
}

/** The dead-letter topic's newest records, or null when it does not exist yet (nothing has failed for good). */
async function deadLetters(ctx: PageContext, dlq: string): Promise<StoredRecord[] | null> {
	try {
		const latest = await ctx.api.offsetAt(dlq, 0, "latest");
		const earliest = await ctx.api.offsetAt(dlq, 0, "earliest");
		const page = await ctx.api.fetchRecords(dlq, 0, Math.max(earliest, latest - DEAD_LETTERS_SHOWN), DEAD_LETTERS_SHOWN);
		return [...page.records].reverse();
	} catch (error) {
		if ((error as { status?: number }).status === 404) return null;
		throw error;
	}
}

function header(record: StoredRecord, name: string): string | null {
	return record.headers.find((hd) => hd.key === `tributary-dlq-${name}`)?.value ?? null;
}

function deadLetterView(ctx: PageContext, sub: Subscription, letters: StoredRecord[] | null): HTMLElement {
	if (letters === null || letters.length === 0)
		return h(
			"p",
			{ class: "empty" },
			`No dead letters. Batches that fail ${sub.max_attempts} attempts go to `,
			h("code", null, sub.dead_letter_topic),
			".",
		);
	return h(
		"div",
		null,
		h(
			"p",
			{ class: "hint" },
			"Replay rewinds the subscription's partition to the dead-lettered offset: that record and the ones after it are delivered again.",
		),
		table(
			"Dead letters",
			[
				{ label: "Source" },
				{ label: "Record time" },
				{ label: "Attempts", kind: "num" },
				{ label: "Last error" },
				{ label: "Value", kind: "wide" },
				{ label: "" },
			],
			letters.map((r) => {
				const partition = Number(header(r, "partition"));
				const offset = Number(header(r, "offset"));
				return [
					h("span", { class: "nowrap" }, `partition ${partition}, offset ${offset}`),
					h("time", { datetime: new Date(r.timestamp).toISOString(), class: "nowrap" }, formatTime(r.timestamp)),
					header(r, "attempts") ?? "—",
					h("span", { class: "error-text" }, header(r, "error") ?? "—"),
					h("code", { class: "clip" }, preview(r.value, r.value_encoding)),
					button(
						["Replay", h("span", { class: "sr-only" }, ` partition ${partition} offset ${offset}`)],
						() => replay(ctx, sub, partition, offset),
						"secondary",
						{ class: "btn btn-secondary btn-small" },
					),
				];
			}),
		),
	);
}

async function replay(ctx: PageContext, sub: Subscription, partition: number, offset: number): Promise<void> {
	try {
		await ctx.api.replay(sub.topic, sub.id, { partition, offset });
		toast(`Replaying partition ${partition} from offset ${offset}.`);
	} catch (error) {
		toast(`Replay failed: ${(error as Error).message}`);
	}
}
