/**
 * @module
 * One topic: its id (new with each incarnation, Kafka's topic id), per-partition log start offset (and local log start), high watermark, records held (local and in
 * R2) and bytes (local, and in R2); its totals over both tiers; its config and location hint; alter it (grow
 * partitions, change retention, cleanup policy, message size) or delete it.
 */

import type { TopicDetail } from "../api.ts";
import { href, type PageContext } from "../context.ts";
import { field, formValue, h, mount } from "../dom.ts";
import { formatBytes, formatCount, formatDuration, kafkaTopicId } from "../format.ts";
import { CLEANUP_POLICIES, partitionRecords, RETENTION_CHOICES, retentionText, topicKind, topicTotals } from "../topic-stats.ts";
import { badge, button, card, formStatus, loading, pageHeader, stats, table, toast } from "../ui.ts";
import { deleteTopic } from "./topics.ts";

export async function topicPage(ctx: PageContext): Promise<void> {
	const name = ctx.params[0] ?? "";
	mount(ctx.main, pageHeader(name, { crumbs: [["Topics", href("topics")]] }), loading());
	const detail = await ctx.api.topic(name);
	if (!ctx.alive()) return;
	const totals = topicTotals(detail);
	const kind = topicKind(name);
	mount(
		ctx.main,
		pageHeader(name, {
			crumbs: [["Topics", href("topics")]],
			subtitle: [
				kind === null ? null : badge(kind, "muted"),
				`${kind === null ? "" : " "}${detail.partitions.length} partitions · Topic ID `,
				h("code", { class: "topic-id", title: `Kafka's form: ${kafkaTopicId(detail.topic_id)}` }, detail.topic_id),
			],
			actions: [
				h("a", { class: "btn btn-primary", href: href("topics", name, "records") }, "Browse records"),
				kind === "internal" ? null : button("Delete topic", () => deleteTopic(ctx, name, () => (location.hash = href("topics"))), "danger"),
			],
		}),
		stats([
			{ label: "Partitions", value: formatCount(detail.partitions.length) },
			{ label: "Records", value: formatCount(totals.records) },
			{ label: "Stored", value: formatBytes(totals.bytes) },
			{ label: "Retention", value: retentionText(detail.config) },
		]),
		card("Partitions", partitionTable(name, detail)),
		h("div", { class: "two-col" }, card("Configuration", configList(detail)), kind === "internal" ? null : alterForm(ctx, detail)),
	);
}

function partitionTable(name: string, detail: TopicDetail): HTMLElement {
	return table(
		`Partitions of ${name}`,
		[
			{ label: "Partition", kind: "num" },
			{ label: "Log start offset", kind: "num" },
			{ label: "Local log start", kind: "num" },
			{ label: "High watermark", kind: "num" },
			{ label: "Records", kind: "num" },
			{ label: "Size", kind: "num" },
			{ label: "In R2", kind: "num" },
			{ label: "" },
		],
		detail.partitions.map((p) => [
			String(p.partition),
			formatCount(p.log_start_offset),
			formatCount(p.local_log_start_offset ?? p.log_start_offset),
			formatCount(p.high_watermark),
			formatCount(partitionRecords(p)),
			formatBytes(p.bytes ?? 0),
			formatBytes(p.remote_bytes ?? 0),
			h(
				"a",
				{ href: `${href("topics", name, "records")}?partition=${p.partition}`, class: "btn btn-ghost btn-small" },
				"Browse",
				h("span", { class: "sr-only" }, ` partition ${p.partition}`),
			),
		]),
	);
}

function configValue(key: string, value: unknown): string {
	if (value === -2 && key.startsWith("local.retention.")) return `same as ${key.slice("local.".length)} (-2)`;
	if (typeof value === "number" && key.endsWith(".ms")) return `${formatDuration(value)} (${value})`;
	if (typeof value === "number" && key.endsWith(".bytes")) return value < 0 ? "unlimited (-1)" : `${formatBytes(value)} (${value})`;
	return String(value);
}

function configList(detail: TopicDetail): HTMLElement {
	return h(
		"dl",
		{ class: "config-list" },
		Object.entries({ ...detail.config, ...(detail.location_hint ? { location_hint: detail.location_hint } : {}) })
			.sort(([a], [b]) => a.localeCompare(b))
			.map(([key, value]) => h("div", null, h("dt", null, h("code", null, key)), h("dd", null, configValue(key, value)))),
	);
}

function alterForm(ctx: PageContext, detail: TopicDetail): HTMLElement {
	const status = formStatus();
	const current = Number(detail.config["retention.ms"]);
	const choices = RETENTION_CHOICES.some(([, ms]) => ms === current)
		? RETENTION_CHOICES
		: [...RETENTION_CHOICES, [formatDuration(current), current] as [string, number]];
	const form = h(
		"form",
		{ class: "form-stack", novalidate: true, "aria-label": "Alter topic" },
		field(
			"Partitions",
			h("input", {
				name: "partitions",
				type: "number",
				class: "input",
				min: String(detail.partitions.length),
				max: "256",
				value: String(detail.partitions.length),
			}),
			"Partitions can be added, not removed. Keys may map to other partitions afterwards.",
		),
		field(
			"Retention",
			h(
				"select",
				{ name: "retention", class: "input" },
				choices.map(([label, ms]) => h("option", { value: String(ms), selected: ms === current }, label)),
			),
		),
		field(
			"Cleanup policy",
			h(
				"select",
				{ name: "cleanup", class: "input" },
				CLEANUP_POLICIES.map(([label, value]) => h("option", { value, selected: value === detail.config["cleanup.policy"] }, label)),
			),
		),
		field(
			"Max message bytes",
			h("input", { name: "max", type: "number", class: "input", min: "1", value: String(detail.config["max.message.bytes"]) }),
		),
		h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Save changes")),
		status.el,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		const partitions = Number(formValue(form, "partitions"));
		const config: Record<string, string | number> = {};
		const retention = Number(formValue(form, "retention"));
		if (retention !== current) config["retention.ms"] = retention;
		if (formValue(form, "cleanup") !== detail.config["cleanup.policy"]) config["cleanup.policy"] = formValue(form, "cleanup");
		const max = Number(formValue(form, "max"));
		if (max !== detail.config["max.message.bytes"]) config["max.message.bytes"] = max;
		const body: { partitions?: number; config?: Record<string, string | number> } = {};
		if (partitions !== detail.partitions.length) body.partitions = partitions;
		if (Object.keys(config).length > 0) body.config = config;
		if (Object.keys(body).length === 0) return status.error("Nothing changed.");
		try {
			await ctx.api.alterTopic(detail.name, body);
			toast(`Topic ${detail.name} updated.`);
			ctx.refresh();
		} catch (error) {
			status.error((error as Error).message);
		}
	});
	return card("Alter topic", form);
}
