/**
 * @module
 * Topics: every topic the token may describe, with partitions, records, stored bytes, retention and cleanup
 * policy; create one; delete one after typing its name.
 */

import type { TopicDetail, TopicSummary } from "../api.ts";
import { href, type PageContext } from "../context.ts";
import { field, formValue, h, mount } from "../dom.ts";
import { formatBytes, formatCount } from "../format.ts";
import { CLEANUP_POLICIES, mapLimited, RETENTION_CHOICES, retentionText, topicKind, topicTotals } from "../topic-stats.ts";
import { badge, button, card, confirmDialog, formStatus, loading, pageHeader, stats, table, toast } from "../ui.ts";

const DESCRIBE_CONCURRENCY = 6;

export async function topicsPage(ctx: PageContext): Promise<void> {
	mount(ctx.main, pageHeader("Topics"), loading("Loading topics"));
	const topics = await ctx.api.listTopics();
	const details = await mapLimited(topics, DESCRIBE_CONCURRENCY, (t) => ctx.api.topic(t.name).catch(() => null));
	if (!ctx.alive()) return;
	let records = 0;
	let bytes = 0;
	for (const d of details) {
		if (d === null) continue;
		const totals = topicTotals(d);
		records += totals.records;
		bytes += totals.bytes;
	}
	const createCard = createTopicForm(ctx);
	createCard.hidden = ctx.query.get("create") !== "1";
	const toggle = button(
		"Create topic",
		() => {
			createCard.hidden = !createCard.hidden;
			if (!createCard.hidden) createCard.querySelector("input")?.focus();
		},
		"primary",
		{ "aria-controls": "create-topic", "aria-expanded": String(!createCard.hidden) },
	);
	createCard.id = "create-topic";
	mount(
		ctx.main,
		pageHeader("Topics", { subtitle: "Ordered, partitioned logs. Select a topic to see its partitions and records.", actions: toggle }),
		stats([
			{ label: "Topics", value: formatCount(topics.length) },
			{ label: "Partitions", value: formatCount(topics.reduce((n, t) => n + t.partitions, 0)) },
			{ label: "Records", value: formatCount(records) },
			{ label: "Stored", value: formatBytes(bytes) },
		]),
		createCard,
		card(null, topicTable(ctx, topics, details)),
	);
	toggle.addEventListener("click", () => toggle.setAttribute("aria-expanded", String(!createCard.hidden)));
}

function topicTable(ctx: PageContext, topics: readonly TopicSummary[], details: readonly (TopicDetail | null)[]): HTMLElement {
	const rows = topics.map((t, i) => {
		const d = details[i] ?? null;
		const totals = d === null ? null : topicTotals(d);
		const kind = topicKind(t.name);
		return [
			h(
				"span",
				{ class: "name-cell" },
				h("a", { href: href("topics", t.name), class: "strong-link" }, t.name),
				kind === null ? null : badge(kind, "muted"),
			),
			formatCount(t.partitions),
			totals === null ? "—" : formatCount(totals.records),
			totals === null ? "—" : formatBytes(totals.bytes),
			retentionText(t.config),
			String(t.config["cleanup.policy"]),
			h(
				"span",
				{ class: "row-actions" },
				h(
					"a",
					{ href: href("topics", t.name, "records"), class: "btn btn-ghost btn-small" },
					"Records",
					h("span", { class: "sr-only" }, ` of ${t.name}`),
				),
				kind === "internal"
					? null
					: button(["Delete", h("span", { class: "sr-only" }, ` ${t.name}`)], () => deleteTopic(ctx, t.name), "ghost", {
							class: "btn btn-ghost btn-small danger-text",
						}),
			),
		];
	});
	return table(
		"Topics",
		[
			{ label: "Name", kind: "wide" },
			{ label: "Partitions", kind: "num" },
			{ label: "Records", kind: "num" },
			{ label: "Size", kind: "num" },
			{ label: "Retention" },
			{ label: "Cleanup" },
			{ label: "Actions" },
		],
		rows,
		"No topics yet. Create one to start producing records.",
	);
}

export async function deleteTopic(ctx: PageContext, name: string, after?: () => void): Promise<void> {
	const ok = await confirmDialog({
		title: `Delete topic ${name}?`,
		body: h(
			"p",
			null,
			"Every record in every partition is deleted, and consumer groups and webhooks lose their positions. This cannot be undone.",
		),
		confirmLabel: "Delete topic",
		typeToConfirm: name,
	});
	if (!ok) return;
	try {
		await ctx.api.deleteTopic(name);
		toast(`Topic ${name} deleted.`);
		if (after) after();
		else ctx.refresh();
	} catch (error) {
		toast(`Could not delete ${name}: ${(error as Error).message}`);
	}
}

function createTopicForm(ctx: PageContext): HTMLElement {
	const status = formStatus();
	const retention = h(
		"select",
		{ name: "retention", class: "input" },
		RETENTION_CHOICES.map(([label, ms]) => h("option", { value: String(ms), selected: ms === 604_800_000 }, label)),
	);
	const cleanup = h(
		"select",
		{ name: "cleanup", class: "input" },
		CLEANUP_POLICIES.map(([label, value]) => h("option", { value }, label)),
	);
	const form = h(
		"form",
		{ class: "form-grid", novalidate: true },
		field(
			"Name",
			h("input", {
				name: "name",
				class: "input",
				required: true,
				maxlength: "249",
				pattern: "[a-zA-Z0-9._\\-]+",
				autocomplete: "off",
				spellcheck: "false",
			}),
			"Letters, digits, '.', '_' and '-'.",
		),
		field(
			"Partitions",
			h("input", { name: "partitions", class: "input", type: "number", min: "1", max: "256", value: "3", required: true }),
			"More partitions, more parallel consumers. Can grow later, never shrink.",
		),
		field("Retention", retention),
		field("Cleanup policy", cleanup, "compact keeps the newest record of each key."),
		h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Create topic")),
		status.el,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		const name = formValue(form, "name").trim();
		if (!/^[a-zA-Z0-9._-]+$/.test(name)) return status.error("Give the topic a name of letters, digits, '.', '_' and '-'.");
		try {
			await ctx.api.createTopic({
				name,
				partitions: Number(formValue(form, "partitions")),
				config: { "retention.ms": Number(formValue(form, "retention")), "cleanup.policy": formValue(form, "cleanup") },
			});
			toast(`Topic ${name} created.`);
			location.hash = href("topics", name);
		} catch (error) {
			status.error((error as Error).message);
		}
	});
	return card("Create a topic", form);
}
