/**
 * settleEach answers whatever its method throws as a failure Result, never a rejection crossing RPC: a thrown null or
 * undefined too, whose `overloaded` it must not read unguarded (a TypeError from inside its own catch).
 */

import { afterEach, expect, it, vi } from "vitest";
import { type Failure, settleEach } from "../../src/shared/errors.ts";
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
