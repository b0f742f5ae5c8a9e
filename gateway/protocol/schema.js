// @ts-check
/**
 * @module
 * The codec generated from Kafka's own JSON message definitions (`gateway/messages/*.json`, copied from Apache
 * Kafka): every field of every version, flexible versions (compact strings, arrays and bytes), nullable fields
 * and tagged fields (KIP-482), as franz-go's `kmsg` and Kafka's own generator do. A definition is compiled once
 * into a tree of field descriptors; `decode` and `encode` walk it for the version at hand.
 *
 * Field names become camelCase (`CorrelationId` → `correlationId`). Absent fields decode to their default; on
 * encode, a missing field is written as its default, and a field the version does not have is skipped.
 */

import { readdirSync, readFileSync } from "node:fs";
import { ProtocolError, Reader, Writer } from "./io.js";

/** @typedef {{ min: number, max: number }} VersionRange */

/** Parses "3+", "1-4", "5" and "none". @param {string | undefined} spec */
export function parseVersions(spec) {
	if (spec === undefined || spec === "none") return { min: 1, max: 0 };
	const plus = /^(\d+)\+$/.exec(spec);
	if (plus) return { min: Number(plus[1]), max: Number.MAX_SAFE_INTEGER };
	const range = /^(\d+)-(\d+)$/.exec(spec);
	if (range) return { min: Number(range[1]), max: Number(range[2]) };
	if (/^\d+$/.test(spec)) return { min: Number(spec), max: Number(spec) };
	throw new Error(`bad version spec ${spec}`);
}

/** @param {VersionRange} range @param {number} version */
export function inRange(range, version) {
	return version >= range.min && version <= range.max;
}

const camel = (name) => name.charAt(0).toLowerCase() + name.slice(1);

const PRIMITIVES = new Set([
	"int8",
	"int16",
	"uint16",
	"int32",
	"uint32",
	"int64",
	"float64",
	"bool",
	"uuid",
	"string",
	"bytes",
	"records",
]);

/**
 * @typedef {object} Field
 * @property {string} name camelCase
 * @property {string} type primitive name, or "struct"
 * @property {boolean} array
 * @property {VersionRange} versions
 * @property {VersionRange} nullable
 * @property {VersionRange} tagged
 * @property {number | null} tag
 * @property {boolean} neverFlexible a field that keeps classic encoding in flexible versions (the header's ClientId)
 * @property {unknown} defaultValue
 * @property {Field[]} fields struct members
 */

/** @returns {Field} */
function compileField(raw) {
	let type = raw.type;
	const array = type.startsWith("[]");
	if (array) type = type.slice(2);
	const isStruct = !PRIMITIVES.has(type);
	if (isStruct && !Array.isArray(raw.fields)) throw new Error(`struct ${type} has no inline fields`);
	return {
		name: camel(raw.name),
		type: isStruct ? "struct" : type,
		array,
		versions: parseVersions(raw.versions),
		nullable: parseVersions(raw.nullableVersions),
		tagged: parseVersions(raw.taggedVersions),
		tag: raw.tag ?? null,
		neverFlexible: raw.flexibleVersions === "none",
		defaultValue: defaultOf(isStruct ? "struct" : type, array, raw.default),
		fields: isStruct ? raw.fields.map(compileField) : [],
	};
}

function defaultOf(type, array, spec) {
	if (spec === "null") return null;
	if (array) return undefined; // an empty array, made fresh on use
	switch (type) {
		case "bool":
			return spec === "true";
		case "string":
			return spec ?? "";
		case "uuid":
			return "00000000000000000000000000000000";
		case "bytes":
		case "records":
		case "struct":
			return undefined;
		default:
			return spec === undefined ? 0 : Number(spec);
	}
}

/** Strips the `//` comments Kafka's definition files carry (outside of strings). @param {string} text */
export function stripComments(text) {
	return text
		.split("\n")
		.map((line) => {
			let inString = false;
			for (let i = 0; i < line.length; i++) {
				const ch = line[i];
				if (ch === '"' && line[i - 1] !== "\\") inString = !inString;
				if (!inString && ch === "/" && line[i + 1] === "/") return line.slice(0, i);
			}
			return line;
		})
		.join("\n");
}

export class MessageCodec {
	/** @param {any} definition a parsed Kafka message definition */
	constructor(definition) {
		this.name = definition.name;
		this.apiKey = definition.apiKey ?? null;
		this.kind = definition.type;
		this.valid = parseVersions(definition.validVersions);
		this.flexible = parseVersions(definition.flexibleVersions);
		/** @type {Field[]} */
		this.fields = definition.fields.map(compileField);
	}

	/** @param {Reader} reader @param {number} version */
	decode(reader, version) {
		if (!inRange(this.valid, version)) throw new ProtocolError(`${this.name} has no version ${version}`);
		return readStruct(reader, this.fields, version, inRange(this.flexible, version));
	}

	/** @param {Writer} writer @param {object} value @param {number} version */
	encode(writer, value, version) {
		if (!inRange(this.valid, version)) throw new Error(`${this.name} has no version ${version}`);
		writeStruct(writer, this.fields, value, version, inRange(this.flexible, version));
		return writer;
	}
}

function readStruct(reader, fields, version, flexible) {
	const out = {};
	for (const field of fields) {
		if (!inRange(field.versions, version)) {
			out[field.name] = freshDefault(field, version, flexible);
			continue;
		}
		if (flexible && inRange(field.tagged, version)) {
			out[field.name] = freshDefault(field, version, flexible);
			continue;
		}
		out[field.name] = readField(reader, field, version, flexible);
	}
	if (flexible) readTaggedFields(reader, fields, version, out);
	return out;
}

