/**
 * @module
 * How a partition's answer to an append crosses RPC. The common answer, a fresh append, is sent as text,
 * `"<baseOffset> <appendTimeMs>"`; every other (a replayed batch, a refusal, a request for config) as the
 * `AppendOutcome` object itself. workerd's RPC returns a primitive for less than an object: an object answer cost
 * about 10 µs more per call than the same figures as a string (measured in workerd on a bare Durable Object, 2,000
 * calls of each kind in 8 alternating rounds: medians 47–54 against 37–41 µs per call), where a one-record produce
 * costs the server about 500 µs in all. The argument's shape mattered far less (an object against a string of the
 * same text: 0–4 µs). The caller asks for text (`AppendRequest.textAnswer`), so an edge of an earlier version,
 * still running during a deploy, keeps getting the object it reads.
 */

import type { AppendOutcome } from "../partition/types.ts";
import { assert } from "./assert.ts";
import { ok } from "./errors.ts";

/** What `PartitionLog.append` answers over RPC: asked for text, a fresh append as text (`appendAnswer`); else as is. */
export type AppendAnswer = string | AppendOutcome;

/**
 * The partition's side: `outcome` as it crosses RPC to a caller that asked for text (`asText`) or did not. An append
 * the partition `stamped` with its append time (a LogAppendTime topic) says so, as the object: the text stays the two
 * figures an edge of an earlier version reads, and only such topics pay the object's cost.
 */
export function appendAnswer(outcome: AppendOutcome, asText = false, stamped = false): AppendAnswer {
	if (stamped && "ok" in outcome && outcome.ok) return ok({ ...outcome.value, stamped });
	if (!asText || !("ok" in outcome) || !outcome.ok || outcome.value.duplicate) return outcome;
	return `${outcome.value.baseOffset} ${outcome.value.appendTimeMs}`;
}

/** The caller's side: the outcome `answer` stands for. */
export function appendOutcome(answer: AppendAnswer): AppendOutcome {
	if (typeof answer !== "string") return answer;
	const space = answer.indexOf(" ");
	const baseOffset = Number(answer.slice(0, space));
	const appendTimeMs = Number(answer.slice(space + 1));
	assert(space > 0 && Number.isSafeInteger(baseOffset) && Number.isSafeInteger(appendTimeMs), "append answer");
	return ok({ baseOffset, appendTimeMs, duplicate: false });
}
