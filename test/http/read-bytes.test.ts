/**
 * `readBytes` (src/http/body.ts) answers a body's bytes as sent, however the body arrives: a streamed body's chunks
 * joined in order, an empty body as no bytes, and a body past the limit refused.
 */
import { describe, expect, it } from "vitest";
import { readBytes } from "../../src/http/body.ts";

function streamed(chunks: number[][]): Request {
	const body = new ReadableStream<Uint8Array>({
		start(controller) {
			for (const chunk of chunks) controller.enqueue(new Uint8Array(chunk));
			controller.close();
		},
	});
	return new Request("https://example.test/", { method: "POST", body, duplex: "half" } as RequestInit);
}

describe("readBytes", () => {
	it("joins a streamed body's chunks in order", async () => {
		const bytes = await readBytes(streamed([[1, 2], [], [3], [4, 5, 6]]));
		expect([...bytes]).toEqual([1, 2, 3, 4, 5, 6]);
	});

	it("answers no bytes for an empty or missing body", async () => {
		expect((await readBytes(streamed([]))).byteLength).toBe(0);
		expect((await readBytes(new Request("https://example.test/", { method: "POST" }))).byteLength).toBe(0);
	});

	it("refuses a streamed body past its limit", async () => {
		await expect(
			readBytes(
				streamed([
					[1, 2],
					[3, 4],
				]),
				3,
			),
		).rejects.toMatchObject({ error: { code: "request_too_large", details: { max_request_bytes: 3 } } });
	});
});
