/**
 * Metadata's topic auto-creation (`--auto-create-topics-enable`, Kafka's `auto.create.topics.enable`) against a
 * stand-in for Tributary that holds topics and the caller's right to create them: a missing topic named with
 * AllowAutoTopicCreation is created with Tributary's default partitions and answered at once; without the gateway's
 * option or the request's flag it stays UNKNOWN_TOPIC_OR_PARTITION; a caller without the right to create it gets
 * TOPIC_AUTHORIZATION_FAILED, as from a broker; two clients creating it at once both get the one topic.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { KAFKA } from "../../gateway/errors.js";
import { metadata } from "../../gateway/handlers/cluster.js";
import { parseGatewayArgs } from "../../gateway/main.js";
import { TopicList } from "../../gateway/topic-list.js";

/** Tributary's default partition count, as the stand-in creates a topic that names none. */
const DEFAULT_PARTITIONS = 3;

/**
 * A Tributary holding `names`, recording its calls; `mayCreate` false answers a create 403, as for a key without admin on
 * the topic. `beforeCreate` runs inside a create before it looks at the topics (another client's create lands there).
 * @param {string[]} names @param {{ mayCreate?: boolean, beforeCreate?: (name: string) => void }} [options]
 */
function standIn(names, { mayCreate = true, beforeCreate = () => {} } = {}) {
	/** @type {Map<string, number>} */
	const topics = new Map(names.map((name) => [name, 1]));
	/** @type {string[]} */
	const calls = [];
	const tributary = {
		credentials: { authorization: null },
		async listAllTopics() {
			calls.push("list");
			return { status: 200, body: { topics: [...topics].map(([name, partitions]) => ({ name, partitions })) } };
		},
		/** @param {string} name */
		async describeTopic(name) {
			calls.push(`describe ${name}`);
			const partitions = topics.get(name);
			return partitions === undefined
				? { status: 404, body: { error: { code: "topic_not_found", message: "no such topic" } } }
				: { status: 200, body: { name, partitions: Array.from({ length: partitions }, (_, partition) => ({ partition })) } };
		},
		/** @param {{ name: string, partitions?: number }} body */
		async createTopic(body) {
			calls.push(`create ${JSON.stringify(body)}`);
			if (!mayCreate) return { status: 403, body: { error: { code: "forbidden", message: `may not admin topic "${body.name}"` } } };
			beforeCreate(body.name);
			if (topics.has(body.name)) return { status: 409, body: { error: { code: "topic_exists", message: "exists" } } };
			topics.set(body.name, body.partitions ?? DEFAULT_PARTITIONS);
			return { status: 201, body: { name: body.name, partitions: body.partitions ?? DEFAULT_PARTITIONS } };
		},
	};
	return { tributary, calls, topics };
}

/** A Metadata v9 context on `tributary`, the gateway's option set as `autoCreateTopics`. */
function context(tributary, autoCreateTopics) {
	const session = { topicList: new TopicList(() => 1_000_000) };
	return /** @type {any} */ ({ tributary, session, version: 9, advertised: { host: "h", port: 1 }, log: () => {}, autoCreateTopics });
}

const asked = (/** @type {string} */ name, allowAutoTopicCreation = true) => ({ topics: [{ name }], allowAutoTopicCreation });
/** @param {any} answer */
const only = (answer) => {
	const [t] = answer.topics;
	return { name: t.name, errorCode: t.errorCode, partitions: t.partitions.length };
};

test("with the option, a missing topic named with AllowAutoTopicCreation is created with the default partitions and answered", async () => {
	const { tributary, calls, topics } = standIn([]);
	const answer = only(await metadata(asked("orders"), context(tributary, true)));
	assert.deepEqual(answer, { name: "orders", errorCode: KAFKA.NONE, partitions: DEFAULT_PARTITIONS });
	assert.equal(topics.get("orders"), DEFAULT_PARTITIONS);
	assert.deepEqual(calls, ["list", "describe orders", 'create {"name":"orders"}']);
});

test("without the option, or with AllowAutoTopicCreation false, a missing topic is UNKNOWN_TOPIC_OR_PARTITION and nothing is created", async () => {
	for (const [option, allow] of [
		[false, true],
		[true, false],
	]) {
		const { tributary, calls } = standIn([]);
		const answer = only(await metadata(asked("orders", allow), context(tributary, option)));
		assert.deepEqual(
			answer,
			{ name: "orders", errorCode: KAFKA.UNKNOWN_TOPIC_OR_PARTITION, partitions: 0 },
			`option ${option}, allow ${allow}`,
		);
		assert.ok(!calls.some((c) => c.startsWith("create")), calls.join());
	}
});

test("a caller who may not create the topic gets TOPIC_AUTHORIZATION_FAILED, as a broker answers one without CREATE", async () => {
	const { tributary, topics } = standIn([], { mayCreate: false });
	const answer = only(await metadata(asked("orders"), context(tributary, true)));
	assert.deepEqual(answer, { name: "orders", errorCode: KAFKA.TOPIC_AUTHORIZATION_FAILED, partitions: 0 });
	assert.equal(topics.has("orders"), false);
});

test("another client's create landing first: the topic it made is answered, not an error", async () => {
	const { tributary, topics } = standIn([], { beforeCreate: (name) => topics.set(name, 2) });
	const answer = only(await metadata(asked("orders"), context(tributary, true)));
	assert.deepEqual(answer, { name: "orders", errorCode: KAFKA.NONE, partitions: 2 });
});

test("an existing topic, an invalid name and Kafka's internal topics are answered as without the option: nothing created", async () => {
	const { tributary, calls } = standIn(["orders"]);
	const ctx = context(tributary, true);
	assert.deepEqual(only(await metadata(asked("orders"), ctx)), { name: "orders", errorCode: KAFKA.NONE, partitions: 1 });
	assert.equal(only(await metadata(asked("bad name"), ctx)).errorCode, KAFKA.INVALID_TOPIC_EXCEPTION);
	assert.equal(only(await metadata(asked("__consumer_offsets"), ctx)).errorCode, KAFKA.UNKNOWN_TOPIC_OR_PARTITION);
	assert.ok(!calls.some((c) => c.startsWith("create")), calls.join());
});

test("--auto-create-topics-enable is off unless given", () => {
	assert.equal(/** @type {any} */ (parseGatewayArgs(["--listen", "127.0.0.1:9092"], {})).autoCreateTopics, false);
	assert.equal(
		/** @type {any} */ (parseGatewayArgs(["--listen", "127.0.0.1:9092", "--auto-create-topics-enable"], {})).autoCreateTopics,
		true,
	);
});
