#!/usr/bin/env node
// @ts-check
/**
 * `npm run bundle:weigh`: what each part of the Worker adds to its gzipped bundle (scripts/lib/bundle-weight.mjs),
 * by package or src folder, then by module: the gzipped bytes the bundle loses without it, and its characters.
 *
 *   npm run bundle:weigh                 # the parts, and the 40 modules that weigh most
 *   npm run bundle:weigh -- --top 200    # more modules
 *   npm run bundle:weigh -- --json       # everything, as JSON
 */

import { parseArgs } from "node:util";
import { weighBundle, weightReport } from "./lib/index.mjs";

const { values } = parseArgs({ options: { top: { type: "string", default: "40" }, json: { type: "boolean", default: false } } });
const top = Number(values.top);
if (!Number.isInteger(top) || top < 0) throw new Error(`--top takes a whole number, not ${values.top}`);
const weights = await weighBundle();
console.log(values.json ? JSON.stringify(weights, null, "\t") : weightReport(weights, top).join("\n"));
