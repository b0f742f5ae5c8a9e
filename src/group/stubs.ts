/**
 * @module
 * How the edge reaches a group's Durable Objects: one coordinator per group id, one directory for all.
 */

import type { GroupCoordinator } from "./group-coordinator.ts";
import { DIRECTORY_NAME, type GroupDirectory } from "./group-directory.ts";

export function groupCoordinator(env: Env, groupId: string): DurableObjectStub<GroupCoordinator> {
	return env.GROUP_COORDINATOR.getByName(groupId);
}

export function groupDirectory(env: Env): DurableObjectStub<GroupDirectory> {
	return env.GROUP_DIRECTORY.getByName(DIRECTORY_NAME);
}
