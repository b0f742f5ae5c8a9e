/**
 * Consumer groups: the member calls over HTTP, and time travel for session expiry (the
 * coordinator's deadlines are moved into the past in SQLite and read back into its memory, then its alarm is run;
 * nobody sleeps).
 */

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { coordinatorStub, partitionStub } from "./stubs.ts";
import { json } from "./worker.ts";

export interface Partition {
	topic: string;
	partition: number;
}

export interface Joined {
	member_id: string;
	generation: number;
	assignment: Partition[];
}

export interface PolledRecord extends Partition {
	offset: number;
	timestamp: number;
	key: unknown;
	value: unknown;
	headers: { key: string; value: string | null }[];
}

export interface Polled {
	records: PolledRecord[];
	generation: number;
	assignment: Partition[];
}

export interface GroupOffsets extends Partition {
	committed: number | null;
	metadata: string | null;
	high_watermark: number;
	lag: number | null;
}

export interface Described {
	group: string;
	state: string;
	generation: number;
	strategy: string;
	members: { member_id: string; instance_id: string | null; assignment: Partition[] }[];
	offsets: GroupOffsets[];
}

export function join(group: string, body: Record<string, unknown>) {
	return json<Joined>("POST", `/v1/groups/${group}/members`, 200, { body });
}

export function poll(group: string, member: string, body: Record<string, unknown> = {}) {
	return json<Polled>("POST", `/v1/groups/${group}/members/${member}/poll`, 200, { body });
}

export function heartbeat(group: string, member: string) {
	return json<{ generation: number; assignment: Partition[] }>("POST", `/v1/groups/${group}/members/${member}/heartbeat`, 200);
}

export function commit(group: string, member: string, generation: number, offsets: (Partition & { offset: number; metadata?: string })[]) {
	return json("POST", `/v1/groups/${group}/offsets`, 200, { body: { member_id: member, generation, offsets } });
}

export function describeGroup(group: string) {
	return json<Described>("GET", `/v1/groups/${group}`, 200);
}

/**
 * Moves the session deadlines of `members` into the past without running the alarm (set for their old deadlines,
 * ahead in real time): they are overdue, and expired by the coordinator's next call, as a call landing before the
 * alarm fires finds them.
 */
export async function lapse(group: string, members: readonly string[]): Promise<void> {
	await runInDurableObject(coordinatorStub(group), (instance, state) => {
		// 1, not 0: a deadline in the past that a call's rescheduling may still set an alarm at (setAlarm refuses 0).
		for (const id of members) state.storage.sql.exec("UPDATE members SET deadline_ms = 1 WHERE member_id = ?", id);
		// Live deadlines are memory over SQLite's (bounded staleness): read them back, as a restarted coordinator does.
		(instance as unknown as { store: { forgetLiveState(): void } }).store.forgetLiveState();
	});
}

/** Moves the session deadlines of `members` into the past and runs the coordinator's alarm. */
export async function expire(group: string, members: readonly string[]): Promise<void> {
	const stub = coordinatorStub(group);
	await lapse(group, members);
	// On a loaded machine the runtime may already have fired the alarm itself (its time passed while the test ran);
	// then nothing is left to run. Either way, what must hold is that an alarm ran after the deadlines moved: the
	// members are gone. With no one to expire, an alarm must still be pending (it re-arms while members live).
	const ran = await runDurableObjectAlarm(stub);
	if (members.length === 0) expect(ran, "an alarm was pending").toBe(true);
	await runInDurableObject(stub, (_instance, state) => {
		const left = state.storage.sql
			.exec<{ member_id: string }>("SELECT member_id FROM members")
			.toArray()
			.filter((row) => members.includes(row.member_id));
		expect(left, "expired members removed by the alarm").toEqual([]);
	});
}

/** Makes the coordinator re-read topic metadata at its next call (instead of waiting for the refresh interval). */
export async function forceMetadataRefresh(group: string): Promise<void> {
	await runInDurableObject(coordinatorStub(group), (instance) => {
		(instance as unknown as { refreshedAtMs: number }).refreshedAtMs = 0;
	});
}

