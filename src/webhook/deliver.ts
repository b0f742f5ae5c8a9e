/**
 * @module
 * One delivery attempt: `POST` the batch, signed, and wait at most `WEBHOOK_TIMEOUT_MS` for an answer. Only the
 * first `WEBHOOK_RESPONSE_BYTES_MAX` bytes of a response are read (for the attempt log); the rest is discarded.
 */

import { concatBytes } from "../shared/bytes.ts";
import { WEBHOOK_RESPONSE_BYTES_MAX, WEBHOOK_TIMEOUT_MS } from "../shared/limits.ts";
import { parseRetryAfter } from "./retry-policy.ts";
import { signatureHeaders } from "./signing.ts";

export interface Attempt {
	readonly url: string;
	readonly webhookId: string;
	readonly body: string;
	readonly secrets: readonly string[];
}

export interface AttemptResult {
	/** The HTTP status; null when there was no answer (network error, timeout). */
	readonly status: number | null;
	readonly latencyMs: number;
	/** Why the attempt failed: the start of the response body, or the transport error. Null on success. */
	readonly error: string | null;
	readonly retryAfterMs: number | null;
}

/** Reads at most `limitBytes` of a body as text and cancels the rest. */
async function readCapped(response: Response, limitBytes: number): Promise<string> {
	if (response.body === null) return "";
	const reader = response.body.getReader();
	const chunks: Uint8Array[] = [];
	let received = 0;
	while (received < limitBytes) {
		const { done, value } = await reader.read();
		if (done) break;
		chunks.push(value);
		received += value.byteLength;
	}
	await reader.cancel().catch(() => {});
	return new TextDecoder().decode(concatBytes(chunks).subarray(0, Math.min(received, limitBytes)));
}

/** Sends one attempt. Never throws: every failure is an `AttemptResult` the retry policy judges. */
export async function sendAttempt(attempt: Attempt, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<AttemptResult> {
	const startedMs = Date.now();
	const timestampS = Math.floor(startedMs / 1000);
	const headers = await signatureHeaders({ id: attempt.webhookId, timestampS, body: attempt.body, secrets: attempt.secrets });
	try {
		const response = await fetch(attempt.url, {
			method: "POST",
			headers: { ...headers, "Content-Type": "application/json", "User-Agent": "Tributary-Webhooks/1" },
			body: attempt.body,
			redirect: "manual",
			signal: AbortSignal.timeout(timeoutMs),
		});
		const ok = response.status >= 200 && response.status <= 299;
		const text = ok ? "" : await readCapped(response, WEBHOOK_RESPONSE_BYTES_MAX);
		if (ok) await response.body?.cancel().catch(() => {});
		return {
			status: response.status,
			latencyMs: Date.now() - startedMs,
			error: ok ? null : `HTTP ${response.status}${text === "" ? "" : `: ${text}`}`,
			retryAfterMs: parseRetryAfter(response.headers.get("Retry-After"), Date.now()),
		};
	} catch (cause) {
		const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
		return {
			status: null,
			latencyMs: Date.now() - startedMs,
			error: timedOut ? `no answer within ${timeoutMs} ms` : `request failed: ${String(cause)}`,
			retryAfterMs: null,
		};
	}
}
