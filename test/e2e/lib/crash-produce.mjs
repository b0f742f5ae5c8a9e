// @ts-check
/**
 * @module
 * One produce of the crash tests' load (test/e2e/crash.test.mjs, tiered-crash.test.mjs), sent once and told apart:
 * acknowledged (its offsets must survive the crash); unknown; or failed (before the crash, the test's to report).
 *
 * Unknown is a send wrangler dev failed, not the Worker, so the records may or may not be stored, as those of a
 * request in flight at the crash may:
 * - its proxy's 503: its forward to the Worker failed (mostly over a kept-alive connection the Worker's end was
 *   closing, which the Worker never read; but a forward can also fail after the Worker took the write);
 * - a connection its server closed before the answer (`closedBeforeAnswer`): one left idle for 5 s while this
 *   process's event loop was held (a loaded machine: the crash tests' own load, and the helpers' beside it), which
 *   fetch then reused. Seen once as "no produce failed before the crash: ['fetch failed', 'fetch failed']".
 * The crash tests' final checks already allow for those: everything present was sent, once, at dense offsets. Sent
 * again, a write that landed unseen would be stored twice, so an unkeyed produce is not sent again
 * (test/e2e/lib/client.mjs sends again one that names itself).
 */

import { closedBeforeAnswer, isWranglerProxy503 } from "./client.mjs";

/**
 * @typedef {import("./client.mjs").Position} Position
 * @typedef {{ kind: "acknowledged", offsets: Position[] } | { kind: "unknown" | "failed", reason: string }} ProduceOutcome
 */

/**
 * Sends `body` to `topic`'s records once and says what it came to.
 * @param {ReturnType<typeof import("./client.mjs").client>} api
 * @param {string} topic
 * @param {object} body
 * @returns {Promise<ProduceOutcome>}
 */
export async function produceUnderLoad(api, topic, body) {
	let response;
	try {
		response = await api.request("POST", `/v1/topics/${topic}/records`, { body });
	} catch (error) {
		return { kind: closedBeforeAnswer(error) ? "unknown" : "failed", reason: failureText(error) };
	}
	if (response.status === 200 && Array.isArray(response.json?.offsets)) return { kind: "acknowledged", offsets: response.json.offsets };
	return { kind: isWranglerProxy503(response) ? "unknown" : "failed", reason: `${response.status} ${response.text}` };
}

/**
 * What a send threw, with its cause ("fetch failed" alone does not say how).
 * @param {unknown} error
 */
function failureText(error) {
	if (!(error instanceof Error)) return String(error);
	const cause = /** @type {{ code?: string, message?: string } | undefined} */ (error.cause);
	return cause === undefined ? error.message : `${error.message} (${cause.code ?? "no code"}: ${cause.message})`;
}