function readTaggedFields(reader, fields, version, out) {
	const count = reader.uvarint();
	for (let i = 0; i < count; i++) {
		const tag = reader.uvarint();
		const size = reader.uvarint();
		const start = reader.offset;
		reader.need(size);
		const field = fields.find((f) => f.tag === tag && inRange(f.tagged, version));
		if (field === undefined) continue; // unknown tags are skipped, as the spec requires
		const sub = new Reader(reader.buffer, start, start + size);
		out[field.name] = readField(sub, field, version, true);
	}
}

function readField(reader, field, version, flexible) {
	const compact = flexible && !field.neverFlexible;
	const nullable = inRange(field.nullable, version);
	if (field.array) {
		const n = reader.arrayLength(compact, nullable);
		if (n < 0) return null;
		const items = new Array(n);
		for (let i = 0; i < n; i++) items[i] = readValue(reader, field, version, flexible, compact, false);
		return items;
	}
	return readValue(reader, field, version, flexible, compact, nullable);
}

function readValue(reader, field, version, flexible, compact, nullable) {
	switch (field.type) {
		case "int8":
			return reader.int8();
		case "int16":
			return reader.int16();
		case "uint16":
			return reader.uint16();
		case "int32":
			return reader.int32();
		case "uint32":
			return reader.uint32();
		case "int64":
			return reader.int64();
		case "float64":
			return reader.float64();
		case "bool":
			return reader.bool();
		case "uuid":
			return reader.uuid();
		case "string":
			return reader.string(compact, nullable);
		case "bytes":
		case "records":
			return reader.bytes(compact, nullable || field.type === "records");
		case "struct":
			if (nullable && !field.array && reader.int8() < 0) return null;
			return readStruct(reader, field.fields, version, flexible);
		default:
			throw new Error(`unknown type ${field.type}`);
	}
}

function freshDefault(field, version, flexible) {
	if (field.array) return field.defaultValue === null ? null : [];
	if (field.type === "struct") return field.defaultValue === null ? null : readDefaults(field.fields, version, flexible);
	if (field.type === "bytes" || field.type === "records") return field.defaultValue === null ? null : Buffer.alloc(0);
	return field.defaultValue;
}

function readDefaults(fields, version, flexible) {
	const out = {};
	for (const f of fields) out[f.name] = freshDefault(f, version, flexible);
	return out;
}

function writeStruct(writer, fields, value, version, flexible) {
	/** @type {Field[]} */
	const tagged = [];
	for (const field of fields) {
		if (!inRange(field.versions, version)) continue;
		if (flexible && inRange(field.tagged, version)) {
			if (!isDefault(field, value?.[field.name])) tagged.push(field);
			continue;
		}
		writeField(writer, field, fieldValue(field, value, version, flexible), version, flexible);
	}
	if (!flexible) return;
	tagged.sort((a, b) => (a.tag ?? 0) - (b.tag ?? 0));
	writer.uvarint(tagged.length);
	for (const field of tagged) {
		const sub = new Writer();
		writeField(sub, field, value[field.name], version, true);
		const bytes = sub.done();
		writer
			.uvarint(field.tag ?? 0)
			.uvarint(bytes.length)
			.raw(bytes);
	}
}

function fieldValue(field, value, version, flexible) {
	const v = value?.[field.name];
	return v === undefined ? freshDefault(field, version, flexible) : v;
}

function isDefault(field, v) {
	if (v === undefined) return true;
	if (field.array) return v !== null && v.length === 0 && field.defaultValue !== null;
	if (field.type === "struct") return false;
	return v === field.defaultValue;
}

function writeField(writer, field, v, version, flexible) {
	const compact = flexible && !field.neverFlexible;
	const nullable = inRange(field.nullable, version);
	if (field.array) {
		if (v === null) {
			if (!nullable) throw new Error(`${field.name} may not be null in version ${version}`);
			writer.arrayLength(-1, compact);
			return;
		}
		writer.arrayLength(v.length, compact);
		for (const item of v) writeValue(writer, field, item, version, flexible, compact, false);
		return;
	}
	writeValue(writer, field, v, version, flexible, compact, nullable);
}

function writeValue(writer, field, v, version, flexible, compact, nullable) {
	switch (field.type) {
		case "int8":
			return writer.int8(v);
		case "int16":
			return writer.int16(v);
		case "uint16":
			return writer.uint16(v);
		case "int32":
			return writer.int32(v);
		case "uint32":
			return writer.uint32(v);
		case "int64":
			return writer.int64(v);
		case "float64":
			return writer.float64(v);
		case "bool":
			return writer.bool(v);
		case "uuid":
			return writer.uuid(v);
		case "string":
			if (v === null && !nullable) throw new Error(`${field.name} may not be null in version ${version}`);
			return writer.string(v, compact);
		case "bytes":
		case "records":
			return writer.bytes(v, compact);
		case "struct":
			if (nullable) {
				if (v === null) return writer.int8(-1);
				writer.int8(1);
			}
			return writeStruct(writer, field.fields, v, version, flexible);
		default:
			throw new Error(`unknown type ${field.type}`);
	}
}

/** Every definition in `dir`, compiled, by name (`ProduceRequest`, `RequestHeader`, …). @param {string} dir */
export function loadCodecs(dir) {
	/** @type {Map<string, MessageCodec>} */
	const codecs = new Map();
	for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
		const definition = JSON.parse(stripComments(readFileSync(new URL(file, `file://${dir}/`), "utf8")));
		codecs.set(definition.name, new MessageCodec(definition));
	}
	return codecs;
}
