// @ts-check
/**
 * `node bench/answer-shapes.mjs [passes] [requests]`: what a produce's answer costs in a bare workerd (Miniflare, no
 * Tributary code but Hono's `Context`, bundled from node_modules with esbuild). Each request builds the answer to a
 * 100-record produce one way `BUILDS` times (default 10, so a build's cost stands above the request's; 1 is the
 * route's own pace) and answers the last. Prints workerd's CPU (its process's, from /proc) per answer built for each
 * shape over `passes` passes of `requests` requests, the shapes alternating. Not part of `npm test` or the bench.
 *
 * Shapes (`SHAPES=a,b,…`): `floor` (nothing built: a constant answer), `stringify` (the body's text alone:
 * `JSON.stringify({ offsets })` of 100 positions), `context` (a Hono
 * `Context` and the eight headers set on it, as the middleware do for every request, and the body's text: what
 * `hono` costs before its `Response`), `hono` (as the produce route answers now: a Hono `Context`, the
 * request id and the seven security headers set on it with `c.header` as the middleware do, `c.json({ offsets })`, then
 * the checks securityHeaders makes of `c.res`), `prebuilt` (the same text and headers, `new Response(text, { headers })`
 * with the headers one object spread from a prebuilt one), `headers-copy` (the same from a copy of a prebuilt `Headers`),
 * `after` (as the middleware answer since: a Context with no headers given to it, `c.json`, then each header set on
 * the answer after a check that it is not there), `after-set` (the same without the checks), `route-built` (a
 * Context answered with the whole set in one object, as a route could build it),
 * `ceiling` (what bench/ceiling's Worker answers a produce: `{"ok":true}` with Content-Type alone); with CORS on,
 * `cors-context` (as answerCors set its headers before: on `c.res` read before the answer, a placeholder whose headers
 * Hono copies into the answer, and `Vary` by `c.header` after it, which copies the answer again) and `cors-after` (as
 * it sets them now: on the built answer, each after a check); `chain` (Hono's `compose` over a request-id layer,
 * the real securityHeaders middleware and the route) and `chain-drain` (the same under one more async layer, the
 * refusal's drain as app.ts had it outermost).
 *
 * What it showed (BUILDS=100, load ~10, 200 requests a pass; µs a build over `floor`'s, median of 6 passes, a second
 * run of 4 alike): stringify 10, context 18, hono 34, prebuilt 22.5, headers-copy 25, ceiling 6. hono − prebuilt
 * 8 (4.5 to 13, hono higher in 6 of 6; 12.75 in the run of 4, 4 of 4); hono − context 13 and prebuilt − stringify
 * 13: the Response costs the same either way, and the difference is the Context and its eight `c.header` calls,
 * which the middleware make for every route (security-headers.ts measured their alternatives). At BUILDS=1 (1,000
 * requests a pass, 4 passes) the request's own cost hides it: floor 565, hono 705, prebuilt 710, ceiling 625 (medians).
 * A profile's ~560 µs a request for this Response (bench/profile.mjs) is the sampler's, not the answer's.
 *
 * Later (BUILDS=100, 5 passes of 200 requests, load ~18; µs a build, passes after the first): floor 7-8, hono
 * 42.5-47, after 34.5-37.5, after-set 34-36.5, route-built 28.5-36, prebuilt 31.5-35. Setting the headers on the
 * answer instead of on the Context saves ~8 µs an answer, and the checks that a route did not set one cost nothing
 * visible; a route building the whole set itself would save ~2 more, not worth a second place for the headers.
 *
 * CORS on (BUILDS=100, 5 passes of 200 requests, load ~4; µs a build, per pass): after 31-35.5, cors-context 50.5-59,
 * cors-after 30.5-38: CORS's headers set on the answer cost about nothing over the security headers alone, where
 * set before the answer they cost ~20 µs more (two copies of the answer's headers, not one). The drain's layer
 * (8 passes, load ~4): chain 27.5-31.5 (median 29.75), chain-drain 28.5-31.5 (30.0), after 27.5-30.5: one more
 * async layer is under 1 µs of ~30, within the noise, as app.ts's ten no-op layers were. Again once securityHeaders
 * drained every answer's unread body (6 passes, load ~5-6; medians): cors-context 53.25, cors-after 33.75, after 31.5,
 * chain 32.75, chain-drain 32.5: the drain's check of a request without a body costs nothing visible either.
 */

