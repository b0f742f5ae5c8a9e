/**
 * @module
 * A small line chart as inline SVG (no library, nothing fetched): a series of (time, value) samples over a
 * window ending now, with a y axis from zero and gridlines. The caller gives a text summary for screen readers.
 */

import { s } from "./dom.ts";
import { formatCount } from "./format.ts";

export interface Sample {
	readonly atMs: number;
	readonly value: number;
}

const WIDTH = 900;
const HEIGHT = 220;
const PAD = { left: 52, right: 12, top: 12, bottom: 28 };

/** A "nice" tick step for about four intervals up to `max` (1, 2 or 5 × 10ⁿ, at least 1: values are counts). */
function niceStep(max: number): number {
	const rough = Math.max(1, max / 4);
	const power = 10 ** Math.floor(Math.log10(rough));
	for (const step of [1, 2, 5]) if (step * power >= rough) return step * power;
	return 10 * power;
}

export function lineChart(samples: readonly Sample[], windowMs: number, title: string, nowMs = Date.now()): SVGSVGElement {
	const max = Math.max(0, ...samples.map((p) => p.value));
	const step = niceStep(max);
	const yMax = Math.max(step, Math.ceil(max / step) * step);
	const plotW = WIDTH - PAD.left - PAD.right;
	const plotH = HEIGHT - PAD.top - PAD.bottom;
	const x = (atMs: number) => PAD.left + plotW * (1 - Math.min(1, Math.max(0, (nowMs - atMs) / windowMs)));
	const y = (value: number) => PAD.top + plotH * (1 - value / yMax);
	const grid = Array.from({ length: Math.round(yMax / step) + 1 }, (_, i) => {
		const value = i * step;
		return s(
			"g",
			null,
			s("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value), class: i === 0 ? "axis" : "grid" }),
			s("text", { x: PAD.left - 8, y: y(value) + 4, "text-anchor": "end", class: "tick" }, formatCount(value)),
		);
	});
	const seconds = Math.round(windowMs / 1000);
	const xTicks = [
		s("text", { x: PAD.left, y: HEIGHT - 8, "text-anchor": "start", class: "tick" }, `−${seconds} s`),
		s("text", { x: WIDTH - PAD.right, y: HEIGHT - 8, "text-anchor": "end", class: "tick" }, "now"),
	];
	const points = samples.map((p) => `${x(p.atMs).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
	const first = samples[0];
	const last = samples.at(-1);
	const area =
		first === undefined || last === undefined
			? null
			: s("polygon", { points: `${x(first.atMs).toFixed(1)},${y(0)} ${points} ${x(last.atMs).toFixed(1)},${y(0)}`, class: "area" });
	return s(
		"svg",
		{ viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img", "aria-label": title },
		grid,
		xTicks,
		area,
		samples.length > 0 ? s("polyline", { points, class: "line" }) : null,
		last === undefined ? null : s("circle", { cx: x(last.atMs), cy: y(last.value), r: 4, class: "dot" }),
	);
}
