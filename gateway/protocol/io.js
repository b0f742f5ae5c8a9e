// @ts-check
/**
 * @module
 * Byte-level reading and writing of Kafka's primitive types: fixed-width big-endian integers, zigzag and
 * unsigned varints, classic (int16/int32 length) and compact (varint length + 1) strings, bytes and arrays.
 * Every read is bounds-checked and throws `ProtocolError`, so a malformed frame can never read past its end or
 * make the decoder allocate more than the frame holds.
 */

/** A frame that does not follow the protocol: the connection that sent it is closed. */
export class ProtocolError extends Error {
	name = "ProtocolError";
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** Bytes of a varlong read as a Number: 28 bits, far from 2^53. */
const VARLONG_NUMBER_BYTES_MAX = 4;

export class Reader {
	/** @param {Buffer} buffer */
	constructor(buffer, offset = 0, end = buffer.length) {
		this.buffer = buffer;
		this.offset = offset;
		this.end = end;
	}

	get remaining() {
		return this.end - this.offset;
	}

	/** @param {number} n */
	need(n) {
		if (n < 0 || this.offset + n > this.end)
			throw new ProtocolError(`frame truncated: need ${n} bytes at ${this.offset}, ${this.remaining} left`);
		const at = this.offset;
		this.offset += n;
		return at;
	}

	int8() {
		return this.buffer.readInt8(this.need(1));
	}
	int16() {
		return this.buffer.readInt16BE(this.need(2));
	}
	uint16() {
		return this.buffer.readUInt16BE(this.need(2));
	}
	int32() {
		return this.buffer.readInt32BE(this.need(4));
	}
	uint32() {
		return this.buffer.readUInt32BE(this.need(4));
	}
	/** int64 as a Number: offsets, ids and timestamps stay far below 2^53 here. */
	int64() {
		return Number(this.buffer.readBigInt64BE(this.need(8)));
	}
	float64() {
		return this.buffer.readDoubleBE(this.need(8));
	}
	bool() {
		return this.int8() !== 0;
	}
	uuid() {
		const at = this.need(16);
		return this.buffer.subarray(at, at + 16).toString("hex");
	}

	/** Unsigned LEB128 varint, at most 5 bytes (32 bits). */
	uvarint() {
		let value = 0;
		// The place value of each 7-bit group as a running product: `2 ** shift` is a call to pow, at every byte.
		for (let shift = 0, scale = 1; shift < 35; shift += 7, scale *= 0x80) {
			const byte = this.buffer[this.need(1)];
			value += (byte & 0x7f) * scale;
			if ((byte & 0x80) === 0) {
				if (value > 0xffffffff) throw new ProtocolError("varint out of range");
				return value;
			}
		}
		throw new ProtocolError("varint longer than 5 bytes");
	}
	/** Zigzag varint (record fields), 32 bits. */
	varint() {
		const raw = this.uvarint();
		return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
	}
	/**
	 * Zigzag varlong (record timestamps and offsets deltas), at most 10 bytes. Deltas nearly always fit in four
	 * bytes (28 bits), which are read as a Number: the BigInt path allocates at every step, about 0.5 µs a record.
	 */
	varlong() {
		const buffer = this.buffer;
		let raw = 0;
		for (let i = 0, at = this.offset, scale = 1; i < VARLONG_NUMBER_BYTES_MAX && at < this.end; i++, at++, scale *= 0x80) {
			const byte = buffer[at];
			raw += (byte & 0x7f) * scale;
			if ((byte & 0x80) === 0) {
				this.offset = at + 1;
				return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
			}
		}
		let value = 0n;
		for (let shift = 0n; shift < 70n; shift += 7n) {
			const byte = this.buffer[this.need(1)];
			value |= BigInt(byte & 0x7f) << shift;
			if ((byte & 0x80) === 0) return Number((value >> 1n) ^ -(value & 1n));
		}
		throw new ProtocolError("varlong longer than 10 bytes");
	}

	/** @param {number} length */
	raw(length) {
		const at = this.need(length);
		return this.buffer.subarray(at, at + length);
	}
	/** @param {number} length */
	text(length) {
		try {
			return utf8.decode(this.raw(length));
		} catch {
			throw new ProtocolError("string is not valid UTF-8");
		}
	}

	/** @param {boolean} compact */
	length(compact) {
		if (compact) return this.uvarint() - 1;
		return this.int16();
	}
	/** A string (null when nullable and absent). @param {boolean} compact @param {boolean} nullable */
	string(compact, nullable) {
		const n = compact ? this.uvarint() - 1 : this.int16();
		if (n < 0) {
			if (!nullable) throw new ProtocolError("null where a string is required");
			return null;
		}
		return this.text(n);
	}
	/** @param {boolean} compact @param {boolean} nullable */
	bytes(compact, nullable) {
		const n = compact ? this.uvarint() - 1 : this.int32();
		if (n < 0) {
			if (!nullable) throw new ProtocolError("null where bytes are required");
			return null;
		}
		return this.raw(n);
	}
	/** An array's element count, checked against what is left (every element takes at least one byte). */
	arrayLength(compact, nullable) {
		const n = compact ? this.uvarint() - 1 : this.int32();
		if (n < 0) {
			if (!nullable) throw new ProtocolError("null where an array is required");
			return -1;
		}
		if (n > this.remaining) throw new ProtocolError(`array of ${n} elements in ${this.remaining} bytes`);
		return n;
	}
}

const INITIAL_BYTES = 256;
/**
 * Byte fields at least this long (a Fetch response's record batches) are not copied into the writer's buffer: they
 * are kept by reference and sent after the bytes before them (`parts`), which saves copying a 1 MiB page and
 * growing the buffer to hold it.
 */
export const SPLICE_BYTES_MIN = 64 * 1024;

export class Writer {
	constructor(capacity = INITIAL_BYTES) {
		this.buffer = Buffer.allocUnsafe(capacity);
		this.offset = 0;
		/** @type {{ at: number, bytes: Uint8Array }[]} long byte fields, each to follow the buffer's bytes before `at` */
		this.spliced = [];
	}

