/**
 * @module
 * Which URLs a subscription may deliver to (SSRF): `https://` only, no credentials in the URL, and no
 * host that is, or resolves to, a private, loopback, link-local or otherwise non-public address. The Worker var
 * `WEBHOOK_ALLOW_PRIVATE=true` lifts both rules, for local development and tests.
 *
 * The checks on the URL itself are pure. Resolution is injected (`Resolver`): the edge resolves names over
 * DNS-over-HTTPS when it creates or changes a subscription; delivery re-checks the URL itself before each send.
 */

import { err, ok, type Result } from "../shared/errors.ts";
import { WEBHOOK_DOH_TIMEOUT_MS, WEBHOOK_URL_LENGTH_MAX } from "../shared/limits.ts";

/** Whether the Worker may deliver to private hosts and plain `http://`. */
export function allowPrivate(env: Env): boolean {
	return env.WEBHOOK_ALLOW_PRIVATE === "true";
}

/** IPv4 ranges that are not the public internet (RFC 6890 and friends), as [first octets, prefix length]. */
const PRIVATE_V4: readonly (readonly [number, number, number, number, number])[] = [
	[0, 0, 0, 0, 8],
	[10, 0, 0, 0, 8],
	[100, 64, 0, 0, 10],
	[127, 0, 0, 0, 8],
	[169, 254, 0, 0, 16],
	[172, 16, 0, 0, 12],
	[192, 0, 0, 0, 24],
	[192, 0, 2, 0, 24],
	[192, 168, 0, 0, 16],
	[198, 18, 0, 0, 15],
	[198, 51, 100, 0, 24],
	[203, 0, 113, 0, 24],
	[224, 0, 0, 0, 4],
	[240, 0, 0, 0, 4],
];

