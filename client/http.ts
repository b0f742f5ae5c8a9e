/**
 * @module
 * The one place the SDK talks HTTP: bearer auth, JSON in and out, a timeout on every request, and retries with
 * exponential backoff (full jitter) that honour `Retry-After`.
 */

import { errorFromResponse, TributaryError } from "./errors.ts";

/** How many times a request is retried before it fails (`Http.request` says with which error). */
export const RETRIES_DEFAULT = 8;
export const RETRY_BACKOFF_MS_MIN = 100;
export const RETRY_BACKOFF_MS_MAX = 5_000;
/** A `Retry-After` longer than this is cut to it: a client should not stall for minutes on one hint. */
export const RETRY_AFTER_MS_MAX = 30_000;
/** Added to a request's own long-poll wait to get its timeout. */
export const REQUEST_TIMEOUT_MS_DEFAULT = 30_000;

/**
 * Answers from a broker on this machine come uncompressed: `fetch` asks for gzip by default, and a local Worker
 * (Miniflare, workerd) then deflates every answer in its own process, which is most of its CPU on a fetched page,
 * while loopback bytes cost nothing (client/README.md has the figures). Elsewhere the default stays: on Cloudflare
 * the edge compresses outside the Worker's CPU, and over a network the smaller answer is the faster one.
 * (Browsers do not let a page set this header; they keep their default.)
 */
const LOOPBACK_ACCEPT_ENCODING = "identity";

export type FetchLike = (input: Request) => Promise<Response>;

export interface ConnectionOptions {
	/** Base URL of the broker, e.g. `http://127.0.0.1:8787`. */
	readonly url: string;
	/** The admin token or an API key's secret, sent as `Authorization: Bearer …`. */
	readonly token: string;
	/** A `fetch` to use instead of the global one (tests, a Worker's service binding). */
	readonly fetch?: FetchLike;
	/** Retries of a failed request (network errors, 429, 503) before giving up. Default 8. */
	readonly retries?: number;
	/** Timeout of one request, not counting a long-poll's own wait. Default 30 s. */
	readonly requestTimeoutMs?: number;
	/**
	 * How the client reads and writes JSON: `JSON` by default, so a record's integers a double cannot hold lose
	 * digits. Give a codec that keeps them (lossless-json's `parse` with `parseNumberAndBigInt`, and its
	 * `stringify`, as the CLI does) to read and write such records exactly: keys and values then carry them as
	 * that codec's values (`bigint`).
	 */
	readonly json?: JsonCodec;
}

/** Parses and writes JSON text; `stringify` must write what `parse` reads back, and standard JSON for the rest. */
export interface JsonCodec {
	parse(text: string): unknown;
	stringify(value: unknown): string;
}

/**
 * When a failed request may be sent again:
 * - `always`: on any transient failure (network errors, timeouts, 429, 502, 503, 504; not one whose answer says the
 *   same request fails again, `retriable: false`: a 503 `not_configured`), for a request whose repeat cannot write
 *   twice: a read, a write idempotent by the API, one the broker deduplicates (a producer's sequence);
 * - `unsent`: only when the failure proves nothing was done (`provedUnsent`), for one whose repeat could: a lost
 *   answer may hide a write, and so may a 503 other than `unavailable` (a produce's `partition_unavailable`);
 * - `conditional`: as `always`, for a change sent If-Match to a server that answers one already in force 2xx (RFC 9110
 *   §13.1.1), so a repeat finds the first if it landed. Its 412 does not say the change failed once an earlier try may
 *   have landed (any failure but a 429): another writer may have changed the resource after it (or an older server
 *   refused the repeat of a change in force). That 412 is thrown as the failure before it, the outcome unknown, the 412
 *   its `cause`;
 * - `never`.
 */
export type RetryMode = "always" | "unsent" | "conditional" | "never";

