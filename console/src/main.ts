/**
 * @module
 * The console's shell: sign-in, the layout with its navigation, and a hash router (`#/topics/orders`), so the
 * Worker serves one static page and every path under `/console/` stays a file.
 *
 * The token lives in `sessionStorage` (gone when the tab closes) and goes out only as `Authorization: Bearer` to
 * the same origin; there are no cookies, so there is nothing for another site to ride on.
 */

import { Api, type ApiError } from "./api.ts";
import { href, type PageContext, type Session } from "./context.ts";
import { type Child, field, h, mount } from "./dom.ts";
import { anonymousPage } from "./pages/anonymous.ts";
import { groupPage, groupsPage } from "./pages/groups.ts";
import { keysPage } from "./pages/keys.ts";
import { recordsPage } from "./pages/records.ts";
import { topicPage } from "./pages/topic.ts";
import { topicsPage } from "./pages/topics.ts";
import { webhookPage, webhooksPage } from "./pages/webhooks.ts";
import { notice, setToastRegion } from "./ui.ts";

const TOKEN_KEY = "tributary.console.token";
const SIGNED_OUT_KEY = "tributary.console.signedOutReason";

type Page = (ctx: PageContext) => Promise<void> | void;

interface Route {
	readonly pattern: RegExp;
	readonly page: Page;
	readonly nav: string;
	readonly title: string;
}

const ROUTES: readonly Route[] = [
	{ pattern: /^topics$/, page: topicsPage, nav: "topics", title: "Topics" },
	{ pattern: /^topics\/([^/]+)$/, page: topicPage, nav: "topics", title: "Topic" },
	{ pattern: /^topics\/([^/]+)\/records$/, page: recordsPage, nav: "topics", title: "Records" },
	{ pattern: /^groups$/, page: groupsPage, nav: "groups", title: "Consumer groups" },
	{ pattern: /^groups\/([^/]+)$/, page: groupPage, nav: "groups", title: "Consumer group" },
	{ pattern: /^webhooks$/, page: webhooksPage, nav: "webhooks", title: "Webhooks" },
	{ pattern: /^webhooks\/([^/]+)\/([^/]+)$/, page: webhookPage, nav: "webhooks", title: "Webhook" },
	{ pattern: /^keys$/, page: keysPage, nav: "keys", title: "API keys" },
	{ pattern: /^anonymous$/, page: anonymousPage, nav: "anonymous", title: "Anonymous access" },
];

const NAV: readonly { id: string; label: string; href: string; adminOnly?: boolean }[] = [
	{ id: "topics", label: "Topics", href: href("topics") },
	{ id: "groups", label: "Consumer groups", href: href("groups") },
	{ id: "webhooks", label: "Webhooks", href: href("webhooks") },
	{ id: "keys", label: "API keys", href: href("keys"), adminOnly: true },
	{ id: "anonymous", label: "Anonymous access", href: href("anonymous"), adminOnly: true },
];

const root = document.getElementById("app") as HTMLElement;
let session: Session | null = null;
let api: Api | null = null;
let leaving: (() => void)[] = [];
let generation = 0;

function logo(): SVGSVGElement {
	const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
	svg.setAttribute("viewBox", "0 0 32 32");
	svg.setAttribute("aria-hidden", "true");
	svg.setAttribute("class", "logo");
	for (const [d, cls] of [
		["M4 10c6 0 6-4 12-4s6 4 12 4", "w1"],
		["M4 17c6 0 6-4 12-4s6 4 12 4", "w2"],
		["M4 24c6 0 6-4 12-4s6 4 12 4", "w3"],
	] as const) {
		const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
		path.setAttribute("d", d);
		path.setAttribute("class", cls);
		svg.append(path);
	}
	return svg;
}

function signOut(reason: string | null): void {
	sessionStorage.removeItem(TOKEN_KEY);
	// Signing out on purpose starts the next session on Topics; an expired session returns to where it was.
	if (reason === null) history.replaceState(null, "", location.pathname);
	if (reason !== null) sessionStorage.setItem(SIGNED_OUT_KEY, reason);
	session = null;
	api = null;
	leave();
	renderSignIn();
}

function onUnauthorized(): void {
	signOut("Your session has ended: the token was not accepted (it may have been revoked or the admin token rotated). Sign in again.");
}

/** Checks a token against the API and learns what it may do. Null if the token is refused. */
async function startSession(token: string): Promise<Session | null> {
	const probe = new Api(token);
	try {
		await probe.listTopics();
	} catch (error) {
		if ((error as ApiError).status === 401) return null;
		throw error;
	}
	let canManageKeys = true;
	try {
		await probe.listKeys();
	} catch {
		canManageKeys = false;
	}
	const keyId = /^trb_([0-9a-f]+)_/.exec(token)?.[1];
	return { token, canManageKeys, label: keyId === undefined ? "Admin token" : `API key ${keyId}` };
}

