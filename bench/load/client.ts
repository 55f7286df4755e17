/**
 * A lean y-websocket client for load: no Y.Doc per reader, just the sync handshake and the
 * frames. It speaks the y-websocket protocol (Kith's relay, @y/websocket-server, the
 * forwarder) or Hocuspocus's framing of it (each frame prefixed with the document name, an
 * auth message first). Readers find the bench's message markers in the raw update bytes:
 * cheap enough that hundreds of clients in one process do not become the bottleneck.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket } from 'ws';

export type Proto = 'kith' | 'y' | 'hocus' | 'raw';

/** Where a load client connects: a relay's base URL and its flavour of the protocol. */
export interface Target {
	proto: Proto;
	/** ws://127.0.0.1:<port> */
	base: string;
}

/** An empty Yjs update (what an empty document answers to sync step 1). */
export const EMPTY_UPDATE = new Uint8Array([0, 0]);
/** The state vector of an empty document. */
export const EMPTY_SV = new Uint8Array([0]);

export function urlFor(target: Target, docName: string, token: string): string {
	switch (target.proto) {
		case 'kith':
			return `${target.base}/sync/${docName}?token=${encodeURIComponent(token)}`;
		case 'hocus':
			return `${target.base}/`;
		default:
			return `${target.base}/${docName}`;
	}
}

export function now(): number {
	return performance.timeOrigin + performance.now();
}

export interface ClientOptions {
	target: Target;
	docName: string;
	token: string;
	/** State vector sent in our sync step 1. */
	stateVector?: Uint8Array;
	/** What we answer to the relay's sync step 1 (given its state vector). */
	answer?: (serverSv: Uint8Array) => Uint8Array;
	/** Every sync step 2 or update frame (the whole frame). */
	onUpdate?: (frame: Buffer) => void;
}

export class LeanClient {
	readonly ws: WebSocket;
	bytesReceived = 0;
	framesReceived = 0;
	synced = false;
	syncedAt = 0;
	openedAt = 0;
	closed = false;
	closeCode: number | null = null;
	readonly #prefix: Uint8Array;
	readonly #opts: ClientOptions;
	#waiters: Array<() => void> = [];
	readonly opened: Promise<void>;

	constructor(opts: ClientOptions) {
		this.#opts = opts;
		const enc = encoding.createEncoder();
		if (opts.target.proto === 'hocus') encoding.writeVarString(enc, opts.docName);
		this.#prefix = encoding.toUint8Array(enc);
		this.ws = new WebSocket(urlFor(opts.target, opts.docName, opts.token), {
			perMessageDeflate: false,
			maxPayload: 512 * 1024 * 1024
		});
		this.ws.binaryType = 'nodebuffer';
		this.ws.on('error', () => {});
		this.opened = new Promise((resolve, reject) => {
			this.ws.once('open', () => {
				this.openedAt = now();
				resolve();
			});
			this.ws.once('close', (code) => {
				this.closed = true;
				this.closeCode = code;
				reject(new Error(`closed before open (${code})`));
				for (const w of this.#waiters.splice(0)) w();
			});
		});
		this.opened.catch(() => {});
		this.ws.on('open', () => {
			if (opts.target.proto === 'hocus') {
				// Auth (2), token (0), the token string: Hocuspocus queues everything until then.
				this.#send((e) => {
					encoding.writeVarUint(e, 2);
					encoding.writeVarUint(e, 0);
					encoding.writeVarString(e, opts.token);
				});
			}
			this.sendStep1();
		});
		this.ws.on('close', (code) => {
			this.closed = true;
			this.closeCode = code;
			for (const w of this.#waiters.splice(0)) w();
		});
		this.ws.on('message', (data: Buffer) => this.#onMessage(data));
	}

	#send(write: (e: encoding.Encoder) => void): void {
		const e = encoding.createEncoder();
		encoding.writeUint8Array(e, this.#prefix);
		write(e);
		if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encoding.toUint8Array(e));
	}

