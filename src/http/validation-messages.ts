/**
 * @module
 * Schema-library issues in words a person can act on: unknown fields first, with the field that was probably
 * meant; enumerations with their allowed values; numbers, lengths and list sizes with the range they must fall
 * in; a missing field as "is required". Pure: the schema is only read, to learn which fields an object knows.
 *
 * @example
 * describeIssues(ProduceBody, issues)
 * // [{ path: "records[0]", message: 'unknown field "val" (did you mean "value"?)' }, …]
 */

import type * as z from "zod/mini";

/** A plain object type (not an interface), so it is an `ErrorDetail` and rides in the error's details. */
export type DescribedIssue = { readonly path: string; readonly message: string };

type Issue = z.core.$ZodIssue & { readonly input?: unknown };
type Def = { readonly type: string } & Record<string, unknown>;

/** How far a misspelling may be from the field it meant: two edits, or a third of a short name. */
const SUGGESTION_DISTANCE_MAX = 2;

/**
 * Issues as `{ path, message }`, unknown fields first; the caller shows the first and lists them all. `data` is what
 * was validated.
 */
export function describeIssues(schema: z.core.$ZodType, given: readonly Issue[], data?: unknown): DescribedIssue[] {
	const issues = given.flatMap(throughUnion);
	const unknown = issues.filter((issue) => issue.code === "unrecognized_keys");
	const rest = issues.filter((issue) => issue.code !== "unrecognized_keys");
	return [...unknown, ...rest].map(
		(issue) => keptNumberIssue(issue, data) ?? { path: formatPath(issue.path), message: describeIssue(schema, issue) },
	);
}

/**
 * An issue inside a number `parseJsonExact` kept as written (`1e400` where an object belongs): zod takes the kept
 * number for an object, asks for its fields and finds one named `rawJSON`, so the issue is the number itself, where it
 * stands. (An issue at the number is `describeIssue`'s.)
 */
function keptNumberIssue(issue: Issue, data: unknown): DescribedIssue | null {
	let value = data;
	for (let i = 0; i < issue.path.length + (issue.code === "unrecognized_keys" ? 1 : 0); i++) {
		if (JSON.isRawJSON(value)) return { path: formatPath(issue.path.slice(0, i)), message: `must be an object, not ${value.rawJSON}` };
		value = (value as Record<PropertyKey, unknown> | null | undefined)?.[issue.path[i] as PropertyKey];
	}
	return null;
}

/**
 * A union the input fits one branch of only (a list given where one item or a list is taken), as that branch's own
 * issues, so a 400 says "[1].value: must be a string" or "must hold at most 10000 items", not the union's "Invalid
 * input". A branch that refuses the input's type at its root is one it does not fit; the one left is described
 * when what it refuses is inside the input or its size. Otherwise the union's own words (its allowed values and
 * kinds) say more, and it stays one issue, as does a union with a message of its own.
 */
function throughUnion(issue: Issue): Issue[] {
	if (issue.code !== "invalid_union" || !LIBRARY_MESSAGE.test(issue.message)) return [issue];
	const fitting = issue.errors.filter((branch) => !branch.some((sub) => sub.path.length === 0 && sub.code === "invalid_type"));
	const [only] = fitting;
	const inside = (sub: Issue) => sub.path.length > 0 || sub.code === "too_big" || sub.code === "too_small";
	if (fitting.length !== 1 || only === undefined || !only.some(inside)) return [issue];
	return only.flatMap((sub) => throughUnion({ ...sub, path: [...issue.path, ...sub.path] } as Issue));
}

