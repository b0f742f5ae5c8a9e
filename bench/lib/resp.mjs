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
	/** @type {Buffer[]} */
	const parts = [Buffer.from(`*${args.length}\r\n`)];
	for (const arg of args) {
		const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
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
 * A resumable RESP2 parser: `feed(chunk)` parses every complete reply (a stack of partly filled arrays carries a
 * large reply across chunks) and hands each top-level reply to `onReply`; it throws on a malformed stream.
 * @param {(reply: Reply) => void} onReply
 */
function replyParser(onReply) {
	/** @type {Buffer} */
	let buf = Buffer.alloc(0);
	let pos = 0;
	/** @type {{ count: number, items: Reply[] }[]} */
	const stack = [];

	/**
	 * The scalar (or empty/null array) at `pos`, and where it ends; INCOMPLETE if not all of it is here; null for
	 * the header of a non-empty array (pushed on the stack).
	 * @returns {typeof INCOMPLETE | null | { value: Reply, end: number }}
	 */
	function scalar() {
		const lineEnd = buf.indexOf(CRLF, pos);
		if (lineEnd === -1) return INCOMPLETE;
		const type = buf[pos];
		const line = buf.toString("latin1", pos + 1, lineEnd);
		const end = lineEnd + 2;
		switch (type) {
			case 0x2b: // +
				return { value: line, end };
			case 0x2d: // -
				return { value: new RedisError(line), end };
			case 0x3a: // :
				return { value: Number(line), end };
			case 0x24: {
				// $
				const length = Number(line);
				if (length < 0) return { value: null, end };
				if (buf.length < end + length + 2) return INCOMPLETE;
				return { value: buf.subarray(end, end + length), end: end + length + 2 };
			}
			case 0x2a: {
				// *
				const count = Number(line);
				if (count <= 0) return { value: count < 0 ? null : [], end };
				stack.push({ count, items: [] });
				pos = end;
				return null;
			}
			default:
				throw new Error(`unexpected RESP type byte ${type}`);
		}
	}

	/** Parses one element; false once the buffer holds no complete one. */
	function parseOne() {
		if (pos >= buf.length) return false;
		const parsed = scalar();
		if (parsed === INCOMPLETE) return false;
		if (parsed === null) return true;
		pos = parsed.end;
		let value = parsed.value;
		for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
			top.items.push(value);
			if (top.items.length < top.count) return true;
			stack.pop();
			value = top.items;
		}
		onReply(value);
		return true;
	}

	return {
		/** @param {Buffer} chunk */
		feed(chunk) {
			buf = pos >= buf.length ? chunk : Buffer.concat([buf.subarray(pos), chunk]);
			pos = 0;
			while (parseOne()) {
				// keep parsing
			}
		},
	};
}

/**
 * Connects to a Redis server.
 * @param {{ host?: string, port: number, timeoutMs?: number }} options
 * @returns {Promise<RespClient>}
 */
export function connectResp({ host = "127.0.0.1", port, timeoutMs = 30_000 }) {
	return new Promise((resolve, reject) => {
		const socket = net.connect({ host, port });
		socket.setNoDelay(true);
		/** @type {{ count: number, replies: Reply[], resolve: (replies: Reply[]) => void, reject: (error: Error) => void }[]} pending pipelines, oldest first */
		const pending = [];
		let receivedBytes = 0;
		/** @type {Error | null} */
		let failure = null;
		const parser = replyParser((value) => {
			const head = pending[0];
			if (head === undefined) return;
			head.replies.push(value);
			if (head.replies.length === head.count) {
				pending.shift();
				head.resolve(head.replies);
			}
		});
		socket.on("data", (chunk) => {
			receivedBytes += chunk.length;
			try {
				parser.feed(chunk);
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
