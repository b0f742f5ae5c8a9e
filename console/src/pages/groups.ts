/**
 * @module
 * Consumer groups: the list (state, members), and one group (generation, members and their assignments,
 * committed offset, high watermark and lag per partition, a lag chart while the page is open, and resetting the
 * offsets of an empty group).
 */

import type { GroupDetail, ResetTarget } from "../api.ts";
import { lineChart, type Sample } from "../chart.ts";
import { href, type PageContext } from "../context.ts";
import { field, formValue, h, mount, topicField } from "../dom.ts";
import { formatCount, formatDuration, parseLocalTime } from "../format.ts";
import { badge, card, confirmDialog, formStatus, loading, notice, pageHeader, stats, type Tone, table, toast } from "../ui.ts";

const POLL_MS = 2_000;
const CHART_WINDOW_MS = 120_000;

const STATE_TONES: Record<string, Tone> = { stable: "ok", empty: "muted", dead: "bad" };

function stateBadge(state: string): HTMLElement {
	return badge(state, STATE_TONES[state] ?? "muted");
}

export async function groupsPage(ctx: PageContext): Promise<void> {
	mount(ctx.main, pageHeader("Consumer groups"), loading());
	const groups = await ctx.api.listGroups();
	if (!ctx.alive()) return;
	mount(
		ctx.main,
		pageHeader("Consumer groups", {
			subtitle: "Members of a group share a topic's partitions; each group keeps its own committed offsets.",
		}),
		card(
			null,
			table(
				"Consumer groups",
				[{ label: "Group", kind: "wide" }, { label: "State" }, { label: "Members", kind: "num" }],
				groups.map((g) => [
					h("a", { href: href("groups", g.group), class: "strong-link" }, g.group),
					stateBadge(g.state),
					formatCount(g.members),
				]),
				"No consumer groups yet. A group appears when its first member joins.",
			),
		),
	);
}

export async function groupPage(ctx: PageContext): Promise<void> {
	const id = ctx.params[0] ?? "";
	const crumbs: [string, string][] = [["Consumer groups", href("groups")]];
	mount(ctx.main, pageHeader(id, { crumbs }), loading());
	const first = await ctx.api.group(id);
	if (!ctx.alive()) return;
	const samples: Sample[] = [];
	const summary = h("div");
	const chart = h("div", { class: "chart-wrap" });
	const chartText = h("p", { class: "chart-summary" });
	const members = h("div");
	const offsets = h("div");
	const reset = resetForm(ctx, first);
	mount(
		ctx.main,
		pageHeader(id, { crumbs, subtitle: "Refreshes every 2 seconds while open." }),
		summary,
		card("Lag over time", chartText, chart),
		card("Lag by partition", offsets),
		card("Members", members),
		reset.el,
	);
	const render = (group: GroupDetail) => {
		// A partition the group has not committed has no lag (null), as Kafka's tools show "-"; none committed: no total.
		const lags = group.offsets.flatMap((o) => (o.lag === null ? [] : [o.lag]));
		const total = lags.length === 0 ? null : lags.reduce((n, lag) => n + lag, 0);
		if (total !== null) samples.push({ atMs: Date.now(), value: total });
		while (samples.length > 0 && (samples[0]?.atMs ?? 0) < Date.now() - CHART_WINDOW_MS) samples.shift();
		mount(
			summary,
			stats([
				{ label: "State", value: stateBadge(group.state) },
				{ label: "Generation", value: formatCount(group.generation) },
				{ label: "Members", value: formatCount(group.members.length) },
				{
					label: "Total lag",
					value: h("span", { "data-testid": "total-lag" }, total === null ? "–" : formatCount(total)),
					hint: total === null ? "nothing committed yet" : "records",
				},
			]),
		);
		chartText.textContent = lagSummary(total, samples);
		mount(chart, lineChart(samples, CHART_WINDOW_MS, `Total lag of ${id} over the last ${CHART_WINDOW_MS / 1000} seconds`));
		mount(offsets, offsetTable(group));
		mount(members, memberTable(group));
		reset.update(group);
	};
	render(first);
	const timer = setInterval(async () => {
		try {
			const next = await ctx.api.group(id);
			if (ctx.alive()) render(next);
		} catch {
			// A failed poll leaves the last view; the next poll tries again.
		}
	}, POLL_MS);
	ctx.onLeave(() => clearInterval(timer));
}

/** The chart's text; the range sentence only once there are samples (before a commit there is no lag to range). */
function lagSummary(total: number | null, samples: readonly { atMs: number; value: number }[]): string {
	const now = total === null ? "unknown (nothing committed yet)" : `${formatCount(total)} records`;
	const first = samples[0];
	if (first === undefined) return `Total lag is ${now}.`;
	const values = samples.map((p) => p.value);
	const seconds = Math.round((Date.now() - first.atMs) / 1000);
	return `Total lag is ${now}; over the last ${seconds} s it ranged from ${formatCount(Math.min(...values))} to ${formatCount(Math.max(...values))}.`;
}

