/**
 * Delivery state that tells the truth: which message records the relay has durably stored.
 *
 * The relay sends a connection that asked for it (`ack=1`) the state vector of what it has
 * committed to disk for the document (docs/PROTOCOL.md, "Delivery acknowledgements"): a full
 * one when the connection opens, then the entries that grew after each commit. A record is
 * stored once that vector covers the Yjs item holding it: item id `(client, clock)` with
 * `clock < stored[client]`. {@link DeliveryTracker} keeps, incrementally from the arrays'
 * events, a map from message id to the item ids holding it, the set of records not yet stored,
 * and (optionally) the last vector on the device, so that after a reload offline the app still
 * knows what was stored.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { arrayChanges, conversationTypes } from '$lib/model';
import { committed, request } from './idb';

/** Kith's extension message type: the relay's stored state vector (sync-server/protocol.ts). */
export const MESSAGE_STORED = 100;
/** The vector replaces what the device knew (sent when a connection opens). */
export const STORED_FULL = 0;
/** Only the entries that grew: merged, keeping the larger clock of each client. */
export const STORED_INCREMENT = 1;

/** One "stored" message from the relay. */
export interface StoredAck {
	/** True: `vector` is everything the relay stored; false: only the entries that grew. */
	readonly full: boolean;
	/** Client id → clock: every struct of that client below the clock is on the relay's disk. */
	readonly vector: ReadonlyMap<number, number>;
}

/** Reads a stored message's body (after its type, {@link MESSAGE_STORED}); throws on garbage. */
export function readStoredMessage(decoder: decoding.Decoder): StoredAck {
	const kind = decoding.readVarUint(decoder);
	if (kind !== STORED_FULL && kind !== STORED_INCREMENT) {
		throw new Error(`unknown stored message kind ${kind}`);
	}
	const vector = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
	return { full: kind === STORED_FULL, vector };
}

/** The whole message, type included (what the relay sends; for tests and tools). */
export function encodeStoredMessage(ack: StoredAck): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, MESSAGE_STORED);
	encoding.writeVarUint(e, ack.full ? STORED_FULL : STORED_INCREMENT);
	encoding.writeVarUint8Array(e, Y.encodeStateVector(new Map(ack.vector)));
	return encoding.toUint8Array(e);
}

/** Where stored messages come from: a {@link RelayLink} (src/lib/sync/relay.ts) is one. */
export interface StoredSource {
	/** Calls `listener` with every stored message; returns the unsubscribe function. */
	onStored(listener: (ack: StoredAck) => void): () => void;
}

/** Keeps the last stored vector of each document on the device. */
export interface StoredVectorStore {
	load(docName: string): Promise<Uint8Array | null>;
	save(docName: string, vector: Uint8Array): Promise<void>;
}

const DELIVERY_DB = 'kith-delivery';
const DELIVERY_STORE = 'stored';

/**
 * A {@link StoredVectorStore} in its own small IndexedDB database (`kith-delivery`, one record
 * per document name holding a Yjs-encoded state vector). Its own database rather than the
 * document's: a second connection there would hide from LocalDoc that its database was
 * deleted and recreated.
 */
export function indexedDbStoredVectors(
	options: { indexedDB?: IDBFactory; name?: string } = {}
): StoredVectorStore & { close(): void } {
	const factory = options.indexedDB ?? globalThis.indexedDB;
	if (!factory) throw new Error('IndexedDB is not available here; pass options.indexedDB');
	const name = options.name ?? DELIVERY_DB;
	let db: Promise<IDBDatabase> | null = null;
	const open = (): Promise<IDBDatabase> => {
		db ??= new Promise<IDBDatabase>((resolve, reject) => {
			const req = factory.open(name, 1);
			req.onupgradeneeded = () => {
				if (!req.result.objectStoreNames.contains(DELIVERY_STORE))
					req.result.createObjectStore(DELIVERY_STORE);
			};
			req.onsuccess = () => {
				const opened = req.result;
				const forget = () => {
					opened.close();
					db = null;
				};
				opened.onversionchange = forget;
				opened.onclose = () => {
					db = null;
				};
				resolve(opened);
			};
			req.onerror = () => {
				db = null;
				reject(req.error ?? new Error(`Could not open IndexedDB ${name}`));
			};
		});
		return db;
	};
	return {
		async load(docName) {
			const tx = (await open()).transaction([DELIVERY_STORE], 'readonly');
			const value: unknown = await request(tx.objectStore(DELIVERY_STORE).get(docName));
			return value instanceof Uint8Array ? value : null;
		},
		async save(docName, vector) {
			const tx = (await open()).transaction([DELIVERY_STORE], 'readwrite');
			await Promise.all([
				request(tx.objectStore(DELIVERY_STORE).put(vector, docName)),
				committed(tx)
			]);
		},
		close() {
			void db?.then((d) => d.close()).catch(() => {});
			db = null;
		}
	};
}

