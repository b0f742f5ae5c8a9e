/**
 * @module
 * The console's building blocks: page header, cards, tables, badges, notices, toasts and a confirmation dialog.
 * Meaning is always in text (a badge says "failed", not just red), tables have captions, dialogs are native
 * `<dialog>` elements (focus stays inside, Escape cancels).
 */

import { type Child, h } from "./dom.ts";

export type Tone = "ok" | "warn" | "bad" | "info" | "muted";

export function badge(text: string, tone: Tone = "muted"): HTMLElement {
	return h("span", { class: `badge badge-${tone}` }, text);
}

export function pageHeader(title: string, options: { subtitle?: Child; actions?: Child; crumbs?: [string, string][] } = {}): HTMLElement {
	const crumbs =
		options.crumbs === undefined
			? null
			: h(
					"nav",
					{ class: "crumbs", "aria-label": "Breadcrumb" },
					h(
						"ol",
						null,
						options.crumbs.map(([label, href]) => h("li", null, h("a", { href }, label))),
					),
				);
	return h(
		"header",
		{ class: "page-header" },
		crumbs,
		h(
			"div",
			{ class: "page-title-row" },
			h("div", null, h("h1", { tabindex: "-1" }, title), options.subtitle ? h("p", { class: "subtitle" }, options.subtitle) : null),
			options.actions ? h("div", { class: "actions" }, options.actions) : null,
		),
	);
}

export function card(title: string | null, ...children: Child[]): HTMLElement {
	return h("section", { class: "card" }, title === null ? null : h("h2", { class: "card-title" }, title), ...children);
}

export function stats(items: readonly { label: string; value: Child; hint?: string }[]): HTMLElement {
	return h(
		"dl",
		{ class: "stats" },
		items.map((item) =>
			h(
				"div",
				{ class: "stat" },
				h("dt", null, item.label),
				h("dd", null, item.value, item.hint ? h("span", { class: "stat-hint" }, item.hint) : null),
			),
		),
	);
}

export interface Column {
	readonly label: string;
	/** "num" right-aligns figures. */
	readonly kind?: "num" | "text" | "wide";
}

export function table(
	caption: string,
	columns: readonly Column[],
	rows: readonly Child[][],
	empty: Child = "Nothing here yet.",
): HTMLElement {
	if (rows.length === 0) return h("p", { class: "empty" }, empty);
	return h(
		"div",
		{ class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
		h(
			"table",
			null,
			h("caption", { class: "sr-only" }, caption),
			h(
				"thead",
				null,
				h(
					"tr",
					null,
					columns.map((c) => h("th", { scope: "col", class: c.kind ?? "text" }, c.label)),
				),
			),
			h(
				"tbody",
				null,
				rows.map((cells) =>
					h(
						"tr",
						null,
						cells.map((cell, i) => h("td", { class: columns[i]?.kind ?? "text", "data-label": columns[i]?.label ?? "" }, cell)),
					),
				),
			),
		),
	);
}

export function notice(kind: "error" | "info" | "success", ...children: Child[]): HTMLElement {
	const label = kind === "error" ? "Error" : kind === "success" ? "Done" : "Note";
	return h(
		"div",
		{ class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" },
		h("strong", null, `${label}: `),
		...children,
	);
}

export function loading(what = "Loading"): HTMLElement {
	return h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), `${what}…`);
}

export function button(
	label: Child,
	onclick: () => void,
	variant: "primary" | "secondary" | "danger" | "ghost" = "secondary",
	attrs: Record<string, string> = {},
): HTMLButtonElement {
	return h("button", { type: "button", class: `btn btn-${variant}`, onclick, ...attrs }, label);
}

/** A status line for a form: errors are announced assertively, successes politely. */
export function formStatus(): { el: HTMLElement; error(message: string): void; success(...children: Child[]): void; clear(): void } {
	const el = h("div", { class: "form-status", "aria-live": "polite" });
	return {
		el,
		error(message) {
			el.replaceChildren(notice("error", message));
		},
		success(...children) {
			el.replaceChildren(notice("success", ...children));
		},
		clear() {
			el.replaceChildren();
		},
	};
}

let toastRegion: HTMLElement | null = null;

export function setToastRegion(el: HTMLElement): void {
	toastRegion = el;
}

/** A short message that fades after a few seconds (announced by screen readers). */
export function toast(message: string): void {
	if (toastRegion === null) return;
	const el = h("div", { class: "toast" }, message);
	toastRegion.append(el);
	setTimeout(() => el.remove(), 5000);
}

/**
 * Asks before something irreversible. With `typeToConfirm`, the confirm button is enabled only once that text
 * is typed (for deleting topics: a slip of the finger should not wipe a log).
 */
export function confirmDialog(options: { title: string; body: Child; confirmLabel: string; typeToConfirm?: string }): Promise<boolean> {
	return new Promise((resolve) => {
		const confirm = h("button", { type: "submit", class: "btn btn-danger", value: "confirm" }, options.confirmLabel);
		const input =
			options.typeToConfirm === undefined
				? null
				: h("input", { type: "text", id: "confirm-text", autocomplete: "off", spellcheck: "false", class: "input" });
		if (input !== null) {
			confirm.disabled = true;
			input.addEventListener("input", () => {
				confirm.disabled = input.value !== options.typeToConfirm;
			});
		}
		const dialog = h(
			"dialog",
			{ class: "dialog", "aria-labelledby": "dialog-title" },
			h(
				"form",
				{ method: "dialog" },
				h("h2", { id: "dialog-title" }, options.title),
				h("div", { class: "dialog-body" }, options.body),
				input === null
					? null
					: h("div", { class: "field" }, h("label", { for: "confirm-text" }, `Type ${options.typeToConfirm} to confirm`), input),
				h(
					"div",
					{ class: "dialog-actions" },
					h("button", { type: "submit", class: "btn btn-secondary", value: "cancel" }, "Cancel"),
					confirm,
				),
			),
		);
		dialog.addEventListener("close", () => {
			resolve(dialog.returnValue === "confirm");
			dialog.remove();
		});
		document.body.append(dialog);
		dialog.showModal();
		(input ?? confirm).focus();
	});
}

/** A block of code-like text (JSON, base64) that wraps and scrolls. */
export function code(text: string, cls = ""): HTMLElement {
	return h("pre", { class: `code ${cls}` }, text);
}
