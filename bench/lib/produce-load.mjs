// @ts-check
/**
 * @module
 * A produce load on one topic, shared by the produce and idempotence scenarios: closed-loop clients sending
 * pre-built 100×1 KiB bodies (each record with a key and two headers when the scenario's `records` is "keyed"),
 * plainly or idempotently, then checks that every acknowledged record is in the log.
 */

import { randomBytes } from "node:crypto";
import { descendantCpuSeconds } from "../../scripts/lib/index.mjs";
import { BODIES_PER_CLIENT, RECORDS_PER_PRODUCE } from "../settings.mjs";
import { isTributary } from "../targets.mjs";
import { runLoad } from "./load.mjs";
import { produceBodies } from "./records.mjs";

/**
 * @typedef {import("./http.mjs").HttpClient} HttpClient
 * @typedef {import("./http.mjs").HttpResponse} HttpResponse
 * @typedef {import("../scenarios/types.js").Scenario} Scenario
 * @typedef {{ body: Buffer, headers: Record<string, string> | undefined }} Request
 */

/**
 * @param {Scenario} scenario
 * @param {number} client
 * @param {number} seed
 */
function bodiesFor(scenario, client, seed) {
	const partition = scenario.partitions === 1 ? 0 : client % scenario.partitions;
	const keyed = scenario.records === "keyed";
	return produceBodies({ count: BODIES_PER_CLIENT, perRequest: recordsPerRequest(scenario), partition, seed: seed * 16 + client, keyed });
}

/**
 * Records per produce request: the scenario's `perRequest`, else RECORDS_PER_PRODUCE.
 * @param {Scenario} scenario
 */
function recordsPerRequest(scenario) {
	return typeof scenario.perRequest === "number" ? scenario.perRequest : RECORDS_PER_PRODUCE;
}

/**
 * How each request of an idempotence variant is sent (one client): "producer" gets an id from POST /v1/producers
 * and numbers its records (`sequence` advances by `perRequest`, the records of each request, warm-up included);
 * "idempotency-key" sends a fresh `Idempotency-Key` per request. `next(body)` answers {body, headers}.
 * @param {HttpClient} http
 * @param {string} variant
 * @param {string} tag
 * @param {number} perRequest
 * @returns {Promise<{ next(records: Buffer): Request }>}
 */
async function idempotentRequests(http, variant, tag, perRequest) {
	let n = 0;
	if (variant === "producer") {
		const { producer_id: producerId, epoch } = await http.json("POST", "/v1/producers", {});
		return {
			next(records) {
				// `{"records":[…]}` becomes `{"producer_id":…,"epoch":…,"sequence":…,"records":[…]}`.
				const head = Buffer.from(`{"producer_id":${producerId},"epoch":${epoch},"sequence":${n++ * perRequest},`);
				return { body: Buffer.concat([head, records.subarray(1)]), headers: undefined };
			},
		};
	}
	if (variant === "idempotency-key") {
		const run = randomBytes(6).toString("hex");
		return { next: (records) => ({ body: records, headers: { "Idempotency-Key": `bench-${tag}-${run}-${n++}` } }) };
	}
	throw new Error(`unknown idempotence variant ${variant}`);
}

/**
 * The offsets of an acknowledged produce, or a problem if they are not `count` consecutive ones.
 * @param {HttpResponse} response
 * @param {number} count
 */
function denseOffsetsProblem(response, count) {
	/** @type {{ offset: number }[]} */
	const offsets = JSON.parse(response.body.toString("utf8")).offsets;
	const first = offsets[0]?.offset ?? 0;
	const dense = offsets.length === count && offsets.every((p, k) => p.offset === first + k);
	return dense ? null : `first produce answered ${offsets.length} offsets, not ${count} consecutive ones`;
}

/**
 * A produce load on one topic, for one or more measured windows (`window(warmupMs, durationMs)`, each a runLoad),
 * then `verify()`: on Tributary every acknowledged record is in the log, and for an idempotent variant a retry of
 * the last request writes nothing. `step` is one request of the load, for a load that drives it with others.
 * @param {HttpClient} http
 * @param {string} target
 * @param {Scenario} scenario
 * @param {string} topic
 * @param {number} seed
 */
