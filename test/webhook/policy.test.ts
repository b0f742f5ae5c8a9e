/**
 * The pure parts of webhook delivery: retry schedule with jitter and Retry-After, verdicts, URL policy, signing.
 */

import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { WEBHOOK_RETRY_DELAY_MS_MAX, WEBHOOK_RETRY_SCHEDULE_MS_DEFAULT } from "../../src/shared/limits.ts";
import { parseRetryAfter, retryDelayMs, verdictOf } from "../../src/webhook/retry-policy.ts";
import { generateSecret, signatureHeaders } from "../../src/webhook/signing.ts";
import { checkUrlSyntax, checkWebhookUrl, isLoopbackHost, isPrivateAddress } from "../../src/webhook/url-policy.ts";

describe("retry policy", () => {
	const schedule = WEBHOOK_RETRY_SCHEDULE_MS_DEFAULT;

	it("follows the Svix-like schedule within ±10% jitter, reusing the last delay past its end", () => {
		for (const random of [0, 0.5, 0.999]) {
			for (let attempts = 1; attempts < 12; attempts++) {
				const scheduled = schedule[Math.min(attempts, schedule.length - 1)] as number;
				const delay = retryDelayMs({ attemptsMade: attempts, scheduleMs: schedule, retryAfterMs: null, random: () => random });
				expect(delay).toBeGreaterThanOrEqual(Math.floor(scheduled * 0.9));
				expect(delay).toBeLessThanOrEqual(Math.ceil(scheduled * 1.1));
			}
		}
		expect(retryDelayMs({ attemptsMade: 1, scheduleMs: schedule, retryAfterMs: null, random: () => 0.5 })).toBe(5_000);
	});

	it("honours a longer Retry-After and caps every delay at a day", () => {
		expect(retryDelayMs({ attemptsMade: 1, scheduleMs: [0, 5_000], retryAfterMs: 60_000, random: () => 0.5 })).toBe(60_000);
		expect(retryDelayMs({ attemptsMade: 1, scheduleMs: [0, 5_000], retryAfterMs: 1_000, random: () => 0.5 })).toBe(5_000);
		expect(retryDelayMs({ attemptsMade: 1, scheduleMs: [0, 5_000], retryAfterMs: 10 ** 12, random: () => 0.5 })).toBe(
			WEBHOOK_RETRY_DELAY_MS_MAX,
		);
		expect(parseRetryAfter("120", 0)).toBe(120_000);
		expect(parseRetryAfter(new Date(70_000).toUTCString(), 10_000)).toBe(60_000);
		expect(parseRetryAfter("soon", 0)).toBeNull();
		expect(parseRetryAfter(null, 0)).toBeNull();
	});

	it("acknowledges any 2xx, disables on 410, retries the rest", () => {
		expect([200, 201, 204, 299].map(verdictOf)).toEqual(["acknowledged", "acknowledged", "acknowledged", "acknowledged"]);
		expect(verdictOf(410)).toBe("gone");
		expect([null, 301, 400, 404, 429, 500, 503].map(verdictOf)).toEqual(Array(7).fill("retry"));
	});
});

describe("URL policy", () => {
	it("classifies addresses", () => {
		for (const a of [
			"10.0.0.1",
			"127.0.0.1",
			"169.254.169.254",
			"172.31.255.255",
			"192.168.1.1",
			"100.64.0.1",
			"0.0.0.0",
			"::1",
			"[::1]",
			"fe80::1",
			"fd12::1",
			"::ffff:10.0.0.1",
		]) {
			expect(isPrivateAddress(a), a).toBe(true);
		}
		for (const a of ["93.184.216.34", "172.32.0.1", "8.8.8.8", "2606:4700::1111"]) expect(isPrivateAddress(a), a).toBe(false);
	});

	it("lifts the https and private-host rules only when allowed", () => {
		expect(checkUrlSyntax("http://127.0.0.1:9999/hook", true).ok).toBe(true);
		expect(checkUrlSyntax("http://127.0.0.1:9999/hook", false).ok).toBe(false);
		expect(checkUrlSyntax("https://[::1]/hook", false).ok).toBe(false);
		expect(checkUrlSyntax("https://2130706433/hook", false).ok).toBe(false); // decimal 127.0.0.1
		expect(checkUrlSyntax("https://user:pw@example.com/", true).ok).toBe(false);
	});

	it("refuses names that resolve to private addresses, or do not resolve", async () => {
		const resolve = async (host: string) =>
			({ "good.example": ["93.184.216.34"], "bad.example": ["93.184.216.34", "10.0.0.5"] })[host] ?? [];
		expect(await checkWebhookUrl("https://good.example/h", false, resolve)).toEqual({ ok: true, value: "https://good.example/h" });
		expect((await checkWebhookUrl("https://bad.example/h", false, resolve)).ok).toBe(false);
		expect((await checkWebhookUrl("https://none.example/h", false, resolve)).ok).toBe(false);
		const failing = async () => {
			throw new Error("no DNS");
		};
		// A lookup that fails says nothing about the URL: a retriable 503 in plain words, no runtime internals.
		const failed = await checkWebhookUrl("https://good.example/h", false, failing);
		expect(failed).toEqual({
			ok: false,
			error: {
				code: "unavailable",
				message: "could not look up good.example in DNS to check it is a public host; try again",
				details: { url: "https://good.example/h" },
			},
		});
	});

	it("knows a loopback request host (a local broker) from a public one", () => {
		for (const host of ["127.0.0.1", "localhost", "[::1]", "127.1.2.3"]) expect(isLoopbackHost(host), host).toBe(true);
		for (const host of ["tributary.example.workers.dev", "10.0.0.1", "127.0.0.1.example.com"])
			expect(isLoopbackHost(host), host).toBe(false);
	});
});

describe("signing", () => {
	it("produces headers the standardwebhooks library verifies, one signature per secret", async () => {
		const [current, previous] = [generateSecret(), generateSecret()];
		const body = '{"topic":"t","partition":0,"records":[]}';
		const timestampS = Math.floor(Date.now() / 1000);
		const headers = await signatureHeaders({ id: "msg_1", timestampS, body, secrets: [current, previous] });
		expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
		expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
		expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
		expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
	});
});
