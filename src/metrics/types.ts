/**
 * @module
 * What a Durable Object or an edge isolate reports to the metrics hub. Counters are cumulative since the
 * reporter started (`incarnation`): the hub adds the difference to its stored totals, so a resent report adds
 * nothing and a restarted reporter starts a new incarnation. Gauges replace the source's previous ones.
 */

export interface PartitionFigures {
	readonly topic: string;
	readonly partition: number;
	readonly highWatermark: number;
	readonly logStartOffset: number;
}

export interface GroupFigures {
	readonly group: string;
	/** Subscribed topics and their partition counts: lag is reported for each of their partitions. */
	readonly topics: readonly { readonly topic: string; readonly partitions: number }[];
	readonly committed: readonly { readonly topic: string; readonly partition: number; readonly offset: number }[];
}

export interface WebhookFigures {
	readonly topic: string;
	/** Each lane's acknowledged position: the webhook's lag is the partition's high watermark minus it. */
	readonly lanes: readonly { readonly subscription: string; readonly partition: number; readonly nextOffset: number }[];
}

export interface MetricsReport {
	/** The object's id (or `edge:<uuid>` for an isolate). */
	readonly source: string;
	readonly incarnation: string;
	/** Grows with every report of an incarnation sent concurrently (edge isolates): an older one arriving late is dropped. */
	readonly sequence?: number;
	/** Series key (catalog.ts `series()`) → value since `incarnation` began. */
	readonly counters: Readonly<Record<string, number>>;
	/** Series key → current value; summed across sources at scrape (e.g. storage bytes per class). */
	readonly gauges: Readonly<Record<string, number>>;
	/** Series key → a timestamp (ms); rendered as seconds before the scrape. */
	readonly since?: Readonly<Record<string, number>>;
	readonly partition?: PartitionFigures;
	readonly group?: GroupFigures;
	readonly webhook?: WebhookFigures;
}