	sendStep1(sv = this.#opts.stateVector ?? EMPTY_SV): void {
		this.#send((e) => {
			encoding.writeVarUint(e, 0);
			encoding.writeVarUint(e, 0);
			encoding.writeVarUint8Array(e, sv);
		});
	}

	/** Sends a Yjs update (sync type 2). */
	sendUpdate(update: Uint8Array): void {
		this.#send((e) => {
			encoding.writeVarUint(e, 0);
			encoding.writeVarUint(e, 2);
			encoding.writeVarUint8Array(e, update);
		});
	}

	/** Sends an already framed message (y-websocket framing; the Hocuspocus prefix is added). */
	sendFramed(frame: Uint8Array): void {
		this.#send((e) => encoding.writeUint8Array(e, frame));
	}

	#onMessage(data: Buffer): void {
		this.bytesReceived += data.byteLength;
		this.framesReceived++;
		try {
			const d = decoding.createDecoder(data);
			if (this.#opts.target.proto === 'hocus') decoding.readVarString(d);
			const type = decoding.readVarUint(d);
			// Hocuspocus answers step 1 with SyncReply (4).
			if (type !== 0 && type !== 4) return;
			const sub = decoding.readVarUint(d);
			if (sub === 0) {
				const sv = decoding.readVarUint8Array(d);
				const update = this.#opts.answer ? this.#opts.answer(sv) : EMPTY_UPDATE;
				this.#send((e) => {
					encoding.writeVarUint(e, 0);
					encoding.writeVarUint(e, 1);
					encoding.writeVarUint8Array(e, update);
				});
			} else if (sub === 1) {
				this.synced = true;
				this.syncedAt = now();
				this.#opts.onUpdate?.(data);
				for (const w of this.#waiters.splice(0)) w();
			} else if (sub === 2) {
				this.#opts.onUpdate?.(data);
			}
		} catch {
			// Not a sync frame we understand: ignored, as y-websocket does.
		}
	}

	/** Resolves at the next sync step 2 (or when closed, or after `ms`). */
	nextStep2(ms: number): Promise<boolean> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				this.#waiters = this.#waiters.filter((w) => w !== done);
				resolve(false);
			}, ms);
			const done = (): void => {
				clearTimeout(timer);
				resolve(!this.closed);
			};
			this.#waiters.push(done);
		});
	}

	async untilSynced(ms: number): Promise<void> {
		if (this.synced) return;
		await this.opened;
		if (this.synced) return;
		const ok = await this.nextStep2(ms);
		if (!ok || !this.synced)
			throw new Error(
				`${this.#opts.docName}: not synced within ${ms} ms (close ${this.closeCode})`
			);
	}

	close(): Promise<void> {
		if (this.closed) return Promise.resolve();
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				this.ws.terminate();
				resolve();
			}, 2000);
			this.ws.once('close', () => {
				clearTimeout(timer);
				resolve();
			});
			this.ws.close();
		});
	}
}

/** `#b<writer:2><seq:7>#`: the marker at the start of every bench message's content. */
export function marker(writer: number, seq: number): string {
	return `#b${String(writer).padStart(2, '0')}${String(seq).padStart(7, '0')}#`;
}

const MARK0 = 0x23; // '#'
const MARK1 = 0x62; // 'b'

/** Calls `found(writer, seq)` for every marker in a frame. */
export function scanMarkers(frame: Buffer, found: (writer: number, seq: number) => void): void {
	let i = frame.indexOf(MARK0);
	while (i >= 0 && i + 11 < frame.length) {
		if (frame[i + 1] === MARK1 && frame[i + 11] === MARK0) {
			let w = 0;
			let s = 0;
			let ok = true;
			for (let k = 2; k < 11; k++) {
				const c = frame[i + k]! - 48;
				if (c < 0 || c > 9) {
					ok = false;
					break;
				}
				if (k < 4) w = w * 10 + c;
				else s = s * 10 + c;
			}
			if (ok) {
				found(w, s);
				i = frame.indexOf(MARK0, i + 12);
				continue;
			}
		}
		i = frame.indexOf(MARK0, i + 1);
	}
}
