/**
 * An If-Match field read by its grammar (RFC 9110 §13.1.1: `*` or `#entity-tag`; §8.8.3: an entity-tag is an optional
 * `W/` and a quoted string of etagc, which includes the comma; §5.6.1.2: empty list elements are ignored).
 */
import { describe, expect, it } from "vitest";
import { ifMatchTags } from "../../src/auth/grant-tag.ts";

describe("ifMatchTags", () => {
	it("sets no condition without a field or with *", () => {
		expect(ifMatchTags(undefined)).toBeUndefined();
		expect(ifMatchTags("*")).toBeUndefined();
		expect(ifMatchTags(" * ")).toBeUndefined();
	});

	it.each([
		['"a"', ['"a"']],
		['"a,b"', ['"a,b"']],
		['"x,y", "abc"', ['"x,y"', '"abc"']],
		['"a" ,\t"b"', ['"a"', '"b"']],
		['"", "a"', ['""', '"a"']],
		['W/"a,b", "c"', ['"c"']],
		['W/"a"', []],
		['"a", , "b",', ['"a"', '"b"']],
		[', "a"', ['"a"']],
		['"!#~"', ['"!#~"']],
	])("reads %s as the strong tags %j (a weak one never matches: If-Match compares strongly)", (field, tags) => {
		expect(ifMatchTags(field)).toEqual(tags);
	});

	it.each([
		["a"],
		['"a'],
		['a"'],
		['"a"b'],
		['"a" "b"'],
		['"a" x, "b"'],
		['w/"a"'],
		['W/ "a"'],
		['"a b"'],
		['"a"b"'],
		['*, "a"'],
		[""],
		[" , "],
	])("refuses %j: not a list of entity tags, or a list of none", (field) => {
		expect(ifMatchTags(field)).toBeNull();
	});
});
