// @ts-check
/**
 * A minimal NATS client over one net.Socket, enough for JetStream publish: CONNECT, SUB to an inbox, PUB with
 * a reply subject, and the +ACK (or error) JetStream sends back to it. Answers the server's PINGs.
 */

import net from "node:net";

const CRLF = Buffer.from("\r\n");

/**
 * A reply on an inbox: its payload and headers, or the error that ended the connection.
 * @typedef {{ payload: string, headers: string, error?: undefined } | { error: Error, payload?: undefined, headers?: undefined }} Answer
 */

/**
 * @typedef {object} NatsClient
 * @property {(subject: string, payloads: (Buffer | string)[]) => Promise<{ answers: Answer[], sentBytes: number }>} request
 *   publishes each payload to `subject` with its own reply inbox (one write); resolves with the replies
 * @property {number} receivedBytes
 * @property {() => void} close
 */

/**
 * A resumable parser of what the server sends: `feed(chunk)` hands each complete MSG/HMSG to `onMessage` and
 * every other line (INFO, PING, PONG, -ERR, +OK) to `onControl`, with its operation upper-cased.
 * @param {{ onMessage(subject: string, payload: string, headers: string): void, onControl(op: string, line: string): void }} handlers
 */
function protocolParser({ onMessage, onControl }) {
	/** @type {Buffer} */
	let buf = Buffer.alloc(0);
	let pos = 0;
	function parse() {
		for (;;) {
			const lineEnd = buf.indexOf(CRLF, pos);
			if (lineEnd === -1) return;
			const line = buf.toString("latin1", pos, lineEnd);
			const op = line.slice(0, line.indexOf(" ") === -1 ? line.length : line.indexOf(" ")).toUpperCase();
			if (op === "MSG" || op === "HMSG") {
				const parts = line.split(" ");
				const total = Number(parts.at(-1));
				const headerBytes = op === "HMSG" ? Number(parts.at(-2)) : 0;
				if (buf.length < lineEnd + 2 + total + 2) return;
				const start = lineEnd + 2;
				const headers = headerBytes > 0 ? buf.toString("latin1", start, start + headerBytes) : "";
				const payload = buf.toString("utf8", start + headerBytes, start + total);
				pos = start + total + 2;
				onMessage(parts[1] ?? "", payload, headers);
				continue;
			}
			pos = lineEnd + 2;
			onControl(op, line);
		}
	}
	return {
		/** @param {Buffer} chunk */
		feed(chunk) {
			buf = pos >= buf.length ? chunk : Buffer.concat([buf.subarray(pos), chunk]);
			pos = 0;
			parse();
		},
	};
}

/**
 * Connects to a NATS server (resolves after CONNECT and the first PONG).
 * @param {{ host?: string, port: number, timeoutMs?: number }} options
 * @returns {Promise<NatsClient>}
 */
export function connectNats({ host = "127.0.0.1", port, timeoutMs = 30_000 }) {
	return new Promise((resolve, reject) => {
		const socket = net.connect({ host, port });
		socket.setNoDelay(true);
		let receivedBytes = 0;
		/** @type {Error | null} */
		let failure = null;
		let ready = false;
		/** @type {Map<string, (answer: Answer) => void>} reply subject → resolver of its reply payload */
		const waiting = new Map();
		/** @type {(() => void) | null} */
		let pongWaiter = null;
		const inbox = `_INBOX.bench${process.pid}`;
		let nextReply = 0;

		/**
		 * @param {string} subject
		 * @param {string} payload
		 * @param {string} headers
		 */
		function onMessage(subject, payload, headers) {
			const resolveReply = waiting.get(subject);
			if (resolveReply === undefined) return;
			waiting.delete(subject);
			resolveReply({ payload, headers });
		}

		const parser = protocolParser({
			onMessage,
			onControl(op, line) {
				if (op === "PING") socket.write("PONG\r\n");
				else if (op === "PONG") {
					const w = pongWaiter;
					pongWaiter = null;
					w?.();
				} else if (op === "-ERR") socket.destroy(new Error(`nats: ${line}`));
				else if (op === "INFO" && !ready) {
					ready = true;
					socket.write(
						`CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1,"name":"tributary-bench"}\r\nSUB ${inbox}.* 1\r\nPING\r\n`,
					);
					pongWaiter = () => resolve(client);
				}
			},
		});

		socket.on("data", (chunk) => {
			receivedBytes += chunk.length;
			parser.feed(chunk);
		});
		const fail = (/** @type {Error} */ error) => {
			failure = error;
			for (const [, r] of waiting) r({ error });
			waiting.clear();
		};
		socket.on("error", (error) => {
			fail(error);
			reject(error);
		});
		socket.on("close", () => fail(failure ?? new Error("nats connection closed")));
		socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`nats: no data for ${timeoutMs} ms`)));

		/** @type {NatsClient} */
		const client = {
			request(subject, payloads) {
				if (failure !== null) return Promise.reject(failure);
				/** @type {Buffer[]} */
				const parts = [];
				/** @type {Promise<Answer>[]} */
				const replies = [];
				for (const payload of payloads) {
					const reply = `${inbox}.${nextReply++}`;
					const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
					parts.push(Buffer.from(`PUB ${subject} ${reply} ${bytes.length}\r\n`), bytes, CRLF);
					replies.push(new Promise((/** @type {(answer: Answer) => void} */ r) => waiting.set(reply, r)));
				}
				const out = Buffer.concat(parts);
				socket.write(out);
				return Promise.all(replies).then((answers) => ({ answers, sentBytes: out.length }));
			},
			get receivedBytes() {
				return receivedBytes;
			},
			close() {
				socket.destroy();
			},
		};
	});
}
