/**
 * @module
 * Who is calling. Every `/v1` request carries the admin token or an API key, as
 * `Authorization: Bearer <token-or-secret>` or as HTTP Basic: `admin:<ADMIN_TOKEN>` or `<key id>:<secret>`.
 * Missing, malformed, wrong and deleted credentials are all 401; what a caller may do is `authorize`'s job.
 *
 * A key is checked with its own `KeyStore` authority (`key:<id>`) on every request, and no verdict is cached (only
 * the SHA-256 of a secret that matched: secret-digests.ts): a deleted key is refused by the next request, in every
 * isolate and location. The price is one RPC
 * per key-authenticated request, to an object that only that key's traffic reaches; the admin token needs none.
 *
 * The admin token's check costs ~1.5 µs per request in workerd: the header read 0.3 µs (one `Headers.get`), the
 * parse 0.1 (its regexes included), the comparison 0.4 (a remembered digest: hashing the token afresh takes 2.9).
 * That is ~0.1 % of a one-record produce's server CPU (~1,100 µs), so there is no shortcut here that would weaken
 * a check.
 *
 * @example
 * curl -H "Authorization: Bearer trb_…" "$URL/v1/topics"
 * curl -u "<key id>:trb_…" "$URL/v1/topics"
 */

import type { MiddlewareHandler } from "hono";
import { ANONYMOUS_ID, hasAnyRight, loadAnonymous } from "../../auth/anonymous.ts";
import { keyIdOf, secretMatches } from "../../auth/secret.ts";
import { type KeyInfo, type StoredKey, toInfo } from "../../auth/types.ts";
import { ApiError, bare } from "../../shared/errors.ts";
import { keyAuthority, keyStore } from "../../shared/stubs.ts";
import { bearerToken, matchesSecret } from "./credentials.ts";

/** `anonymous` carries its grant in the shape of a key, so ACL checks and quotas treat it like one. */
export type Principal =
	| { readonly kind: "admin" }
	| { readonly kind: "key"; readonly key: KeyInfo }
	| { readonly kind: "anonymous"; readonly key: KeyInfo };

export type AuthVariables = { principal: Principal };

/** What the `Authorization` header offers: the admin token, or a key secret (with the id Basic named). */
type Credentials =
	| { readonly kind: "admin"; readonly token: string }
	| { readonly kind: "key"; readonly id: string; readonly secret: string };

/** The Basic username that stands for the admin token. */
export const ADMIN_USERNAME = "admin";

/** Whether this isolate has made sure every listed key has its authority (see `KeyStore.ensureAuthorities`). */
let authoritiesEnsured = false;

/**
 * Asks the key's authority, uncached, so a deleted key is refused at once. The first miss in an isolate also asks
 * the directory to install authorities for keys made before they existed (once: after that, a miss is a miss).
 */
async function lookupKey(env: Env, id: string): Promise<StoredKey | null> {
	const authority = keyAuthority(env, id);
	const key = bare(await authority.getKey(id));
	if (key !== null || authoritiesEnsured) return key;
	authoritiesEnsured = bare(await keyStore(env).ensureAuthorities());
	return bare(await authority.getKey(id));
}

/** Whether key `id` still exists: for streams, which outlive the request that authenticated them. */
export async function keyStillExists(env: Env, id: string): Promise<boolean> {
	const key = await currentKey(env, id);
	return key !== null && (id !== ANONYMOUS_ID || hasAnyRight(key));
}

/** Key `id` as a request would find it now (anonymous's grant for anonymous's id); null once deleted. */
export async function currentKey(env: Env, id: string): Promise<KeyInfo | null> {
	if (id === ANONYMOUS_ID) return loadAnonymous(env);
	const key = await lookupKey(env, id);
	return key === null ? null : toInfo(key);
}

function basicCredentials(header: string): Credentials | null {
	const match = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
	if (match?.[1] === undefined) return null;
	let decoded: string;
	try {
		decoded = atob(match[1]);
	} catch {
		return null;
	}
	const colon = decoded.indexOf(":");
	if (colon < 0) return null;
	const user = decoded.slice(0, colon);
	const password = decoded.slice(colon + 1);
	return user === ADMIN_USERNAME ? { kind: "admin", token: password } : { kind: "key", id: user, secret: password };
}

/** Parses the header; null when it is absent or not a scheme we speak. */
export function parseCredentials(header: string | undefined): Credentials | null {
	if (header === undefined) return null;
	const token = bearerToken(header);
	if (token !== null) {
		const id = keyIdOf(token);
		return id === null ? { kind: "admin", token } : { kind: "key", id, secret: token };
	}
	return basicCredentials(header);
}

async function verify(env: Env, credentials: Credentials): Promise<Principal | null> {
	if (credentials.kind === "admin") {
		const expected = env.ADMIN_TOKEN;
		if (typeof expected !== "string" || expected.length === 0) return null;
		return (await matchesSecret(credentials.token, expected)) ? { kind: "admin" } : null;
	}
	// The secret names its key; a Basic username that disagrees is a wrong credential, not a lookup.
	if (keyIdOf(credentials.secret) !== credentials.id) return null;
	const key = await lookupKey(env, credentials.id);
	if (key === null || !(await secretMatches(credentials.secret, key.secretSha256))) return null;
	return { kind: "key", key: toInfo(key) };
}

/** The command that sets the admin token of a deployed Worker. */
export const SET_ADMIN_TOKEN_COMMAND = "npx wrangler secret put ADMIN_TOKEN";

function hasAdminToken(env: Env): boolean {
	const token: unknown = env.ADMIN_TOKEN;
	return typeof token === "string" && token.length > 0;
}

function notConfigured(): ApiError {
	return new ApiError(
		"not_configured",
		`this Worker has no ADMIN_TOKEN. Deployed: run \`${SET_ADMIN_TOKEN_COMMAND}\`. Locally: run \`npm start\` once (it writes one to .dev.vars), or put ADMIN_TOKEN=<a long random string> in .dev.vars and restart \`npm run dev\``,
		{ setting: "ADMIN_TOKEN", fix: SET_ADMIN_TOKEN_COMMAND },
	);
}

export function authenticate(): MiddlewareHandler<{ Bindings: Env; Variables: AuthVariables }> {
	return async function authenticate(c, next) {
		const header = c.req.header("Authorization");
		const credentials = parseCredentials(header);
		// Without an admin token nobody can be the admin: say so, rather than "invalid credentials" to everyone.
		if (credentials?.kind !== "key" && !hasAdminToken(c.env)) throw notConfigured();
		if (credentials === null) {
			// No credentials at all: act as anonymous if an admin granted it something (an unreadable header is no
			// way to become anonymous: it stays a wrong credential).
			const anonymous = header === undefined ? await loadAnonymous(c.env) : null;
			if (anonymous === null || !hasAnyRight(anonymous)) {
				throw new ApiError("unauthorized", "missing credentials: send Authorization: Bearer <token>, or Basic with <key id>:<secret>");
			}
			c.set("principal", { kind: "anonymous", key: anonymous });
			return next();
		}
		const principal = await verify(c.env, credentials);
		if (principal === null) throw new ApiError("unauthorized", "invalid credentials");
		c.set("principal", principal);
		await next();
	};
}
