/**
 * A fault injected into a Durable Object from `runInDurableObject`: one method that throws on its next call, as a
 * storage failure would, and behaves as before from then on.
 */

type ArgumentsOf<F> = F extends (...args: infer A) => unknown ? A : never;

/**
 * Makes `owner[method]` throw on its next call (an Error of `thrown`, `${method} broke` by default, or `thrown` itself:
 * a bug's TypeError), then behave as before. With `when`, only on its next call whose arguments `when` holds for:
 * the calls before it are served as before (a stream's reads at the tail, which a loaded machine may repeat before
 * the one the test means).
 */
export function throwOnce<T extends object, K extends keyof T & string>(
	owner: T,
	method: K,
	thrown: string | Error = `${method} broke`,
	when: (...args: ArgumentsOf<T[K]>) => boolean = () => true,
): void {
	const original = owner[method] as (...args: ArgumentsOf<T[K]>) => unknown;
	Object.assign(owner, {
		[method]: (...args: ArgumentsOf<T[K]>) => {
			if (!when(...args)) return original.apply(owner, args);
			Object.assign(owner, { [method]: original });
			throw typeof thrown === "string" ? new Error(thrown) : thrown;
		},
	});
}

/**
 * Makes the next statement of `sql` whose text matches `statement` throw (an Error of `thrown`, or `thrown` itself),
 * as storage failing under it would; other statements run as before (an object's metrics report, which may come
 * in between, is not the one that fails). With `boundTo`, only a statement bound to that value fails: in an object
 * every file shares (the group directory), another file's background work runs the same statements for its own rows.
 */
export function failStatementOnce(sql: SqlStorage, statement: RegExp, thrown: string | Error, boundTo?: SqlStorageValue): void {
	const exec = sql.exec;
	sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
		if (!statement.test(query) || (boundTo !== undefined && !bindings.includes(boundTo))) return exec.call(sql, query, ...bindings);
		sql.exec = exec;
		throw typeof thrown === "string" ? new Error(thrown) : thrown;
	}) as SqlStorage["exec"];
}
