/**
 * One sync connection: `ws://…/sync/<doc-name>?token=…`. Authenticates, checks access, then
 * speaks the y-websocket protocol (protocol.ts), plus Kith's delivery acknowledgements for a
 * connection that asks for them with `ack=1` (docs/PROTOCOL.md). Any input that does not decode, breaks a
 * limit or a rule closes this connection only, with a documented code.
 */
import type { IncomingMessage } from 'node:http';
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import type { WebSocket } from 'ws';
import { parseDocName } from '../src/lib/model/index.ts';
import type { Auth } from './auth.ts';
import type { Config } from './config.ts';
import { Bucket, OverloadedError, type Conn, type Docs } from './docs.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import {
	CloseCode,
	decodeAwarenessUpdate,
	encodeAwarenessEntries,
	type AwarenessEntry,
	encodeAwarenessMessage,
	encodeSyncStep1,
	messageAuth,
	messageAwareness,
	messageQueryAwareness,
	messageSync,
	syncStep1,
	syncStep2,
	syncUpdate
} from './protocol.ts';

let nextId = 1;
/** Entries in one awareness message: a client echoes every state it learns (all peers). */
const MAX_AWARENESS_ENTRIES = 10_000;

export class Connections {
	readonly perAddress = new Map<string, number>();

	constructor(
		readonly config: Config,
		readonly docs: Docs,
		readonly auth: Auth,
		readonly log: Logger,
		readonly metrics: Metrics
	) {}

	address(req: IncomingMessage): string {
		const forwarded = req.headers['x-forwarded-for'];
		if (this.config.trustProxy && typeof forwarded === 'string') {
			return forwarded.split(',')[0]!.trim();
		}
		return req.socket.remoteAddress ?? 'unknown';
	}

	/** Handles a WebSocket that completed its upgrade on /sync/<doc-name>. */
	accept(ws: WebSocket, req: IncomingMessage): void {
		const id = nextId++;
		// Without a listener, an invalid frame would be an unhandled 'error' and kill the process.
		ws.on('error', (err) => this.log.debug({ conn: id, err: err.message }, 'socket error'));
		const refuse = (code: number, reason: string): void => {
			this.metrics.closes.inc({ code: String(code) });
			this.log.info({ conn: id, code, reason }, 'connection refused');
			ws.close(code, reason);
			setTimeout(() => ws.terminate(), 2000).unref();
		};
		const address = this.address(req);
		const count = this.perAddress.get(address) ?? 0;
		if (count >= this.config.maxConnsPerAddress)
			return refuse(CloseCode.tooManyConnections, 'too many connections');
		this.perAddress.set(address, count + 1);
		ws.once('close', () => {
			const n = (this.perAddress.get(address) ?? 1) - 1;
			if (n <= 0) this.perAddress.delete(address);
			else this.perAddress.set(address, n);
		});

		const url = new URL(req.url ?? '/', 'http://relay');
		let claims: ReturnType<Auth['authenticateDevice']>;
		try {
			claims = this.auth.authenticateDevice(url.searchParams.get('token'));
		} catch (err) {
			// The membership check needs storage (PostgreSQL may be unreachable): come back later.
			this.log.error({ err }, 'could not check a token');
			return refuse(CloseCode.storageUnavailable, 'storage unavailable');
		}
		if (claims === null) return refuse(CloseCode.unauthorized, 'missing, invalid or expired token');
		if ('revoked' in claims) return refuse(CloseCode.deviceRevoked, 'device signed out');
		const { user, device } = claims;
		if (device !== null) this.auth.devices?.touch?.(user, device);
		let name: string;
		try {
			name = decodeURIComponent(url.pathname.slice('/sync/'.length));
		} catch {
			return refuse(CloseCode.unknownDocument, 'unknown document');
		}
		const parsed = parseDocName(name);
		if (!parsed) return refuse(CloseCode.unknownDocument, 'unknown document');
		if (parsed.kind === 'inbox' && parsed.user !== user) {
			return refuse(CloseCode.forbidden, "another person's inbox");
		}

		let entry;
		try {
			entry = this.docs.get(name);
			if (parsed.kind === 'conversation') {
				if (!this.docs.mayOpen(entry, user)) {
					return refuse(CloseCode.forbidden, 'not a member of this conversation');
				}
				this.docs.ensureListed(entry, user);
			}
		} catch (err) {
			if (err instanceof OverloadedError) return refuse(CloseCode.overloaded, 'overloaded');
			this.log.error({ err, doc: name }, 'could not load document');
			return refuse(CloseCode.storageUnavailable, 'storage unavailable');
		}

		const conn: Conn = {
			id,
			ws,
			user,
			device,
			address,
			entry,
			awarenessIds: new Set(),
			updates: new Bucket(this.config.connUpdateRate, this.config.connUpdateBurst),
			awareness: new Bucket(this.config.connAwarenessRate, this.config.connAwarenessBurst),
			closed: false,
			alive: true,
			ack: url.searchParams.get('ack') === '1'
		};
		this.docs.addConn(conn);
		this.log.debug({ conn: id, user, doc: name, address }, 'connection opened');
		ws.on('close', () => {
			conn.closed = true;
			this.docs.removeConn(conn);
		});
		ws.on('pong', () => {
			conn.alive = true;
		});
		ws.on('message', (data, isBinary) => {
			if (conn.closed) return;
			const bytes = toBytes(data);
			this.metrics.bytesIn.inc(bytes.byteLength);
			if (!isBinary)
				return this.docs.close(
					conn,
					CloseCode.malformed,
					'text frames are not y-websocket messages'
				);
			try {
				this.#onMessage(conn, bytes);
			} catch (err) {
				this.log.debug({ conn: id, err: (err as Error).message }, 'malformed message');
				this.docs.close(conn, CloseCode.malformed, 'malformed message');
			}
		});

		this.docs.send(conn, encodeSyncStep1(conn.entry.stateVector()));
		const states = [...conn.entry.awareness.getStates().keys()];
		if (states.length > 0) {
			this.docs.send(
				conn,
				encodeAwarenessMessage(encodeAwarenessUpdate(conn.entry.awareness, states))
			);
		}
		// What is already stored, before anything else happens on this connection: a device
		// learns which of its messages reached the relay's disk while it was away.
		this.docs.sendStored(conn);
	}

