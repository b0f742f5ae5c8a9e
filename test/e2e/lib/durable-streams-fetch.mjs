// @ts-check
/**
 * @module
 * The fetch the Durable Streams conformance suite (test/conformance/durable-streams.test.mjs) sends its requests
 * with. The suite checks few of its setup answers: a test's create (`PUT`) is never checked, so a create that
 * wrangler dev, not the Worker, failed leaves the stream missing and the test's next request answered 404 (seen:
 * `close-only-ignores-content-type`, "expected 404 to be 204"). A request to the broker that wrangler dev failed
 * (`sendWhileWranglerFails`: its proxy's 503, or the connection closed before an answer) is sent again, once, when the
 * protocol makes it safe to repeat (`safeToRepeat`), and said on stderr; every other answer is the suite's to see,
 * as is every request outside the mount (wrangler dev's keep-warm /healthz among them: it shares the global fetch).
 * One that wrangler dev failed and that cannot be sent again (an append naming no place: seen under load, "expected
 * 503 to be 204", the 503 its proxy's text, logged by the proxy and not by the Worker) is told to `unrepeatable` and
 * said on stderr: the test that meets it can tell nothing of the Worker from that run.
 */

import { closedBeforeAnswer, isWranglerProxy503, sendWhileWranglerFails } from "./client.mjs";

/**
 * The length of a body that can be sent again (none, a string, bytes), or null for one that cannot (a stream).
 * @param {unknown} body
 */
function resendableLength(body) {
	if (body === undefined || body === null) return 0;
	if (typeof body === "string") return body.length;
	if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer) return body.byteLength;
	return null;
}

/**
 * Whether a Durable Streams request sent again cannot write twice:
 * - a read; a create (`PUT`), which a stream made with the same settings answers 200, writing nothing; a `DELETE`
 *   (one that had landed is then a 404, which the test sees);
 * - an append that names its place: with `Stream-Seq` (one that had landed is then refused 409, writing nothing)
 *   or a producer's id, epoch and sequence (answered as a duplicate, writing nothing); a close with no body
 *   (closing a closed stream is answered 204).
 * Any other append might have been taken by the Worker before its answer was lost. Its body must be one that can be
 * sent again.
 * @param {string} method @param {Headers} headers @param {unknown} body
 */
function safeToRepeat(method, headers, body) {
	const length = resendableLength(body);
	if (length === null) return false;
	if (method === "GET" || method === "HEAD" || method === "PUT" || method === "DELETE") return true;
	if (method !== "POST") return false;
	if (length === 0 && headers.get("Stream-Closed") === "true") return true;
	if (headers.has("Stream-Seq")) return true;
	return headers.has("Producer-Id") && headers.has("Producer-Epoch") && headers.has("Producer-Seq");
}

/**
 * `send` (the global fetch), with a request under `mount` that wrangler dev failed sent again when safe to repeat, and
 * told to `unrepeatable` (what failed it, after the method and path) when not.
 * @param {typeof fetch} send
 * @param {string} mount the protocol's base URL, e.g. `http://127.0.0.1:8787/ds`
 * @param {(said: string) => void} [unrepeatable]
 * @returns {typeof fetch}
 */
export function durableStreamsFetch(send, mount, unrepeatable = () => {}) {
	return async function durableStreamsFetch(input, init) {
		const url = typeof input === "string" || input instanceof URL ? new URL(input) : null;
		const method = (init?.method ?? "GET").toUpperCase();
		if (url === null || !url.href.startsWith(`${mount}/`)) return send(input, init);
		if (!safeToRepeat(method, new Headers(init?.headers), init?.body))
			return sendOnce(() => send(input, init), `${method} ${url.pathname}`, unrepeatable);
		const { response } = await sendWhileWranglerFails(() => send(input, init), {
			method,
			repeatable: true,
			timeoutMs: Number.POSITIVE_INFINITY,
			label: `conformance fetch: ${method} ${url.pathname}`,
			// Only a 503's text tells the proxy's from the Worker's; any other body is left unread for the suite.
			seen: async (answer) => ({ status: answer.status, text: answer.status === 503 ? await answer.clone().text() : "" }),
		});
		return response;
	};
}

/**
 * `send()`'s answer or error, as they are; one of wrangler dev's failures (its proxy's 503, the connection closed
 * before an answer) is told to `unrepeatable` and said on stderr, as `label` and what failed it.
 * @param {() => Promise<Response>} send @param {string} label @param {(said: string) => void} unrepeatable
 */
async function sendOnce(send, label, unrepeatable) {
	/** @param {string} reason */
	const tell = (reason) => {
		process.stderr.write(`conformance fetch: ${label}: ${reason}; not safe to send again, the suite sees it\n`);
		unrepeatable(`${label}: ${reason}`);
	};
	let response;
	try {
		response = await send();
	} catch (error) {
		if (closedBeforeAnswer(error)) tell("the connection closed before an answer");
		throw error;
	}
	if (response.status === 503 && isWranglerProxy503({ status: 503, text: await response.clone().text() }))
		tell("wrangler dev's proxy answered 503");
	return response;
}