export function formatPath(path: readonly PropertyKey[]): string {
	return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** The schema library's own wording; any other message was written for this API and is kept as it is. */
const LIBRARY_MESSAGE = /^(Too (big|small)|Invalid|Unrecognized)/;

/** An issue's message: the one written for this API, or else the library's words for it. */
function wordingOf(issue: Issue): string {
	return LIBRARY_MESSAGE.test(issue.message) ? zodWording(issue) : issue.message;
}

/**
 * zod's English words (its `en` locale) for the issues this file does not reword. zod/mini loads no locale, so
 * every library message is "Invalid input"; these few lines keep the answers what they were with the full zod,
 * without bundling the whole locale. Only the issues the Worker's schemas can raise are here (no multipleOf check,
 * no map or set); another would be "Invalid input" until its line is added.
 */
function zodWording(issue: Issue): string {
	switch (issue.code) {
		case "invalid_format":
			return issue.format === "regex" ? `Invalid string: must match pattern ${issue.pattern}` : `Invalid ${issue.format}`;
		case "unrecognized_keys":
			return `Unrecognized key${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.map((key) => `"${key}"`).join(", ")}`;
		case "invalid_key":
			return `Invalid key in ${issue.origin}`;
		default:
			return "Invalid input";
	}
}

function describeIssue(schema: z.core.$ZodType, issue: Issue): string {
	if (issue.code !== "unrecognized_keys" && !LIBRARY_MESSAGE.test(issue.message)) return issue.message;
	switch (issue.code) {
		case "unrecognized_keys":
			return unknownFields(issue.keys, knownKeys(schema, issue.path));
		case "invalid_value":
			return `must be ${oneOf(issue.values)}`;
		case "invalid_union":
			return unionMessage(issue) ?? wordingOf(issue);
		case "too_big":
			return sizeMessage(issue, "at most", issue.maximum);
		case "too_small":
			return sizeMessage(issue, "at least", issue.minimum);
		case "invalid_type":
			if (issue.input === undefined) return "is required";
			// Kept as text by parseJsonExact: a number, but one its double would change.
			if (JSON.isRawJSON(issue.input) && issue.expected === "number")
				return `must be a number a double holds as written, not ${issue.input.rawJSON}`;
			if (JSON.isRawJSON(issue.input)) return `must be ${article(issue.expected)}, not a number`;
			return `must be ${article(issue.expected)}, not ${kindOf(issue.input)}`;
		default:
			return wordingOf(issue);
	}
}

function unknownFields(keys: readonly string[], known: readonly string[]): string {
	const named = keys.map((key) => {
		const guess = closest(key, known);
		return guess === null ? `"${key}"` : `"${key}" (did you mean "${guess}"?)`;
	});
	const allowed = known.length > 0 && keys.every((key) => closest(key, known) === null) ? `; known fields: ${known.join(", ")}` : "";
	return `unknown field${keys.length === 1 ? "" : "s"} ${named.join(", ")}${allowed}`;
}

/** A union of literals and other shapes: the literals it allows and what each other branch asks for. */
function unionMessage(issue: z.core.$ZodIssueInvalidUnion): string | null {
	const values: unknown[] = [];
	const others: string[] = [];
	for (const branch of issue.errors) {
		const first = branch[0];
		if (branch.length !== 1 || first === undefined || first.path.length > 0) return null;
		if (first.code === "invalid_value") values.push(...first.values);
		else if (first.code === "invalid_type") others.push(article(first.expected));
		else others.push(wordingOf(first).replace(/^must be /, ""));
	}
	const parts = [...values.map((v) => JSON.stringify(v)), ...new Set(others)];
	return parts.length === 0 ? null : `must be ${listOr(parts)}`;
}

function sizeMessage(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall, bound: string, limit: number | bigint): string {
	const exclusive = !issue.inclusive;
	const got = typeof issue.input === "number" ? ` (got ${issue.input})` : "";
	switch (issue.origin) {
		case "number":
		case "int":
			return `must be ${exclusive ? (bound === "at most" ? "below" : "above") : bound} ${limit}${got}`;
		case "string":
			return `must be ${bound} ${limit} character${Number(limit) === 1 ? "" : "s"} long`;
		case "array":
			return `must hold ${bound} ${limit} item${Number(limit) === 1 ? "" : "s"}`;
		default:
			return wordingOf(issue);
	}
}

function oneOf(values: readonly unknown[]): string {
	return listOr(values.map((v) => JSON.stringify(v)));
}

function listOr(parts: readonly string[]): string {
	if (parts.length <= 1) return parts[0] ?? "nothing";
	return `${parts.slice(0, -1).join(", ")} or ${parts.at(-1)}`;
}

function article(expected: string): string {
	return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function kindOf(value: unknown): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "an array";
	return article(typeof value);
}

/** The fields the object at `path` knows (an object, through optional/nullable/default/pipe wrappers, arrays, unions). */
export function knownKeys(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
	let defs: Def[] = [defOf(schema)];
	for (const step of path) defs = defs.flatMap((def) => objectDefs(def)).flatMap((def) => child(def, step));
	return [...new Set(defs.flatMap((def) => objectDefs(def)).flatMap((def) => Object.keys(def.shape as object)))];
}

function defOf(schema: unknown): Def {
	return (schema as { _zod: { def: Def } })._zod.def;
}

/**
 * The object (or array) definitions a schema stands for once the wrappers the Worker's schemas use (optional,
 * nullable, default, pipe) and unions are looked through.
 */
function objectDefs(def: Def): Def[] {
	switch (def.type) {
		case "object":
		case "array":
		case "record":
			return [def];
		case "optional":
		case "nullable":
		case "default":
			return objectDefs(defOf(def.innerType));
		case "pipe":
			return objectDefs(defOf(def.in));
		case "union":
			return (def.options as unknown[]).flatMap((option) => objectDefs(defOf(option)));
		default:
			return [];
	}
}

function child(def: Def, step: PropertyKey): Def[] {
	if (def.type === "array" && typeof step === "number") return [defOf(def.element)];
	if (def.type === "record") return [defOf(def.valueType)];
	if (def.type !== "object") return [];
	const field = (def.shape as Record<string, unknown>)[String(step)];
	return field === undefined ? [] : [defOf(field)];
}

/** The known field nearest to `key` by edit distance, if it is close enough to be a misspelling. */
export function closest(key: string, known: readonly string[]): string | null {
	let best: string | null = null;
	let bestDistance = Number.POSITIVE_INFINITY;
	for (const candidate of known) {
		const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
		if (distance < bestDistance) {
			best = candidate;
			bestDistance = distance;
		}
	}
	const allowed = Math.min(SUGGESTION_DISTANCE_MAX, Math.max(1, Math.floor(key.length / 3)));
	if (bestDistance <= allowed) return best;
	// An abbreviation ("val" for "value", not "value_encoding") is a misspelling too: the shortest field it starts.
	const longer = key.length >= 2 ? known.filter((candidate) => candidate.toLowerCase().startsWith(key.toLowerCase())) : [];
	return longer.sort((a, b) => a.length - b.length)[0] ?? null;
}

/** Levenshtein distance, with adjacent transpositions counted as one edit ("patritions"). */
function editDistance(a: string, b: string): number {
	const rows = Array.from({ length: a.length + 1 }, (_, i) =>
		Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
	);
	for (let i = 1; i <= a.length; i++) {
		for (let j = 1; j <= b.length; j++) {
			const row = rows[i] as number[];
			const above = rows[i - 1] as number[];
			const cost = a[i - 1] === b[j - 1] ? 0 : 1;
			row[j] = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
				row[j] = Math.min(row[j] as number, ((rows[i - 2] as number[])[j - 2] as number) + 1);
			}
		}
	}
	return (rows[a.length] as number[])[b.length] as number;
}
