/**
 * A fault injected into a Durable Object from `runInDurableObject`: one method that throws on its next call, as a
 * storage failure would, and behaves as before from then on.
 */

/** Makes `owner[method]` throw `${method} broke` on its next call, then behave as before. */
export function throwOnce<T extends object>(owner: T, method: keyof T & string, message = `${method} broke`): void {
	const original = owner[method];
	Object.assign(owner, {
		[method]: () => {
			Object.assign(owner, { [method]: original });
			throw new Error(message);
		},
	});
}
