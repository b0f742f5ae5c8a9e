// @ts-check
/**
 * `node bench/blob-shapes.mjs [passes] [requests]`: what the bodies a group poll and a fetch make cost in a bare
 * workerd (Miniflare, one Durable Object with SQLite, no Tributary code). Each request reads 500 records of ~1.1 KiB
 * from SQLite as bytes (5 rows of 100, `CAST(records AS BLOB)`, as the partition's read does), builds a body one way
 * `BUILDS` times (default 10, so a build's cost stands above the request's; 1 is the partition's own pace) and
 * answers the last, streamed from the Blob (`blob.stream()`) as the partition answers. Prints workerd's CPU and minor
 * page faults per record built (its process's, from /proc) for each shape over `passes` passes of `requests` requests,
 * the shapes alternating. Not part of `npm test` or the bench.
 *
 * Shapes (`SHAPES=a,b,…`): `read` (the read alone: the floor), `fetch` (the fetch's Blob: its head, each row's bytes,
 * the separator and tail as strings), `fetch-bytes` (the same, every piece bytes), `poll` (the poll's: the records
 * spliced into a buffer the isolate keeps, a Blob of a view of it), `poll-fresh` (spliced into a fresh buffer),
 * `poll-slice` (a Blob of a copy of the view), `splice` (the splice alone), `scratch-blob` / `fresh-blob` /
 * `parts-blob` (a Blob of the kept buffer's 560 KB view, of a fresh one, of the rows alone), `scratch-response` /
 * `poll-response` (`new Response(view)` instead of a Blob: workerd copies a BufferSource body into memory of its own,
 * not zero-filled).
 *
 * What it showed (load 7-21, BUILDS=10, µs of workerd CPU a record over the read's): the poll's Blob and splice
 * ~0.5-0.6, the fetch's Blob ~0.45, the Blob of the kept view alone ~0.4, the splice alone ~0.1; a fetch's and a
 * poll's Blob alike, with next to no page faults (0.001-0.05 a record). At BUILDS=1: read 2.8, poll 6.6, poll-response
 * 6.3-6.7, fetch 6.3-6.7. It does not reproduce what the server's Blob costs (see poll-body.ts's `pollBodyBlob`).
 */

import { measurePasses, startBareWorkerd } from "./lib/bare-workerd.mjs";

const PASSES = Number(process.argv[2] ?? 3);
const REQUESTS = Number(process.argv[3] ?? 150);
const RECORDS_PER_ROW = 100;
const ROWS = 40;
const ROWS_PER_READ = 5;
/** Bodies built per request (the last one answered), so a build's cost stands above the request's. */
const BUILDS = Number(process.env.BUILDS ?? 10);
const SHAPES = (process.env.SHAPES ?? "read,fetch,poll,poll-fresh,splice,scratch-blob").split(",");

