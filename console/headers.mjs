// @ts-check
/**
 * @module
 * The HTTP headers of every console response, in one place: written to the assets' `_headers` file by the build
 * (which `wrangler dev` and `wrangler deploy` apply) and handed to Miniflare by `npm start`.
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

/** The `_headers` file of the assets directory. */
export function headersFile() {
	const lines = Object.entries(CONSOLE_HEADERS).map(([name, value]) => `  ${name}: ${value}`);
	return `${CONSOLE_PATH_PATTERN}\n${lines.join("\n")}\n`;
}

/**
 * The same rules in the compiled form Miniflare's `assetConfig.headers` takes (what wrangler makes of `_headers`).
 * @returns {{ version: 2, rules: Record<string, { set: Record<string, string> }> }}
 */
export function miniflareHeaderRules() {
	return { version: 2, rules: { [CONSOLE_PATH_PATTERN]: { set: { ...CONSOLE_HEADERS } } } };
}