function offsetTable(group: GroupDetail): HTMLElement {
	return table(
		`Committed offsets and lag of ${group.group}`,
		[
			{ label: "Topic", kind: "wide" },
			{ label: "Partition", kind: "num" },
			{ label: "Committed", kind: "num" },
			{ label: "High watermark", kind: "num" },
			{ label: "Lag", kind: "num" },
		],
		group.offsets.map((o) => [
			h("a", { href: href("topics", o.topic) }, o.topic),
			String(o.partition),
			o.committed === null ? h("span", { class: "muted" }, "none") : formatCount(o.committed),
			formatCount(o.high_watermark),
			o.lag === null ? h("span", { class: "muted" }, "–") : h("span", { class: o.lag > 0 ? "lag lag-behind" : "lag" }, formatCount(o.lag)),
		]),
		"No committed offsets or subscribed topics.",
	);
}

function memberTable(group: GroupDetail): HTMLElement {
	return table(
		`Members of ${group.group}`,
		[
			{ label: "Member", kind: "wide" },
			{ label: "Instance" },
			{ label: "Subscription" },
			{ label: "Assigned partitions" },
			{ label: "Session timeout" },
		],
		group.members.map((m) => [
			h("code", null, m.member_id),
			m.instance_id ?? h("span", { class: "muted" }, "dynamic"),
			m.topic_pattern !== undefined ? h("code", null, `/${m.topic_pattern}/`) : (m.topics ?? []).join(", "),
			m.assignment.length === 0
				? h("span", { class: "muted" }, "none")
				: h(
						"ul",
						{ class: "chips" },
						m.assignment.map((a) => h("li", null, `${a.topic}-${a.partition}`)),
					),
			formatDuration(m.session_timeout_ms),
		]),
		"No members: the group is empty.",
	);
}

function resetForm(ctx: PageContext, initial: GroupDetail) {
	const status = formStatus();
	const topics = [...new Set(initial.offsets.map((o) => o.topic))];
	const explain = h("p", { class: "hint" });
	const submit = h("button", { type: "submit", class: "btn btn-danger" }, "Reset offsets");
	const target = h(
		"select",
		{ name: "to", class: "input" },
		h("option", { value: "earliest" }, "Earliest"),
		h("option", { value: "latest" }, "Latest"),
		h("option", { value: "timestamp" }, "A time"),
		h("option", { value: "offset" }, "An offset"),
	);
	const timeField = field("Time", h("input", { name: "time", type: "datetime-local", step: "1", class: "input" }));
	const offsetField = field(
		"Offset",
		h("input", { name: "offset", type: "number", min: "0", class: "input" }),
		"Clamped into each partition's log.",
	);
	const syncTarget = () => {
		timeField.hidden = target.value !== "timestamp";
		offsetField.hidden = target.value !== "offset";
	};
	target.addEventListener("change", syncTarget);
	syncTarget();
	const form = h(
		"form",
		{ class: "form-grid", novalidate: true },
		topicField(topics),
		field("Reset to", target),
		timeField,
		offsetField,
		h("div", { class: "form-actions" }, submit),
		status.el,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		const topic = formValue(form, "topic");
		let to: ResetTarget;
		if (target.value === "timestamp") {
			const ms = parseLocalTime(formValue(form, "time"));
			if (ms === null) return status.error("Choose a time.");
			to = { timestamp: ms };
		} else if (target.value === "offset") {
			const offset = formValue(form, "offset").trim();
			// An empty field must not become offset 0 (Number("") is 0): that would rewind the group to the start.
			if (!/^\d+$/.test(offset) || !Number.isSafeInteger(Number(offset))) {
				return status.error("Give the offset as a whole number, 0 or more.");
			}
			to = { offset: Number(offset) };
		} else to = target.value as "earliest" | "latest";
		const ok = await confirmDialog({
			title: `Reset ${initial.group} on ${topic}?`,
			body: h(
				"p",
				null,
				"The group's committed offsets for every partition of the topic are replaced. Its consumers continue from there when they join.",
			),
			confirmLabel: "Reset offsets",
		});
		if (!ok) return;
		try {
			const result = await ctx.api.resetOffsets(initial.group, topic, to);
			status.success(`Offsets reset: ${result.offsets.map((o) => `partition ${o.partition} → ${o.offset}`).join(", ")}.`);
			toast("Offsets reset.");
		} catch (error) {
			status.error((error as Error).message);
		}
	});
	const el = card("Reset offsets", explain, topics.length === 0 ? notice("info", "The group has no topics to reset.") : form);
	return {
		el,
		update(group: GroupDetail) {
			const empty = group.state === "empty";
			submit.disabled = !empty;
			explain.textContent = empty
				? "The group is empty, so its offsets may be reset."
				: `Offsets can be reset only while the group is empty; it has ${group.members.length} member${group.members.length === 1 ? "" : "s"} now.`;
		},
	};
}
