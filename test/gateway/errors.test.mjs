/**
 * The gateway's one mapping from Tributary's error codes to Kafka's. Every code the Worker can answer with is
 * read from src/shared/errors.ts, so a new code that a Kafka client could meet fails here until it is mapped
 * (or listed as one the gateway's requests never provoke).
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { KAFKA, kafkaError, recordsError } from "../../gateway/errors.js";

const source = readFileSync(new URL("../../src/shared/errors.ts", import.meta.url), "utf8");
const union = source.slice(source.indexOf("export type ErrorCode"), source.indexOf("\n\n", source.indexOf("export type ErrorCode")));
const CODES = [...union.matchAll(/^\s*\| "([a-z_]+)"/gm)].map((m) => m[1]);

/** Codes the gateway's requests cannot meet (their routes are not used, or the gateway always sends valid JSON), or that have no Kafka counterpart. */
const UNMAPPED = new Set([
	"invalid_json",
	"not_found",
	"method_not_allowed",
	"unsupported_media_type",
	"idempotency_key_reused",
	"offset_mismatch",
	// A Worker deployed without its ADMIN_TOKEN: Kafka has no "broker not configured" error, so an unknown server
	// error is the honest answer.
	"not_configured",
	"no_committed_offset",
	"invalid_webhook_url",
	"subscription_not_found",
	"subscription_limit_reached",
	"key_not_found",
	"key_limit_reached",
	"length_required",
	// Only a write to /v1/anonymous with If-Match meets it; the gateway sends none.
	"precondition_failed",
]);

test("every Tributary error code a Kafka request can meet maps to a Kafka error", () => {
	assert.ok(CODES.length > 30, `read ${CODES.length} codes from src/shared/errors.ts`);
	for (const code of CODES) {
		const status = code === "unauthorized" ? 401 : code === "forbidden" ? 403 : 409;
		const kafka = kafkaError({ status, body: { error: { code, message: "m" } } }, "topic");
		if (UNMAPPED.has(code)) assert.equal(kafka, KAFKA.UNKNOWN_SERVER_ERROR, `${code} is mapped now: take it off UNMAPPED`);
		else assert.notEqual(kafka, KAFKA.UNKNOWN_SERVER_ERROR, `${code} has no Kafka error code`);
	}
});

test("401 and 403 become the authorization error of the resource at hand", () => {
	const denied = { status: 403, body: { error: { code: "forbidden", message: "m" } } };
	assert.equal(kafkaError(denied, "topic"), KAFKA.TOPIC_AUTHORIZATION_FAILED);
	assert.equal(kafkaError(denied, "group"), KAFKA.GROUP_AUTHORIZATION_FAILED);
	assert.equal(kafkaError(denied, "cluster"), KAFKA.CLUSTER_AUTHORIZATION_FAILED);
	assert.equal(kafkaError({ status: 401, body: null }, "transactional"), KAFKA.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
	assert.equal(kafkaError({ status: 200, body: {} }, "topic"), KAFKA.NONE);
});

test("what the Worker says to retry (a 503), and its 500 internal, a bug it marks final, are codes Kafka clients retry: the coordinator's for a group's calls", () => {
	for (const [status, code, retriable] of [
		[500, "internal", false],
		[503, "unavailable", true],
		[503, "partition_unavailable", true],
	]) {
		const failed = { status, body: { error: { code, message: "m", retriable } } };
		assert.equal(kafkaError(failed, "group"), KAFKA.COORDINATOR_NOT_AVAILABLE, code);
		assert.equal(kafkaError(failed, "transactional"), KAFKA.COORDINATOR_NOT_AVAILABLE, code);
		assert.equal(kafkaError(failed, "topic"), KAFKA.LEADER_NOT_AVAILABLE, code);
		assert.equal(recordsError(failed), KAFKA.LEADER_NOT_AVAILABLE, code);
		assert.equal(kafkaError(failed, "cluster"), KAFKA.LEADER_NOT_AVAILABLE, code);
	}
});

test("a 5xx naming no code the gateway knows (a proxy's JSON error, a newer Worker's code) is retried unless the Worker says it is final", () => {
	for (const body of [
		{ message: "upstream connect error or disconnect/reset before headers" },
		{ error: "Service Unavailable" },
		{ error: { code: "some_newer_code", message: "m", retriable: true } },
	]) {
		const failed = { status: 503, body };
		assert.equal(kafkaError(failed, "group"), KAFKA.COORDINATOR_NOT_AVAILABLE, JSON.stringify(body));
		assert.equal(kafkaError(failed, "topic"), KAFKA.LEADER_NOT_AVAILABLE, JSON.stringify(body));
		assert.equal(recordsError(failed), KAFKA.LEADER_NOT_AVAILABLE, JSON.stringify(body));
	}
	// A Worker without its ADMIN_TOKEN keeps refusing until its operator sets one: final, as the Worker says.
	const unconfigured = { status: 503, body: { error: { code: "not_configured", message: "m", retriable: false } } };
	assert.equal(kafkaError(unconfigured, "topic"), KAFKA.UNKNOWN_SERVER_ERROR);
	// Below 500 an unknown code stays unknown: the request itself was refused.
	assert.equal(
		kafkaError({ status: 409, body: { error: { code: "some_newer_code", message: "m" } } }, "topic"),
		KAFKA.UNKNOWN_SERVER_ERROR,
	);
});

test("a Produce's or Fetch's partition over its quota is a retriable timeout, not Kafka's final THROTTLING_QUOTA_EXCEEDED", () => {
	const over = { status: 429, body: { error: { code: "quota_exceeded", message: "m", retry_after_ms: 9000 } } };
	assert.equal(recordsError(over), KAFKA.REQUEST_TIMED_OUT);
	// Topic admin keeps Kafka's quota error, which is defined for it.
	assert.equal(kafkaError(over, "topic"), KAFKA.THROTTLING_QUOTA_EXCEEDED);
	const missing = { status: 404, body: { error: { code: "topic_not_found", message: "m" } } };
	assert.equal(recordsError(missing), kafkaError(missing, "topic"));
});

test("a produce whose records the Worker's schema refuses (more headers or a longer header key than it holds) is INVALID_RECORD; a refused topic name stays INVALID_TOPIC_EXCEPTION", () => {
	/** @param {string} path */
	const refused = (path) => ({
		status: 400,
		body: { error: { code: "invalid_request", message: `${path}: m`, retriable: false, issues: [{ path, message: "m" }] } },
	});
	assert.equal(recordsError(refused("records[0].headers")), KAFKA.INVALID_RECORD);
	assert.equal(recordsError(refused("records[3].headers[0].key")), KAFKA.INVALID_RECORD);
	assert.equal(recordsError(refused("topic")), KAFKA.INVALID_TOPIC_EXCEPTION);
	assert.equal(kafkaError(refused("topic"), "topic"), KAFKA.INVALID_TOPIC_EXCEPTION);
});
