// @ts-check
/**
 * @module
 * What a worker thread runs for `runCli(…, { inThread: true })` (cli.mjs): the CLI's main module, its stdin the
 * run's input as a stream that ends after it, as a pipe closed by its writer does. Not the Worker's own `stdin: true`
 * stream: one nothing reads keeps the thread alive after the CLI is done (Node 20), and most commands never read it.
 */

import { Readable } from "node:stream";
import { workerData } from "node:worker_threads";

const { main, input } = /** @type {{ main: string, input: Uint8Array }} */ (workerData);
Object.defineProperty(process, "stdin", { value: Readable.from([Buffer.from(input)]), configurable: true, enumerable: true });
await import(main);
