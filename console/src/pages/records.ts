/**
 * @module
 * Records of a topic: browse a partition from the beginning, an offset, a time or the end, page with
 * `next_offset`; follow it live (SSE read from a streamed fetch); produce a record from a form.
 */

import { parseJsonExact } from "../../../src/shared/json.ts";
import type { ProduceRecord, StoredRecord, TopicDetail } from "../api.ts";
import { href, type PageContext } from "../context.ts";
import { field, formValue, h, mount } from "../dom.ts";
import { formatCount, formatTime, parseLocalTime } from "../format.ts";
import { dataView, headersView, keyView, preview } from "../record-view.ts";
import { badge, button, card, formStatus, loading, notice, pageHeader, table } from "../ui.ts";

const PAGE_SIZES = [20, 50, 100] as const;
const TAIL_KEPT = 200;
type From = "beginning" | "offset" | "time" | "end";

interface BrowseState {
	partition: number;
	from: From;
	offset: number;
	time: string;
	size: number;
}

function initialState(ctx: PageContext, detail: TopicDetail): BrowseState {
	const q = ctx.query;
	const partition = Math.min(Math.max(Number(q.get("partition") ?? 0) || 0, 0), detail.partitions.length - 1);
	const from = (["beginning", "offset", "time", "end"] as const).find((f) => f === q.get("from")) ?? "end";
	const size = PAGE_SIZES.find((s) => s === Number(q.get("size"))) ?? 20;
	return { partition, from, offset: Number(q.get("offset") ?? 0) || 0, time: q.get("time") ?? "", size };
}

export async function recordsPage(ctx: PageContext): Promise<void> {
	const topic = ctx.params[0] ?? "";
	const crumbs: [string, string][] = [
		["Topics", href("topics")],
		[topic, href("topics", topic)],
	];
	mount(ctx.main, pageHeader("Records", { crumbs }), loading());
	const detail = await ctx.api.topic(topic);
	if (!ctx.alive()) return;
	const state = initialState(ctx, detail);
	const results = h("div", { class: "results", "aria-live": "polite", "aria-busy": "false" });
	const browse = browseControls(detail, state, () => void load());
	const tail = liveTail(ctx, topic, () => state.partition);
	const producer = produceForm(ctx, detail, (partition) => {
		state.partition = partition;
		state.from = "end";
		browse.sync();
		void load();
	});
	mount(
		ctx.main,
		pageHeader("Records", { crumbs, subtitle: [h("code", null, topic), ` · ${detail.partitions.length} partitions`] }),
		card("Browse", browse.form, results),
		h("div", { class: "two-col" }, tail, producer),
	);

	async function load(): Promise<void> {
		const params = new URLSearchParams({ partition: String(state.partition), from: state.from, size: String(state.size) });
		if (state.from === "offset") params.set("offset", String(state.offset));
		if (state.from === "time") params.set("time", state.time);
		history.replaceState(null, "", `${href("topics", topic, "records")}?${params}`);
		results.setAttribute("aria-busy", "true");
		try {
			const start = await startOffset(ctx, topic, state);
			const page = await ctx.api.fetchRecords(topic, state.partition, start, state.size);
			if (!ctx.alive()) return;
			mount(
				results,
				pageView(topic, state, start, page, (offset) => {
					state.from = "offset";
					state.offset = offset;
					browse.sync();
					void load();
				}),
			);
		} catch (error) {
			if (ctx.alive()) mount(results, notice("error", (error as Error).message));
		} finally {
			results.setAttribute("aria-busy", "false");
		}
	}
	await load();
}

async function startOffset(ctx: PageContext, topic: string, state: BrowseState): Promise<number> {
	switch (state.from) {
		case "beginning":
			return ctx.api.offsetAt(topic, state.partition, "earliest");
		case "offset":
			return state.offset;
		case "time": {
			const ms = parseLocalTime(state.time);
			if (ms === null) throw new Error("Choose a date and time to start from.");
			return ctx.api.offsetAt(topic, state.partition, ms);
		}
		case "end": {
			const [earliest, latest] = await Promise.all([
				ctx.api.offsetAt(topic, state.partition, "earliest"),
				ctx.api.offsetAt(topic, state.partition, "latest"),
			]);
			return Math.max(earliest, latest - state.size);
		}
	}
}

