/**
 * @module
 * A group member's requests to the broker: the join, heartbeat, poll, commit and leave of one member, and the read of
 * the group's commits. The membership those calls keep, and what their answers mean, are `GroupMember`'s, in
 * consumer-member.ts.
 */

import { type ConsumerOptions, instanceField, instanceRefused } from "./consumer-options.ts";
import { type Http, type RequestOptions, seg } from "./http.ts";

/**
 * The 503 codes that, answered to a poll, prove it was not served: `partition_unavailable` (a read cut short, undone:
 * the positions went back to where the read began; a segment that kept disappearing, before any position moved).
 */
export const POLL_UNSENT_CODES: readonly string[] = ["partition_unavailable"];

export class MemberCalls {
	readonly #http: Http;
	readonly #options: ConsumerOptions;
	/** The group's path, `/v1/groups/{group}`. */
	readonly #groupPath: string;
	/** Whether heartbeats, polls and commits name the instance: not once an older Worker refused it (`#memberCall`). */
	#namesInstance = true;

	constructor(http: Http, options: ConsumerOptions) {
		this.#http = http;
		this.#options = options;
		this.#groupPath = `/v1/groups/${seg(options.group)}`;
	}

	join<T>(body: object): Promise<T> {
		return this.#http.request<T>("POST", `${this.#groupPath}/members`, { body, retry: "always" });
	}

	heartbeat<T>(memberId: string): Promise<T> {
		return this.#memberCall<T>(`${this.#memberPath(memberId)}/heartbeat`, {}, { retry: "always" });
	}

	/**
	 * A poll is sent once: one that was served moved the member's read positions, and one that was not
	 * (`POLL_UNSENT_CODES`) is sent again by the member after `PollBackoff`'s wait, while its heartbeat goes on.
	 */
	poll<T>(memberId: string, body: object, waitMs: number): Promise<T> {
		const path = `${this.#memberPath(memberId)}/poll`;
		return this.#memberCall<T>(path, body, { retry: "never", unsentCodes: POLL_UNSENT_CODES, waitMs });
	}

	commit(body: object): Promise<unknown> {
		return this.#memberCall(`${this.#groupPath}/offsets`, body, { retry: "always" });
	}

	/**
	 * Leaving: without the broker committing the last poll's records (`auto_commit=false`), whatever the mode. This
	 * consumer commits what it handed out itself; the rest of that poll may never have reached it.
	 */
	leave(memberId: string): Promise<unknown> {
		return this.#http.request("DELETE", `${this.#memberPath(memberId)}?auto_commit=false`, { retry: "always" });
	}

	/** The group's description: its committed offsets among the rest. */
	describe<T>(): Promise<T> {
		return this.#http.request<T>("GET", this.#groupPath, { retry: "always" });
	}

	#memberPath(memberId: string): string {
		return `${this.#groupPath}/members/${seg(memberId)}`;
	}

	/**
	 * A heartbeat, poll or commit (`body`), naming the static instance (`instanceField`) while the Worker takes it. A
	 * Worker from before `instance_id` on member calls refuses the field (400, its strict bodies): the call is sent again
	 * without it, and no later call of this consumer names it. Such a Worker fences nothing over HTTP: a replaced
	 * consumer is told `unknown_member` and joins again, as before (client/README.md).
	 */
	async #memberCall<T>(path: string, body: object, init: Omit<RequestOptions, "body">): Promise<T> {
		if (!this.#namesInstance || this.#options.instanceId === undefined) return this.#http.request<T>("POST", path, { ...init, body });
		try {
			return await this.#http.request<T>("POST", path, { ...init, body: { ...body, ...instanceField(this.#options) } });
		} catch (error) {
			if (!instanceRefused(error)) throw error;
			this.#namesInstance = false;
			return this.#http.request<T>("POST", path, { ...init, body });
		}
	}
}