export async function produceLoad(http, target, scenario, topic, seed) {
	const clients = scenario.clients ?? 1;
	const perRequest = recordsPerRequest(scenario);
	const pools = Array.from({ length: clients }, (_, c) => bodiesFor(scenario, c, seed));
	const variant = String(scenario.variant ?? "plain");
	const idempotent = variant === "plain" ? null : await idempotentRequests(http, variant, scenario.id, perRequest);
	/** @type {(Request & { response: HttpResponse }) | null} the last acknowledged idempotent request, retried after the load */
	let last = null;
	let acknowledged = 0;
	let checked = !isTributary(target);
	/** @type {string[]} */
	const check = [];
	/** @type {import("./load.mjs").Step} */
	const step = async (client, i) => {
		const pool = pools[client] ?? [];
		const records = /** @type {Buffer} */ (pool[i % pool.length]);
		const { body, headers } = idempotent === null ? { body: records, headers: undefined } : idempotent.next(records);
		const response = await http.request("POST", `/v1/topics/${topic}/records`, body, headers);
		const ok = response.status >= 200 && response.status < 300;
		if (ok) acknowledged += perRequest;
		if (ok && idempotent !== null) last = { body, headers, response };
		if (ok && !checked) {
			checked = true;
			const problem = denseOffsetsProblem(response, perRequest);
			if (problem !== null) check.push(problem);
		}
		return {
			status: response.status,
			sentBytes: response.sentBytes,
			receivedBytes: response.receivedBytes,
			records: perRequest,
			error: ok ? undefined : `${response.status} ${response.body.toString("utf8").slice(0, 300)}`,
		};
	};
	return {
		step,
		/**
		 * @param {number} warmupMs
		 * @param {number} durationMs
		 * @param {{ keepLatencies?: boolean, waitQuiet?: boolean }} [options]  as runLoad's
		 */
		window: (warmupMs, durationMs, { keepLatencies = false, waitQuiet = true } = {}) =>
			runLoad({ clients, warmupMs, durationMs, serverCpu: descendantCpuSeconds, step, keepLatencies, waitQuiet }),
		/** @returns {Promise<"ok" | string[]>} */
		async verify() {
			if (isTributary(target)) {
				// Every acknowledged record must be in the log: the high watermarks add up to what was acknowledged.
				const stored = await storedRecords(http, topic);
				if (stored !== acknowledged) check.push(`acknowledged ${acknowledged} records but high watermarks sum to ${stored}`);
				if (last !== null) check.push(...(await retryWritesNothing(http, topic, variant, last, stored)));
			}
			return check.length === 0 ? "ok" : check;
		},
	};
}

/**
 * The sum of a topic's high watermarks.
 * @param {HttpClient} http
 * @param {string} topic
 * @returns {Promise<number>}
 */
export async function storedRecords(http, topic) {
	const described = await http.json("GET", `/v1/topics/${topic}`);
	return described.partitions.reduce((/** @type {number} */ sum, /** @type {{ high_watermark: number }} */ p) => sum + p.high_watermark, 0);
}

/**
 * Sends the last request again, as a client retry would: same offsets back, nothing written.
 * @param {HttpClient} http
 * @param {string} topic
 * @param {string} variant
 * @param {Request & { response: HttpResponse }} last
 * @param {number} stored
 */
async function retryWritesNothing(http, topic, variant, last, stored) {
	const problems = [];
	const retry = await http.request("POST", `/v1/topics/${topic}/records`, last.body, last.headers);
	const original = JSON.parse(last.response.body.toString("utf8")).offsets[0];
	const again = retry.status === 200 ? JSON.parse(retry.body.toString("utf8")).offsets[0] : null;
	if (again === null) problems.push(`a retry of the last request answered ${retry.status} ${retry.body.toString("utf8").slice(0, 200)}`);
	else if (again.offset !== original.offset) problems.push(`a retry answered offset ${again.offset}, the original ${original.offset}`);
	if (variant === "idempotency-key" && retry.headers["idempotent-replayed"] !== "true") {
		problems.push("a retry with the same Idempotency-Key came back without Idempotent-Replayed: true");
	}
	const after = await storedRecords(http, topic);
	if (after !== stored) problems.push(`a retry of the last request wrote ${after - stored} records again`);
	return problems;
}
