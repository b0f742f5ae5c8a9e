// @ts-check
/**
 * @module
 * Where a sampling CPU profile of the Worker's isolate went, by side of each hop: the edge (the Hono app and the
 * produce code it runs), the partition object, the other objects, and the runtime's own work that no script frame
 * claims (HTTP and RPC delivery, promise jobs, garbage collection). The edge and every Durable Object run in the one
 * isolate, so a sample is placed by the outermost script frame of its stack (the task it belongs to: a request, an
 * RPC call received, an awaited continuation); times are inclusive. Functions are placed in their source modules by
 * the `// src/…` and `// node_modules/…` markers of the unminified bundle the profile was taken with.
 *
 * Also lists the native calls that took the most time with the script frame that made each (console.log, an RPC
 * stub's call, `new Response`, a timer), which self times alone cannot name. Mind that with the inspector open,
 * workerd also sends every console.log to it: the request log line weighs ~750 µs per request in a profile, ~8 µs
 * of CPU without the inspector (measured by server CPU: see profile.mjs).
 */

/**
 * The inspector target of the Worker itself among those workerd lists (one per worker of the local broker's config:
 * the entry, the assets fronts, caches, buckets and the Worker), or undefined. Matched by its whole name: the assets
 * fronts' names hold the Worker's (`core:user:tributary-asset-files`), and their isolates sit idle under any load.
 * @template {{ title: string }} T
 * @param {T[]} targets
 * @param {string} [name]  the Worker's name in wrangler.toml
 * @returns {T | undefined}
 */
export function workerTarget(targets, name = "tributary") {
	return targets.find((t) => t.title.endsWith(`worker core:user:${name}`));
}

/**
 * A sample this much later than the one before (500 sampling intervals) says the sampler or the isolate's thread was
 * starved of CPU by other processes, not where the isolate spent it: such samples are left out.
 */
export const SAMPLE_GAP_US = 50_000;

/**
 * @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[] }} Profile
 * @typedef {{ name: string, module: string }} Frame
 */

/**
 * The profile's nodes by id, and the samples that count: each one's node (if the profile names it) and the µs it
 * stands for, those after a starved gap (`SAMPLE_GAP_US`) left out and summed in `gapUs`.
 * @param {Profile} profile
 */
export function countedSamples(profile) {
	/** @type {Map<number, ProfileNode>} */
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	/** @type {{ node: ProfileNode | undefined, us: number }[]} */
	const samples = [];
	let gapUs = 0;
	for (let i = 0; i < profile.samples.length; i++) {
		const us = profile.timeDeltas[i + 1] ?? 0;
		if (us > SAMPLE_GAP_US) gapUs += us;
		else samples.push({ node: byId.get(profile.samples[i] ?? -1), us });
	}
	return { byId, samples, gapUs };
}

/** Module path prefixes and the side each belongs to; the first match wins. */
const SIDES = [
	["src/partition/", "partition object"],
	["src/http/", "edge"],
	["node_modules/hono/", "edge"],
	["src/topic/produce.ts", "edge"],
	["src/topic/topic-cache.ts", "edge"],
	["src/topic/", "topic registry object"],
	["src/metrics/", "metrics (reporters, hub object)"],
	["src/", "other script"],
	["node_modules/", "other script"],
];

/**
 * The module of each line of an unminified esbuild bundle, from its `// path` markers.
 * @param {string} bundleText
 * @returns {(line: number) => string}
 */
function moduleLocator(bundleText) {
	/** @type {[number, string][]} */
	const markers = [];
	bundleText.split("\n").forEach((line, i) => {
		const marker = /^\/\/ ((?:src|node_modules)\/\S+)$/.exec(line);
		if (marker !== null) markers.push([i, /** @type {string} */ (marker[1])]);
	});
	return (line) => {
		let lo = 0;
		let hi = markers.length - 1;
		let found = "";
		while (lo <= hi) {
			const mid = (lo + hi) >> 1;
			const [at, path] = /** @type {[number, string]} */ (markers[mid]);
			if (at <= line) {
				found = path;
				lo = mid + 1;
			} else hi = mid - 1;
		}
		return found;
	};
}

/** @param {Map<string, number>} map @param {string} key @param {number} us */
const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);

/**
 * Busy time by side (inclusive), the task entries of each side, and the costliest native calls by caller.
 * @param {Profile} profile
 * @param {string} bundleText  the unminified bundle the isolate ran
 */
export function sideSplit(profile, bundleText) {
	const moduleAt = moduleLocator(bundleText);
	const { byId, samples } = countedSamples(profile);
	/** @type {Map<number, number>} */
	const parentOf = new Map();
	for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
	/** @type {(node: ProfileNode) => Frame} */
	const frameOf = ({ callFrame: { functionName, url, lineNumber } }) => ({
		name: functionName || "(anonymous)",
		module: url.endsWith(".js") && !url.startsWith("node-internal") ? moduleAt(lineNumber) : "",
	});
	const sides = new Map();
	const entries = new Map();
	const natives = new Map();
	let busyUs = 0;
	for (const { node: leaf, us } of samples) {
		if (leaf === undefined || leaf.callFrame.functionName === "(idle)") continue;
		busyUs += us;
		/** @type {Frame[]} */
		const stack = [];
		for (let id = /** @type {number | undefined} */ (leaf.id); id !== undefined; id = parentOf.get(id)) {
			stack.push(frameOf(/** @type {ProfileNode} */ (byId.get(id))));
		}
		const outermost = stack.findLast((frame) => frame.module !== "");
		const side =
			outermost === undefined
				? `runtime, no script frame: ${stack[0]?.name ?? "?"}`
				: (SIDES.find(([prefix]) => outermost.module.startsWith(/** @type {string} */ (prefix)))?.[1] ?? "other script");
		add(sides, side, us);
		if (outermost !== undefined) add(entries, `${side}: ${outermost.name} (${shortModule(outermost.module)})`, us);
		const caller = stack.find((frame) => frame.module !== "");
		if (stack[0]?.module === "" && caller !== undefined)
			add(natives, `${stack[0].name} ← ${caller.name} (${shortModule(caller.module)})`, us);
	}
	const sorted = (/** @type {Map<string, number>} */ map) => [...map].sort((a, b) => b[1] - a[1]);
	return { busyUs, sides: sorted(sides), entries: sorted(entries), natives: sorted(natives) };
}

/** @param {string} path */
function shortModule(path) {
	return path.replace(/^node_modules\/([^/]+)\/.*$/, "$1").replace(/^src\//, "");
}

/**
 * The split as text: µs per unit of work (`units`: records or requests) and share of busy time.
 * @param {ReturnType<typeof sideSplit>} split
 * @param {number} units
 * @param {number} [top]
 */
export function formatSplit(split, units, top = 12) {
	const line = (/** @type {[string, number]} */ [name, us]) =>
		`${(us / units).toFixed(1).padStart(9)}  ${((us / split.busyUs) * 100).toFixed(1).padStart(5)} %  ${name}`;
	return [
		"inclusive µs per unit, share of busy time, by side (outermost script frame of each sample)",
		...split.sides.map(line),
		"",
		"task entries (outermost script frames)",
		...split.entries.slice(0, top * 2).map(line),
		"",
		"native calls ← the script frame that made them",
		...split.natives.slice(0, top).map(line),
	].join("\n");
}
