// @ts-check
/**
 * @module
 * The one library for running the Worker locally, shared by `npm start` (scripts/start.mjs), the e2e tests
 * (test/e2e) and the bench (bench/). Import from here:
 *
 * - Miniflare: `bundleWorker({ root?, configPath?, outdir? })` → the bundle's path;
 *   `startLocalBroker({ token, port?, persistTo?, bindings?, root?, configPath?, scriptPath?, quiet?, captureOutput? })`
 *   → `{ url, port, inspectorPort, output(), dispose() }`.
 * - wrangler dev: `startWranglerDev({ persistTo, token, vars?, port?, root?, configPath?, logPath?, keepWarm? })`
 *   → `{ url, port, pid, output(), stop(), crash(), restart(), workerdPids() }`; `stopAllWranglerDevs()`,
 *   `killAllWranglerDevsSync()`, `wranglerDevArgs()` for a foreground run.
 * - wrangler.toml: `readWranglerConfig(path)` → `{ name, compatibilityDate, compatibilityFlags, durableObjects,
 *   vars, r2Buckets, assets, dev, secrets }`.
 * - Hang bounds: `underLoad(ms, atLoad)` (a bound set at a load, stretched by the machine's load when it is set);
 *   `useLoadSource(read)` for a test's stand-in load.
 * - Ports and waiting: `freePort()`, `assertPortFree(port, advice?, host?)`, `portInUse(port, advice)`, `isPortOpen(port)`, `waitForPortClosed(port)`,
 *   `healthy(url)`, `waitUntil(check, { timeoutMs })`, `within(promise, timeoutMs)`, `sleep(ms)`.
 * - The process table: `listProcesses()`, `descendants(pid)`, `groupMembers(pgid)`, `isAlive(pid)`,
 *   `signal(pid, sig)`, `stopTree(rootPid, sig, graceMs)`, `commandLine(pid)`, `descendantCpuSeconds(pid?)`,
 *   `processCpuSeconds(pid)`, `threadCpuSeconds(pid)`, `machineBusySeconds()`.
 * - API documents: `writeApiDocs(directory, { root? })`, `watchApiDocs(directory, { root?, log? })`.
 * - The bundle: `measureBundle({ root?, configPath? })` (its size, the budget's measure); `weighBundle({ root?,
 *   configPath? })` (what each module and part adds to it gzipped), `weightReport(weights, top)` (that as lines).
 * - `.dev.vars`: `ensureAdminToken(path)`, `adminTokenWarning(path)`, `generateToken()`, `parseDevVars(text)`,
 *   `varsWranglerDevDrops(vars, secrets)` (the lines `wrangler dev` leaves out, to pass as `--var`s).
 * - This process's own output: `onReaderGone(stream, fn)` (a write failed: the reader went away, stop quietly).
 * - Paths: `PROJECT_ROOT`, `WRANGLER_BIN`, `DEFAULT_PERSIST_TO`, `DEFAULT_OUTDIR`, `HOST`; `wranglerEnv(extra?)`.
 */

export { watchApiDocs, writeApiDocs } from "./api-docs.mjs";
export { measureBundle, WORKER_GZIP_BYTES_MAX, WORKER_GZIP_BYTES_TARGET } from "./bundle-size.mjs";
export { weighBundle, weightReport } from "./bundle-weight.mjs";
export {
	adminTokenWarning,
	ensureAdminToken,
	generateToken,
	PLACEHOLDER_TOKEN,
	parseDevVars,
	varsWranglerDevDrops,
} from "./dev-vars.mjs";
export { LOAD_STRETCH_MAX, underLoad, useLoadSource } from "./load.mjs";
export { bundleWorker, startLocalBroker } from "./local-broker.mjs";
export {
	assertPortFree,
	freePort,
	healthy,
	isPortOpen,
	optionAt,
	parsePort,
	portInUse,
	portOption,
	sleep,
	waitForPortClosed,
	waitUntil,
	within,
} from "./net.mjs";
export {
	commandLine,
	descendantCpuSeconds,
	descendants,
	groupMembers,
	isAlive,
	listProcesses,
	machineBusySeconds,
	processCpuSeconds,
	signal,
	stopChild,
	stopTree,
	threadCpuSeconds,
} from "./process-tree.mjs";
export { DEFAULT_OUTDIR, DEFAULT_PERSIST_TO, DEFAULT_PORT, HOST, PROJECT_ROOT, WRANGLER_BIN, wranglerEnv } from "./project.mjs";
export { onReaderGone } from "./reader-gone.mjs";
export { readWranglerConfig } from "./wrangler-config.mjs";
export {
	killAllWranglerDevsSync,
	runWranglerForeground,
	startWranglerDev,
	stopAllWranglerDevs,
	wranglerDevArgs,
} from "./wrangler-dev.mjs";
