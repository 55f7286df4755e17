/**
 * Several relays, one workspace (REDIS_URL with DATABASE_URL; docs/ARCHITECTURE.md, "Several
 * relays"). PostgreSQL is the truth; Redis pub/sub only carries what happened, fast:
 *
 * - After each commit to PostgreSQL, a relay publishes the commit's update of each document on
 *   the document's channel (`<prefix>doc:<name>`), with the Yjs client ids it claimed; awareness
 *   changes made by its own connections go on the same channel. Every relay that has the
 *   document in memory is subscribed to it, applies what arrives as already stored
 *   (docs.ts, `applyStored`) and forwards it to its connections.
 * - Redis pub/sub delivers at most once, so every gap is closed from PostgreSQL: after a
 *   document's subscription is confirmed (what was stored between the load and the
 *   subscription), after the subscriber reconnects (everything loaded), and when another relay
 *   says its publishes failed (a `resync` message, sent when its publisher is back). An update
 *   that depends on one that never arrived is caught by Yjs itself (pending structs) and read
 *   back at once (docs.ts).
 * - Each relay holds the workspace document like any other (subscribed while loaded), so
 *   access checks see the same membership everywhere, and a member removed through one relay
 *   is disconnected by the others when the removal reaches them.
 *
 * ioredis (a well-kept client: reconnects with backoff by itself, exposes raw Buffers for
 * binary messages, and refuses commands while offline when told to, so a publish never waits
 * behind an outage) on two connections: one subscribed, one publishing.
 */
import { randomUUID } from 'node:crypto';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import * as Y from 'yjs';
import { applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import type { Config } from '../config.ts';
import { STORED, type Conn, type DocEntry, type Docs, type DocsCluster } from '../docs.ts';
import type { Logger } from '../log.ts';
import { CloseCode, decodeAwarenessUpdate } from '../protocol.ts';
import type { PgStore } from './pg-store.ts';

/** Message kinds on a document's channel. */
const kindUpdate = 0;
const kindAwareness = 1;
/** Message kind on the control channel: the listed documents must be read back from storage. */
const kindResync = 2;
/** Control channel: a device was signed out (`docs` holds its user id, then its device id). */
const kindRevoked = 3;

interface Decoded {
	kind: number;
	relay: string;
	body: Uint8Array;
	/** For updates: the client ids claimed, per user. */
	claims: Array<{ clients: number[]; user: string }>;
	/** For resync: document names. */
	docs: string[];
}

export function encodeClusterMessage(
	kind: number,
	relay: string,
	body: Uint8Array,
	claims: ReadonlyArray<{ clients: readonly number[]; user: string }> = [],
	docs: readonly string[] = []
): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, kind);
	encoding.writeVarString(e, relay);
	encoding.writeVarUint8Array(e, body);
	encoding.writeVarUint(e, claims.length);
	for (const c of claims) {
		encoding.writeVarString(e, c.user);
		encoding.writeVarUint(e, c.clients.length);
		for (const id of c.clients) encoding.writeVarUint(e, id);
	}
	encoding.writeVarUint(e, docs.length);
	for (const d of docs) encoding.writeVarString(e, d);
	return encoding.toUint8Array(e);
}

export function decodeClusterMessage(bytes: Uint8Array): Decoded {
	const d = decoding.createDecoder(bytes);
	const kind = decoding.readVarUint(d);
	const relay = decoding.readVarString(d);
	const body = decoding.readVarUint8Array(d);
	const claims: Decoded['claims'] = [];
	for (let n = decoding.readVarUint(d); n > 0; n--) {
		const user = decoding.readVarString(d);
		const clients: number[] = [];
		for (let m = decoding.readVarUint(d); m > 0; m--) clients.push(decoding.readVarUint(d));
		claims.push({ user, clients });
	}
	const docs: string[] = [];
	for (let n = decoding.readVarUint(d); n > 0; n--) docs.push(decoding.readVarString(d));
	return { kind, relay, body, claims, docs };
}

/** Stand-ins for the owners of other relays' presence states (see `Cluster.#own`). */
const remoteOwners = new WeakSet<Conn>();

export class Cluster implements DocsCluster {
	/** This process, in every message it publishes (its own echoes are dropped). */
	readonly id = randomUUID();
	readonly #sub: Redis;
	readonly #pub: Redis;
	readonly #prefix: string;
	readonly #control: string;
	/** Documents whose publish failed: the other relays are told to read them back. */
	readonly #unpublished = new Set<string>();
	/** The subscriber has been ready once: a later `ready` is a reconnect. */
	#wasReady = false;
	#closing = false;
	readonly #metrics;

