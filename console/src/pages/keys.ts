/**
 * @module
 * API keys: the list with each key's ACL and quotas, creating one (its secret is shown once, here, and never again),
 * changing its quotas and revoking one. Needs a token with admin on the cluster; the navigation hides this page
 * from others.
 */

import type { AclEntry, ApiKey, KeyQuotas } from "../api.ts";
import type { PageContext } from "../context.ts";
import { field, formValue, h, mount } from "../dom.ts";
import { formatBytes, formatCount, formatTime } from "../format.ts";
import { badge, button, card, confirmDialog, formStatus, loading, notice, pageHeader, table, toast } from "../ui.ts";

const OPERATIONS = ["describe", "consume", "produce", "admin"] as const;

/** A key's quotas as the API names them, how the form labels them and how the list shows a rate. */
const QUOTAS: readonly { name: keyof KeyQuotas; label: string; rate: (perSec: number) => string }[] = [
	{ name: "produce_bytes_per_sec", label: "Produce bytes per second", rate: (n) => `produce ${formatBytes(n)}/s` },
	{ name: "fetch_bytes_per_sec", label: "Fetch bytes per second", rate: (n) => `fetch ${formatBytes(n)}/s` },
	{ name: "requests_per_sec", label: "Requests per second", rate: (n) => `${formatCount(n)} requests/s` },
];

export async function keysPage(ctx: PageContext): Promise<void> {
	mount(ctx.main, pageHeader("API keys"), loading());
	if (!ctx.session.canManageKeys) {
		mount(ctx.main, pageHeader("API keys"), notice("error", "Managing keys needs the admin token or a key with admin on the cluster."));
		return;
	}
	const keys = await ctx.api.listKeys();
	if (!ctx.alive()) return;
	const secretSlot = h("div", { "aria-live": "polite" });
	const quotaSlot = h("div");
	const list = card(null);
	const relist = async () => {
		const fresh = await ctx.api.listKeys();
		if (ctx.alive()) mount(list, keyTable(ctx, fresh, editQuotas));
	};
	const editQuotas = (key: ApiKey) => {
		mount(
			quotaSlot,
			quotaForm(ctx, key, relist, () => mount(quotaSlot)),
		);
		quotaSlot.querySelector("input")?.focus();
	};
	mount(list, keyTable(ctx, keys, editQuotas));
	mount(
		ctx.main,
		pageHeader("API keys", { subtitle: "Each key sees and does only what its ACL allows. Secrets are stored hashed and shown once." }),
		secretSlot,
		list,
		quotaSlot,
		createForm(ctx, secretSlot, relist),
	);
}

function aclView(acl: readonly AclEntry[]): HTMLElement {
	if (acl.length === 0) return h("span", { class: "muted" }, "no rights");
	return h(
		"ul",
		{ class: "acl" },
		acl.map((entry) =>
			h(
				"li",
				null,
				h("code", null, entry.resource),
				" ",
				entry.operations.map((op) => badge(op, op === "admin" ? "warn" : "info")),
			),
		),
	);
}

/** A key's quotas as people read them ("produce 1.0 MiB/s", "50 requests/s"), none when it has none. */
function quotaRates(quotas: Readonly<KeyQuotas>): string[] {
	return QUOTAS.flatMap(({ name, rate }) => {
		const perSec = quotas[name];
		return perSec === undefined ? [] : [rate(perSec)];
	});
}

function quotaView(quotas: Readonly<KeyQuotas>): HTMLElement {
	const rates = quotaRates(quotas);
	if (rates.length === 0) return h("span", { class: "quotas muted" }, "no quotas");
	return h(
		"ul",
		{ class: "quotas" },
		rates.map((rate) => h("li", null, rate)),
	);
}

function keyTable(ctx: PageContext, keys: readonly ApiKey[], editQuotas: (key: ApiKey) => void): HTMLElement {
	return table(
		"API keys",
		[{ label: "Name" }, { label: "Key id" }, { label: "ACL", kind: "wide" }, { label: "Quotas" }, { label: "Created" }, { label: "" }],
		keys.map((key) => [
			h("strong", null, key.name),
			h("code", null, key.id),
			aclView(key.acl),
			quotaView(key.quotas),
			h("time", { datetime: new Date(key.created_at_ms).toISOString(), class: "nowrap" }, formatTime(key.created_at_ms)),
			h(
				"span",
				{ class: "row-actions" },
				button(["Edit quotas", h("span", { class: "sr-only" }, ` of ${key.name}`)], () => editQuotas(key), "ghost", {
					class: "btn btn-ghost btn-small",
				}),
				button(["Revoke", h("span", { class: "sr-only" }, ` ${key.name}`)], () => revoke(ctx, key), "ghost", {
					class: "btn btn-ghost btn-small danger-text",
				}),
			),
		]),
		"No API keys yet. Create one per application, with just the rights it needs.",
	);
}

