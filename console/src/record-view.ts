/**
 * @module
 * How a record reads: JSON values pretty-printed (integers a double cannot hold with their digits: the API client
 * parses them as `JSON.rawJSON`, which `JSON.stringify` writes back as is), strings as text, base64 marked as base64 (never decoded into
 * something that pretends to be text), headers as name/value pairs, and a one-line preview for the live tail.
 */

import type { Encoding, RecordHeader, StoredRecord } from "./api.ts";
import { h } from "./dom.ts";
import { badge, code } from "./ui.ts";

const PREVIEW_CHARS = 160;

export function dataView(data: unknown, encoding: Encoding | undefined): HTMLElement {
	if (data === null || data === undefined) return h("span", { class: "muted" }, "null");
	if (encoding === "base64") return h("div", { class: "value" }, badge("base64", "info"), code(String(data), "code-inline"));
	if (typeof data === "string") return h("div", { class: "value" }, code(data, "code-inline"));
	return h("div", { class: "value" }, code(JSON.stringify(data, null, 2)));
}

export function headersView(headers: readonly RecordHeader[]): HTMLElement {
	if (headers.length === 0) return h("span", { class: "muted" }, "none");
	return h(
		"ul",
		{ class: "headers" },
		headers.map((hd) =>
			h("li", null, h("span", { class: "header-key" }, hd.key), h("span", { class: "header-value" }, hd.value ?? "null")),
		),
	);
}

export function preview(data: unknown, encoding: Encoding | undefined): string {
	if (data === null || data === undefined) return "null";
	const text = typeof data === "string" ? data : JSON.stringify(data);
	const shown = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
	return encoding === "base64" ? `base64 ${shown}` : shown;
}

export function keyView(record: StoredRecord): HTMLElement {
	return dataView(record.key, record.key_encoding);
}
