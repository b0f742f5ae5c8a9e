/**
 * Reads `/metrics` as Prometheus would: every line checked against the text format (0.0.4), samples by series.
 */

import { expect } from "vitest";
import { call } from "../support/worker.ts";

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/;

export async function scrape(token?: string): Promise<Map<string, number>> {
	const response = await call("GET", "/metrics", token === undefined ? {} : { token });
	const text = await response.text();
	expect(response.status, text).toBe(200);
	expect(response.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
	const samples = new Map<string, number>();
	for (const line of text.split("\n")) {
		if (line === "") continue;
		if (line.startsWith("#")) {
			expect(line, "comment line").toMatch(COMMENT);
			continue;
		}
		expect(line, "sample line").toMatch(SAMPLE);
		const at = line.lastIndexOf(" ");
		samples.set(line.slice(0, at), Number(line.slice(at + 1)));
	}
	return samples;
}

/**
 * Scrapes until `check` holds: figures reach the hub within a report interval after the last change (the
 * quiet moment the exactness promise is about), so the first scrape may be a moment behind. Bounded.
 */
export async function scrapeUntil(check: (samples: Map<string, number>) => boolean, budgetMs = 20_000): Promise<Map<string, number>> {
	const until = Date.now() + budgetMs;
	let samples = await scrape();
	while (!check(samples) && Date.now() < until) {
		await new Promise((resolve) => setTimeout(resolve, 100));
		samples = await scrape();
	}
	return samples;
}