export interface RequestOptions {
	readonly body?: unknown;
	/** A body already serialised as JSON (the producer builds its bodies itself). */
	readonly rawBody?: string;
	readonly query?: Readonly<Record<string, string | number | undefined>>;
	readonly retry?: RetryMode;
	/** 503 codes that, answered to this request, also prove nothing was done (a poll's, whose read was undone). */
	readonly unsentCodes?: readonly string[];
	/** Extra time the server may take on purpose (a long-poll's `wait_ms`). */
	readonly waitMs?: number;
	/** Request headers beyond those every request carries (`If-Match`). */
	readonly headers?: Readonly<Record<string, string>>;
	/** Called with a successful answer's headers, for what an answer says outside its body (`ETag`). */
	readonly onHeaders?: (headers: Headers) => void;
	/**
	 * The code the server refuses this request's repeat with once an earlier try landed (a create's `topic_exists`):
	 * answered after a failure that may have landed, it does not say the request failed, and is thrown as that failure,
	 * the outcome unknown, the refusal its `cause` (as `conditional`'s 412), for the caller to look.
	 */
	readonly refusesRepeat?: string;
	/**
	 * Ends the request once aborted (a caller's deadline): no try is sent after it, a backoff wait under way ends at once
	 * (its timer cleared, nothing left pending), a try under way is cut off (its failure `aborted`, status 0: no answer,
	 * its outcome unknown), and the request throws what spent retries would (`givenUp`). A try whose answer came ends
	 * the request with that answer. Aborted before the first try, it throws the signal's reason.
	 */
	readonly signal?: AbortSignal;
}

export class Http {
	readonly baseUrl: string;
	readonly #fetch: FetchLike;
	readonly #retries: number;
	readonly #timeoutMs: number;
	/** Whether requests go through the global `fetch` (not one the caller injected). */
	readonly globalFetch: boolean;
	readonly json: JsonCodec;
	/** Headers every request carries: the token, and on loopback no compression. */
	readonly #baseHeaders: Readonly<Record<string, string>>;

	constructor(options: ConnectionOptions) {
		if (typeof options.url !== "string" || options.url === "") throw new TributaryError("invalid_argument", "url is required");
		if (typeof options.token !== "string" || options.token === "") throw new TributaryError("invalid_argument", "token is required");
		const problem = baseUrlProblem(options.url);
		if (problem !== null) throw new TributaryError("invalid_argument", `url ${problem}`);
		this.baseUrl = options.url.replace(/\/+$/, "");
		this.#fetch = options.fetch ?? ((request) => fetch(request));
		this.globalFetch = options.fetch === undefined;
		this.#retries = options.retries ?? RETRIES_DEFAULT;
		this.#timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
		this.json = options.json ?? JSON;
		const auth = { Authorization: `Bearer ${options.token}` };
		this.#baseHeaders = isLoopback(this.baseUrl) ? { ...auth, "Accept-Encoding": LOOPBACK_ACCEPT_ENCODING } : auth;
	}

	/** Retries of a failed request before it fails. */
	get retries(): number {
		return this.#retries;
	}

