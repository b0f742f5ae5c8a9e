/**
 * The edge's record schema (src/http/json-record.ts) stands in for zod's `z.record` in request bodies to keep zod's
 * record code out of the Worker: for every JSON value a body can hold where a record goes, it must accept and refuse
 * what `z.record` does, with the same value, the same issues and the same 400 wording, and `z.toJSONSchema` must
 * write the same schema for it (the document served as /openapi.json).
 */
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { jsonRecord } from "../../src/http/json-record.ts";
import { ProducerSequence, shortString } from "../../src/http/schemas.ts";
import { describeIssues } from "../../src/http/validation-messages.ts";
import { parseJsonExact } from "../../src/shared/json.ts";

type KeySchema = z.core.$ZodType<string, string>;

/** The key and value schemas the edge's bodies pair (a topic's config, producer sequences, filter headers) and a few more. */
const PAIRS: [string, KeySchema, z.core.$ZodType][] = [
	["string → unknown", z.string(), z.unknown()],
	["partition number → sequence", z.string().check(z.regex(/^\d{1,4}$/, "keys are partition numbers")), ProducerSequence],
	["short string → string", shortString(3), z.string()],
	["string → object", z.string(), z.strictObject({ a: z.int() })],
];

/** Bodies' JSON where a record goes: objects of good and bad keys and values, and values that are not objects. */
const INPUTS = [
	"{}",
	'{"a":1,"b":"two","c":null}',
	'{"0":1,"12":2,"b":3,"1":4}',
	'{"12345":1,"x":2,"0":-1}',
	'{"__proto__":{"a":1},"k":"v"}',
	'{"long key":"v","ok":"w"}',
	'{"a":{"a":1.5},"b":{"c":1},"c":{"a":2}}',
	'{"a":"x","b":2147483648,"c":[1]}',
	'{"n":1e400}',
	"1e400",
	"[]",
	'[{"a":1}]',
	"null",
	'"text"',
	"42",
	"true",
	'{"":1,"a":{"__proto__":1}}',
];

/** A parse's result with zod's issues as plain data (their `inst` is the schema object, which differs by design). */
function outcome(schema: z.core.$ZodType, data: unknown) {
	const result = z.safeParse(schema, data, { reportInput: true });
	if (result.success) return { data: result.data, keys: Object.keys(result.data as object) };
	const issues = JSON.parse(JSON.stringify(result.error.issues, (key, value) => (key === "inst" ? undefined : value)));
	return { issues, described: describeIssues(schema, result.error.issues, data) };
}

describe("jsonRecord checks a JSON object as z.record does", () => {
	for (const [name, keyType, valueType] of PAIRS) {
		it.each(INPUTS)(`${name}: %s`, (text) => {
			const ours = outcome(jsonRecord(keyType, valueType), parseJsonExact(text));
			const zods = outcome(z.record(keyType, valueType), parseJsonExact(text));
			expect(ours).toStrictEqual(zods);
		});
	}

	it("keeps its checks and refinements when wrapped, as z.record's", () => {
		const limit = z.refine<Record<string, string>>((h) => Object.keys(h).length <= 2, "at most 2 header conditions");
		const wrap = (record: z.core.$ZodType) => z.strictObject({ headers: z.optional(record) });
		for (const text of ['{"headers":{"a":"1","b":"2","c":"3"}}', '{"headers":{"a":"1"}}', '{"headers":{"toolong":1}}', "{}"]) {
			const ours = outcome(wrap(jsonRecord(shortString(3), z.string()).check(limit)), parseJsonExact(text));
			const zods = outcome(wrap(z.record(shortString(3), z.string()).check(limit)), parseJsonExact(text));
			expect(ours).toStrictEqual(zods);
		}
	});

	it.each(PAIRS)("writes the JSON Schema z.record writes: %s", (_name, keyType, valueType) => {
		for (const io of ["input", "output"] as const) {
			const ours = z.toJSONSchema(z.object({ map: jsonRecord(keyType, valueType) }), { io, unrepresentable: "any" });
			const zods = z.toJSONSchema(z.object({ map: z.record(keyType, valueType) }), { io, unrepresentable: "any" });
			expect(ours).toStrictEqual(zods);
		}
	});
});
