/**
 * @module
 * What an API key and the `anonymous` principal share, so both pages show and edit it alike: an ACL (resources and
 * their operations), quotas (three rates, changed one by one) and the refusal a token without admin on the cluster
 * gets.
 */

import { type AclEntry, type KeyQuotas, QuotaConflict, type QuotasPatch } from "./api.ts";
import { type Child, field, formValue, h } from "./dom.ts";
import { formatBytes, formatCount } from "./format.ts";
import { badge, button, card, formStatus, notice, pageHeader } from "./ui.ts";

export const OPERATIONS = ["describe", "consume", "produce", "admin"] as const;

/** Quotas as the API names them, how the form labels them and how a list shows a rate. */
const QUOTAS: readonly { name: keyof KeyQuotas; label: string; rate: (perSec: number) => string }[] = [
	{ name: "produce_bytes_per_sec", label: "Produce bytes per second", rate: (n) => `produce ${formatBytes(n)}/s` },
	{ name: "fetch_bytes_per_sec", label: "Fetch bytes per second", rate: (n) => `fetch ${formatBytes(n)}/s` },
	{ name: "requests_per_sec", label: "Requests per second", rate: (n) => `${formatCount(n)} requests/s` },
];

/** An admin page as a token without admin on the cluster sees it: the API would answer it 403. */
export function needsAdmin(title: string, what: string): Child[] {
	return [pageHeader(title), notice("error", `${what} needs the admin token or a key with admin on the cluster.`)];
}

/** An entry's operations as badges, admin marked apart. */
export function operationBadges(entry: AclEntry): HTMLElement[] {
	return entry.operations.map((op) => badge(op, op === "admin" ? "warn" : "info"));
}

/** Quotas as people read them ("produce 1.0 MiB/s", "50 requests/s"), none when there are none. */
export function quotaRates(quotas: Readonly<KeyQuotas>): string[] {
	return QUOTAS.flatMap(({ name, rate }) => {
		const perSec = quotas[name];
		return perSec === undefined ? [] : [rate(perSec)];
	});
}

export function quotaView(quotas: Readonly<KeyQuotas>): HTMLElement {
	const rates = quotaRates(quotas);
	if (rates.length === 0) return h("span", { class: "quotas muted" }, "no quotas");
	return h(
		"ul",
		{ class: "quotas" },
		rates.map((rate) => h("li", null, rate)),
	);
}

/** One ACL row of a form: a resource and its operations as checkboxes. */
export function aclRow(index: number): HTMLElement {
	return h(
		"fieldset",
		{ class: "acl-row" },
		h("legend", null, `Rule ${index + 1}`),
		field(
			"Resource",
			h("input", {
				name: `resource-${index}`,
				class: "input mono",
				placeholder: index === 0 ? "topic:orders" : "group:billing",
				autocomplete: "off",
				spellcheck: "false",
			}),
			index === 0 ? "cluster, topic:<name>, topic:<prefix>*, group:<name> or group:<prefix>*" : undefined,
		),
		h(
			"div",
			{ class: "checks", role: "group", "aria-label": `Operations of rule ${index + 1}` },
			OPERATIONS.map((op) => h("label", { class: "check" }, h("input", { type: "checkbox", name: `op-${index}-${op}` }), op)),
		),
	);
}

/**
 * The entries of a form's first `rows` ACL rows (an untouched row is skipped), or what is missing from one. Whether a
 * resource is well formed is the API's to judge.
 */
export function readAcl(form: HTMLFormElement, rows: number): AclEntry[] | string {
	const acl: AclEntry[] = [];
	for (let i = 0; i < rows; i++) {
		const resource = formValue(form, `resource-${i}`).trim();
		const operations = OPERATIONS.filter((op) => formValue(form, `op-${i}-${op}`) === "on");
		if (resource === "" && operations.length === 0) continue;
		if (resource === "" || operations.length === 0) return `Rule ${i + 1} needs a resource and at least one operation.`;
		acl.push({ resource, operations });
	}
	return acl;
}

/** Whose quotas a quota form edits. */
export interface QuotaHolder {
	/** How the form and its messages name the holder: a key's name, or "anonymous". */
	readonly name: string;
	readonly quotas: Readonly<KeyQuotas>;
	/** Whose next request is held to what is saved, for the form's hint ("The key's next request"). */
	readonly nextRequest: string;
	/**
	 * Applies `patch` (a rate sets a quota, null removes it, one not named is kept), decided on the quotas the form
	 * showed (`shown`), shows the holder as stored and answers its quotas; a `QuotaConflict` when it refuses the patch
	 * because another admin changed one of those quotas since.
	 */
	save(patch: QuotasPatch, shown: Readonly<KeyQuotas>): Promise<Readonly<KeyQuotas>>;
}

/**
 * Quotas: an empty field is no quota. Saving sends only the fields changed from what the form shows, so a quota
 * another admin changed while the form was open is kept, not overwritten with the value the form was opened with.
 * The API alone judges a rate (a whole number from 1 up to its maximum); its refusal is shown as it words it.
 */
export function quotaForm(holder: QuotaHolder, close: () => void): HTMLElement {
	const status = formStatus();
	let shown = holder.quotas;
	const form = h(
		"form",
		{ class: "form-stack", novalidate: true, "aria-label": `Quotas of ${holder.name}` },
		h("p", { class: "hint" }, `Leave a field empty for no quota. ${holder.nextRequest} is held to what you save.`),
		QUOTAS.map(({ name, label }) =>
			field(
				label,
				h("input", { name, type: "number", class: "input", min: "1", step: "1", inputmode: "numeric", value: holder.quotas[name] }),
			),
		),
		h(
			"div",
			{ class: "form-actions" },
			h("button", { type: "submit", class: "btn btn-primary" }, "Save quotas"),
			button("Close", close, "ghost"),
		),
		status.el,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		const patch: { -readonly [Q in keyof KeyQuotas]: number | null } = {};
		for (const { name, label } of QUOTAS) {
			const input = form.elements.namedItem(name) as HTMLInputElement;
			// A number input reads "" for text it cannot parse: that must not pass for "no quota".
			if (input.validity.badInput) return status.error(`${label}: give a whole number, or leave it empty for no quota.`);
			const rate = input.value === "" ? null : Number(input.value);
			if (rate !== (shown[name] ?? null)) patch[name] = rate;
		}
		if (Object.keys(patch).length === 0) return status.success(`Nothing to save: the quotas of ${holder.name} are as shown.`);
		try {
			const stored = await holder.save(patch, shown);
			shown = stored;
			for (const { name } of QUOTAS) (form.elements.namedItem(name) as HTMLInputElement).value = String(stored[name] ?? "");
			status.success(`Quotas of ${holder.name} saved: ${quotaRates(stored).join(" · ") || "none"}.`);
		} catch (error) {
			if (!(error instanceof QuotaConflict)) return status.error((error as Error).message);
			// The admin decides again on the quotas as stored: the form shows them, their own edit is not sent.
			const before = shown;
			shown = error.grant.quotas;
			for (const { name } of QUOTAS) (form.elements.namedItem(name) as HTMLInputElement).value = String(shown[name] ?? "");
			const changes = QUOTAS.filter(({ name }) => error.names.includes(name)).map(
				({ name, label }) => `${label} to ${shown[name] ?? "no quota"} since this form showed ${before[name] ?? "no quota"}`,
			);
			status.error(
				`Another admin changed ${changes.join(", and ")}: nothing was saved. The form shows the quotas as stored now; change them again and save.`,
			);
		}
	});
	return card(`Quotas of ${holder.name}`, form);
}
