/**
 * @module
 * The source text of each record's `key` and `value` in a produce body `{"records":[…]}` that `JSON.parse` has
 * accepted, so the fast path can store a value as the body wrote it rather than serialise again what the parser
 * made of it (`JSON.stringify` of a 1 KiB string costs several µs; finding its text costs a few `indexOf`s).
 *
 * A text is given only where it is exactly what `JSON.stringify` would write: `null`, or a string with no `\u` and
 * no `\/` escape (every other escape, and every raw character a valid JSON string may hold, is written back the
 * same way; a body decoded from UTF-8 holds no lone surrogate). Otherwise — a number, an object, a string with
 * such an escape — the text is null and the record is encoded as before. The walk trusts the body to be valid
 * JSON (it was parsed); anything it does not expect answers null for the whole body, never a guess.
 */

/** A canonical JSON text of a key or value, and how many characters its string holds once parsed. */
export interface FieldText {
	readonly json: string;
	/** The parsed string's length (a check against the parsed value); -1 for `null`. */
	readonly length: number;
}

export interface RecordTexts {
	/** The key's text; `null` as text when the record has no key; null when it is not canonical. */
	key: FieldText | null;
	value: FieldText | null;
}

const NULL_TEXT: FieldText = { json: "null", length: -1 };
/** The next character that opens or closes a structure or a string. */
const STRUCTURE = /["[\]{}]/g;
/** The next character that ends a number or a literal. */
const SCALAR_END = /[,\]}\s]/g;
/** What the walk throws at a shape it does not expect (caught below: the answer is then null). */
const UNEXPECTED = new SyntaxError("unexpected produce body shape");

class Scanner {
	pos = 0;
	/** Set by `string()`: whether the string just read is canonical, and its escapes. */
	canonical = true;
	escapes = 0;

	constructor(readonly text: string) {}