function renderSignIn(message: string | null = sessionStorage.getItem(SIGNED_OUT_KEY)): void {
	sessionStorage.removeItem(SIGNED_OUT_KEY);
	document.title = "Sign in · Tributary";
	const input = h("input", {
		type: "password",
		name: "token",
		class: "input",
		autocomplete: "off",
		spellcheck: "false",
		required: true,
		placeholder: "trb_… or the admin token",
	});
	const status = h("div", { "aria-live": "assertive" }, message === null ? null : notice("error", message));
	const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Sign in");
	const form = h(
		"form",
		{ class: "signin-form", "aria-labelledby": "signin-title" },
		field("Access token", input, "The admin token (npm start prints it) or an API key's secret. It stays in this tab only."),
		status,
		submit,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		submit.disabled = true;
		submit.textContent = "Signing in…";
		try {
			const started = await startSession(input.value.trim());
			if (started === null) {
				status.replaceChildren(notice("error", "That token was not accepted. Check it and try again."));
				input.focus();
				input.select();
				return;
			}
			sessionStorage.setItem(TOKEN_KEY, started.token);
			begin(started);
		} catch (error) {
			status.replaceChildren(notice("error", `Could not reach the broker: ${(error as Error).message}`));
		} finally {
			submit.disabled = false;
			submit.textContent = "Sign in";
		}
	});
	mount(
		root,
		h(
			"main",
			{ class: "signin", id: "main" },
			h(
				"div",
				{ class: "signin-card" },
				h("div", { class: "brand brand-large" }, logo(), h("span", null, "Tributary")),
				h("h1", { id: "signin-title" }, "Sign in to the console"),
				h("p", { class: "subtitle" }, "Topics, records, consumer groups, webhooks, keys and anonymous access of this broker."),
				form,
			),
		),
	);
	input.focus();
}

function begin(started: Session): void {
	session = started;
	// A late answer to an earlier session's request must not end the session that replaced it.
	api = new Api(started.token, () => {
		if (session === started) onUnauthorized();
	});
	if (location.hash === "" || location.hash === "#" || location.hash === "#/") history.replaceState(null, "", href("topics"));
	renderShell();
	void route(false);
}

let mainEl: HTMLElement | null = null;
let navEl: HTMLElement | null = null;

function renderShell(): void {
	if (session === null) return;
	const current = session;
	const toasts = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
	setToastRegion(toasts);
	navEl = h(
		"nav",
		{ class: "nav", "aria-label": "Main" },
		h(
			"ul",
			null,
			NAV.filter((n) => !n.adminOnly || current.canManageKeys).map((n) =>
				h("li", null, h("a", { href: n.href, "data-nav": n.id }, n.label)),
			),
		),
	);
	mainEl = h("main", { id: "main", class: "content", tabindex: "-1" });
	mount(
		root,
		h("a", { class: "skip-link", href: "#main", onclick: skipToMain }, "Skip to content"),
		h(
			"div",
			{ class: "layout" },
			h(
				"aside",
				{ class: "sidebar" },
				h(
					"div",
					{ class: "sidebar-inner" },
					h(
						"a",
						{ class: "brand", href: href("topics") },
						logo(),
						h("span", null, "Tributary"),
						h("span", { class: "brand-tag" }, "console"),
					),
					navEl,
					h(
						"div",
						{ class: "who" },
						h("span", { class: "who-label" }, "Signed in with"),
						h("span", { class: "who-name" }, current.label),
						h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => signOut(null) }, "Sign out"),
					),
				),
			),
			mainEl,
		),
		toasts,
	);
}

function skipToMain(event: Event): void {
	event.preventDefault();
	mainEl?.focus();
}

function leave(): void {
	generation += 1;
	for (const fn of leaving) fn();
	leaving = [];
}

async function route(moveFocus = true): Promise<void> {
	if (session === null || api === null || mainEl === null) return;
	leave();
	const mine = generation;
	const [path = "", queryString = ""] = location.hash.replace(/^#\/?/, "").split("?");
	const match = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m !== null);
	for (const a of navEl?.querySelectorAll("a") ?? []) {
		if (a.dataset.nav === match?.r.nav) a.setAttribute("aria-current", "page");
		else a.removeAttribute("aria-current");
	}
	const main = mainEl;
	if (match === undefined || match.m === null) {
		document.title = "Not found · Tributary";
		mount(main, h("h1", { tabindex: "-1" }, "Page not found"), h("p", null, h("a", { href: href("topics") }, "Go to topics")));
		return;
	}
	const ctx: PageContext = {
		api,
		session,
		main,
		params: match.m.slice(1).map((p) => decodeURIComponent(p)),
		query: new URLSearchParams(queryString),
		onLeave: (fn) => leaving.push(fn),
		alive: () => generation === mine,
		refresh: () => void route(false),
	};
	document.title = `${[match.r.title, ...ctx.params].join(" · ")} · Tributary`;
	try {
		await match.r.page(ctx);
	} catch (error) {
		if (!ctx.alive()) return;
		const e = error as ApiError;
		if (e.status === 401) return;
		mount(main, h("h1", { tabindex: "-1" }, match.r.title), pageError(e));
	}
	// After a navigation, move focus to the new page's heading so screen readers announce it.
	if (moveFocus && ctx.alive()) main.querySelector<HTMLElement>("h1")?.focus({ preventScroll: true });
}

function pageError(error: ApiError): Child {
	if (error.status === 403) return notice("error", "This token may not see this. Ask for a key with the right ACL.");
	if (error.status === 404) return notice("error", error.message);
	return notice("error", error.message ?? String(error));
}

window.addEventListener("hashchange", () => {
	void route();
});

async function boot(): Promise<void> {
	const saved = sessionStorage.getItem(TOKEN_KEY);
	if (saved === null) return renderSignIn();
	mount(root, h("p", { class: "loading boot" }, "Loading…"));
	try {
		const started = await startSession(saved);
		if (started === null) return signOut("Your session has ended: the token is no longer accepted. Sign in again.");
		begin(started);
	} catch (error) {
		renderSignIn(`Could not reach the broker: ${(error as Error).message}`);
	}
}

void boot();