export interface DeliveryTrackerOptions {
	/** Keep the last stored vector on the device under `docName` (and start from it). */
	persist?: { store: StoredVectorStore; docName: string };
	/** Failed loads and saves of the persisted vector (delivery state only; nothing is lost). */
	onError?: (error: unknown) => void;
}

/** An item id: the Yjs client and the clock of the one record. */
interface Ref {
	client: number;
	clock: number;
}

/**
 * Which message records (in `messages` and `replies`) of one conversation document (`conv:<id>`)
 * the relay has durably stored. Until {@link DeliveryTracker.whenLoaded} resolves it may call
 * stored records pending (never the reverse): show delivery marks once it has loaded.
 *
 * @example
 * const tracker = new DeliveryTracker(doc, { persist: { store, docName: 'conv:42' } });
 * tracker.attach(link); // a RelayLink from RelaySession.connect
 * tracker.onChange((pending) => (this.pending = pending)); // in a rune class
 * tracker.isStored(message.id); // false: "sending…", true: "sent"
 */
export class DeliveryTracker {
	/** Resolves once the persisted vector (if any) is read; until then fewer records are stored. */
	readonly whenLoaded: Promise<void>;
	readonly #arrays: Y.Array<unknown>[];
	readonly #persist: DeliveryTrackerOptions['persist'];
	readonly #onError: (error: unknown) => void;
	#stored = new Map<number, number>();
	/** Whether the relay sent a full vector: it overrides the persisted one, loaded later. */
	#heardFull = false;
	/** Message id → the live items holding it (two after concurrent deletes, say). */
	readonly #refs = new Map<string, Ref[]>();
	/** Client → clock → message id: to find what a deleted item held. */
	readonly #byItem = new Map<number, Map<number, string>>();
	readonly #pending = new Set<string>();
	readonly #listeners = new Set<(pending: ReadonlySet<string>) => void>();
	readonly #detach = new Set<() => void>();
	#saving: Promise<void> | null = null;
	#saveAgain = false;
	#destroyed = false;

