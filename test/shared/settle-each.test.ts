/**
 * settleEach answers whatever its method throws as a failure Result, never a rejection crossing RPC: a thrown null or
 * undefined too, whose `overloaded` it must not read unguarded (a TypeError from inside its own catch).
 */

import { afterEach, expect, it, vi } from "vitest";
import { thrownError } from "../../src/http/errors.ts";
import { caughtFailure, type Failure, settleEach } from "../../src/shared/errors.ts";
import { STORAGE_FAILED, settled } from "../support/rpc-failure.ts";

class Thrower {
	async undefinedThrown(): Promise<undefined | Failure> {
		await Promise.reject(undefined);
		return undefined;
	}
	async nullThrown(): Promise<undefined | Failure> {
		throw null;
	}
}
settleEach(Thrower, ["undefinedThrown", "nullThrown"]);

afterEach(() => vi.restoreAllMocks());

it("answers a thrown undefined or null as a failure Result, not a rejection", async () => {
	vi.spyOn(console, "error").mockImplementation(() => undefined);
	const thrower = new Thrower();
	expect([await settled(thrower.undefinedThrown()), await settled(thrower.nullThrown())]).toEqual([STORAGE_FAILED, STORAGE_FAILED]);
});

it("answers a cause the platform marks transient as the edge does, whatever its class: a marked TypeError is 503, not a bug's 500", () => {
	vi.spyOn(console, "error").mockImplementation(() => undefined);
	const marked = [{ retryable: true }, { durableObjectReset: true }, { overloaded: true }].map((mark) =>
		Object.assign(new TypeError("Network connection lost."), { remote: true }, mark),
	);
	for (const cause of marked) {
		const failure = caughtFailure(cause);
		expect(failure.ok ? null : [failure.error.code, failure.error.details]).toEqual([thrownError(cause, "r").code, edgeDetails(cause)]);
	}
});

/** thrownError's details but the request id the edge adds. */
function edgeDetails(cause: unknown): unknown {
	const { request_id: _, ...details } = thrownError(cause, "r").details ?? {};
	return Object.keys(details).length === 0 ? undefined : details;
}

it("answers workerd's refusal of a method its receiver lacks (an object of the previous deploy) as transient, at the edge and inside an object: 503, not a bug's 500", () => {
	vi.spyOn(console, "error").mockImplementation(() => undefined);
	// As workerd rejects the call (its `remote` mark: the receiver threw it).
	const skew = Object.assign(new TypeError('The RPC receiver does not implement "refuseOffsets".'), { remote: true });
	const failure = caughtFailure(skew);
	expect([thrownError(skew, "r").code, failure.ok ? null : failure.error.code]).toEqual(["service_unavailable", "service_unavailable"]);
});