	/** @param {number} n */
	ensure(n) {
		if (this.offset + n <= this.buffer.length) return;
		let size = this.buffer.length * 2;
		while (size < this.offset + n) size *= 2;
		const next = Buffer.allocUnsafe(size);
		this.buffer.copy(next, 0, 0, this.offset);
		this.buffer = next;
	}

	/** @param {number} v */
	int8(v) {
		this.ensure(1);
		this.offset = this.buffer.writeInt8(v, this.offset);
		return this;
	}
	int16(v) {
		this.ensure(2);
		this.offset = this.buffer.writeInt16BE(v, this.offset);
		return this;
	}
	uint16(v) {
		this.ensure(2);
		this.offset = this.buffer.writeUInt16BE(v, this.offset);
		return this;
	}
	int32(v) {
		this.ensure(4);
		this.offset = this.buffer.writeInt32BE(v, this.offset);
		return this;
	}
	uint32(v) {
		this.ensure(4);
		this.offset = this.buffer.writeUInt32BE(v >>> 0, this.offset);
		return this;
	}
	int64(v) {
		this.ensure(8);
		this.offset = this.buffer.writeBigInt64BE(BigInt(v), this.offset);
		return this;
	}
	float64(v) {
		this.ensure(8);
		this.offset = this.buffer.writeDoubleBE(v, this.offset);
		return this;
	}
	bool(v) {
		return this.int8(v ? 1 : 0);
	}
	/** @param {string} hex 32 hex digits */
	uuid(hex) {
		const bytes = Buffer.from(hex ?? "", "hex");
		this.ensure(16);
		this.buffer.fill(0, this.offset, this.offset + 16);
		bytes.copy(this.buffer, this.offset, 0, 16);
		this.offset += 16;
		return this;
	}
	uvarint(v) {
		this.ensure(5);
		let value = v >>> 0;
		while (value >= 0x80) {
			this.buffer[this.offset++] = (value & 0x7f) | 0x80;
			value >>>= 7;
		}
		this.buffer[this.offset++] = value;
		return this;
	}
	varint(v) {
		return this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
	}
	varlong(v) {
		// Small values (record deltas, nearly always) take the 32-bit path; only large ones pay for BigInt.
		if (v >= -0x40000000 && v < 0x40000000) return this.varint(v);
		let value = (BigInt(v) << 1n) ^ (BigInt(v) >> 63n);
		value &= 0xffffffffffffffffn;
		this.ensure(10);
		while (value >= 0x80n) {
			this.buffer[this.offset++] = Number(value & 0x7fn) | 0x80;
			value >>= 7n;
		}
		this.buffer[this.offset++] = Number(value);
		return this;
	}
	/** @param {Uint8Array} bytes */
	raw(bytes) {
		this.ensure(bytes.length);
		this.buffer.set(bytes, this.offset);
		this.offset += bytes.length;
		return this;
	}
	/** @param {string | null} s @param {boolean} compact */
	string(s, compact) {
		if (s === null || s === undefined) return compact ? this.uvarint(0) : this.int16(-1);
		const bytes = Buffer.from(s, "utf8");
		if (compact) this.uvarint(bytes.length + 1);
		else this.int16(bytes.length);
		return this.raw(bytes);
	}
	/** @param {Uint8Array | null} b @param {boolean} compact */
	bytes(b, compact) {
		if (b === null || b === undefined) return compact ? this.uvarint(0) : this.int32(-1);
		if (compact) this.uvarint(b.length + 1);
		else this.int32(b.length);
		if (b.length < SPLICE_BYTES_MIN) return this.raw(b);
		this.spliced.push({ at: this.offset, bytes: b });
		return this;
	}
	/** @param {number} n -1 for null @param {boolean} compact */
	arrayLength(n, compact) {
		return compact ? this.uvarint(n + 1) : this.int32(n);
	}

	/** The bytes written so far: a view of the buffer, or a copy joining it with the long byte fields. */
	done() {
		return this.spliced.length === 0 ? this.buffer.subarray(0, this.offset) : Buffer.concat(this.parts());
	}

	/** The bytes written so far as parts to send in order: views of the buffer between the long byte fields. */
	parts() {
		/** @type {Uint8Array[]} */
		const parts = [];
		let from = 0;
		for (const { at, bytes } of this.spliced) {
			if (at > from) parts.push(this.buffer.subarray(from, at));
			parts.push(bytes);
			from = at;
		}
		if (this.offset > from || parts.length === 0) parts.push(this.buffer.subarray(from, this.offset));
		return parts;
	}
}
