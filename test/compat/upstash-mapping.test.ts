/**
 * The pure translation between Upstash's shapes and Tributary's.
 */
import { describe, expect, it } from "vitest";
import type { GroupDescription } from "../../src/group/types.ts";
import {
	committedOffsets,
	groupAssignments,
	parseStoredRecords,
	textOf,
	toMessage,
	upstashErrorBody,
} from "../../src/http/compat/upstash/mapping.ts";

describe("textOf: what a Kafka StringDeserializer would see", () => {
	it("a string as itself, other JSON as its text, bytes as UTF-8, nothing as an empty string", () => {
		expect(textOf("héllo")).toBe("héllo");
		expect(textOf({ a: [1, true] })).toBe('{"a":[1,true]}');
		expect(textOf(42)).toBe("42");
		expect(textOf(btoa("plain bytes"), "base64")).toBe("plain bytes");
		expect(textOf(null)).toBe("");
		expect(textOf(null, "base64")).toBe("");
	});

	it("keeps the digits of numbers a double cannot hold", () => {
		const [record] = parseStoredRecords(
			'{"partition":0,"offset":7,"timestamp":1,"key":null,"value":{"id":12345678901234567890},"headers":[]}',
		);
		expect(record === undefined ? null : toMessage("t", record).value).toBe('{"id":12345678901234567890}');
	});
});

describe("toMessage", () => {
	it("carries position and headers; a null header value becomes an empty string", () => {
		const [record] = parseStoredRecords(
			'{"partition":2,"offset":5,"timestamp":99,"key":"k","value":"AAE=","headers":[{"key":"a","value":null},{"key":"a","value":"2"}],"value_encoding":"base64"}',
		);
		expect(record === undefined ? null : toMessage("orders", record)).toEqual({
			topic: "orders",
			partition: 2,
			offset: 5,
			timestamp: 99,
			key: "k",
			value: "\u0000\u0001",
			headers: [
				{ key: "a", value: "" },
				{ key: "a", value: "2" },
			],
		});
	});
});

describe("committedOffsets", () => {
	it("answers in the order asked, -1 where nothing is committed", () => {
		const committed = [
			{ topic: "a", partition: 1, offset: 10, metadata: null },
			{ topic: "b", partition: 0, offset: 0, metadata: "m" },
		];
		expect(
			committedOffsets(
				[
					{ topic: "b", partition: 0 },
					{ topic: "a", partition: 0 },
					{ topic: "a", partition: 1 },
				],
				committed,
			),
		).toEqual([
			{ topic: "b", partition: 0, offset: 0 },
			{ topic: "a", partition: 0, offset: -1 },
			{ topic: "a", partition: 1, offset: 10 },
		]);
	});
});

describe("groupAssignments", () => {
	it("names instances by instance id (else member id), topics and partitions in order", () => {
		const member = (memberId: string, instanceId: string | null, assignment: { topic: string; partition: number }[]) => ({
			memberId,
			instanceId,
			subscription: { topics: ["x", "y"], pattern: null },
			sessionTimeoutMs: 45_000,
			autoOffsetReset: "latest" as const,
			autoCommit: null,
			assignment,
		});
		const description: GroupDescription = {
			state: "stable",
			generation: 3,
			strategy: "sticky",
			members: [
				member("m-2", "worker-b", [
					{ topic: "y", partition: 1 },
					{ topic: "x", partition: 3 },
					{ topic: "x", partition: 0 },
				]),
				member("m-1", null, []),
			],
			topics: [],
			committed: [],
		};
		expect(groupAssignments("g", description)).toEqual({
			name: "g",
			instances: [
				{ name: "m-1", topics: [] },
				{
					name: "worker-b",
					topics: [
						{ topic: "x", partitions: [0, 3] },
						{ topic: "y", partitions: [1] },
					],
				},
			],
		});
	});
});

describe("upstashErrorBody", () => {
	it("is the message and the status; a 500's request id is kept in the message", () => {
		expect(upstashErrorBody({ code: "topic_not_found", message: 'topic "t" does not exist', details: { topic: "t" } }, 404)).toEqual({
			error: 'topic "t" does not exist',
			status: 404,
		});
		expect(upstashErrorBody({ code: "internal", message: "internal error", details: { request_id: "r-1" } }, 500)).toEqual({
			error: "internal error (request id r-1)",
			status: 500,
		});
	});
});