export const key = (p: Partition): string => `${p.topic}/${p.partition}`;

/** Asserts the assignments cover `expected` partitions exactly once between them. */
export function expectPartitioned(assignments: readonly Partition[][], expected: readonly Partition[]): void {
	const all = assignments.flat().map(key);
	expect(new Set(all).size, "no partition is owned twice").toBe(all.length);
	expect([...all].sort()).toEqual(expected.map(key).sort());
}

export function partitionsOf(topic: string, count: number): Partition[] {
	return Array.from({ length: count }, (_, partition) => ({ topic, partition }));
}

export interface PolledPartitions {
	partitions: { topic: string; partition: number; records: Omit<PolledRecord, "topic">[] }[];
	generation: number;
	assignment: Partition[];
}

/** A poll laid out by partition (`"layout":"partitions"`). */
export function pollPartitions(group: string, member: string, body: Record<string, unknown> = {}) {
	return json<PolledPartitions>("POST", `/v1/groups/${group}/members/${member}/poll`, 200, { body: { ...body, layout: "partitions" } });
}

/**
 * From now on until `stop`, the partitions that built a poll's whole body themselves (`PartitionLog.readPollBody`,
 * a poll of one partition), as "topic/partition". The method is wrapped on the class every partition object of
 * this test file shares (found through a partition of `anyTopic`; RPC dispatches through the prototype, not an instance's own properties).
 */
export async function recordPollBodies(anyTopic: string): Promise<{ built: string[]; stop(): void }> {
	const built: string[] = [];
	let stop = (): void => undefined;
	await runInDurableObject(await partitionStub(anyTopic, 0), (instance) => {
		type ReadPollBody = (this: unknown, request: unknown, head: string, tail: string) => unknown;
		const prototype = Object.getPrototypeOf(instance) as { readPollBody: ReadPollBody };
		const original = prototype.readPollBody;
		prototype.readPollBody = function (this: unknown, request, head, tail) {
			const entry = /"topic":("[^"]*"),"partition":(\d+)/.exec(head);
			built.push(entry === null ? head : `${JSON.parse(entry[1] as string)}/${entry[2]}`);
			return original.call(this, request, head, tail);
		};
		stop = () => {
			prototype.readPollBody = original;
		};
	});
	return { built, stop: () => stop() };
}

/**
 * From now on until `stop`, every poll body a partition builds itself (`PartitionLog.readPollBody`) crosses to the
 * edge cut to half its bytes, as when the partition's object is reset mid-pipe; the answer still states its full size.
 */
export async function cutPollBodies(anyTopic: string): Promise<{ stop(): void }> {
	let stop = (): void => undefined;
	await runInDurableObject(await partitionStub(anyTopic, 0), (instance) => {
		type Share = { ok: boolean; value?: { body?: ReadableStream<Uint8Array> | null } };
		type ReadPollBody = (this: unknown, request: unknown, head: string, tail: string) => Promise<Share>;
		const prototype = Object.getPrototypeOf(instance) as { readPollBody: ReadPollBody };
		const original = prototype.readPollBody;
		prototype.readPollBody = async function (this: unknown, request, head, tail) {
			const read = await original.call(this, request, head, tail);
			const body = read.ok ? read.value?.body : null;
			if (read.value === undefined || body === null || body === undefined) return read;
			const bytes = new Uint8Array(await new Response(body).arrayBuffer());
			return { ...read, value: { ...read.value, body: new Blob([bytes.subarray(0, bytes.length >> 1)]).stream() } };
		};
		stop = () => {
			prototype.readPollBody = original;
		};
	});
	return { stop: () => stop() };
}

/** Sets the coordinator's offsets retention (read from the Worker var when it starts) to `ms`. */
export async function setOffsetsRetention(group: string, ms: number): Promise<void> {
	await runInDurableObject(coordinatorStub(group), (instance) => {
		(instance as unknown as { offsetsRetentionMs: number }).offsetsRetentionMs = ms;
	});
}
