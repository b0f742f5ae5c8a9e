/**
 * @module
 * The `Hono` every route module builds on: Hono's base class with its TrieRouter alone. Hono's default preset
 * also bundles RegExpRouter and picks one of the two on the first request; this app's routes are ones RegExpRouter
 * refuses (its own `UnsupportedPathError`), so TrieRouter already answered every request, and leaving the unused
 * router out keeps it out of the Worker's bundle. PatternRouter (`hono/tiny`) is smaller still, but matches by
 * trying each route in turn: several µs per request here, against about one for TrieRouter.
 */

import { HonoBase, type HonoOptions } from "hono/hono-base";
import { TrieRouter } from "hono/router/trie-router";
import type { BlankEnv, BlankSchema, Env, Schema } from "hono/types";

export class Hono<E extends Env = BlankEnv, S extends Schema = BlankSchema, BasePath extends string = "/"> extends HonoBase<
	E,
	S,
	BasePath
> {
	constructor(options: HonoOptions<E> = {}) {
		super(options);
		this.router = options.router ?? new TrieRouter();
	}
}