	/**
	 * Opens a streaming GET: resolves with the response once its headers are in (an error status is thrown as
	 * the API's error). The timeout covers the headers only; `signal` ends the body. The listener on `signal` goes once
	 * the request settles (its body read to the end or cancelled, or the open thrown), so one signal may serve many.
	 */
	async open(
		path: string,
		options: { query?: RequestOptions["query"]; headers: Record<string, string>; signal: AbortSignal },
	): Promise<Response> {
		const headers = { ...this.#baseHeaders, ...options.headers };
		const connect = new AbortController();
		const timeout = setTimeout(() => connect.abort(new DOMException("no answer", "TimeoutError")), this.#timeoutMs);
		const abort = () => connect.abort(options.signal.reason);
		options.signal.addEventListener("abort", abort, { once: true });
		const settled = () => options.signal.removeEventListener("abort", abort);
		let response: Response;
		try {
			response = await this.#fetch(new Request(this.#url(path, options.query), { headers, signal: connect.signal }));
		} catch (cause) {
			settled();
			const timedOut = cause instanceof Error && cause.name === "TimeoutError";
			throw new TributaryError(timedOut ? "timeout" : "network_error", `GET ${path}: ${describe(cause)}`, { retriable: true, cause });
		} finally {
			clearTimeout(timeout);
		}
		if (!response.ok || response.body === null) throw answerError(response, await response.text().finally(settled));
		const { status, statusText, headers: answered } = response;
		return new Response(untilEnd(response.body, settled), { status, statusText, headers: answered });
	}

	/**
	 * Opens a streaming POST: `body` is sent as it is fed (NDJSON), and the response resolves once its headers are
	 * in, to be read while the body still flows. An error status is thrown as the API's error.
	 */
	async stream(path: string, body: ReadableStream<Uint8Array>): Promise<Response> {
		const headers = { ...this.#baseHeaders, "Content-Type": "application/x-ndjson", Accept: "application/x-ndjson" };
		// `duplex` is what lets a body stream (Fetch standard); the DOM typings do not know it yet.
		const init = { method: "POST", headers, body, duplex: "half" } as RequestInit;
		const response = await this.#fetch(new Request(this.#url(path, undefined), init));
		if (!response.ok || response.body === null) throw answerError(response, await response.text());
		return response;
	}

	/**
	 * Sends a request and returns its parsed JSON body (`undefined` for 204), retrying as `options.retry` allows; once it
	 * gives up, throws what `givenUp` says.
	 */
	async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
		const mode = options.retry ?? (method === "GET" ? "always" : "unsent");
		const unsent = options.unsentCodes;
		options.signal?.throwIfAborted();
		/** The first failure that was more than a 429, for what the request's end says (`givenUp`). */
		let earlier: TributaryError | null = null;
		for (let attempt = 0; ; attempt++) {
			const outcome = await this.#once(method, path, options);
			if (!(outcome instanceof TributaryError)) return outcome as T;
			if (earlier !== null && outcome.code === refusedRepeat(mode, options, earlier)) throw outcomeUnknown(earlier, outcome);
			if (attempt >= this.#retries || !mayRetry(outcome, mode, unsent)) throw givenUp(outcome, earlier, unsent);
			// A 503 `unavailable` counts: a key's quota change may be in force behind one (client/README.md, Retries). The
			// first such failure is kept unless it reads as provably unsent: a lost answer is thrown over a later 503.
			const before = earlier;
			if (outcome.status !== 429 && (earlier === null || provedUnsent(earlier, unsent))) earlier = outcome;
			await sleep(backoffMs(attempt, outcome.details.retry_after_ms), options.signal);
			if (options.signal?.aborted) throw givenUp(outcome, before, unsent);
		}
	}

	async #once(method: string, path: string, options: RequestOptions): Promise<unknown> {
		const headers: Record<string, string> = { ...this.#baseHeaders, ...options.headers, Accept: "application/json" };
		const body = options.rawBody ?? (options.body === undefined ? undefined : this.json.stringify(options.body));
		if (body !== undefined) headers["Content-Type"] = "application/json";
		const timeoutMs = this.#timeoutMs + (options.waitMs ?? 0);
		const ends = tryEnds(timeoutMs, options.signal);
		let response: Response;
		let text: string;
		try {
			const request = new Request(this.#url(path, options.query), { method, headers, body, signal: ends.signal });
			response = await this.#fetch(request);
			text = await response.text();
		} catch (cause) {
			const caller = options.signal;
			if (caller?.aborted) {
				const message = `${method} ${path}: cut off by the caller's signal, its outcome unknown: ${describe(caller.reason)}`;
				return new TributaryError("aborted", message, { retriable: true, cause });
			}
			const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
			const message = timedOut ? `${method} ${path}: no answer within ${timeoutMs} ms` : `${method} ${path}: ${describe(cause)}`;
			return new TributaryError(timedOut ? "timeout" : "network_error", message, { retriable: true, cause });
		} finally {
			ends.release();
		}
		if (response.ok) {
			options.onHeaders?.(response.headers);
			if (text === "") return undefined;
			try {
				return this.json.parse(text);
			} catch (cause) {
				return new TributaryError("unexpected_response", `${method} ${path}: the answer is not JSON`, { status: response.status, cause });
			}
		}
		return answerError(response, text);
	}

	#url(path: string, query: RequestOptions["query"]): string {
		const params = new URLSearchParams();
		for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(name, String(value));
		const search = params.toString();
		return `${this.baseUrl}${path}${search === "" ? "" : `?${search}`}`;
	}
}

const NOTHING_TO_RELEASE = (): void => {};

/**
 * A try's signal: aborted at `timeoutMs`, or when `caller` aborts. `release` takes its listener off `caller` once the
 * try is over, as one caller's signal may serve many requests.
 */
function tryEnds(timeoutMs: number, caller: AbortSignal | undefined): { signal: AbortSignal; release: () => void } {
	const timeout = AbortSignal.timeout(timeoutMs);
	if (caller === undefined) return { signal: timeout, release: NOTHING_TO_RELEASE };
	const either = new AbortController();
	const fromCaller = () => either.abort(caller.reason);
	const fromTimeout = () => either.abort(timeout.reason);
	caller.addEventListener("abort", fromCaller, { once: true });
	timeout.addEventListener("abort", fromTimeout, { once: true });
	return {
		signal: either.signal,
		release: () => {
			caller.removeEventListener("abort", fromCaller);
			timeout.removeEventListener("abort", fromTimeout);
		},
	};
}

/**
 * `body` as it is, calling `onEnd` once it ends: read to its end, failed, or cancelled. It reads `body` only as it is
 * read (highWaterMark 0): a chunk taken ahead would still be read after the signal that errors `body` aborted.
 */
function untilEnd(body: ReadableStream<Uint8Array>, onEnd: () => void): ReadableStream<Uint8Array> {
	const reader = body.getReader();
	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				try {
					const { done, value } = await reader.read();
					if (done) {
						onEnd();
						controller.close();
					} else controller.enqueue(value);
				} catch (error) {
					onEnd();
					controller.error(error);
				}
			},
			cancel(reason) {
				onEnd();
				return reader.cancel(reason);
			},
		},
		{ highWaterMark: 0 },
	);
}

