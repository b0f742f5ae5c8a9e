/**
 * The one piece of `node:buffer` the Worker uses (record-scan.ts: a Latin-1 view of bytes), typed here rather than
 * pulling Node's whole type library into the Worker's build. The runtime provides it under `nodejs_compat`.
 */
declare module "node:buffer" {
	interface LatinView {
		toString(encoding: "latin1"): string;
	}
	export const Buffer: {
		from(buffer: ArrayBufferLike, byteOffset: number, length: number): LatinView;
	};
}