	constructor(
		config: Config,
		readonly docs: Docs,
		readonly store: PgStore,
		readonly log: Logger,
		registry: Registry
	) {
		const registers = [registry];
		this.#metrics = {
			published: new Counter({
				name: 'kith_cluster_published_total',
				help: 'Messages published to the other relays through Redis',
				registers
			}),
			publishFailures: new Counter({
				name: 'kith_cluster_publish_failures_total',
				help: 'Publishes that failed (Redis unreachable); made good by a catch-up',
				registers
			}),
			received: new Counter({
				name: 'kith_cluster_received_total',
				help: 'Messages received from the other relays',
				registers
			}),
			catchUps: new Counter({
				name: 'kith_cluster_catch_ups_total',
				help: 'Documents read back from PostgreSQL to close a gap in what Redis delivered',
				registers
			}),
			redisUp: new Gauge({
				name: 'kith_cluster_redis_up',
				help: '1 while the subscriber connection to Redis is ready',
				registers
			})
		};
		this.#prefix = config.redisPrefix;
		this.#control = `${this.#prefix}control`;
		const options = {
			// Never queue while disconnected: a publish fails at once (and is made good by a resync),
			// a subscribe is redone on `ready`.
			enableOfflineQueue: false,
			autoResubscribe: false,
			maxRetriesPerRequest: 1,
			retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
			lazyConnect: false
		};
		this.#sub = new Redis(config.redisUrl, { ...options, connectionName: 'kith-sub' });
		this.#pub = new Redis(config.redisUrl, { ...options, connectionName: 'kith-pub' });
		for (const [name, conn] of [
			['subscriber', this.#sub],
			['publisher', this.#pub]
		] as const) {
			conn.on('error', (err: Error) => log.debug({ err: err.message, conn: name }, 'redis error'));
			conn.on('end', () => {
				if (!this.#closing) log.warn({ conn: name }, 'redis connection ended');
			});
			conn.on('close', () => {
				if (!this.#closing) log.debug({ conn: name }, 'redis connection closed; reconnecting');
			});
		}
		this.#sub.on('ready', () => {
			this.#metrics.redisUp.set(1);
			void this.#onSubscriberReady();
		});
		this.#sub.on('close', () => this.#metrics.redisUp.set(0));
		this.#pub.on('ready', () => this.#onPublisherReady());
		this.#sub.on('messageBuffer', (channel: Buffer, message: Buffer) =>
			this.#onMessage(channel.toString(), message)
		);
	}

