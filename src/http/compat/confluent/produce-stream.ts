/**
 * @module
 * Confluent's streaming produce: a body of concatenated JSON records in, one delivery report per record
 * out, in order. Records are parsed one at a time as the body arrives; what one body chunk completes is produced
 * as a window (see produce-window.ts) and its reports written before the next chunk is read. A malformed record
 * gets an error report in its place and the stream goes on, as Confluent does; nothing is ever half written.
 */

import { ApiError, type DomainError } from "../../../shared/errors.ts";
import { parseJson, readTextChunks, validate } from "../../body.ts";
import { withRequestId } from "../../errors.ts";
import { ConcatenatedJsonSplitter, type SplitItem } from "./concatenated-json.ts";
import { v3Error } from "./errors.ts";
import { PRODUCE_WINDOW_RECORDS_MAX, RECORD_TEXT_LENGTH_MAX, STREAM_BYTES_MAX, STREAM_RECORDS_MAX } from "./limits.ts";
import { type Outcome, type Prepared, produceWindow } from "./produce-window.ts";
import { deliveryReport, ProduceRequest, toV3Record } from "./records.ts";

/** Turns a thrown `ApiError` into a failure value; anything else is a bug and propagates. */
function failure(cause: unknown): { ok: false; error: DomainError } {
	if (cause instanceof ApiError) return { ok: false, error: cause.error };
	throw cause;
}

/** Parses and validates one record's text. Never throws for bad input: that becomes the record's error. */
export function prepareItem(item: SplitItem): Prepared {
	if (item.kind === "too_large") {
		return {
			ok: false,
			error: {
				code: "record_too_large",
				message: `a record is ${item.length} characters of JSON; at most ${RECORD_TEXT_LENGTH_MAX} are read`,
				details: { max_record_chars: RECORD_TEXT_LENGTH_MAX },
			},
		};
	}
	if (item.kind === "truncated") {
		return { ok: false, error: { code: "invalid_json", message: `the body ended inside a record (${item.length} characters in)` } };
	}
	try {
		return { ok: true, record: toV3Record(validate(ProduceRequest, parseJson(item.text, "record"), "record")) };
	} catch (cause) {
		return failure(cause);
	}
}

/** The report for one record: its delivery report, or its error in v3's shape (a 5xx naming the request, as a whole answer does). */
export function reportOf(topic: string, prepared: Prepared, outcome: Outcome, requestId: string): Record<string, unknown> {
	if (!outcome.ok) return v3Error(withRequestId(outcome.error, requestId));
	if (!prepared.ok) throw new Error("a record that failed preparation cannot have been produced");
	return deliveryReport(topic, outcome.landed, prepared.record);
}

/** Produces `items` in windows and writes one report line per item, in order; `first` is the first one's index in the stream. */
export async function produceItems(
	env: Env,
	topic: string,
	items: readonly SplitItem[],
	stickyRatio: number,
	write: (text: string) => Promise<void>,
	requestId: string,
	first = 0,
): Promise<void> {
	for (let from = 0; from < items.length; from += PRODUCE_WINDOW_RECORDS_MAX) {
		const prepared = items.slice(from, from + PRODUCE_WINDOW_RECORDS_MAX).map(prepareItem);
		const outcomes = await produceWindow(env, topic, prepared, stickyRatio, first + from);
		await write(prepared.map((p, i) => `${JSON.stringify(reportOf(topic, p, outcomes[i] as Outcome, requestId))}\n`).join(""));
	}
}

/**
 * Reads the whole request as a record stream, writing reports through `write`; `stillAuthorized` is asked before
 * each window is produced, and a false ends the stream with a 401 report. Bounded: after
 * `STREAM_BYTES_MAX` bytes or `STREAM_RECORDS_MAX` records one last error report ends the stream. Expected
 * failures end up in reports; anything thrown (a body that broke, a call that failed, a bug) ends the stream with a
 * last report of what `failed` answers it, once logged and counted (the route's `failedAfterStart`), unless its client
 * left.
 */
export async function produceStream(
	env: Env,
	topic: string,
	request: Request,
	write: (text: string) => Promise<void>,
	failed: (cause: unknown) => DomainError,
	requestId: string,
	stillAuthorized: () => Promise<boolean> = async () => true,
): Promise<void> {
	const splitter = new ConcatenatedJsonSplitter(RECORD_TEXT_LENGTH_MAX);
	const stickyRatio = Math.random();
	let records = 0;
	const take = async (items: SplitItem[]): Promise<boolean> => {
		if (items.length === 0) return true;
		// A stream outlives the request that authenticated it: a key deleted meanwhile writes nothing more.
		if (!(await stillAuthorized())) {
			await write(`${JSON.stringify(v3Error({ code: "unauthorized", message: "the API key was revoked; the rest was not read" }))}\n`);
			return false;
		}
		const room = STREAM_RECORDS_MAX - records;
		await produceItems(env, topic, items.slice(0, room), stickyRatio, write, requestId, records);
		records += Math.min(items.length, room);
		if (items.length <= room) return true;
		const error: DomainError = {
			code: "invalid_request",
			message: `a stream holds at most ${STREAM_RECORDS_MAX} records; the rest were not read`,
			details: { max_records: STREAM_RECORDS_MAX },
		};
		await write(`${JSON.stringify(v3Error(error))}\n`);
		return false;
	};
	try {
		for await (const chunk of readTextChunks(request, STREAM_BYTES_MAX)) {
			if (!(await take(splitter.push(chunk)))) return;
		}
		await take(splitter.end());
	} catch (cause) {
		// A body whose read failed as its client left (the request's signal aborted) is no failure of ours, and none to tell.
		if (request.signal.aborted) return;
		await write(`${JSON.stringify(v3Error(failed(cause)))}\n`);
	}
}