/** The error an answer carries, with its `Retry-After` (as `retry_after_ms`) among the details. */
function answerError(response: Response, text: string): TributaryError {
	const error = errorFromResponse(response.status, text);
	const retryAfterMs = retryAfter(response.headers.get("Retry-After"));
	if (retryAfterMs === null) return error;
	return new TributaryError(error.code, error.message, {
		status: error.status,
		retriable: error.retriable,
		details: { ...error.details, retry_after_ms: retryAfterMs },
	});
}

/**
 * What a request that gives up after `last` throws: `last`, unless it proves only that its own try did nothing (a 429,
 * a 503 `unavailable`, one of the route's `unsentCodes`) while `earlier`, a failure before it, said more:
 * - `earlier` may have landed (`mayHaveLanded`): then that one, the outcome unknown, for the caller would otherwise
 *   read "nothing was done" (an idempotent producer would give its batch's sequence back, and the next batch, sent
 *   under it, be answered with this one's offsets and never written);
 * - `earlier` proves nothing was done and `last` is a 429: `earlier`, the Worker's word on the request (nothing
 *   written, or what was done and is the repeat's to finish: a key revoked, some of its tails not closed; a poll's
 *   read undone), not the refusal of the repeat.
 */
function givenUp(last: TributaryError, earlier: TributaryError | null, unsent: readonly string[] = []): TributaryError {
	if (earlier === null || !provedUnsent(last, unsent)) return last;
	if (!provedUnsent(earlier, unsent)) return outcomeUnknown(earlier, last);
	return last.status === 429 ? refusedAgain(earlier, last, "") : last;
}

/**
 * The code by which a repeat after `earlier` is refused for having found the first try's work. A conditional change's
 * 412 reads so after any failure but a 429 (its documented exception: a quota change may be in force behind a 503
 * `unavailable`); `refusesRepeat`'s code only after a failure that may have landed, not one proving nothing was done.
 */
function refusedRepeat(mode: RetryMode, options: RequestOptions, earlier: TributaryError): string | undefined {
	if (mode === "conditional") return "precondition_failed";
	return provedUnsent(earlier, options.unsentCodes) ? undefined : options.refusesRepeat;
}

/**
 * `lost`, a failure that may have landed, whose repeat was refused `refused`: thrown as `lost` (its code, status and
 * details), as a lost answer is, `refused` its cause (with its details: a `retry_after_ms`). A conditional change's
 * 412 cannot tell "never applied" from "applied, then changed by another writer"; a 429 or a 503 `unavailable` that
 * ends the retries says its own try did nothing, not that the earlier one did nothing.
 */
function outcomeUnknown(lost: TributaryError, refused: TributaryError): TributaryError {
	return refusedAgain(lost, refused, ": whether the first landed before that is unknown, read it again");
}

/** `first`, whose repeat was refused `refused`: `first`'s code, status and details, `refused` its cause, the message naming both. */
function refusedAgain(first: TributaryError, refused: TributaryError, after: string): TributaryError {
	const message = `${first.message}; sent again, it was refused ${refused.status} (${refused.message})${after}`;
	return new TributaryError(first.code, message, {
		status: first.status,
		retriable: first.retriable,
		details: first.details,
		cause: refused,
	});
}

