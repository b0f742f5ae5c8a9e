// @ts-check
/**
 * @module
 * A DevTools protocol session on a workerd isolate through its inspector port: bench/profile.mjs's (the Tributary
 * Worker under load) and bench/profile-booking.mjs's (a bare workerd). One client, so both read the protocol alike.
 */

import { waitUntil } from "../../scripts/lib/index.mjs";

/** @typedef {{ title: string, webSocketDebuggerUrl: string }} InspectorTarget */

/**
 * A session on the target `pick` chooses among those the inspector lists (waiting up to 10 s for the list).
 * @param {number} port
 * @param {(targets: InspectorTarget[]) => InspectorTarget | undefined} pick
 */
export async function inspect(port, pick) {
	/** @type {InspectorTarget[]} */
	let targets = [];
	await waitUntil(
		async () => {
			targets = /** @type {InspectorTarget[]} */ (await fetch(`http://127.0.0.1:${port}/json`).then((r) => r.json()));
			return targets.length > 0;
		},
		{ timeoutMs: 10_000, message: "the inspector's target list" },
	);
	const target = pick(targets);
	if (target === undefined) throw new Error("no inspector target");
	const { WebSocket } = await import("ws");
	const socket = new WebSocket(target.webSocketDebuggerUrl);
	await new Promise((resolve, reject) => {
		socket.once("open", resolve);
		socket.once("error", reject);
	});
	let id = 0;
	/** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
	const pending = new Map();
	socket.on("message", (data) => {
		const message = JSON.parse(String(data));
		const waiter = pending.get(message.id);
		if (waiter === undefined) return;
		pending.delete(message.id);
		if (message.error) waiter.reject(new Error(JSON.stringify(message.error)));
		else waiter.resolve(message.result);
	});
	return {
		title: target.title,
		/**
		 * @param {string} method
		 * @param {object} [params]
		 * @returns {Promise<any>}
		 */
		send(method, params = {}) {
			const n = ++id;
			socket.send(JSON.stringify({ id: n, method, params }));
			return new Promise((resolve, reject) => pending.set(n, { resolve, reject }));
		},
		close: () => socket.close(),
	};
}
