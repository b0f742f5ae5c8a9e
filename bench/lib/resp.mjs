// @ts-check
/**
 * A minimal Redis (RESP2) client over one net.Socket: pipelined commands, replies matched in order. The parser
 * is resumable (a stack of partly filled arrays), so a large reply arriving in many chunks is parsed once.
 */

import net from "node:net";

const CRLF = Buffer.from("\r\n");
const INCOMPLETE = Symbol("incomplete");

/**
 * A reply: simple string, error, integer, bulk string (Buffer), null, or an array of replies.
 * @typedef {string | number | null | Buffer | RedisError | ReplyArray} Reply
 * @typedef {Reply[]} ReplyArray
 */

/**
 * A command as RESP bytes: *N, then each argument as a bulk string.
 * @param {(string | number | Buffer)[]} args
 */
export function encodeCommand(args) {
	const parts = [Buffer.from(`*${args.length}\r\n`)];
	for (const arg of args) {
		const bytes = Buffer.isBuffer(arg) ? Buffer.from(arg) : Buffer.from(String(arg));
		parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
	}
	return Buffer.concat(parts);
}

export class RedisError extends Error {}

/**
 * @typedef {object} RespClient
 * @property {(commands: ((string | number | Buffer)[] | Buffer)[]) => Promise<{ replies: Reply[], sentBytes: number }>} pipeline
 *   sends the commands in one write; resolves with their replies in order
 * @property {(payload: Buffer, count: number) => Promise<{ replies: Reply[], sentBytes: number }>} pipelineRaw
 *   sends `count` commands already encoded back to back in `payload`
 * @property {number} receivedBytes
 * @property {() => void} close
 */

/**
 * Connects to a Redis server.
 * @param {{ host?: string, port: number, timeoutMs?: number }} options
 * @returns {Promise<RespClient>}
 */
export function connectResp({ host = "127.0.0.1", port, timeoutMs = 30_000 }) {
	return new Promise((resolve, reject) => {
		const socket = net.connect({ host, port });
		socket.setNoDelay(true);
		let buf = Buffer.alloc(0);
		let pos = 0;
		/** @type {{ count: number, items: Reply[] }[]} */
		const stack = [];
		/** @type {{ count: number, replies: Reply[], resolve: (replies: Reply[]) => void, reject: (error: Error) => void }[]} pending pipelines, oldest first */
		const pending = [];
		let receivedBytes = 0;
		/** @type {Error | null} */
		let failure = null;

		/** @param {Reply} value */
		function deliver(value) {
			const head = pending[0];
			if (head === undefined) return;
			head.replies.push(value);
			if (head.replies.length === head.count) {
				pending.shift();
				head.resolve(head.replies);
			}
		}

		function parseOne() {
			if (pos >= buf.length) return INCOMPLETE;
			const lineEnd = buf.indexOf(CRLF, pos);
			if (lineEnd === -1) return INCOMPLETE;
			const type = buf[pos];
			const line = buf.toString("latin1", pos + 1, lineEnd);
			/** @type {Reply} */
			let value;
			switch (type) {
				case 0x2b: // +
					value = line;
					pos = lineEnd + 2;
					break;
				case 0x2d: // -
					value = new RedisError(line);
					pos = lineEnd + 2;
					break;
				case 0x3a: // :
					value = Number(line);
					pos = lineEnd + 2;
					break;
				case 0x24: {
					// $
					const length = Number(line);
					if (length < 0) {
						value = null;
						pos = lineEnd + 2;
						break;
					}
					if (buf.length < lineEnd + 2 + length + 2) return INCOMPLETE;
					value = buf.subarray(lineEnd + 2, lineEnd + 2 + length);
					pos = lineEnd + 2 + length + 2;
					break;
				}
				case 0x2a: {
					// *
					const count = Number(line);
					pos = lineEnd + 2;
					if (count <= 0) {
						value = count < 0 ? null : [];
						break;
					}
					stack.push({ count, items: [] });
					return undefined;
				}
				default:
					throw new Error(`unexpected RESP type byte ${type}`);
			}
			for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
				top.items.push(value);
				if (top.items.length < top.count) return undefined;
				stack.pop();
				value = top.items;
			}
			deliver(value);
			return undefined;
		}

		socket.on("data", (chunk) => {
			receivedBytes += chunk.length;
			buf = pos >= buf.length ? chunk : Buffer.concat([buf.subarray(pos), chunk]);
			pos = 0;
			try {
				while (parseOne() !== INCOMPLETE) {
					// keep parsing
				}
			} catch (error) {
				socket.destroy(error instanceof Error ? error : new Error(String(error)));
			}
		});
		const fail = (/** @type {Error} */ error) => {
			failure = error;
			for (const p of pending.splice(0)) p.reject(error);
		};
		socket.on("error", fail);
		socket.on("close", () => fail(failure ?? new Error("redis connection closed")));
		socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`redis: no data for ${timeoutMs} ms`)));
		socket.once("connect", () => {
			/** @type {RespClient["pipelineRaw"]} */
			const pipelineRaw = (payload, count) => {
				if (failure !== null) return Promise.reject(failure);
				return new Promise((/** @type {(replies: Reply[]) => void} */ res, rej) => {
					pending.push({ count, replies: [], resolve: res, reject: rej });
					socket.write(payload);
				}).then((replies) => ({ replies, sentBytes: payload.length }));
			};
			resolve({
				pipeline(commands) {
					return pipelineRaw(Buffer.concat(commands.map((c) => (Buffer.isBuffer(c) ? c : encodeCommand(c)))), commands.length);
				},
				pipelineRaw,
				get receivedBytes() {
					return receivedBytes;
				},
				close() {
					socket.destroy();
				},
			});
		});
		socket.once("error", reject);
	});
}
