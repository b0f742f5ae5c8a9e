/**
 * @module
 * A few DOM helpers: elements are built with `h()` (never from HTML strings, so record contents can never become
 * markup), SVG with `s()`. Event handlers are attributes named `on…`.
 *
 * @example
 * h("button", { class: "btn", type: "button", onclick: () => save() }, "Save")
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>;

function apply(el: Element, attrs: Attrs | null | undefined): void {
	for (const [name, value] of Object.entries(attrs ?? {})) {
		if (value === null || value === undefined || value === false) continue;
		if (typeof value === "function") el.addEventListener(name.slice(2).toLowerCase(), value);
		else if (name === "value" && "value" in el) (el as HTMLInputElement).value = String(value);
		else el.setAttribute(name, value === true ? "" : String(value));
	}
}

function append(el: Node, children: readonly Child[]): void {
	for (const child of children) {
		if (child === null || child === undefined || child === false) continue;
		if (Array.isArray(child)) append(el, child);
		else el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
	}
}

/** An HTML element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
	const el = document.createElement(tag);
	apply(el, attrs);
	append(el, children);
	return el;
}

/** An SVG element with attributes and children. */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): SVGElementTagNameMap[K] {
	const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
	apply(el, attrs);
	append(el, children);
	return el;
}

/** Replaces an element's children. */
export function mount(el: Element, ...children: Child[]): void {
	el.replaceChildren();
	append(el, children);
}

let idCounter = 0;
/** A fresh id for pairing labels, descriptions and controls. */
export function uid(prefix: string): string {
	idCounter += 1;
	return `${prefix}-${idCounter}`;
}

/** A labelled form field: label, control, optional hint, all wired by id. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
	const id = control.id || uid("f");
	control.id = id;
	const hintEl = hint === undefined ? null : h("p", { class: "hint", id: `${id}-hint` }, hint);
	if (hintEl !== null) control.setAttribute("aria-describedby", hintEl.id);
	return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

/** A form's "Topic" field: a select (named `topic`) of `topics`. */
export function topicField(topics: readonly string[]): HTMLElement {
	return field(
		"Topic",
		h(
			"select",
			{ name: "topic", class: "input" },
			topics.map((t) => h("option", { value: t }, t)),
		),
	);
}

/** The value of a named control of a form. */
export function formValue(form: HTMLFormElement, name: string): string {
	const el = form.elements.namedItem(name);
	if (el instanceof HTMLInputElement && el.type === "checkbox") return el.checked ? "on" : "";
	return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement ? el.value : "";
}