/**
 * Whether `error` may be retried under `mode`; `unsentCodes` are 503 codes that, for this request, prove nothing was
 * done. Never one the answer marks `retriable: false`: the same request would meet it again.
 */
export function mayRetry(error: TributaryError, mode: RetryMode, unsentCodes: readonly string[] = []): boolean {
	if (mode === "never" || !error.retriable) return false;
	if (provedUnsent(error, unsentCodes)) return true;
	if (mode === "unsent") return false;
	const { code, status } = error;
	return code === "network_error" || code === "timeout" || status === 502 || status === 503 || status === 504;
}

/** The Worker's 503 codes that, whatever the route, prove nothing was done (`provedUnsent`). */
const UNSENT_CODES: readonly string[] = ["unavailable", "not_configured"];

/**
 * Whether a failure proves the request did nothing: a 429 (a quota refuses before the request runs, and so does a
 * rate limit in front of the Worker); the Worker's 503 `unavailable` (answered only where nothing was written, or
 * what was is undone or finished by the retry: client/README.md lists them) and `not_configured` (its authentication,
 * before any route runs, found no admin token: not retriable all the same); a 503 whose code is among the route's
 * `unsentCodes` (a poll's `partition_unavailable`: its read was undone). Not any other 503: a produce's
 * `partition_unavailable` may follow its commit (the partition's call threw after it, or another partition wrote its
 * share); wrangler dev's proxy's (`not_forwarded`) may follow the Worker's work (its catch covers a failure reading
 * the answer too); and of a 503 that is neither, who answered it and after what is unknown.
 */
export function provedUnsent(error: TributaryError, unsentCodes: readonly string[] = []): boolean {
	if (error.status === 429) return true;
	return error.status === 503 && (UNSENT_CODES.includes(error.code) || unsentCodes.includes(error.code));
}

/**
 * Whether a failed request may have been done all the same, its outcome unknown: no answer (a network error, a
 * timeout), an answer not the API's (`unexpected_response`: served, but unreadable), or a 5xx that does not prove
 * nothing was done (`provedUnsent`, with the route's `unsentCodes`). Any other answer (a 4xx, a 429) refused the
 * request before it was done. After such a failure the idempotent producer does not give its batch's sequence numbers
 * back (its next batches go under a new producer id).
 */
export function mayHaveLanded(error: TributaryError, unsentCodes: readonly string[] = []): boolean {
	if (provedUnsent(error, unsentCodes)) return false;
	return error.status === 0 || error.status >= 500 || error.code === "unexpected_response";
}

