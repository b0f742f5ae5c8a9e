/**
 * OffsetFetch v8 (KIP-709) as frames, through the whole gateway, against a stand-in for Tributary's group API: one
 * request asks for several groups, as Java's admin batches `listConsumerGroupOffsets`, and each group is answered
 * on its own (its offsets, or its own error), as a broker answers them.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { APIS } from "../../gateway/protocol/apis.js";
import { exchange as exchangeWith } from "../e2e/lib/kafka.mjs";
import { gatewayOver } from "./lib/stand-in.mjs";

/** Groups as Tributary describes them: `billing` has committed offsets, `locked` is forbidden, any other unknown. */
const worker = createServer((req, res) => {
	const group = decodeURIComponent((req.url ?? "").replace(/^\/v1\/groups\//, ""));
	res.setHeader("content-type", "application/json");
	if (group === "billing") {
		res.statusCode = 200;
		const offsets = [
			{ topic: "orders", partition: 0, committed: 41, metadata: "m" },
			{ topic: "orders", partition: 1, committed: 7, metadata: null },
			{ topic: "orders", partition: 2, committed: null, metadata: null },
		];
		res.end(JSON.stringify({ group, offsets }));
	} else if (group === "locked") {
		res.statusCode = 403;
		res.end(JSON.stringify({ error: { code: "forbidden", message: "not this group" } }));
	} else {
		res.statusCode = 404;
		res.end(JSON.stringify({ error: { code: "group_not_found", message: "no such group" } }));
	}
});
const gateway = gatewayOver(worker);

/** A group's answer as [topic, [partition, committed offset, metadata, error code]…]…. @param {any} group */
const offsetsOf = (group) =>
	group.topics.map((/** @type {any} */ t) => [
		t.name,
		t.partitions.map((/** @type {any} */ p) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode]),
	]);

test("ApiVersions advertises OffsetFetch v1–v8", () => {
	const api = /** @type {any} */ ([...APIS.values()].find((a) => a.name === "OffsetFetch"));
	assert.deepEqual([api.minVersion, api.maxVersion], [1, 8]);
});

test("OffsetFetch v8 answers several groups in one request, each with its own offsets or its own error", { timeout: 10_000 }, async () => {
	const answer = await exchangeWith(gateway.port, "OffsetFetch", 8, {
		groups: [
			{ groupId: "billing", topics: [{ name: "orders", partitionIndexes: [0, 2] }] },
			{ groupId: "billing", topics: null },
			{ groupId: "fresh", topics: [{ name: "orders", partitionIndexes: [0] }] },
			{ groupId: "locked", topics: null },
		],
		requireStable: false,
	});
	assert.deepEqual(
		answer.groups.map((/** @type {any} */ g) => [g.groupId, g.errorCode, offsetsOf(g)]),
		[
			[
				"billing",
				KAFKA.NONE,
				[
					[
						"orders",
						[
							[0, 41, "m", KAFKA.NONE],
							[2, -1, "", KAFKA.NONE],
						],
					],
				],
			],
			[
				"billing",
				KAFKA.NONE,
				[
					[
						"orders",
						[
							[0, 41, "m", KAFKA.NONE],
							[1, 7, "", KAFKA.NONE],
						],
					],
				],
			],
			["fresh", KAFKA.NONE, [["orders", [[0, -1, "", KAFKA.NONE]]]]],
			["locked", KAFKA.GROUP_AUTHORIZATION_FAILED, []],
		],
	);
});

test("OffsetFetch v7 still asks for one group", { timeout: 10_000 }, async () => {
	const answer = await exchangeWith(gateway.port, "OffsetFetch", 7, {
		groupId: "billing",
		topics: [{ name: "orders", partitionIndexes: [1] }],
		requireStable: false,
	});
	assert.equal(answer.errorCode, KAFKA.NONE);
	assert.deepEqual(offsetsOf(answer), [["orders", [[1, 7, "", KAFKA.NONE]]]]);
});