	#onMessage(conn: Conn, bytes: Uint8Array): void {
		const d = decoding.createDecoder(bytes);
		const type = decoding.readVarUint(d);
		switch (type) {
			case messageSync: {
				const sub = decoding.readVarUint(d);
				const payload = decoding.readVarUint8Array(d);
				if (decoding.hasContent(d)) throw new Error('trailing bytes');
				if (sub === syncStep1) return this.#answerStep1(conn, payload);
				if (sub !== syncStep2 && sub !== syncUpdate) throw new Error(`unknown sync message ${sub}`);
				if (!conn.updates.take() || !this.docs.userBuckets.get(conn.user)?.bucket.take()) {
					return this.docs.close(conn, CloseCode.rateLimited, 'too many updates');
				}
				const refused = this.docs.applyClientUpdate(conn, payload);
				if (refused) this.docs.close(conn, refused.code, refused.reason);
				return;
			}
			case messageAwareness: {
				const update = decoding.readVarUint8Array(d);
				if (decoding.hasContent(d)) throw new Error('trailing bytes');
				if (!conn.awareness.take())
					return this.docs.close(conn, CloseCode.rateLimited, 'too many awareness updates');
				return this.#onAwareness(conn, update);
			}
			case messageQueryAwareness: {
				const states = [...conn.entry.awareness.getStates().keys()];
				if (states.length > 0) {
					this.docs.send(
						conn,
						encodeAwarenessMessage(encodeAwarenessUpdate(conn.entry.awareness, states))
					);
				}
				return;
			}
			case messageAuth:
				// Sent only by relays; a client's is ignored.
				return;
			default:
				throw new Error(`unknown message type ${type}`);
		}
	}

	#answerStep1(conn: Conn, stateVector: Uint8Array): void {
		Y.decodeStateVector(stateVector); // throws on garbage
		// Never serve state that is not stored yet: answered once it is committed (at once when
		// nothing waits), refused when the commit fails.
		this.docs.whenSettled(conn.entry, (ok) => {
			if (conn.closed) return;
			if (!ok) return this.docs.close(conn, CloseCode.storageUnavailable, 'storage unavailable');
			try {
				this.#serveStep2(conn, stateVector);
			} catch (err) {
				this.log.error({ conn: conn.id, err }, 'could not answer sync step 1');
				this.docs.close(conn, CloseCode.storageUnavailable, 'storage unavailable');
			}
		});
	}

	#serveStep2(conn: Conn, stateVector: Uint8Array): void {
		const entry = conn.entry;
		// The conversation may have been created since this connection opened.
		if (entry.convId !== null) {
			if (!this.docs.mayOpen(entry, conn.user)) {
				return this.docs.close(conn, CloseCode.forbidden, 'not a member of this conversation');
			}
		}
		// From the stored bytes when the document is cold (DocEntry.diff).
		this.docs.sendStep2(conn, entry.diff(stateVector));
	}

	/**
	 * Awareness: a connection controls the client ids it introduced. The standard client echoes
	 * every state it learns back to the relay, so entries about other connections' ids are
	 * dropped silently (never applied: no one can overwrite another's presence); a new id is
	 * claimed only with a fresh state that does not name another user.
	 */
	#onAwareness(conn: Conn, update: Uint8Array): void {
		const entry = conn.entry;
		const entries = decodeAwarenessUpdate(update, MAX_AWARENESS_ENTRIES);
		const accepted: AwarenessEntry[] = [];
		for (const e of entries) {
			const owner = entry.awarenessOwners.get(e.clientId);
			const known = entry.awareness.meta.get(e.clientId);
			const fresh = known === undefined || e.clock > known.clock;
			if (owner === conn) {
				accepted.push(e);
				continue;
			}
			if (!fresh || e.json === 'null') continue;
			if (owner && owner.user !== conn.user) continue;
			if (!claimsOnly(JSON.parse(e.json), conn.user)) continue;
			if (conn.awarenessIds.size >= this.config.maxAwarenessClients) {
				return this.docs.close(conn, CloseCode.refused, 'too many awareness client ids');
			}
			// The same user reconnecting (a new socket before the old one timed out) takes over.
			if (owner) owner.awarenessIds.delete(e.clientId);
			entry.awarenessOwners.set(e.clientId, conn);
			conn.awarenessIds.add(e.clientId);
			accepted.push(e);
		}
		for (const e of accepted) {
			if (e.json.length > this.config.maxAwarenessBytes) {
				return this.docs.close(conn, CloseCode.refused, 'awareness state too large');
			}
			if (e.json !== 'null' && !claimsOnly(JSON.parse(e.json), conn.user)) {
				return this.docs.close(conn, CloseCode.refused, 'presence under another user id');
			}
		}
		if (accepted.length > 0)
			applyAwarenessUpdate(entry.awareness, encodeAwarenessEntries(accepted), conn);
	}

	/** Pings every connection; one that did not answer the previous ping is cut off. */
	heartbeat(all: Iterable<Conn>): void {
		for (const conn of all) {
			if (!conn.alive) {
				conn.ws.terminate();
				continue;
			}
			conn.alive = false;
			try {
				conn.ws.ping();
			} catch {
				conn.ws.terminate();
			}
		}
	}
}

function toBytes(data: unknown): Uint8Array {
	if (data instanceof Uint8Array) return data;
	if (Array.isArray(data)) return Buffer.concat(data as Buffer[]);
	return new Uint8Array(data as ArrayBuffer);
}

/**
 * Whether an awareness state names no user but `user`: presence (`user.id`) and the holdings a
 * device publishes (`held.user`, src/lib/sync/holdings.ts) must both be the connection's own.
 */
function claimsOnly(state: unknown, user: string): boolean {
	const s = state as { user?: { id?: unknown }; held?: { user?: unknown } } | null;
	const claims = [s?.user?.id, s?.held?.user].filter((c) => c !== undefined);
	return claims.every((c) => c === user);
}