function browseControls(detail: TopicDetail, state: BrowseState, load: () => void) {
	const partition = h(
		"select",
		{ name: "partition", class: "input" },
		detail.partitions.map((p) => h("option", { value: String(p.partition) }, `Partition ${p.partition}`)),
	);
	const from = h(
		"select",
		{ name: "from", class: "input" },
		h("option", { value: "end" }, "Newest records"),
		h("option", { value: "beginning" }, "From the beginning"),
		h("option", { value: "offset" }, "From an offset"),
		h("option", { value: "time" }, "From a time"),
	);
	const offset = h("input", { name: "offset", type: "number", min: "0", class: "input" });
	const time = h("input", { name: "time", type: "datetime-local", step: "1", class: "input" });
	const size = h(
		"select",
		{ name: "size", class: "input" },
		PAGE_SIZES.map((n) => h("option", { value: String(n) }, `${n} records`)),
	);
	const offsetField = field("Offset", offset);
	const timeField = field("Time", time, "Your local time.");
	const form = h(
		"form",
		{ class: "toolbar", novalidate: true, "aria-label": "Browse records" },
		field("Partition", partition),
		field("Start", from),
		offsetField,
		timeField,
		field("Page size", size),
		h("div", { class: "toolbar-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Show records")),
	);
	const sync = () => {
		partition.value = String(state.partition);
		from.value = state.from;
		offset.value = String(state.offset);
		time.value = state.time;
		size.value = String(state.size);
		offsetField.hidden = state.from !== "offset";
		timeField.hidden = state.from !== "time";
	};
	from.addEventListener("change", () => {
		state.from = from.value as From;
		sync();
	});
	form.addEventListener("submit", (event) => {
		event.preventDefault();
		state.partition = Number(formValue(form, "partition"));
		state.from = formValue(form, "from") as From;
		state.offset = Number(formValue(form, "offset")) || 0;
		state.time = formValue(form, "time");
		state.size = Number(formValue(form, "size"));
		load();
	});
	sync();
	return { form, sync };
}

function pageView(
	topic: string,
	state: BrowseState,
	start: number,
	page: { records: readonly StoredRecord[]; high_watermark: number; log_start_offset: number; next_offset: number },
	goTo: (offset: number) => void,
): HTMLElement {
	const first = page.records[0]?.offset;
	const last = page.records.at(-1)?.offset;
	const summary =
		first === undefined
			? `No records from offset ${formatCount(start)} (partition ${state.partition} holds offsets ${formatCount(page.log_start_offset)} to ${formatCount(Math.max(page.log_start_offset, page.high_watermark - 1))}).`
			: `Offsets ${formatCount(first)}–${formatCount(last ?? first)} of partition ${state.partition} · log start ${formatCount(page.log_start_offset)} · high watermark ${formatCount(page.high_watermark)}`;
	const older = Math.max(page.log_start_offset, start - state.size);
	const pager = h(
		"div",
		{ class: "pager" },
		button("← Older", () => goTo(older), "secondary", start <= page.log_start_offset ? { disabled: "" } : {}),
		h("p", { class: "pager-summary" }, summary),
		button("Newer →", () => goTo(page.next_offset), "secondary", page.next_offset >= page.high_watermark ? { disabled: "" } : {}),
	);
	const rows = page.records.map((r) => [
		h("span", { class: "mono" }, String(r.offset)),
		h("time", { datetime: new Date(r.timestamp).toISOString(), class: "nowrap" }, formatTime(r.timestamp)),
		keyView(r),
		dataView(r.value, r.value_encoding),
		headersView(r.headers),
	]);
	return h(
		"div",
		null,
		pager,
		table(
			`Records of ${topic}, partition ${state.partition}`,
			[{ label: "Offset", kind: "num" }, { label: "Timestamp" }, { label: "Key" }, { label: "Value", kind: "wide" }, { label: "Headers" }],
			rows,
			"This page holds no records.",
		),
	);
}

