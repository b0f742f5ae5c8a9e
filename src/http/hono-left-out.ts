/**
 * @module
 * Stands in, in the uploaded bundle, for the Hono modules behind methods this Worker never calls (wrangler.toml's
 * `[alias]` swaps each import for this file). Hono's classes keep every method, and a class method is never
 * tree-shaken, so their modules were bundled for nothing:
 * - `utils/mount.js`: the request rewriting of `app.mount()`, which mounts an app of another framework (this
 *   Worker's mounts are Hono apps joined with `route()`);
 * - `utils/body.js`: `c.req.parseBody()`, form bodies parsed into an object (the API reads JSON and raw bytes);
 * - `utils/html.js`: `c.html()` given a JSX or `html` template result (no route answers HTML; the docs page and the
 *   console are static assets);
 * - the query string parsing of `utils/url.js` behind `c.req.query()` and `c.req.queries()` (the routes read their
 *   query with `queryOf`, which refuses a parameter given twice): the app's and the request's imports of that module
 *   come here, and the functions they use besides are Hono's own, re-exported.
 * Should one of them ever be called, it fails loudly here instead of behaving differently from Hono.
 */

export { getPath, getPathNoStrict, mergePath, tryDecodeURIComponent } from "hono/utils/url";

function leftOut(method: string): never {
	throw new Error(`Hono's ${method} is not in this Worker: see wrangler.toml [alias]`);
}

/** In place of utils/mount.js. */
export function createMountedRequest(): never {
	return leftOut("mount()");
}

/** In place of utils/body.js. */
export function parseBody(): never {
	return leftOut("parseBody()");
}

/** In place of utils/html.js: `c.html()` reads the phase before it would resolve the template. */
export const HtmlEscapedCallbackPhase = { Stringify: 1 } as const;

/** In place of utils/html.js. */
export function resolveCallback(): never {
	return leftOut("html()");
}

/** In place of utils/url.js's `getQueryParam`. */
export function getQueryParam(): never {
	return leftOut("c.req.query()");
}

/** In place of utils/url.js's `getQueryParams`. */
export function getQueryParams(): never {
	return leftOut("c.req.queries()");
}
