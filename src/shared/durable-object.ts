/**
 * @module
 * The runtime's base class of every Durable Object here, imported from one module: esbuild keeps an import of an
 * external module (`cloudflare:workers`) in each module that imports it, so seven objects importing it themselves
 * carried seven imports in the bundle (98 bytes gzipped).
 */

export { DurableObject } from "cloudflare:workers";