function liveTail(ctx: PageContext, topic: string, partitionOf: () => number): HTMLElement {
	let abort: AbortController | null = null;
	let received = 0;
	const list = h("ol", { class: "tail-list", "aria-label": "Records received live" });
	const status = h("p", { class: "tail-status", role: "status" }, "Stopped. Start to see records as they are produced.");
	const toggle = button("Start live tail", () => (abort === null ? start() : stop()), "primary", { "aria-pressed": "false" });
	ctx.onLeave(() => abort?.abort());

	async function start(): Promise<void> {
		const partition = partitionOf();
		abort = new AbortController();
		const signal = abort.signal;
		toggle.textContent = "Stop live tail";
		toggle.setAttribute("aria-pressed", "true");
		try {
			const from = await ctx.api.offsetAt(topic, partition, "latest");
			status.replaceChildren(
				badge("live", "ok"),
				` Following partition ${partition} from offset ${formatCount(from)}. ${received} received.`,
			);
			for await (const record of ctx.api.tail(topic, partition, from, signal)) {
				received += 1;
				list.prepend(
					h(
						"li",
						{ class: "tail-item" },
						h("span", { class: "mono tail-offset" }, `#${record.offset}`),
						h("span", { class: "tail-time" }, formatTime(record.timestamp)),
						h("span", { class: "tail-key" }, `key ${preview(record.key, record.key_encoding)}`),
						h("code", { class: "tail-value" }, preview(record.value, record.value_encoding)),
					),
				);
				while (list.children.length > TAIL_KEPT) list.lastElementChild?.remove();
				status.replaceChildren(
					badge("live", "ok"),
					` Following partition ${partition}. ${received} received, last at offset ${formatCount(record.offset)}.`,
				);
			}
		} catch (error) {
			if (!signal.aborted) status.replaceChildren(notice("error", `The live tail stopped: ${(error as Error).message}`));
		}
		if (abort?.signal === signal) finish();
	}

	function stop(): void {
		abort?.abort();
		finish();
		status.replaceChildren(`Stopped. ${received} received.`);
	}

	function finish(): void {
		abort = null;
		toggle.textContent = "Start live tail";
		toggle.setAttribute("aria-pressed", "false");
	}

	return card(
		"Live tail",
		h("p", { class: "hint" }, "Streams the selected partition over Server-Sent Events, newest first."),
		h("div", { class: "tail-head" }, toggle, status),
		list,
	);
}

function produceForm(ctx: PageContext, detail: TopicDetail, show: (partition: number) => void): HTMLElement {
	const status = formStatus();
	const form = h(
		"form",
		{ class: "form-stack", novalidate: true, "aria-label": "Produce a record" },
		field(
			"Key",
			h("input", { name: "key", class: "input", autocomplete: "off", spellcheck: "false" }),
			"Optional. Records with the same key go to the same partition.",
		),
		field("Value", h("textarea", { name: "value", class: "input mono", rows: "5", spellcheck: "false" }, '{\n  "hello": "world"\n}')),
		field(
			"Value format",
			h(
				"select",
				{ name: "format", class: "input" },
				h("option", { value: "json" }, "JSON"),
				h("option", { value: "text" }, "Text (sent as a JSON string)"),
				h("option", { value: "base64" }, "Base64 (binary)"),
			),
		),
		field(
			"Headers",
			h("textarea", { name: "headers", class: "input mono", rows: "2", spellcheck: "false", placeholder: "source: console" }),
			"One per line, as name: value.",
		),
		field(
			"Partition",
			h(
				"select",
				{ name: "partition", class: "input" },
				h("option", { value: "" }, "Choose by key (Kafka's partitioner)"),
				detail.partitions.map((p) => h("option", { value: String(p.partition) }, `Partition ${p.partition}`)),
			),
		),
		h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Produce record")),
		status.el,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		let record: ProduceRecord;
		try {
			record = recordFromForm(form);
		} catch (error) {
			return status.error((error as Error).message);
		}
		try {
			const [written] = await ctx.api.produce(detail.name, [record]);
			if (written === undefined) return status.error("The broker acknowledged no record.");
			status.success(`Record written to partition ${written.partition} at offset ${formatCount(written.offset)}.`);
			show(written.partition);
		} catch (error) {
			status.error((error as Error).message);
		}
	});
	return card("Produce", form);
}

function recordFromForm(form: HTMLFormElement): ProduceRecord {
	const key = formValue(form, "key");
	const text = formValue(form, "value");
	const format = formValue(form, "format");
	let value: unknown = text;
	if (format === "json") {
		try {
			// Parsed keeping big integers' digits, so the record sent carries the text's numbers, not rounded doubles.
			value = parseJsonExact(text);
		} catch {
			throw new Error("The value is not valid JSON. Fix it, or choose Text to send it as a string.");
		}
	}
	if (format === "base64" && !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text.trim())) {
		throw new Error("The value is not padded base64.");
	}
	const headers = [];
	for (const line of formValue(form, "headers").split("\n")) {
		if (line.trim() === "") continue;
		const colon = line.indexOf(":");
		if (colon <= 0) throw new Error(`Header line "${line}" needs the form name: value.`);
		headers.push({ key: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
	}
	const partition = formValue(form, "partition");
	return {
		...(key === "" ? {} : { key }),
		value: format === "base64" ? text.trim() : value,
		...(format === "base64" ? { value_encoding: "base64" as const } : {}),
		...(headers.length > 0 ? { headers } : {}),
		...(partition === "" ? {} : { partition: Number(partition) }),
	};
}
