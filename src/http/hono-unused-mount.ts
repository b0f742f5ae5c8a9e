/**
 * @module
 * Stands in for Hono's `utils/mount.js` in the uploaded bundle (wrangler.toml's `[alias]`). That module is the
 * request rewriting of `HonoBase.prototype.mount()`, which mounts an app of another framework; this Worker mounts
 * none (its compat mounts are Hono apps, joined with `route()`), but a class method is never tree-shaken, so the
 * module was bundled for nothing: 416 bytes gzipped. Should a `mount()` ever be called, it fails loudly here
 * instead of rewriting the request differently from Hono's.
 */

export function createMountedRequest(): never {
	throw new Error("Hono's mount() is not in this Worker: see wrangler.toml [alias]");
}