	space(): void {
		const text = this.text;
		let c = text.charCodeAt(this.pos);
		while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++this.pos);
	}

	/** Whether the next character (after spaces) is `char`; consumes it if so. */
	take(char: string): boolean {
		this.space();
		if (this.text[this.pos] !== char) return false;
		this.pos++;
		return true;
	}

	must(char: string): void {
		if (!this.take(char)) throw UNEXPECTED;
	}

	/**
	 * The first backslash at or after where the last search started (-1: none left; -2: not searched yet). Only
	 * strings hold backslashes and the walk only moves on, so one past `pos` is the next one: a string without
	 * escapes does not search the rest of the body for one.
	 */
	private backslash = -2;

	/**
	 * Reads a string at `pos` (its opening quote); answers where it starts. One search per escape is the cheapest walk
	 * found: hopping from quote to quote needs to know first that the body holds no `\u` or `\/`, and a search for
	 * either to the end of 100 KiB cost V8 more than this whole walk (`includes` stops early but is fooled by `\\u`).
	 * Two other walks were slower on the bench's bodies (1 KiB of printable ASCII, about 22 escapes a value; V8,
	 * median µs per 100-record body): hopping from quote to quote with a check of the backslashes before each, then
	 * looking for `\u` and `\/` in the text found (185 against 132), and a sticky regular expression matching a
	 * canonical string's rest (375 against 332, a noisier run). A call into `indexOf` costs far more than the
	 * characters it passes over: fewer calls, not fewer characters, is what would pay.
	 */
	string(): number {
		const text = this.text;
		const start = this.pos;
		let quote = text.indexOf('"', start + 1);
		let backslash = this.backslash;
		if (backslash !== -1 && backslash <= start) backslash = text.indexOf("\\", start + 1);
		this.canonical = true;
		this.escapes = 0;
		while (backslash !== -1 && backslash < quote) {
			const escaped = text.charCodeAt(backslash + 1);
			if (escaped === 0x75 || escaped === 0x2f) this.canonical = false; // \u…, \/
			this.escapes++;
			const i = backslash + 2;
			if (quote < i) quote = text.indexOf('"', i);
			backslash = text.indexOf("\\", i);
		}
		this.backslash = backslash;
		if (quote < 0) throw UNEXPECTED;
		this.pos = quote + 1;
		return start;
	}

	/** Skips any value. */
	skip(): void {
		this.space();
		const text = this.text;
		const c = text[this.pos];
		if (c === '"') {
			this.string();
			return;
		}
		if (c !== "{" && c !== "[") {
			SCALAR_END.lastIndex = this.pos;
			this.pos = SCALAR_END.exec(text)?.index ?? text.length;
			return;
		}
		let depth = 0;
		for (;;) {
			STRUCTURE.lastIndex = this.pos;
			const found = STRUCTURE.exec(text);
			if (found === null) throw UNEXPECTED;
			this.pos = found.index;
			const s = found[0];
			if (s === '"') {
				this.string();
				continue;
			}
			this.pos++;
			depth += s === "{" || s === "[" ? 1 : -1;
			if (depth === 0) return;
		}
	}

	/** A member's name, or null when it holds an escape (its parsed name is then not its text). */
	name(): string | null {
		this.space();
		if (this.text[this.pos] !== '"') throw UNEXPECTED;
		const start = this.string();
		if (this.escapes > 0) return null;
		const name = this.text.slice(start + 1, this.pos - 1);
		this.must(":");
		return name;
	}

	/** A key's or value's text, when canonical. */
	field(): FieldText | null {
		this.space();
		const text = this.text;
		if (text[this.pos] === '"') {
			const start = this.string();
			if (!this.canonical) return null;
			const json = text.slice(start, this.pos);
			return { json, length: json.length - 2 - this.escapes };
		}
		if (text.startsWith("null", this.pos)) {
			this.pos += 4;
			return NULL_TEXT;
		}
		this.skip();
		return null;
	}

	record(): RecordTexts | null {
		this.must("{");
		const texts: RecordTexts = { key: NULL_TEXT, value: null };
		if (this.take("}")) return texts;
		do {
			const name = this.name();
			if (name === null) return null;
			// A repeated member: JSON.parse keeps the last, and so does this.
			if (name === "key") texts.key = this.field();
			else if (name === "value") texts.value = this.field();
			else this.skip();
		} while (this.take(","));
		this.must("}");
		return texts;
	}

	records(): RecordTexts[] | null {
		this.must("[");
		const all: RecordTexts[] = [];
		if (this.take("]")) return all;
		do {
			const texts = this.record();
			if (texts === null) return null;
			all.push(texts);
		} while (this.take(","));
		this.must("]");
		return all;
	}
}

/** A produce body's record texts, and the source text of each other top-level member's value by name. */
export interface BodyTexts {
	readonly records: RecordTexts[];
	readonly fields: Map<string, string>;
}

/**
 * The key and value texts of every record of `text`, a produce body `JSON.parse` accepted, in order, and the text of
 * every other member (the last of repeated names, as JSON.parse keeps); null when the walk cannot tell (a member
 * name with an escape, no records, or a shape it does not expect).
 */
export function recordTexts(text: string): BodyTexts | null {
	const scanner = new Scanner(text);
	try {
		if (!scanner.take("{")) return null;
		let records: RecordTexts[] | null = null;
		const fields = new Map<string, string>();
		do {
			const name = scanner.name();
			if (name === null) return null;
			if (name === "records") {
				records = scanner.records();
				if (records === null) return null;
				continue;
			}
			scanner.space();
			const start = scanner.pos;
			scanner.skip();
			fields.set(name, text.slice(start, scanner.pos));
		} while (scanner.take(","));
		return records === null ? null : { records, fields };
	} catch {
		return null;
	}
}

/**
 * The key and value texts of `text`, one record object on its own (a streamed message) that `JSON.parse` has
 * accepted; null when the walk cannot tell.
 */
export function oneRecordTexts(text: string): RecordTexts | null {
	const scanner = new Scanner(text);
	try {
		const texts = scanner.record();
		scanner.space();
		return scanner.pos === text.length ? texts : null;
	} catch {
		return null;
	}
}