function parseV4(host: string): number | null {
	const parts = host.split(".");
	if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
	return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function isPrivateV4(address: number): boolean {
	return PRIVATE_V4.some(([a, b, c, d, bits]) => {
		const base = ((a * 256 + b) * 256 + c) * 256 + d;
		const size = 2 ** (32 - bits);
		return address >= base && address < base + size;
	});
}

/** Whether an IPv6 literal (without brackets) is loopback, unspecified, unique-local, link-local or maps IPv4. */
function isPrivateV6(host: string): boolean {
	const h = host.toLowerCase();
	if (h === "::" || h === "::1") return true;
	if (/^f[cd][0-9a-f]{0,2}:/.test(h)) return true; // fc00::/7 unique local
	if (/^fe[89ab][0-9a-f]?:/.test(h)) return true; // fe80::/10 link-local
	if (/^ff[0-9a-f]{0,2}:/.test(h)) return true; // multicast
	const mapped = /^::ffff:(.+)$/.exec(h);
	if (mapped) {
		const v4 = parseV4(mapped[1] as string);
		if (v4 !== null) return isPrivateV4(v4);
		return true; // hex-form mapped addresses: refuse rather than decode
	}
	return h.startsWith("64:ff9b:") || h.startsWith("2001:db8:");
}

/** Whether an address (IPv4 dotted or IPv6, brackets optional) is outside the public internet. */
export function isPrivateAddress(address: string): boolean {
	const bare = address.startsWith("[") ? address.slice(1, -1) : address;
	const v4 = parseV4(bare);
	if (v4 !== null) return isPrivateV4(v4);
	if (bare.includes(":")) return isPrivateV6(bare);
	return false;
}

/** Names that never belong to a public host. */
function isPrivateName(host: string): boolean {
	const h = host.toLowerCase().replace(/\.$/, "");
	return (
		h === "localhost" ||
		h.endsWith(".localhost") ||
		h.endsWith(".local") ||
		h.endsWith(".internal") ||
		h.endsWith(".home.arpa") ||
		!h.includes(".")
	);
}

/** Checks a URL without resolving it; returns the normalised URL. */
export function checkUrlSyntax(raw: string, allowPrivateHosts: boolean): Result<URL> {
	if (raw.length > WEBHOOK_URL_LENGTH_MAX) return err("invalid_webhook_url", `url is longer than ${WEBHOOK_URL_LENGTH_MAX} characters`);
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		return err("invalid_webhook_url", "url is not an absolute URL");
	}
	const allowed = allowPrivateHosts ? ["https:", "http:"] : ["https:"];
	if (!allowed.includes(url.protocol)) {
		return err("invalid_webhook_url", `url must use ${allowed.map((p) => `${p}//`).join(" or ")}`, { url: raw });
	}
	if (url.username !== "" || url.password !== "") return err("invalid_webhook_url", "url must not carry credentials");
	if (url.hash !== "") return err("invalid_webhook_url", "url must not have a fragment");
	if (!allowPrivateHosts && (isPrivateAddress(url.hostname) || isPrivateName(url.hostname))) {
		return err("invalid_webhook_url", `url host ${url.hostname} is private, loopback or link-local`, { url: raw });
	}
	return ok(url);
}

/**
 * What lifts the https-and-public rule on a local broker; the edge appends it to a refusal when the request came
 * to a loopback address (nobody can act on it in production, where private targets are unreachable anyway). Plain
 * `wrangler dev` is named apart: wrangler.toml's `[secrets]` block makes it load only ADMIN_TOKEN from .dev.vars
 * (npm start and npm run dev pass the other lines on themselves), so there only `--var` works.
 */
export const PRIVATE_WEBHOOKS_HINT =
	"local development: start the broker with `npm start -- --allow-private-webhooks`, or put WEBHOOK_ALLOW_PRIVATE=true in .dev.vars for `npm start` and `npm run dev` (plain `wrangler dev`: `--var WEBHOOK_ALLOW_PRIVATE:true`), to deliver to http:// and private hosts";

/** Whether a request arrived at a loopback host, i.e. a local `npm start` or `wrangler dev`. */
export function isLoopbackHost(hostname: string): boolean {
	const h = hostname.toLowerCase();
	return h === "localhost" || h === "[::1]" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Resolves a host name to its addresses; throws when it cannot. */
export type Resolver = (hostname: string) => Promise<string[]>;

/** Checks a URL and, unless private hosts are allowed, that every address its host resolves to is public. */
export async function checkWebhookUrl(raw: string, allowPrivateHosts: boolean, resolve: Resolver): Promise<Result<string>> {
	const syntax = checkUrlSyntax(raw, allowPrivateHosts);
	if (!syntax.ok) return syntax;
	const url = syntax.value;
	if (allowPrivateHosts || parseV4(url.hostname) !== null || url.hostname.startsWith("[")) return ok(url.href);
	let addresses: string[];
	try {
		addresses = await resolve(url.hostname);
	} catch {
		// The lookup itself failed (resolver down, timeout, no network): nothing is wrong with the URL, so a retry may
		// pass. The cause is runtime detail and stays off the wire.
		return err("unavailable", `could not look up ${url.hostname} in DNS to check it is a public host; try again`, { url: raw });
	}
	if (addresses.length === 0) return err("invalid_webhook_url", `url host ${url.hostname} does not resolve`, { url: raw });
	const bad = addresses.find(isPrivateAddress);
	if (bad !== undefined) return err("invalid_webhook_url", `url host ${url.hostname} resolves to private address ${bad}`, { url: raw });
	return ok(url.href);
}

const DOH_URL = "https://cloudflare-dns.com/dns-query";

/** A and AAAA records over DNS-over-HTTPS (Cloudflare's JSON API). */
export const resolveOverHttps: Resolver = async (hostname) => {
	const lookups = ["A", "AAAA"].map(async (type) => {
		const response = await fetch(`${DOH_URL}?name=${encodeURIComponent(hostname)}&type=${type}`, {
			headers: { Accept: "application/dns-json" },
			signal: AbortSignal.timeout(WEBHOOK_DOH_TIMEOUT_MS),
		});
		if (!response.ok) throw new Error(`DNS-over-HTTPS answered ${response.status}`);
		const body = (await response.json()) as { Answer?: { type: number; data: string }[] };
		// Type 1 is A, 28 is AAAA; CNAME steps (type 5) are followed by the resolver and skipped here.
		return (body.Answer ?? []).filter((a) => a.type === 1 || a.type === 28).map((a) => a.data);
	});
	return (await Promise.all(lookups)).flat();
};
