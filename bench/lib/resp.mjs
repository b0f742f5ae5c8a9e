/**
 * A minimal Redis (RESP2) client over one net.Socket: pipelined commands, replies matched in order. The parser
 * is resumable (a stack of partly filled arrays), so a large reply arriving in many chunks is parsed once.
 */

import net from "node:net";

const CRLF = Buffer.from("\r\n");
const INCOMPLETE = Symbol("incomplete");

/** A command as RESP bytes: *N, then each argument as a bulk string. */
export function encodeCommand(args) {
	const parts = [Buffer.from(`*${args.length}\r\n`)];
	for (const arg of args) {
		const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
		parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
	}
	return Buffer.concat(parts);
}

export class RedisError extends Error {}

export function connectResp({ host = "127.0.0.1", port, timeoutMs = 30_000 }) {
	return new Promise((resolve, reject) => {
		const socket = net.connect({ host, port });
		socket.setNoDelay(true);
		let buf = Buffer.alloc(0);
		let pos = 0;
		const stack = [];
		/** Pending pipelines, oldest first: {remaining, replies, resolve, reject}. */
		const pending = [];
		let receivedBytes = 0;
		let failure = null;

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
			while (stack.length > 0) {
				const top = stack[stack.length - 1];
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
				socket.destroy(error);
			}
		});
		const fail = (error) => {
			failure = error;
			for (const p of pending.splice(0)) p.reject(error);
		};
		socket.on("error", fail);
		socket.on("close", () => fail(failure ?? new Error("redis connection closed")));
		socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`redis: no data for ${timeoutMs} ms`)));
		socket.once("connect", () => {
			resolve({
				/** Sends the commands in one write; resolves with their replies in order. */
				pipeline(commands) {
					return this.pipelineRaw(Buffer.concat(commands.map((c) => (Buffer.isBuffer(c) ? c : encodeCommand(c)))), commands.length);
				},
				/** Sends `count` commands already encoded back to back in `payload`. */
				pipelineRaw(payload, count) {
					if (failure !== null) return Promise.reject(failure);
					return new Promise((res, rej) => {
						pending.push({ count, replies: [], resolve: res, reject: rej });
						socket.write(payload);
					}).then((replies) => ({ replies, sentBytes: payload.length }));
				},
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