	#channel(doc: string): string {
		return `${this.#prefix}doc:${doc}`;
	}

	/** Resubscribes to everything loaded, then catches up from storage (what was missed). */
	async #onSubscriberReady(): Promise<void> {
		const reconnect = this.#wasReady;
		this.#wasReady = true;
		const entries = [...this.docs.docs.values()];
		try {
			await this.#sub.subscribe(this.#control, ...entries.map((e) => this.#channel(e.name)));
		} catch (err) {
			this.log.warn(
				{ err: (err as Error).message },
				'redis subscribe failed; retrying on reconnect'
			);
			return;
		}
		if (reconnect) {
			this.log.info({ docs: entries.length }, 'redis is back: catching up from storage');
			for (const e of entries) await this.#catchUp(e);
		}
	}

	#onPublisherReady(): void {
		if (this.#unpublished.size === 0) return;
		const names = [...this.#unpublished];
		this.#unpublished.clear();
		this.log.info({ docs: names.length }, 'redis is back: asking other relays to catch up');
		this.#publish(
			this.#control,
			encodeClusterMessage(kindResync, this.id, new Uint8Array(), [], names),
			names
		);
	}

	/** Reads a document back from storage in the background and applies what this relay lacks. */
	async #catchUp(entry: DocEntry): Promise<void> {
		try {
			const { diff, stored } = await this.store.catchUp(entry.name, Y.encodeStateVector(entry.doc));
			this.#metrics.catchUps.inc();
			// Client ids claimed on other relays whose messages went unheard.
			for (const [client, user] of this.store.clientOwners(entry.name)) {
				if (!entry.clientOwners.has(client)) entry.clientOwners.set(client, user);
			}
			this.docs.applyStored(entry, [diff], [], Y.decodeStateVector(stored));
		} catch (err) {
			this.log.warn(
				{ err: (err as Error).message, doc: entry.name },
				'could not catch up a document from storage'
			);
		}
	}

	#publish(channel: string, message: Uint8Array, docs: readonly string[]): void {
		if (this.#closing) return;
		this.#pub.publish(channel, Buffer.from(message)).then(
			() => this.#metrics.published.inc(),
			() => {
				this.#metrics.publishFailures.inc();
				for (const d of docs) this.#unpublished.add(d);
			}
		);
	}

	opened(entry: DocEntry): void {
		entry.awareness.on(
			'update',
			(
				{ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
				origin: unknown
			) => {
				// Only changes made by this relay's connections: never echo another relay's, and
				// every relay times out stale states on its own (y-protocols, 30 s).
				if (origin === 'timeout') for (const id of removed) this.#disown(entry, id);
				if (origin === STORED || origin === 'timeout') return;
				const changed = [...added, ...updated, ...removed];
				if (changed.length === 0) return;
				const body = encodeAwarenessUpdate(entry.awareness, changed);
				this.#publish(
					this.#channel(entry.name),
					encodeClusterMessage(kindAwareness, this.id, body),
					[]
				);
			}
		);
		if (this.#sub.status !== 'ready') return; // subscribed (and caught up) on `ready`
		this.#sub.subscribe(this.#channel(entry.name)).then(
			// Anything another relay stored between the load and now went unheard: read it back.
			() => this.#catchUp(entry),
			() => {}
		);
	}

	committed(
		entry: DocEntry,
		updates: ReadonlyArray<{ data: Uint8Array; claim: { clients: number[]; user: string } | null }>
	): void {
		const data =
			updates.length === 1 ? updates[0]!.data : Y.mergeUpdates(updates.map((u) => u.data));
		const claims = updates.flatMap((u) => (u.claim ? [u.claim] : []));
		this.#publish(
			this.#channel(entry.name),
			encodeClusterMessage(kindUpdate, this.id, data, claims),
			[entry.name]
		);
	}

	evicted(entry: DocEntry): void {
		if (this.#sub.status === 'ready')
			this.#sub.unsubscribe(this.#channel(entry.name)).catch(() => {});
	}

	#onMessage(channel: string, message: Buffer): void {
		let m: Decoded;
		try {
			m = decodeClusterMessage(message);
		} catch (err) {
			this.log.warn({ err: (err as Error).message, channel }, 'a cluster message does not decode');
			return;
		}
		if (m.relay === this.id) return;
		this.#metrics.received.inc();
		if (channel === this.#control) {
			if (m.kind === kindRevoked) return this.#closeDevice(m.docs[0] ?? '', m.docs[1] ?? '');
			if (m.kind !== kindResync) return;
			for (const name of m.docs) {
				const entry = this.docs.docs.get(name);
				if (entry) void this.#catchUp(entry);
			}
			return;
		}
		const name = channel.slice(`${this.#prefix}doc:`.length);
		const entry = this.docs.docs.get(name);
		if (!entry) return;
		try {
			if (m.kind === kindUpdate) this.docs.applyStored(entry, [m.body], m.claims);
			else if (m.kind === kindAwareness) {
				applyAwarenessUpdate(entry.awareness, m.body, STORED);
				this.#own(entry, m.body);
			}
		} catch (err) {
			this.log.error({ err, doc: name }, 'could not apply a message from another relay');
		}
	}

	/**
	 * A device signed out through this relay loses its connections on every relay: wraps the
	 * registry's `revoke` (devices.ts closes the ones here) to tell the others.
	 */
	watchRevocations(devices: {
		revoke(userId: string, byDevice: string | null, deviceId: unknown, now?: number): void;
	}): void {
		const revoke = devices.revoke.bind(devices);
		devices.revoke = (userId, byDevice, deviceId, now) => {
			revoke(userId, byDevice, deviceId, now);
			if (typeof deviceId !== 'string') return;
			const message = encodeClusterMessage(
				kindRevoked,
				this.id,
				new Uint8Array(),
				[],
				[userId, deviceId]
			);
			this.#publish(this.#control, message, []);
		};
	}

	#closeDevice(user: string, device: string): void {
		for (const entry of this.docs.docs.values()) {
			for (const conn of [...entry.conns]) {
				if (conn.user === user && conn.device === device)
					this.docs.close(conn, CloseCode.deviceRevoked, 'device signed out');
			}
		}
	}

	/**
	 * Presence states of another relay's clients are owned by a stand-in for their user, so a
	 * connection here cannot claim those client ids (connection.ts, `#onAwareness`): only the
	 * same user may take one over (a device that moved to this relay).
	 */
	#own(entry: DocEntry, update: Uint8Array): void {
		for (const e of decodeAwarenessUpdate(update, 10_000)) {
			const owner = entry.awarenessOwners.get(e.clientId);
			if (e.json === 'null') {
				this.#disown(entry, e.clientId);
				continue;
			}
			if (owner && !remoteOwners.has(owner)) continue; // a connection of this relay has it
			let user = '';
			try {
				const id = (JSON.parse(e.json) as { user?: { id?: unknown } } | null)?.user?.id;
				if (typeof id === 'string') user = id;
			} catch {
				// not JSON: owned by no user, so no one here takes it over
			}
			if (owner?.user === user) continue;
			const standIn = {
				user,
				awarenessIds: new Set([e.clientId]),
				closed: true
			} as unknown as Conn;
			remoteOwners.add(standIn);
			entry.awarenessOwners.set(e.clientId, standIn);
		}
	}

	#disown(entry: DocEntry, clientId: number): void {
		const owner = entry.awarenessOwners.get(clientId);
		if (owner && remoteOwners.has(owner)) entry.awarenessOwners.delete(clientId);
	}

	async close(): Promise<void> {
		this.#closing = true;
		this.#sub.disconnect();
		this.#pub.disconnect();
	}
}