async function revoke(ctx: PageContext, key: ApiKey): Promise<void> {
	const ok = await confirmDialog({
		title: `Revoke ${key.name}?`,
		body: h("p", null, "Requests with this key are refused from now on and its open streams are closed. This cannot be undone."),
		confirmLabel: "Revoke key",
	});
	if (!ok) return;
	try {
		await ctx.api.deleteKey(key.id);
		toast(`Key ${key.name} revoked.`);
		ctx.refresh();
	} catch (error) {
		toast(`Could not revoke: ${(error as Error).message}`);
	}
}

/** One ACL row of the form: a resource and its operations as checkboxes. */
function aclRow(index: number): HTMLElement {
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

function createForm(ctx: PageContext, secretSlot: HTMLElement, relist: () => Promise<void>): HTMLElement {
	const status = formStatus();
	const rules = h("div", { class: "acl-rows" }, aclRow(0));
	const add = button(
		"Add a rule",
		() => {
			const row = aclRow(rules.children.length);
			rules.append(row);
			row.querySelector("input")?.focus();
		},
		"ghost",
	);
	const form = h(
		"form",
		{ class: "form-stack", novalidate: true },
		field("Name", h("input", { name: "name", class: "input", autocomplete: "off", maxlength: "200" }), "Who uses it, e.g. orders-service."),
		rules,
		h("div", { class: "form-actions" }, add, h("button", { type: "submit", class: "btn btn-primary" }, "Create key")),
		status.el,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		const name = formValue(form, "name").trim();
		if (name === "") return status.error("Give the key a name.");
		const acl: AclEntry[] = [];
		for (let i = 0; i < rules.children.length; i++) {
			const resource = formValue(form, `resource-${i}`).trim();
			const operations = OPERATIONS.filter((op) => formValue(form, `op-${i}-${op}`) === "on");
			if (resource === "" && operations.length === 0) continue;
			if (resource === "" || operations.length === 0) return status.error(`Rule ${i + 1} needs a resource and at least one operation.`);
			acl.push({ resource, operations });
		}
		try {
			const created = await ctx.api.createKey({ name, acl });
			const secret = h("code", { class: "secret", "data-testid": "new-secret" }, created.secret);
			const copy = button(
				"Copy",
				() => void navigator.clipboard?.writeText(created.secret).then(() => toast("Secret copied.")),
				"secondary",
			);
			mount(
				secretSlot,
				h(
					"section",
					{ class: "card secret-card", "aria-labelledby": "secret-title" },
					h("h2", { id: "secret-title", class: "card-title" }, `Key ${created.name} created`),
					h("p", null, "Copy the secret now: it is shown only this once. Use it as a Bearer token."),
					h("div", { class: "secret-row" }, secret, copy),
					button("Done", () => ctx.refresh(), "primary"),
				),
			);
			(secretSlot.querySelector("h2") as HTMLElement | null)?.setAttribute("tabindex", "-1");
			(secretSlot.querySelector("h2") as HTMLElement | null)?.focus();
			form.reset();
			status.clear();
			await relist();
		} catch (error) {
			status.error((error as Error).message);
		}
	});
	return card("Create a key", form);
}

/**
 * A key's quotas, replaced whole as the API does (one left out is removed): an empty field is no quota. The API
 * alone judges a rate (a whole number from 1 up to its maximum); its refusal is shown as it words it.
 */
function quotaForm(ctx: PageContext, key: ApiKey, relist: () => Promise<void>, close: () => void): HTMLElement {
	const status = formStatus();
	const form = h(
		"form",
		{ class: "form-stack", novalidate: true, "aria-label": `Quotas of ${key.name}` },
		h("p", { class: "hint" }, "Leave a field empty for no quota. The key's next request is held to what you save."),
		QUOTAS.map(({ name, label }) =>
			field(
				label,
				h("input", { name, type: "number", class: "input", min: "1", step: "1", inputmode: "numeric", value: key.quotas[name] }),
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
		const quotas: Record<string, number> = {};
		for (const { name, label } of QUOTAS) {
			const input = form.elements.namedItem(name) as HTMLInputElement;
			// A number input reads "" for text it cannot parse: that must not pass for "no quota".
			if (input.validity.badInput) return status.error(`${label}: give a whole number, or leave it empty for no quota.`);
			if (input.value !== "") quotas[name] = Number(input.value);
		}
		try {
			const changed = await ctx.api.setKeyQuotas(key.id, quotas);
			status.success(`Quotas of ${changed.name} saved: ${quotaRates(changed.quotas).join(" · ") || "none"}.`);
			await relist();
		} catch (error) {
			status.error((error as Error).message);
		}
	});
	return card(`Quotas of ${key.name}`, form);
}
