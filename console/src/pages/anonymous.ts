/**
 * @module
 * Anonymous access: what a request without credentials may do, on every mount (the `anonymous` principal). Its ACL
 * and quotas; granting an entry, removing one, changing the quotas with the keys page's form, and closing public
 * access (the ACL emptied). Needs a token with admin on the cluster; the navigation hides this page from others.
 */

import { aclRow, needsAdmin, operationBadges, quotaForm, quotaView, readAcl } from "../access.ts";
import { AclConflict, type AclEntry, type AnonymousAccess, type KeyQuotas, QuotaConflict, type QuotasPatch } from "../api.ts";
import type { PageContext } from "../context.ts";
import { type Child, h, mount, uid } from "../dom.ts";
import { button, card, confirmDialog, formStatus, loading, notice, pageHeader, table, toast } from "../ui.ts";

const TITLE = "Anonymous access";

/** Makes `write`, a change where anonymous's grant is stored, then shows the grant it answers and answers it. */
type Change = (write: () => Promise<AnonymousAccess>) => Promise<AnonymousAccess>;

export async function anonymousPage(ctx: PageContext): Promise<void> {
	mount(ctx.main, pageHeader(TITLE), loading());
	if (!ctx.session.canManageKeys) {
		mount(ctx.main, ...needsAdmin(TITLE, "Managing anonymous access"));
		return;
	}
	let current = await ctx.api.anonymous();
	if (!ctx.alive()) return;
	const entries = h("div");
	const quotas = h("div");
	const quotaSlot = h("div");
	// Each change is a merge patch naming only what it changes, merged where the grant is stored: a quota another admin
	// changes meanwhile is kept, whatever this page last read. A quota the form changes is sent If-Match a grant in
	// which it is still as the form showed it (`updateAnonymousQuotas`), so another admin's change of that same quota is
	// told, not overwritten. An entry's grant or removal sends the whole ACL (a patch replaces an array), If-Match the
	// grant it edited, so another admin's entry is never overwritten. Closing empties the ACL If-Match the grant shown
	// (`closeAnonymous`): an entry another admin granted meanwhile is told, not removed unseen.
	const change: Change = async (write) => {
		current = await write();
		if (ctx.alive()) show();
		return current;
	};
	const editQuotas = () => {
		const holder = {
			name: "anonymous",
			quotas: current.quotas,
			nextRequest: "The next request without credentials",
			save: async (patch: QuotasPatch, shown: Readonly<KeyQuotas>) => {
				try {
					return (await change(() => ctx.api.updateAnonymousQuotas(patch, shown))).quotas;
				} catch (error) {
					// Refused on another admin's change: the page shows the grant as stored, as after a save.
					if (error instanceof QuotaConflict && ctx.alive()) {
						current = error.grant;
						show();
					}
					throw error;
				}
			},
		};
		// Nothing to reload once saved: `change` has already shown the grant as stored.
		mount(
			quotaSlot,
			quotaForm(holder, () => mount(quotaSlot)),
		);
		quotaSlot.querySelector("input")?.focus();
	};
	// Refused on an entry another admin granted meanwhile: the page shows the grant as stored, and says what changed above it.
	const refused = (conflict: AclConflict) => {
		if (!ctx.alive()) return;
		current = conflict.grant;
		show();
		entries.prepend(
			notice(
				"error",
				`Another admin changed the ACL since this page showed it: ${conflict.changes}. ${conflict.answerLost ? "Public access is open to it now (this close's answer was lost: it may have closed it before that change)" : "Public access was not closed"}: the table shows the ACL as stored now; close it again to close it.`,
			),
		);
	};
	const show = () => {
		mount(
			entries,
			entryTable(current.acl, (entry) => void remove(() => change(() => ctx.api.removeAnonymousEntry(entry)), entry)),
		);
		if (current.acl.length > 0)
			entries.append(
				h(
					"div",
					{ class: "form-actions" },
					button("Close public access", () => void close(() => change(() => ctx.api.closeAnonymous(current)), refused), "danger"),
				),
			);
		mount(
			quotas,
			quotaView(current.quotas),
			button(["Edit quotas", h("span", { class: "sr-only" }, " of anonymous")], editQuotas, "ghost", { class: "btn btn-ghost btn-small" }),
		);
	};
	show();
	mount(
		ctx.main,
		pageHeader(TITLE, {
			subtitle: "What a request without credentials may do, on /v1, /upstash, /kafka/v3 and /ds. With no entry it is refused (401).",
		}),
		region("ACL", entries),
		region("Quotas", quotas),
		quotaSlot,
		grantForm((entry) => change(() => ctx.api.grantAnonymous(entry))),
	);
}

/** A card that is a landmark named by its title, so a screen reader can jump to it. */
function region(title: string, ...children: Child[]): HTMLElement {
	const id = uid("region");
	return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id, class: "card-title" }, title), ...children);
}

function entryTable(acl: readonly AclEntry[], remove: (entry: AclEntry) => void): HTMLElement {
	return table(
		TITLE,
		[{ label: "Resource" }, { label: "Operations", kind: "wide" }, { label: "" }],
		acl.map((entry) => [
			h("code", null, entry.resource),
			operationBadges(entry),
			button(["Remove", h("span", { class: "sr-only" }, ` ${entry.resource}`)], () => remove(entry), "ghost", {
				class: "btn btn-ghost btn-small danger-text",
			}),
		]),
		"No access: a request without credentials is refused (401).",
	);
}

async function remove(removeEntry: () => Promise<unknown>, entry: AclEntry): Promise<void> {
	try {
		await removeEntry();
		toast(`Removed ${entry.operations.join(", ")} on ${entry.resource}.`);
	} catch (error) {
		toast(`Could not remove: ${(error as Error).message}`);
	}
}

async function close(empty: () => Promise<unknown>, refused: (conflict: AclConflict) => void): Promise<void> {
	const ok = await confirmDialog({
		title: "Close public access?",
		body: h("p", null, "Every request without credentials is refused (401) from now on. The quotas are kept for a later grant."),
		confirmLabel: "Close public access",
	});
	if (!ok) return;
	try {
		await empty();
		toast("Public access closed.");
	} catch (error) {
		if (error instanceof AclConflict) return refused(error);
		toast(`Could not close public access: ${(error as Error).message}`);
	}
}

function grantForm(grant: (entry: AclEntry) => Promise<unknown>): HTMLElement {
	const status = formStatus();
	const form = h(
		"form",
		{ class: "form-stack", novalidate: true, "aria-label": "Grant anonymous access" },
		h("p", { class: "hint" }, "Anyone may then do these operations on this resource, with no credentials, held to the quotas above."),
		aclRow(0),
		h("div", { class: "form-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Grant")),
		status.el,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		const acl = readAcl(form, 1);
		if (typeof acl === "string") return status.error(acl);
		const [entry] = acl;
		if (entry === undefined) return status.error("Give a resource and at least one operation.");
		try {
			await grant(entry);
			form.reset();
			status.success(`Granted ${entry.operations.join(", ")} on ${entry.resource}.`);
		} catch (error) {
			status.error((error as Error).message);
		}
	});
	return card("Grant access", form);
}