const script = /* js */ `
const enc = new TextEncoder();
const SEP = ",\\n";
const SEP_U8 = enc.encode(SEP);
const START = enc.encode('{"partition":');
const HEAD = enc.encode('{"records":[');
const RECORD_VALUE = "x".repeat(1000);
let scratch = new Uint8Array(600000);
/** Each part's record ends, found once a row (the partition stores them with the row). */
const endsKnown = new WeakMap();
const endsByBase = new Map();

function record(offset) {
	return '{"partition":0,"offset":' + offset + ',"timestamp":1765000000000,"key":"k' + (offset % 97) + '","value":"' + RECORD_VALUE + '","headers":[]}';
}

/** Where each record of a part ends (just after it, before the separator). */
function endsOf(part) {
	const ends = [];
	for (let i = 0; i < part.length - 1; i++) if (part[i] === 0x2c && part[i + 1] === 0x0a) ends.push(i);
	ends.push(part.length);
	return ends;
}

function splice(parts, topic, tail, into) {
	const head = enc.encode('{"topic":' + JSON.stringify(topic) + ',"partition":');
	const skip = START.length;
	let size = HEAD.length + tail.length;
	const allEnds = parts.map((p) => endsKnown.get(p));
	parts.forEach((p, j) => { size += p.byteLength + allEnds[j].length * (head.length - skip) + (j > 0 ? SEP_U8.length : 0); });
	const out = into(size);
	out.set(HEAD);
	let to = HEAD.length;
	parts.forEach((part, j) => {
		if (j > 0) { out.set(SEP_U8, to); to += SEP_U8.length; }
		const ends = allEnds[j];
		let from = 0;
		for (let k = 0; k < ends.length; k++) {
			const end = k < ends.length - 1 ? ends[k] + SEP_U8.length : part.byteLength;
			out.set(head, to);
			out.set(part.subarray(from + skip, end), to + head.length);
			to += head.length + end - from - skip;
			from = end;
		}
	});
	out.set(tail, to);
	if (to + tail.length !== size) throw new Error("size " + (to + tail.length) + " " + size);
	return out;
}

const kept = (size) => {
	if (scratch.byteLength < size) scratch = new Uint8Array(size);
	return scratch.subarray(0, size);
};

export class Part {
	constructor(state) {
		this.sql = state.storage.sql;
		this.sql.exec("CREATE TABLE IF NOT EXISTS batches (base INTEGER PRIMARY KEY, records TEXT)");
		this.next = 0;
	}
	fill(rows, perRow) {
		for (let r = 0; r < rows; r++) {
			const lines = [];
			for (let i = 0; i < perRow; i++) lines.push(record(r * perRow + i));
			this.sql.exec("INSERT OR REPLACE INTO batches VALUES (?, ?)", r * perRow, lines.join(SEP));
		}
	}
	read() {
		const rows = ${ROWS};
		const first = this.next;
		this.next = (this.next + ${ROWS_PER_READ}) % rows;
		const parts = [];
		for (const row of this.sql.exec("SELECT base, CAST(records AS BLOB) AS r FROM batches WHERE base >= ? ORDER BY base LIMIT ${ROWS_PER_READ}", first * ${RECORDS_PER_ROW})) {
			const part = new Uint8Array(row.r);
			if (!endsByBase.has(row.base)) endsByBase.set(row.base, endsOf(part));
			endsKnown.set(part, endsByBase.get(row.base));
			parts.push(part);
		}
		return parts;
	}
	build(shape, parts, tailText) {
		const tail = () => enc.encode(tailText);
		switch (shape) {
			case "read": return new Blob([]);
			case "fetch": {
				const pieces = [HEAD];
				parts.forEach((p, i) => { if (i > 0) pieces.push(SEP); pieces.push(p); });
				pieces.push(tailText);
				return new Blob(pieces);
			}
			case "fetch-bytes": {
				const pieces = [HEAD];
				parts.forEach((p, i) => { if (i > 0) pieces.push(SEP_U8); pieces.push(p); });
				pieces.push(tail());
				return new Blob(pieces);
			}
			case "poll": return new Blob([splice(parts, "bench-topic", tail(), kept)]);
			case "poll-fresh": return new Blob([splice(parts, "bench-topic", tail(), (n) => new Uint8Array(n))]);
			case "poll-slice": return new Blob([splice(parts, "bench-topic", tail(), kept).slice()]);
			case "splice": splice(parts, "bench-topic", tail(), kept); return new Blob(["{}"]);
			case "scratch-blob": return new Blob([scratch.subarray(0, 560000)]);
			case "fresh-blob": return new Blob([new Uint8Array(560000)]);
			case "scratch-response": return new Response(scratch.subarray(0, 560000));
			case "poll-response": return new Response(splice(parts, "bench-topic", tail(), kept));
			case "parts-blob": return new Blob(parts);
			default: throw new Error("no shape " + shape);
		}
	}
	async fetch(request) {
		const url = new URL(request.url);
		if (url.pathname === "/fill") { this.fill(${ROWS}, ${RECORDS_PER_ROW}); return new Response("ok"); }
		const shape = url.pathname.slice(1);
		const parts = this.read();
		const tailText = '],"high_watermark":4000,"log_start_offset":0,"next_offset":' + this.next * 100 + '}';
		let blob = new Blob([]);
		for (let k = 0; k < ${BUILDS}; k++) blob = this.build(shape, parts, tailText);
		if (blob instanceof Response) return new Response(blob.body);
		return new Response(blob.stream(), { headers: { "content-length": String(blob.size) } });
	}
}

export default {
	fetch(request, env) {
		return env.PART.get(env.PART.idFromName("p")).fetch(request);
	},
};
`;

const { mf, base, pid } = await startBareWorkerd(script, { PART: { className: "Part", useSQLite: true } });
try {
	await (await fetch(new URL("/fill", base))).text();
	const results = await measurePasses({ base, pid, shapes: SHAPES, passes: PASSES, requests: REQUESTS });
	if (results.get("poll")?.some((r) => r.bytes === 0)) throw new Error("empty poll bodies");
	const records = REQUESTS * 500 * BUILDS;
	console.log("shape          µs CPU/record per pass            minflt/record per pass");
	for (const [shape, runs] of results) {
		const us = runs.map((r) => ((r.cpu / records) * 1e6).toFixed(2)).join(" ");
		const faults = runs.map((r) => (r.minflt / records).toFixed(3)).join(" ");
		console.log(`${shape.padEnd(14)} ${us.padEnd(34)} ${faults}`);
	}
} finally {
	await mf.dispose();
}
