/**
 * The bench's ceiling: the same routes and the same hops as Tributary (edge Worker → one Durable Object per
 * partition over RPC), with the Durable Object doing nothing. Produce hands the body text to an RPC method that
 * ignores it; fetch answers a records array built once, in memory, of the same shape and size as a real
 * 1,000-record fetch. Whatever Tributary spends beyond this is its own work.
 *
 * With the variable CEILING_MODE = "sqlite" produce also inserts the body, as one row, into the object's SQLite
 * table before answering: the cost of merely storing the bytes, for reference.
 */

import { DurableObject } from "cloudflare:workers";

/** Must match bench/lib/records.mjs: value length and alphabet of the records the bench produces. */
const VALUE_CHARS = 1024;
const FETCH_RECORDS = 1000;
const ALPHABET = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)).join("");

function valueString(seed, length) {
	let state = seed >>> 0 || 1;
	let out = "";
	for (let i = 0; i < length; i++) {
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		out += ALPHABET[(state >>> 0) % ALPHABET.length];
	}
	return out;
}

export class CeilingLog extends DurableObject {
	/** The records of a full fetch, joined as Tributary stores them; built on first use and kept. */
	records = null;

	constructor(ctx, env) {
		super(ctx, env);
		this.store = env.CEILING_MODE === "sqlite";
		if (this.store) ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
	}

	append(body) {
		if (this.store) this.ctx.storage.sql.exec("INSERT INTO log (body) VALUES (?)", body);
		return { ok: true };
	}

	read() {
		if (this.records === null) {
			const timestamp = Date.now();
			const lines = [];
			for (let offset = 0; offset < FETCH_RECORDS; offset++) {
				const value = JSON.stringify(valueString(offset + 1, VALUE_CHARS));
				lines.push(`{"partition":0,"offset":${offset},"timestamp":${timestamp},"key":null,"value":${value},"headers":[]}`);
			}
			this.records = lines.join(",\n");
		}
		return this.records;
	}
}

const PRODUCE = /^\/v1\/topics\/([^/]+)\/records$/;
const FETCH = /^\/v1\/topics\/([^/]+)\/partitions\/(\d+)\/records$/;
const PARTITION_FIELD = /"partition":(\d+)/;

function json(body, status = 200) {
	return new Response(body, { status, headers: { "Content-Type": "application/json" } });
}

export default {
	async fetch(request, env) {
		const url = new URL(request.url);
		if (url.pathname === "/healthz") return json('{"status":"ok"}');
		if (url.pathname === "/v1/topics" && request.method === "POST") {
			await request.text();
			return json('{"ok":true}', 201);
		}
		const produce = PRODUCE.exec(url.pathname);
		if (produce !== null && request.method === "POST") {
			const body = await request.text();
			// The bench writes "partition" first in each record; a cheap look at the head routes like Tributary does.
			const partition = PARTITION_FIELD.exec(body.slice(0, 256))?.[1] ?? "0";
			const stub = env.CEILING_LOG.getByName(`${produce[1]}/${partition}`);
			return json(JSON.stringify(await stub.append(body)));
		}
		const fetched = FETCH.exec(url.pathname);
		if (fetched !== null && request.method === "GET") {
			const offset = Number(url.searchParams.get("offset") ?? "0");
			const stub = env.CEILING_LOG.getByName(`${fetched[1]}/${fetched[2]}`);
			const records = await stub.read();
			const next = offset + FETCH_RECORDS;
			return json(`{"records":[${records}],"high_watermark":${next},"log_start_offset":0,"next_offset":${next}}`);
		}
		return json('{"error":{"code":"not_found"}}', 404);
	},
};
