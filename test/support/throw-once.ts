/**
 * A fault injected into a Durable Object from `runInDurableObject`: one method that throws on its next call, as a
 * storage failure would, and behaves as before from then on.
 */

/**
 * Makes `owner[method]` throw on its next call (an Error of `thrown`, `${method} broke` by default, or `thrown` itself:
 * a bug's TypeError), then behave as before.
 */
export function throwOnce<T extends object>(owner: T, method: keyof T & string, thrown: string | Error = `${method} broke`): void {
	const original = owner[method];
	Object.assign(owner, {
		[method]: () => {
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
