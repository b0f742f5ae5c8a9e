/**
 * @module
 * The `Hono` every route module builds on: Hono's base class with its TrieRouter alone. Hono's default preset
 * also bundles RegExpRouter and picks one of the two on the first request; this app's routes are ones RegExpRouter
 * refuses (its own `UnsupportedPathError`), so TrieRouter already answered every request, and leaving the unused
 * router out keeps it out of the Worker's bundle. PatternRouter (`hono/tiny`) is smaller still, but matches by
 * trying each route in turn: several µs per request here, against about one for TrieRouter.
 *
 * The router remembers its answers (`RememberingTrieRouter`): a client sends the same method and path again and
 * again (a producer its topic's records path), and a search of the trie through every mount's routes costs more
 * than a map lookup.
 */

import { HonoBase, type HonoOptions } from "hono/hono-base";
import type { Result } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";
import type { BlankEnv, BlankSchema, Env, Schema } from "hono/types";
import { ROUTE_MATCH_PATH_CHARS_MAX, ROUTE_MATCHES_KEPT_MAX } from "../shared/limits.ts";

/**
 * TrieRouter, remembering the answer to each method and path it was asked (at most `ROUTE_MATCHES_KEPT_MAX`, of
 * paths up to `ROUTE_MATCH_PATH_CHARS_MAX` long). An
 * answer depends on nothing else, and adding a route forgets them all. Answers are frozen: Hono only reads them, and
 * one handed to many requests must stay as it was made.
 */
export class RememberingTrieRouter<T> extends TrieRouter<T> {
	override name = "RememberingTrieRouter";
	readonly #answers = new Map<string, Result<T>>();

	override add(method: string, path: string, handler: T): void {
		this.#answers.clear();
		super.add(method, path, handler);
	}

	override match(method: string, path: string): Result<T> {
		if (path.length > ROUTE_MATCH_PATH_CHARS_MAX) return super.match(method, path);
		const key = `${method} ${path}`;
		const known = this.#answers.get(key);
		if (known !== undefined) return known;
		const answer = freezeAnswer(super.match(method, path));
		if (this.#answers.size >= ROUTE_MATCHES_KEPT_MAX) this.#answers.delete(this.#answers.keys().next().value as string);
		this.#answers.set(key, answer);
		return answer;
	}
}

/** Freezes a match: its list, each handler's entry and its parameters (and the parameter stash, when there is one). */
function freezeAnswer<T>(answer: Result<T>): Result<T> {
	for (const entry of answer[0]) {
		Object.freeze(entry[1]);
		Object.freeze(entry);
	}
	Object.freeze(answer[0]);
	if (answer[1] !== undefined) Object.freeze(answer[1]);
	Object.freeze(answer);
	return answer;
}

export class Hono<E extends Env = BlankEnv, S extends Schema = BlankSchema, BasePath extends string = "/"> extends HonoBase<
	E,
	S,
	BasePath
> {
	constructor(options: HonoOptions<E> = {}) {
		super(options);
		this.router = options.router ?? new RememberingTrieRouter();
	}
}
