/**
 * The `REQUEST_LOG` var chooses which requests write the JSON log line; every request is counted either way.
 */
import { env as workerEnv } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/http/app.ts";
import { counterEntries, requestLogSetting } from "../../src/http/middleware/observe.ts";

/**
 * The request log lines of the requests named `ids` (their `X-Request-Id`) written while `send` ran, parsed: the
 * workerd is shared with the directory's other files, whose requests still under way may log meanwhile.
 */
async function requestLines(
	ids: readonly string[],
	send: () => Promise<unknown>,
): Promise<Array<{ msg: string; status: number; route: string }>> {
	const log = vi.spyOn(console, "log").mockImplementation(() => {});
	try {
		await send();
		return log.mock.calls
			.map(([line]) => (typeof line === "string" && line.startsWith("{") ? JSON.parse(line) : null))
			.filter((line) => line?.msg === "request" && ids.includes(line.request_id));
	} finally {
		log.mockRestore();
	}
}

/** One answered request (200) and one refused (401: no credentials), with REQUEST_LOG set as given. */
async function okAndRefused(requestLog: string | undefined): Promise<number[]> {
	const env = { ...workerEnv, REQUEST_LOG: requestLog };
	const ids = [crypto.randomUUID(), crypto.randomUUID()];
	const lines = await requestLines(ids, async () => {
		const ok = await app.request("/healthz", { headers: { "X-Request-Id": ids[0] as string } }, env);
		expect(ok.status).toBe(200);
		const refused = await app.request("/v1/topics", { headers: { "X-Request-Id": ids[1] as string } }, env);
		expect(refused.status).toBe(401);
	});
	return lines.map((line) => line.status);
}

afterEach(() => {
	vi.restoreAllMocks();
});

describe("request log setting", () => {
	it("logs every request with all", async () => {
		expect(await okAndRefused("all")).toEqual([200, 401]);
		expect(await okAndRefused(" ALL ")).toEqual([200, 401]);
	});

	it("logs only answers of 400 and above with errors, and when unset or empty", async () => {
		expect(await okAndRefused("errors")).toEqual([401]);
		expect(await okAndRefused(" Errors ")).toEqual([401]);
		expect(await okAndRefused(undefined)).toEqual([401]);
		expect(await okAndRefused("")).toEqual([401]);
	});

	it("ships errors as the deployed default", () => {
		expect(requestLogSetting(workerEnv)).toBe("errors");
	});

	it("logs nothing with none, and still counts every request", async () => {
		const key = 'tributary_http_requests_total{route="/healthz",status="200"}';
		const before = counterEntries()[key] ?? 0;
		expect(await okAndRefused("none")).toEqual([]);
		expect(counterEntries()[key]).toBe(before + 1);
	});

	it("reads a value it cannot mean as all, and says so once", async () => {
		const error = vi.spyOn(console, "error").mockImplementation(() => {});
		expect(await okAndRefused("verbose")).toEqual([200, 401]);
		expect(await okAndRefused("verbose")).toEqual([200, 401]);
		expect(error.mock.calls.filter(([line]) => String(line).includes("REQUEST_LOG"))).toHaveLength(1);
		expect(requestLogSetting({ REQUEST_LOG: "none" } as Env)).toBe("none");
	});
});