	constructor(doc: Y.Doc, options: DeliveryTrackerOptions = {}) {
		this.#persist = options.persist;
		this.#onError = options.onError ?? ((e) => console.error('Kith delivery state:', e));
		const { messages, replies } = conversationTypes(doc);
		this.#arrays = [messages, replies] as Y.Array<unknown>[];
		for (const array of this.#arrays) {
			for (let item = array._start; item !== null; item = item.right) {
				if (!item.deleted && item.countable) this.#add(item);
			}
			array.observe(this.#onEvent);
		}
		this.whenLoaded = this.#load();
	}

	/** Follows a relay link's stored messages; returns the function that stops it. */
	attach(source: StoredSource): () => void {
		const off = source.onStored((ack) => this.applyStored(ack));
		this.#detach.add(off);
		return () => {
			off();
			this.#detach.delete(off);
		};
	}

	/** The relay's stored vector as this device knows it (a copy). */
	get storedVector(): Map<number, number> {
		return new Map(this.#stored);
	}

	/** Whether the relay has durably stored the record with this id (false when unknown here). */
	isStored(messageId: string): boolean {
		const refs = this.#refs.get(messageId);
		return refs !== undefined && refs.some((r) => this.#covers(r));
	}

	/** The items holding a record (usually one), for {@link DeviceHoldings}. */
	refsOf(messageId: string): ReadonlyArray<{ client: number; clock: number }> {
		return this.#refs.get(messageId) ?? [];
	}

	/** Ids of the records in this document that the relay has not stored yet (a copy). */
	pendingIds(): Set<string> {
		return new Set(this.#pending);
	}

	/**
	 * Calls `listener` whenever the set of pending records changes (with that set, read-only);
	 * returns the unsubscribe function.
	 */
	onChange(listener: (pending: ReadonlySet<string>) => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	/** Takes in one stored message from the relay. */
	applyStored(ack: StoredAck): void {
		if (this.#destroyed) return;
		let shrank = false;
		let grew = false;
		if (ack.full) {
			this.#heardFull = true;
			for (const [client, clock] of this.#stored) {
				if ((ack.vector.get(client) ?? 0) < clock) shrank = true;
			}
			for (const [client, clock] of ack.vector) {
				if (clock > (this.#stored.get(client) ?? 0)) grew = true;
			}
			this.#stored = new Map(ack.vector);
		} else {
			for (const [client, clock] of ack.vector) {
				if (clock > (this.#stored.get(client) ?? 0)) {
					this.#stored.set(client, clock);
					grew = true;
				}
			}
		}
		if (!shrank && !grew) return;
		// Less stored than we thought (a relay restored from an older backup): check them all.
		const changed = shrank ? this.#recheckAll() : this.#recheckPending();
		this.#save();
		if (changed) this.#emit();
	}

	/** Resolves once the latest vector is saved on the device (when persisting). */
	async flush(): Promise<void> {
		while (this.#saving) await this.#saving;
	}

	/** Stops following the document and the relay (a save in flight still completes). */
	destroy(): void {
		this.#destroyed = true;
		for (const array of this.#arrays) array.unobserve(this.#onEvent);
		for (const off of this.#detach) off();
		this.#detach.clear();
		this.#listeners.clear();
	}

	#covers(ref: Ref): boolean {
		return ref.clock < (this.#stored.get(ref.client) ?? 0);
	}

	readonly #onEvent = (event: Y.YArrayEvent<unknown>): void => {
		if (this.#destroyed) return;
		let changed = false;
		// Not event.changes: it walks every item of the array (O(messages) per post).
		const delta = arrayChanges(event.transaction, event.target);
		for (const item of delta.deleted) if (this.#remove(item)) changed = true;
		for (const item of delta.added) {
			if (!item.deleted && item.countable && this.#add(item)) changed = true;
		}
		if (changed) this.#emit();
	};

	/** Records the messages an item holds; true when the pending set changed. */
	#add(item: Y.Item): boolean {
		let changed = false;
		const values = item.content.getContent() as unknown[];
		values.forEach((value, k) => {
			const id = (value as { id?: unknown } | null)?.id;
			if (typeof id !== 'string') return;
			const ref = { client: item.id.client, clock: item.id.clock + k };
			let byClock = this.#byItem.get(ref.client);
			if (!byClock) this.#byItem.set(ref.client, (byClock = new Map()));
			byClock.set(ref.clock, id);
			const refs = this.#refs.get(id);
			if (refs) refs.push(ref);
			else this.#refs.set(id, [ref]);
			if (this.#recheck(id)) changed = true;
		});
		return changed;
	}

	/** Forgets the messages a deleted item held; true when the pending set changed. */
	#remove(item: Y.Item): boolean {
		const byClock = this.#byItem.get(item.id.client);
		if (!byClock) return false;
		let changed = false;
		for (let clock = item.id.clock; clock < item.id.clock + item.length; clock++) {
			const id = byClock.get(clock);
			if (id === undefined) continue;
			byClock.delete(clock);
			const refs = (this.#refs.get(id) ?? []).filter(
				(r) => r.client !== item.id.client || r.clock !== clock
			);
			if (refs.length > 0) this.#refs.set(id, refs);
			else this.#refs.delete(id);
			if (this.#recheck(id)) changed = true;
		}
		return changed;
	}

	/** Puts one id in or out of the pending set; true when that changed it. */
	#recheck(id: string): boolean {
		const refs = this.#refs.get(id);
		const pending = refs !== undefined && !refs.some((r) => this.#covers(r));
		if (pending === this.#pending.has(id)) return false;
		if (pending) this.#pending.add(id);
		else this.#pending.delete(id);
		return true;
	}

	#recheckPending(): boolean {
		let changed = false;
		for (const id of [...this.#pending]) if (this.#recheck(id)) changed = true;
		return changed;
	}

	#recheckAll(): boolean {
		let changed = false;
		for (const id of this.#refs.keys()) if (this.#recheck(id)) changed = true;
		return changed;
	}

	#emit(): void {
		const pending: ReadonlySet<string> = new Set(this.#pending);
		for (const l of this.#listeners) l(pending);
	}

	async #load(): Promise<void> {
		const persist = this.#persist;
		if (!persist) return;
		let bytes: Uint8Array | null;
		try {
			bytes = await persist.store.load(persist.docName);
		} catch (error) {
			this.#onError(error);
			return;
		}
		// The relay's own full vector, if it came first, is newer than anything saved.
		if (!bytes || this.#heardFull || this.#destroyed) return;
		let vector: Map<number, number>;
		try {
			vector = Y.decodeStateVector(bytes);
		} catch (error) {
			this.#onError(error);
			return;
		}
		// Merged like an increment: anything the relay said since is at least as new.
		this.applyStored({ full: false, vector });
	}

	/** Saves the latest vector; one write at a time, the last one wins. */
	#save(): void {
		const persist = this.#persist;
		if (!persist) return;
		if (this.#saving) {
			this.#saveAgain = true;
			return;
		}
		const run = async (): Promise<void> => {
			do {
				this.#saveAgain = false;
				try {
					await persist.store.save(persist.docName, Y.encodeStateVector(this.#stored));
				} catch (error) {
					this.#onError(error);
				}
			} while (this.#saveAgain);
		};
		this.#saving = run().finally(() => {
			this.#saving = null;
		});
	}
}

/**
 * A tracker that has read the persisted vector and follows `source`.
 *
 * @example
 * const tracker = await openDeliveryTracker(local.doc, link, { persist: { store, docName } });
 */
export async function openDeliveryTracker(
	doc: Y.Doc,
	source: StoredSource | null,
	options: DeliveryTrackerOptions = {}
): Promise<DeliveryTracker> {
	const tracker = new DeliveryTracker(doc, options);
	if (source) tracker.attach(source);
	await tracker.whenLoaded;
	return tracker;
}
