/**
 * @module
 * How numbers, sizes, durations and times read in the console.
 */

const count = new Intl.NumberFormat("en-US");

export function formatCount(n: number): string {
	return count.format(n);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

export function formatBytes(bytes: number): string {
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < UNITS.length - 1) {
		value /= 1024;
		unit += 1;
	}
	return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

const SPANS: readonly [number, string][] = [
	[86_400_000, "day"],
	[3_600_000, "hour"],
	[60_000, "minute"],
	[1_000, "second"],
];

/** A duration in ms as people say it ("7 days", "90 minutes"); -1 means forever in Kafka configs. */
export function formatDuration(ms: number): string {
	if (ms < 0) return "forever";
	for (const [size, name] of SPANS) {
		if (ms >= size && ms % size === 0) {
			const n = ms / size;
			return `${formatCount(n)} ${name}${n === 1 ? "" : "s"}`;
		}
	}
	return `${formatCount(ms)} ms`;
}

/** A timestamp (epoch ms) as local date and time with milliseconds. */
export function formatTime(ms: number): string {
	const d = new Date(ms);
	const pad = (n: number, width = 2) => String(n).padStart(width, "0");
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** How long ago a timestamp was, coarsely ("just now", "5 min ago"). */
export function formatAgo(ms: number, nowMs = Date.now()): string {
	const s = Math.round((nowMs - ms) / 1000);
	if (s < 5) return "just now";
	if (s < 60) return `${s} s ago`;
	if (s < 3600) return `${Math.round(s / 60)} min ago`;
	if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
	return `${Math.round(s / 86_400)} d ago`;
}

/** A `datetime-local` input's value as epoch ms, or null. */
export function parseLocalTime(value: string): number | null {
	if (value === "") return null;
	const ms = new Date(value).getTime();
	return Number.isNaN(ms) ? null : ms;
}

/**
 * A topic id as Kafka's tools print it (Uuid.toString: the 16 bytes in URL-safe base64, unpadded), from Tributary's
 * UUID: `kafka-topics --describe` through the gateway shows this form.
 */
export function kafkaTopicId(uuid: string): string {
	const bytes = uuid.replaceAll("-", "").match(/../g) ?? [];
	const binary = String.fromCharCode(...bytes.map((byte) => Number.parseInt(byte, 16)));
	return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
