/**
 * The bench's ceiling: the same routes and the same hops as Tributary (edge Worker → one Durable Object per
 * partition over RPC), with the Durable Object doing nothing. Produce hands the body text to an RPC method that
 * ignores it and answers `true` (a primitive: an object answer costs workerd's RPC about 10 µs more per call, so
 * Tributary answers a fresh append as text, src/shared/append-answer.ts); fetch answers a records array built once, in memory, of the same shape and size as a real
 * 1,000-record fetch, as UTF-8 bytes copied once between the envelope's head and tail (as Tributary's fetch
 * does). Whatever Tributary spends beyond this is its own work.
 *
 * With CEILING_PARSE = "true" as well, produce first parses the body with `JSON.parse` (and drops the result), which
 * Tributary cannot skip: a fair floor for batch produce.
 *
 * With CEILING_MODE = "group" produce is durable before it is answered, at the least cost: bodies that arrive while
 * a group commits wait, and each group is written as one row in one INSERT and answered after `storage.sync()`; a
 * group waits turn by turn of the event loop while each turn brings more (as Tributary's commit queue does). A fair
 * floor for many small producers, whom the do-nothing ceiling answers without any write.
 *
 * With the variable CEILING_MODE = "sqlite" produce also inserts the body, as one row, into the object's SQLite
 * table before answering: the cost of merely storing the bytes, for reference. And fetch reads its records from
 * SQLite rather than memory: the same records Tributary answers (offsets from the one asked for, stored as rows of
 * 100 joined lines, as a 100-record produce leaves them), read and joined per request: the cost of merely reading
 * the bytes back.
 *
 * Where Tributary's produce-1c-1p (100 × 1 KiB a request) spends beyond ceiling+sqlite, by knockouts: builds that
 * skip one part, each against the one before it under `npm run bench:ab` (server CPU µs a record, medians of 4
 * rounds, B lower in 4 of 4 each; on a machine at load 7-12, where the figures run higher than the bench's). The
 * partition's append reduced to one INSERT of the share's joined tails and its answer (no decode, commit queue,
 * transaction, stored lines, `sync()` or after-commit steps): −7.66 of 45.3 (−17 %; −11.79 to −1.78). Then the edge
 * sending the body text to that partition as it came (no parse, checks, encoding or `produce()`, the same
 * middleware and answer): −4.64 of 33.5 (−14 %; −6.90 to −2.69). Then the Worker answering the produce before Hono
 * (no middleware, one header): −2.42 of 28.0 (−9 %; −3.61 to −1.97). The three together leave about 0.65 of
 * Tributary's CPU, where the bench's last run had ceiling+sqlite at 0.51 (16.0 against 31.0). The savepoint of
 * the group's `transactionSync` alone: −1.31 of 37.9 (−3.35 to +0.31, lower in 4 of 5). An A/A run of the same
 * shape: +0.55 (+0.03 to +1.88, lower in 0 of 6). In a CPU profile the partition's SQL (`exec`, the metering
 * wrapper's frame holding the statement's argument conversion) and `sync()` are the largest items, and the edge's
 * `new Response` seems a tenth of the isolate's time; measured alone in workerd a Response of the same body and
 * headers costs 10-30 µs, so the sampler books time there that is not its own.
 *
 * The streaming produce channel (`…/records/stream`, WebSocket and NDJSON) is in stream.js.
 */

import { DurableObject } from "cloudflare:workers";
import { VALUE_CHARS, valueString } from "../lib/records.mjs";
import { streamResponse } from "./stream.js";

/**
 * Must match bench/settings.mjs (which reads Node's environment, so the Worker cannot import it): the records of
 * a fetch page, and the records the fetch scenario pages through (and wraps at), 100 per stored row.
 */
const FETCH_RECORDS = 1000;
const PREFILL_RECORDS = 20_000;
const RECORDS_PER_ROW = 100;

export class CeilingLog extends DurableObject {
	/** The records of a full fetch, joined as Tributary stores them; built on first use and kept. */
	records = null;
	/** The next offset a streamed run is answered with (stream.js); kept in memory only. */
	nextOffset = 0;

	constructor(ctx, env) {
		super(ctx, env);
		this.group = env.CEILING_MODE === "group";
		this.store = env.CEILING_MODE === "sqlite" || this.group;
		if (this.store) {
			ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
			ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS batches (base_offset INTEGER PRIMARY KEY, records TEXT NOT NULL)");
		}
	}

	append(body) {
		if (this.group) return this.appendInGroup(body);
		if (this.store) this.ctx.storage.sql.exec("INSERT INTO log (body) VALUES (?)", body);
		return true;
	}

	/** Bodies waiting for the next group (CEILING_MODE = "group"), and whether a group is gathering or committing. */
	waiting = [];
	committing = false;
	/** How many were waiting when the current turn began. */
	seen = 0;

	appendInGroup(body) {
		return new Promise((resolve) => {
			this.waiting.push({ body, resolve });
			if (!this.committing) this.gather();
		});
	}

	gather() {
		if (this.waiting.length === 0) {
			this.committing = false;
			return;
		}
		this.committing = true;
		this.seen = this.waiting.length;
		setTimeout(() => this.turnEnded(), 0);
	}

	turnEnded() {
		if (this.waiting.length > this.seen) {
			this.seen = this.waiting.length;
			setTimeout(() => this.turnEnded(), 0);
			return;
		}
		const group = this.waiting.splice(0);
		this.ctx.storage.sql.exec("INSERT INTO log (body) VALUES (?)", group.map((w) => w.body).join("\n"));
		for (const w of group) w.resolve(true);
		this.ctx.storage.sync().then(() => this.gather());
	}

