/**
 * @module
 * Newline-delimited JSON bodies (`application/x-ndjson`), parsed line by line as the body streams in, so a large
 * batch never has to exist as one giant JSON document. Bounded by the same byte limit as any body.
 */

import { ApiError } from "../shared/errors.ts";
import { REQUEST_BYTES_MAX } from "../shared/limits.ts";
import { parseJson, readTextChunks } from "./body.ts";

/** Parses each non-blank line of the body as one JSON value, refusing more than `maxLines` lines. */
export async function readNdjson(request: Request, maxLines: number, limitBytes = REQUEST_BYTES_MAX): Promise<unknown[]> {
	const values: unknown[] = [];
	let lineNumber = 0;
	const take = (line: string): void => {
		lineNumber++;
		if (line.trim().length === 0) return;
		if (values.length >= maxLines) {
			throw new ApiError("invalid_request", `at most ${maxLines} records per request`, { max_records: maxLines });
		}
		values.push(parseJson(line, `line ${lineNumber}`));
	};
	let pending = "";
	for await (const chunk of readTextChunks(request, limitBytes)) {
		pending += chunk;
		let newline = pending.indexOf("\n");
		while (newline !== -1) {
			take(pending.slice(0, newline));
			pending = pending.slice(newline + 1);
			newline = pending.indexOf("\n");
		}
	}
	take(pending);
	return values;
}
