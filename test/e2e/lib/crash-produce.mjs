// @ts-check
/**
 * @module
 * One produce of the crash tests' load (test/e2e/crash.test.mjs, tiered-crash.test.mjs), sent once and told apart:
 * acknowledged (its offsets must survive the crash); unknown; or failed (before the crash, the test's to report).
 *
 * Unknown is wrangler dev's proxy's 503: its forward to the Worker failed (mostly over a kept-alive connection the
 * Worker's end was closing, which the Worker never read; but a forward can also fail after the Worker took the
 * write), so the records may or may not be stored, as those of a request in flight at the crash may. The crash tests'
 * final checks already allow for those: everything present was sent, once, at dense offsets. Sent again, a write
 * that landed unseen would be stored twice, so an unkeyed produce is not sent again (test/e2e/lib/client.mjs sends
 * again one that names itself).
 */

import { isWranglerProxy503 } from "./client.mjs";

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
		return { kind: "failed", reason: error instanceof Error ? error.message : String(error) };
	}
	if (response.status === 200 && Array.isArray(response.json?.offsets)) return { kind: "acknowledged", offsets: response.json.offsets };
	return { kind: isWranglerProxy503(response) ? "unknown" : "failed", reason: `${response.status} ${response.text}` };
}