	/**
	 * A streamed run of messages (stream.js), as an array of their texts as Tributary's partition takes its tails:
	 * stored joined as one row like `append`, answered with the run's first offset as a number (a primitive crosses
	 * RPC for less than an object, and Tributary's partition answers a fresh append as text).
	 */
	appendStream(messages) {
		const count = messages.length;
		if (this.store) this.ctx.storage.sql.exec("INSERT INTO log (body) VALUES (?)", messages.join("\n"));
		this.nextOffset += count;
		return this.nextOffset - count;
	}

	/**
	 * FETCH_RECORDS records from `offset` as UTF-8 bytes (bytes cross RPC cheaper than a string, and Tributary's fetch
	 * sends its page so): from memory, or with CEILING_MODE = "sqlite" from stored rows, read as their stored bytes.
	 */
	read(offset) {
		if (this.store) return this.readStored(offset);
		if (this.records === null) this.records = encoder.encode(lines(0, FETCH_RECORDS, Date.now()).join(",\n"));
		return this.records;
	}

	readStored(offset) {
		const sql = this.ctx.storage.sql;
		if (sql.exec("SELECT count(*) AS n FROM batches").one().n === 0) {
			const timestamp = Date.now();
			for (let base = 0; base < PREFILL_RECORDS; base += RECORDS_PER_ROW) {
				sql.exec("INSERT INTO batches (base_offset, records) VALUES (?, ?)", base, lines(base, RECORDS_PER_ROW, timestamp).join(",\n"));
			}
		}
		const from = Math.floor(offset / RECORDS_PER_ROW) * RECORDS_PER_ROW;
		const parts = [];
		let size = 0;
		for (const row of sql.exec(
			"SELECT CAST(records AS BLOB) AS records FROM batches WHERE base_offset >= ? ORDER BY base_offset LIMIT ?",
			from,
			FETCH_RECORDS / RECORDS_PER_ROW,
		)) {
			const part = new Uint8Array(row.records);
			parts.push(part);
			size += part.byteLength;
		}
		return join(parts, size);
	}
}

const encoder = new TextEncoder();
const SEPARATOR = encoder.encode(",\n");

/** The parts joined by ",\n", written once into one buffer. */
function join(parts, size) {
	const out = new Uint8Array(size + Math.max(0, parts.length - 1) * SEPARATOR.byteLength);
	let at = 0;
	parts.forEach((part, i) => {
		if (i > 0) {
			out.set(SEPARATOR, at);
			at += SEPARATOR.byteLength;
		}
		out.set(part, at);
		at += part.byteLength;
	});
	return out;
}

/** `count` stored lines from offset `first`, as Tributary stores records the bench produced. */
function lines(first, count, timestamp) {
	const out = [];
	for (let offset = first; offset < first + count; offset++) {
		const value = JSON.stringify(valueString(offset + 1, VALUE_CHARS));
		out.push(`{"partition":0,"offset":${offset},"timestamp":${timestamp},"key":null,"value":${value},"headers":[]}`);
	}
	return out;
}

const PRODUCE = /^\/v1\/topics\/([^/]+)\/records$/;
const STREAM = /^\/v1\/topics\/([^/]+)\/records\/stream$/;
const FETCH = /^\/v1\/topics\/([^/]+)\/partitions\/(\d+)\/records$/;
const PARTITION_FIELD = /"partition":(\d+)/;

function json(body, status = 200) {
	return new Response(body, { status, headers: { "Content-Type": "application/json" } });
}

export default {
	async fetch(request, env, ctx) {
		const url = new URL(request.url);
		if (url.pathname === "/healthz") return json('{"status":"ok"}');
		if (url.pathname === "/v1/topics" && request.method === "POST") {
			await request.text();
			return json('{"ok":true}', 201);
		}
		const produce = PRODUCE.exec(url.pathname);
		if (produce !== null && request.method === "POST") {
			const body = await request.text();
			if (env.CEILING_PARSE === "true") JSON.parse(body);
			// The bench writes "partition" first in each record; a cheap look at the head routes like Tributary does.
			const partition = PARTITION_FIELD.exec(body.slice(0, 256))?.[1] ?? "0";
			const stub = env.CEILING_LOG.getByName(`${produce[1]}/${partition}`);
			await stub.append(body);
			return json('{"ok":true}');
		}
		const stream = STREAM.exec(url.pathname);
		if (stream !== null) return streamResponse(request, env, ctx, stream[1]);
		const fetched = FETCH.exec(url.pathname);
		if (fetched !== null && request.method === "GET") {
			const offset = Number(url.searchParams.get("offset") ?? "0");
			const stub = env.CEILING_LOG.getByName(`${fetched[1]}/${fetched[2]}`);
			const records = await stub.read(offset);
			const next = offset + FETCH_RECORDS;
			const head = encoder.encode('{"records":[');
			const tail = encoder.encode(`],"high_watermark":${next},"log_start_offset":0,"next_offset":${next}}`);
			const body = new Uint8Array(head.byteLength + records.byteLength + tail.byteLength);
			body.set(head, 0);
			body.set(records, head.byteLength);
			body.set(tail, head.byteLength + records.byteLength);
			return json(body);
		}
		return json('{"error":{"code":"not_found"}}', 404);
	},
};
