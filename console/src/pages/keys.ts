/**
 * @module
 * API keys: the list with each key's ACL and quotas, creating one (its secret is shown once, here, and never again),
 * changing its quotas and revoking one. Needs a token with admin on the cluster; the navigation hides this page
 * from others.
 */

import { aclRow, needsAdmin, operationBadges, quotaForm, quotaView, readAcl } from "../access.ts";
import { type AclEntry, type ApiKey, type KeyQuotas, QuotaConflict, type QuotasPatch } from "../api.ts";
import type { PageContext } from "../context.ts";
import { field, formValue, h, mount } from "../dom.ts";
import { formatTime } from "../format.ts";
import { button, card, confirmDialog, formStatus, loading, pageHeader, table, toast } from "../ui.ts";

export async function keysPage(ctx: PageContext): Promise<void> {
	mount(ctx.main, pageHeader("API keys"), loading());
	if (!ctx.session.canManageKeys) {
		mount(ctx.main, ...needsAdmin("API keys", "Managing keys"));
		return;
	}
	let keys = await ctx.api.listKeys();
	if (!ctx.alive()) return;
	const secretSlot = h("div", { "aria-live": "polite" });
	const quotaSlot = h("div");
	const list = card(null);
	const show = () => mount(list, keyTable(ctx, keys, editQuotas));
	const relist = async () => {
		keys = await ctx.api.listKeys();
		if (ctx.alive()) show();
	};
	// The patch answers the key as stored (another admin's changes included): its row is redrawn from that answer. A
	// quota the form changes is sent only while it is still as the form showed it (`updateKeyQuotas`): another admin's
	// change of it is told, the row redrawn from the key as read, not overwritten.
	const save = async (key: ApiKey, patch: QuotasPatch, shown: Readonly<KeyQuotas>) => {
		const redraw = (stored: ApiKey) => {
			keys = keys.map((k) => (k.id === stored.id ? stored : k));
			if (ctx.alive()) show();
		};
		try {
			const stored = await ctx.api.updateKeyQuotas(key.id, patch, shown);
			redraw(stored);
			return stored.quotas;
		} catch (error) {
			if (error instanceof QuotaConflict) redraw({ ...key, quotas: error.grant.quotas });
			throw error;
		}
	};
	const editQuotas = (key: ApiKey) => {
		const holder = {
			name: key.name,
			quotas: key.quotas,
			nextRequest: "The key's next request",
			save: (patch: QuotasPatch, shown: Readonly<KeyQuotas>) => save(key, patch, shown),
		};
		mount(
			quotaSlot,
			quotaForm(holder, () => mount(quotaSlot)),
		);
		quotaSlot.querySelector("input")?.focus();
	};
	show();
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
		acl.map((entry) => h("li", null, h("code", null, entry.resource), " ", operationBadges(entry))),
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
		const acl = readAcl(form, rules.children.length);
		if (typeof acl === "string") return status.error(acl);
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
