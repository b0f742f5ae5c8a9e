/**
 * @module
 * A JSON object whose keys fit one string schema and whose values fit another: zod's record (`z.record`), for the
 * objects `JSON.parse` makes. zod's own (`$ZodRecord`) also serves enumerated keys (`z.enum` as the key), number
 * and symbol keys, loose and partial records, cycles and asynchronous values, none of which a request body reaches,
 * and weighs about 0.5 KiB gzipped in the Worker. This one takes the same path through a body's keys and reports the
 * same issues, so a 400 says the same words; its definition is a record's (`type: "record"`, `keyType`,
 * `valueType`), so `z.toJSONSchema` documents it as zod's record and the 400's wording looks inside it as one.
 *
 * @example
 * const Sequences = jsonRecord(z.string().check(z.regex(/^\d+$/)), z.int());
 * z.safeParse(Sequences, { "0": 7 }); // { success: true, data: { "0": 7 } }
 */

import * as z from "zod/mini";
// zod/mini's `z.core` is a namespace object: naming anything through it keeps all of zod's core in the bundle.
import { $constructor } from "zod/v4/core";
import { isPlainObject } from "../shared/json.ts";

type StringSchema = z.core.$ZodType<string, string>;

interface JsonRecordDef extends z.core.$ZodTypeDef {
	type: "record";
	keyType: StringSchema;
	valueType: z.core.$ZodType;
}

type JsonRecord<V extends z.core.$ZodType> = z.ZodMiniType<Record<string, z.output<V>>, Record<string, z.input<V>>>;

/** zod/mini's base schema (`.check`, `.safeParse`), typed where it is named, as TypeScript asks of an assertion's callee. */
const MiniType: z.core.$constructor<z.ZodMiniType> = z.ZodMiniType;

/**
 * What zod's record does when its key schema takes strings and enumerates none, its value schema is synchronous and
 * the value is JSON (where zod's plain-object test and `isPlainObject` agree): a value that is not an object is an
 * `invalid_type` issue expecting a record; every own enumerable key but `__proto__` is checked, a refused one an
 * `invalid_key` issue at that key (holding the key's issues as a parse reports them), an accepted one's value checked
 * at it; the value is a new object of the accepted keys.
 */
const JsonRecordSchema = $constructor("JsonRecord", (inst: z.ZodMiniType, def: JsonRecordDef) => {
	MiniType.init(inst, def);
	inst._zod.parse = (payload, ctx) => {
		const input = payload.value;
		if (!isPlainObject(input)) {
			payload.issues.push({ expected: "record", code: "invalid_type", input, inst });
			return payload;
		}
		const record: Record<string, unknown> = {};
		payload.value = record;
		for (const name of Object.keys(input)) {
			if (name === "__proto__") continue;
			const key = z.safeParse(def.keyType, name, ctx as z.core.ParseContext<z.core.$ZodIssue>);
			if (!key.success) {
				payload.issues.push({ code: "invalid_key", origin: "record", issues: key.error.issues, input: name, path: [name], inst });
				continue;
			}
			if (key.data === "__proto__") continue;
			const result = def.valueType._zod.run({ value: input[name], issues: [] }, ctx) as z.core.ParsePayload;
			for (const issue of result.issues) payload.issues.push({ ...issue, path: [name, ...(issue.path ?? [])] });
			record[key.data] = result.value;
		}
		return payload;
	};
});

/** A record of `keyType` keys and `valueType` values, as `z.record(keyType, valueType)` checks a JSON object. */
export function jsonRecord<V extends z.core.$ZodType>(keyType: StringSchema, valueType: V): JsonRecord<V> {
	return new JsonRecordSchema({ type: "record", keyType, valueType }) as unknown as JsonRecord<V>;
}
