/**
 * @module
 * What every page gets: the API client, where to render, the route's parameters, and a way to register clean-up
 * (timers, live streams) that runs when the user leaves the page.
 */

import type { Api } from "./api.ts";

export interface Session {
	readonly token: string;
	/** Whether the token may manage API keys (the admin token or a key with admin on cluster). */
	readonly canManageKeys: boolean;
	/** How the token shows in the header: "Admin token" or the key's id. */
	readonly label: string;
}

export interface PageContext {
	readonly api: Api;
	readonly session: Session;
	readonly main: HTMLElement;
	readonly params: readonly string[];
	readonly query: URLSearchParams;
	/** Runs `fn` when the page is left (or re-rendered). */
	onLeave(fn: () => void): void;
	/** Whether the user is still on this page (false after navigation: stop writing to the DOM). */
	alive(): boolean;
	/** Renders the current route again (after a change). */
	refresh(): void;
}

/** A console link: `#/topics/orders`. */
export function href(...parts: (string | number)[]): string {
	return `#/${parts.map((p) => encodeURIComponent(String(p))).join("/")}`;
}