/** Exponential backoff with full jitter, or the server's `Retry-After` when it gave one (and it is longer). */
export function backoffMs(attempt: number, retryAfterMs: unknown): number {
	const ceiling = Math.min(RETRY_BACKOFF_MS_MAX, RETRY_BACKOFF_MS_MIN * 2 ** attempt);
	const jittered = RETRY_BACKOFF_MS_MIN / 2 + Math.random() * ceiling;
	return typeof retryAfterMs === "number" ? Math.max(Math.min(retryAfterMs, RETRY_AFTER_MS_MAX), jittered) : jittered;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function retryAfter(header: string | null): number | null {
	if (header === null) return null;
	if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
	const at = Date.parse(header);
	return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/** Resolves after `ms`, or at once when `signal` aborts, its timer then cleared. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal?.aborted) return resolve();
		const done = () => {
			clearTimeout(timer);
			signal?.removeEventListener("abort", done);
			resolve();
		};
		const timer = setTimeout(done, ms);
		signal?.addEventListener("abort", done, { once: true });
	});
}

function describe(cause: unknown): string {
	if (cause instanceof Error) {
		const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : "";
		return `${cause.message}${inner}`;
	}
	return String(cause);
}

/** The API's path, which every request appends to the broker's base URL. */
const API_PATH = "/v1";

/**
 * What is wrong with `url` as a broker's base URL, or null. One holding the API's path (`…:8787/v1`, copied from a
 * curl line) would send every request to `/v1/v1/…`, a 404 that reads as a broken broker; one holding a query string
 * or a fragment (`…:8787?x`, `…#y`) would take every request's path into it (`…:8787?x/v1/topics` asks for `/`); it is
 * named, not quoted, as a query string often carries a secret (`?token=…`) and the problem is printed and thrown. A
 * proxy's own prefix (`https://host/tributary`) is a base URL like any other. Text no URL parser takes is left to
 * `fetch` to report (`urlProblem` refuses it).
 *
 * @example
 * baseUrlProblem("http://127.0.0.1:8787/v1"); // "holds the API's path /v1: give the broker's base URL, without /v1, such as http://127.0.0.1:8787"
 * baseUrlProblem("http://127.0.0.1:8787?token=1"); // "holds a query string: give the broker's base URL, without it, such as http://127.0.0.1:8787"
 */
export function baseUrlProblem(url: string): string | null {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return null;
	}
	const at = `${parsed.pathname}/`.indexOf(`${API_PATH}/`);
	const base = `${parsed.origin}${parsed.pathname.slice(0, at < 0 ? undefined : at)}`.replace(/\/+$/, "");
	if (at >= 0) return `holds the API's path ${parsed.pathname.slice(at)}: give the broker's base URL, without ${API_PATH}, such as ${base}`;
	// The serialised URL keeps an empty query or fragment (`…/?`), which `search` and `hash` answer as "": a raw `?`
	// or `#` in it can only start one, since every other part escapes them, and the first one met is the one named.
	const extra = /[?#]/.exec(parsed.href)?.[0];
	if (extra === undefined) return null;
	return `holds ${extra === "?" ? "a query string" : "a fragment"}: give the broker's base URL, without it, such as ${base}`;
}

/**
 * The base URL of the broker `npm start` runs on this machine: the CLI's and the Kafka gateway's default, and the
 * example of a URL in this module's refusals.
 */
export const LOCAL_URL = "http://127.0.0.1:8787";

/**
 * What is wrong with `text`, typed or set as a broker's base URL, or null: not an http(s) URL (a host:port without
 * its scheme, as wrangler prints an address), text the URL parser refuses (each would fail every call as "Invalid
 * URL", read as a broker that does not answer), or `baseUrlProblem`'s. The CLI and the Kafka gateway check their
 * `--url` and `TRIBUTARY_URL` with it, naming where the URL came from before the problem.
 *
 * @example
 * urlProblem("127.0.0.1:8787"); // 'must be an http:// or https:// URL such as http://127.0.0.1:8787, not "127.0.0.1:8787"'
 * urlProblem("http://127.0.0.1:8787"); // null
 */
export function urlProblem(text: string): string | null {
	if (!/^https?:\/\/./i.test(text)) return `must be an http:// or https:// URL such as ${LOCAL_URL}, not "${text}"`;
	if (!URL.canParse(text)) return `is not a URL: "${text}"`;
	return baseUrlProblem(text);
}

/**
 * Where a command finds the broker: `flag` (its `--url`), else `fromEnv` (`TRIBUTARY_URL`), else `LOCAL_URL`, checked
 * by `urlProblem`; or, as `problem`, what is wrong with it, naming where it came from, for the command to refuse in its
 * own way (the CLI's usage error, the Kafka gateway's startup error). A `TRIBUTARY_URL` set but empty, as
 * `export TRIBUTARY_URL=$URL` leaves it in a shell without URL, is a problem: it would hide the local default.
 * @example
 * brokerUrl(undefined, undefined); // { url: "http://127.0.0.1:8787", problem: null }
 * brokerUrl(undefined, ""); // { url: null, problem: "TRIBUTARY_URL is set but empty: …" }
 */
export function brokerUrl(
	flag: string | undefined,
	fromEnv: string | undefined,
): { readonly url: string; readonly problem: null } | { readonly url: null; readonly problem: string } {
	if (flag === undefined && fromEnv === "")
		return {
			url: null,
			problem: `TRIBUTARY_URL is set but empty: give it the broker's URL, such as ${LOCAL_URL}, or unset it to use that one`,
		};
	const url = flag ?? fromEnv ?? LOCAL_URL;
	const problem = urlProblem(url);
	return problem === null ? { url, problem } : { url: null, problem: `${flag === undefined ? "TRIBUTARY_URL" : "--url"} ${problem}` };
}

/** Whether `url` names this machine: `localhost` (RFC 6761 §6.3), 127.0.0.0/8 or ::1. */
export function isLoopback(url: string): boolean {
	let host: string;
	try {
		host = new URL(url).hostname;
	} catch {
		return false;
	}
	return host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A path segment, escaped (topic and group names are a safe charset, but a caller's typo should still be a 4xx). */
export function seg(value: string | number): string {
	return encodeURIComponent(String(value));
}
