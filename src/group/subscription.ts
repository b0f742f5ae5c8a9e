/**
 * @module
 * Subscriptions: topic lists and `topic_pattern` regular expressions. A pattern matches the whole topic name, as
 * Kafka's `Pattern.matcher(topic).matches()` does. Patterns run inside a coordinator, so the ones that can
 * backtrack exponentially (a repeated group that itself repeats or alternates, backreferences) are refused.
 */

import type { Subscription } from "./types.ts";

/** Why `pattern` is refused, or null when it is usable. */
export function patternProblem(pattern: string): string | null {
	try {
		new RegExp(pattern);
	} catch (cause) {
		return `topic_pattern is not a valid regular expression: ${(cause as Error).message}`;
	}
	return backtrackingProblem(pattern);
}

interface Group {
	/** The group holds a repetition or an alternation, so repeating it again could backtrack exponentially. */
	risky: boolean;
}

const REPEAT = new Set(["*", "+", "{"]);

/** Scans the pattern's groups: a group followed by `*`, `+` or `{n,m}` must not itself repeat or alternate. */
function backtrackingProblem(pattern: string): string | null {
	const stack: Group[] = [{ risky: false }];
	let inClass = false;
	for (let i = 0; i < pattern.length; i++) {
		const c = pattern[i] as string;
		if (c === "\\") {
			if (/[1-9k]/.test(pattern[i + 1] ?? "")) return "topic_pattern may not use backreferences";
			i++;
			continue;
		}
		if (inClass) {
			if (c === "]") inClass = false;
			continue;
		}
		const top = stack[stack.length - 1] as Group;
		if (c === "[") inClass = true;
		else if (c === "(") stack.push({ risky: false });
		else if (REPEAT.has(c) || c === "|" || (c === "?" && pattern[i - 1] !== "(")) top.risky = true;
		else if (c === ")") {
			const closed = stack.pop() as Group;
			if (closed.risky && REPEAT.has(pattern[i + 1] ?? "")) {
				return "topic_pattern may not repeat a group that itself repeats or alternates (it could backtrack exponentially)";
			}
			(stack[stack.length - 1] as Group).risky ||= closed.risky;
		}
	}
	return null;
}

/** The whole-name matcher of a pattern that passed `patternProblem`. */
export function compilePattern(pattern: string): RegExp {
	return new RegExp(`^(?:${pattern})$`);
}

/** Which of `topics` a subscription covers. */
export function subscribedTopics(subscription: Subscription, topics: Iterable<string>): Set<string> {
	const covered = new Set<string>();
	if (subscription.topics !== null) {
		const wanted = new Set(subscription.topics);
		for (const topic of topics) if (wanted.has(topic)) covered.add(topic);
		return covered;
	}
	const matcher = compilePattern(subscription.pattern);
	for (const topic of topics) if (matcher.test(topic)) covered.add(topic);
	return covered;
}

export function sameSubscription(a: Subscription, b: Subscription): boolean {
	if (a.pattern !== null || b.pattern !== null) return a.pattern === b.pattern;
	const left = new Set(a.topics);
	return left.size === new Set(b.topics).size && (b.topics ?? []).every((t) => left.has(t));
}
