// @ts-check
/**
 * @module
 * The HTTP headers of every static asset, in one place: written to the assets' `_headers` file by the build
 * (which `wrangler dev` and `wrangler deploy` apply) and handed to Miniflare by `npm start`. The assets are the
 * console and the API documents (`/openapi.json`, `/docs`, written by scripts/lib/api-docs.mjs).
 *
 * The console is static files that call the public API on the same origin, so the policy allows scripts,
 * styles, images and requests from 'self' and nothing else: no inline script or style, no CDN, no framing.
 */

/** The path pattern (Workers static assets `_headers` syntax) the console is served under. */
export const CONSOLE_PATH_PATTERN = "/console/*";

export const CONSOLE_HEADERS = {
	"Content-Security-Policy": [
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src 'self'",
		"manifest-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	].join("; "),
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options": "DENY",
	"Referrer-Policy": "no-referrer",
	"Cross-Origin-Opener-Policy": "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy": "camera=(), microphone=(), geolocation=()",
};

/** `/docs`: one self-contained page (no script, no request after it loads) whose only inline part is its style. */
export const DOCS_PATH = "/docs";
export const DOCS_HEADERS = {
	"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy": "no-referrer",
	"Cache-Control": "no-cache",
};

/**
 * `/openapi.json`: public JSON, revalidated so a deploy's new document is seen at once, and readable from any
 * origin: API tools in the browser (Swagger Editor, Scalar, Postman on the web) load it from elsewhere. It needs no
 * credential and carries none, so this opens nothing the API's own CORS_ORIGINS guards.
 */
export const OPENAPI_PATH = "/openapi.json";
export const OPENAPI_HEADERS = {
	"Access-Control-Allow-Origin": "*",
	"X-Content-Type-Options": "nosniff",
	"Cache-Control": "no-cache",
};

/** Path pattern → headers, for every static asset. */
const RULES = {
	[CONSOLE_PATH_PATTERN]: CONSOLE_HEADERS,
	[DOCS_PATH]: DOCS_HEADERS,
	[OPENAPI_PATH]: OPENAPI_HEADERS,
};

/** The `_headers` file of the assets directory. */
export function headersFile() {
	return Object.entries(RULES)
		.map(
			([pattern, headers]) =>
				`${pattern}\n${Object.entries(headers)
					.map(([name, value]) => `  ${name}: ${value}`)
					.join("\n")}\n`,
		)
		.join("");
}

/**
 * The same rules in the compiled form Miniflare's `assetConfig.headers` takes (what wrangler makes of `_headers`).
 * @returns {{ version: 2, rules: Record<string, { set: Record<string, string> }> }}
 */
export function miniflareHeaderRules() {
	return { version: 2, rules: Object.fromEntries(Object.entries(RULES).map(([pattern, headers]) => [pattern, { set: { ...headers } }])) };
}