import { bundleEntry, measurePasses, startBareWorkerd } from "./lib/bare-workerd.mjs";

const PASSES = Number(process.argv[2] ?? 3);
const REQUESTS = Number(process.argv[3] ?? 200);
const BUILDS = Number(process.env.BUILDS ?? 10);
const SHAPES = (process.env.SHAPES ?? "floor,stringify,context,hono,prebuilt,headers-copy,ceiling").split(",");

const entry = /* js */ `
import { Context } from "./node_modules/hono/dist/context.js";
import { compose } from "./node_modules/hono/dist/compose.js";
import { drainUnreadBody } from "./src/http/body.ts";
import { SECURITY_HEADERS, securityHeaders } from "./src/http/middleware/security-headers.ts";

const ALLOW_ORIGIN = "Access-Control-Allow-Origin";
const EXPOSE = "Access-Control-Expose-Headers";
const ORIGIN = "https://console.example";
const EXPOSED = "X-Request-Id,Retry-After,Idempotent-Replayed,ETag";

const ENTRIES = Object.entries(SECURITY_HEADERS);
const PREBUILT = { ...SECURITY_HEADERS, "Content-Type": "application/json" };
const PREBUILT_HEADERS = new Headers(PREBUILT);
const MARK = "X-Frame-Options";
const ID = "0b6b8d1e-6f0b-4d6e-9a55-2b1f0c3d4e5f";

function positions(base) {
	const timestamp = Date.now();
	const out = [];
	for (let i = 0; i < 100; i++) out.push({ partition: 0, offset: base + i, timestamp });
	return out;
}

/** The request id and the security headers, set on a built answer as securityHeaders sets them. */
function setAfter(headers) {
	if (!headers.has("X-Request-Id")) headers.set("X-Request-Id", ID);
	for (const [name, value] of ENTRIES) if (!headers.has(name)) headers.set(name, value);
}

/** The refusal's drain as its own outermost layer (app.ts had it so). */
async function drainLayer(c, next) {
	await next();
	if (c.res.status > 399) await drainUnreadBody(c.req.raw);
}

const handler = (offsets) => (c) => c.json({ offsets });
const withId = async (c, next) => {
	c.set("requestId", ID);
	await next();
};
/** Hono's compose over these layers, the answer's route last: what each request's middleware chain runs. */
const CHAINS = {
	chain: [withId, securityHeaders()],
	"chain-drain": [drainLayer, withId, securityHeaders()],
};

async function chained(shape, request, offsets) {
	const c = new Context(request, {});
	const layers = [...CHAINS[shape], handler(offsets)].map((fn) => [[fn, {}], {}]);
	await compose(layers)(c);
	return c.res;
}

function answer(shape, request, offsets) {
	if (shape in CHAINS) return chained(shape, request, offsets);
	switch (shape) {
		case "floor": return null;
		case "stringify": JSON.stringify({ offsets }); return null;
		case "context": {
			const c = new Context(request, {});
			c.header("X-Request-Id", ID);
			for (const [name, value] of ENTRIES) c.header(name, value);
			JSON.stringify({ offsets });
			return null;
		}
		case "hono": {
			const c = new Context(request, {});
			c.header("X-Request-Id", ID);
			for (const [name, value] of ENTRIES) c.header(name, value);
			const res = c.json({ offsets });
			c.res = res;
			if (c.res.status === 101 || !c.res.headers.has(MARK)) throw new Error("no mark");
			return c.res;
		}
		case "after": {
			const c = new Context(request, {});
			c.res = c.json({ offsets });
			const headers = c.res.headers;
			if (c.res.status === 101 || headers.has(MARK)) throw new Error("marked");
			if (!headers.has("X-Request-Id")) headers.set("X-Request-Id", ID);
			for (const [name, value] of ENTRIES) if (!headers.has(name)) headers.set(name, value);
			return c.res;
		}
		case "after-set": {
			const c = new Context(request, {});
			c.res = c.json({ offsets });
			const headers = c.res.headers;
			if (c.res.status === 101 || headers.has(MARK)) throw new Error("marked");
			headers.set("X-Request-Id", ID);
			for (const [name, value] of ENTRIES) headers.set(name, value);
			return c.res;
		}
		case "route-built": {
			const c = new Context(request, {});
			c.res = new Response(JSON.stringify({ offsets }), { headers: { "Content-Type": "application/json", "X-Request-Id": ID, ...SECURITY_HEADERS } });
			if (c.res.status === 101 || !c.res.headers.has(MARK)) throw new Error("no mark");
			return c.res;
		}
		case "cors-context": {
			// CORS as answerCors set it before: on c.res read before the answer (a placeholder), Vary by c.header after.
			const c = new Context(request, {});
			const placeholder = c.res.headers;
			placeholder.set(ALLOW_ORIGIN, ORIGIN);
			placeholder.set(EXPOSE, EXPOSED);
			c.res = c.json({ offsets });
			c.header("Vary", "Origin", { append: true });
			setAfter(c.res.headers);
			return c.res;
		}
		case "cors-after": {
			// CORS as answerCors sets it now: on the built answer, each header after a check that it is not there.
			const c = new Context(request, {});
			c.res = c.json({ offsets });
			const headers = c.res.headers;
			if (!headers.has(ALLOW_ORIGIN)) headers.set(ALLOW_ORIGIN, ORIGIN);
			if (!headers.has(EXPOSE)) headers.set(EXPOSE, EXPOSED);
			headers.append("Vary", "Origin");
			setAfter(headers);
			return c.res;
		}
		case "prebuilt":
			return new Response(JSON.stringify({ offsets }), { headers: { ...PREBUILT, "X-Request-Id": ID } });
		case "headers-copy": {
			const headers = new Headers(PREBUILT_HEADERS);
			headers.set("X-Request-Id", ID);
			return new Response(JSON.stringify({ offsets }), { headers });
		}
		case "ceiling":
			return new Response('{"ok":true}', { status: 200, headers: { "Content-Type": "application/json" } });
		default: throw new Error("no shape " + shape);
	}
}

let next = 0;
export default {
	async fetch(request) {
		const shape = new URL(request.url).pathname.slice(1);
		const offsets = positions(next);
		next += 100;
		let last = null;
		for (let k = 0; k < ${BUILDS}; k++) {
			last = answer(shape, request, offsets);
			if (last instanceof Promise) last = await last;
		}
		return last ?? new Response('{"ok":true}', { headers: { "Content-Type": "application/json" } });
	},
};
`;

const script = await bundleEntry(entry);

const { mf, base, pid } = await startBareWorkerd(script);
try {
	let headerCount = 0;
	const results = await measurePasses({
		base,
		pid,
		shapes: SHAPES,
		passes: PASSES,
		requests: REQUESTS,
		onResponse: (shape, response) => {
			if (shape === "hono") headerCount = [...response.headers.keys()].length;
		},
	});
	console.log(`BUILDS=${BUILDS}, ${REQUESTS} requests a pass; hono's answer had ${headerCount} headers`);
	console.log("shape          µs workerd CPU per answer built, per pass");
	for (const [shape, runs] of results)
		console.log(`${shape.padEnd(14)} ${runs.map((r) => ((r.cpu / (REQUESTS * BUILDS)) * 1e6).toFixed(1)).join(" ")}`);
} finally {
	await mf.dispose();
}
