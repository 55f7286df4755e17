/**
 * A Yjs document kept on the device in IndexedDB.
 *
 * Same store layout as y-indexeddb 9 (a database named after the document, an `updates` store
 * with auto-increment keys holding one Yjs update per record, and a `custom` store), so either
 * reads the other's data; but not y-indexeddb itself, because each of its known gaps sits in
 * code a wrapper cannot reach:
 * - #28: it writes each update in its own transaction and drops the request, so nothing can
 *   tell when an update is on disk. Here every write's transaction is awaited to `complete`,
 *   and {@link LocalDoc.flush} resolves only after the one holding the latest update committed.
 * - #42: when the browser closes the connection (another tab's upgrade or delete, a mobile
 *   browser reclaiming it, "database connection is closing"), its writes throw and the update
 *   is gone. Here updates stay in memory until their transaction committed; a failed write
 *   drops the connection, reopens it and writes them again, and a database deleted under us is
 *   rewritten whole from the document.
 * - #31: it adds a record on every load (the empty document's state) and trims only past 500,
 *   so the store grows on every reload. Here loading writes nothing, and past `compactAbove`
 *   records (after loading, and when idle after writes) all records are replaced by one
 *   merged update in one transaction.
 */
import * as Y from 'yjs';
import type { Origin } from '$lib/model';
import { committed, openUpdatesDb, request, UPDATES_STORE } from './idb';

export interface LocalDocOptions {
	/** The IndexedDB to use; defaults to the browser's (tests pass fake-indexeddb's). */
	indexedDB?: IDBFactory;
	/** Stored records above which they are merged into one. */
	compactAbove?: number;
	/** Quiet time after the last write before compacting (ms). */
	idleCompactMs?: number;
	/**
	 * Below this size (bytes) of the biggest record, a compaction always writes the whole
	 * document as one record; above it, records small next to that one are merged apart.
	 */
	mergeTailAbove?: number;
	/** First delay before retrying a failed write (ms); it doubles, up to 10 s. */
	retryMs?: number;
	/**
	 * Where `pagehide` and `visibilitychange` arrive, to write at once before the page goes away
	 * (default: `window` in a browser, none elsewhere).
	 */
	lifecycle?: EventTarget | null;
	/** Failed loads and writes (they are retried; nothing is dropped). */
	onError?: (error: unknown) => void;
	/**
	 * Called once the database is open; reading the stored records and applying them wait for
	 * what it returns. The conversation view passes "after the index's first page has painted":
	 * applying 100,000 messages is one ~0.8 s task, and reading them (~30 MB) is a ~0.2 s task
	 * on the main thread (the value's deserialisation) and ~0.15 s of garbage collection, all of
	 * which would otherwise come before that paint (measured: docs/BENCHMARKS.md, cold open).
	 */
	applyAfter?: () => Promise<unknown>;
}

const MAX_RETRY_MS = 10_000;

interface FlushWaiter {
	upTo: number;
	resolve: () => void;
}

/**
 * Keeps a Y.Doc in IndexedDB. Construct it to start loading; {@link openLocalDoc} also waits
 * for the load.
 *
 * @example
 * const local = new LocalDoc('conv:42', doc);
 * await local.whenLoaded; // the doc now holds what the device had
 * postMessage(doc, { content: 'hi', created_by: me });
 * await local.flush(); // …and now that message is committed to IndexedDB
 */
export class LocalDoc {
	/** Resolves once the stored updates are in the document (rejects if IndexedDB fails). */
	readonly whenLoaded: Promise<void>;
	readonly #factory: IDBFactory;
	readonly #compactAbove: number;
	readonly #idleCompactMs: number;
	readonly #mergeTailAbove: number;
	readonly #retryMs: number;
	readonly #lifecycle: EventTarget | null;
	readonly #onError: (error: unknown) => void;
	readonly #applyAfter: (() => Promise<unknown>) | null;
	/** The origin of what this object applies to the document; its own writes skip it. */
	readonly #origin: Origin = Object.freeze({ kind: 'storage' });

	#db: IDBDatabase | null = null;
	#opening: Promise<IDBDatabase> | null = null;
	#everOpened = false;
	/** Updates not yet confirmed stored, oldest first: numbers `#confirmed + 1 … #received`. */
	#pending: Uint8Array[] = [];
	#received = 0;
	#confirmed = 0;
	/** The database was recreated under us: write the whole document, not just the pending. */
	#needFullState = false;
	#flushWaiters: FlushWaiter[] = [];
	#idleWaiters: Array<() => void> = [];
	/** Every record up to this key is in the document; keys above it we wrote ourselves or not. */
	#lastKey = 0;
	#ownKeys = new Set<number>();
	#storedCount = 0;
	/**
	 * The biggest stored record (the last full compaction's, or the biggest loaded), and the bytes
	 * of every other record: a compaction merges those others alone while they are small next to
	 * it, instead of encoding and writing the whole document again ({@link LocalDoc.compact}).
	 */
	#baseKey: number | null = null;
	#baseBytes = 0;
	#tailBytes = 0;
	#compactWanted = false;
	#running = false;
	#failures = 0;
	#retryTimer: ReturnType<typeof setTimeout> | null = null;
	#compactTimer: ReturnType<typeof setTimeout> | null = null;
	#closing = false;
	#closed = false;
	/** The `update` listener is attached (after the load). */
	#following = false;
	#closePromise: Promise<void> | null = null;

	constructor(
		readonly name: string,
		readonly doc: Y.Doc,
		options: LocalDocOptions = {}
	) {
		const factory = options.indexedDB ?? globalThis.indexedDB;
		if (!factory) throw new Error('IndexedDB is not available here; pass options.indexedDB');
		this.#factory = factory;
		this.#compactAbove = options.compactAbove ?? 8;
		this.#idleCompactMs = options.idleCompactMs ?? 2_000;
		this.#mergeTailAbove = options.mergeTailAbove ?? 256 * 1024;
		this.#retryMs = options.retryMs ?? 100;
		this.#onError = options.onError ?? ((e) => console.error(`Kith storage (${name}):`, e));
		this.#applyAfter = options.applyAfter ?? null;
		this.#lifecycle =
			options.lifecycle !== undefined
				? options.lifecycle
				: typeof window !== 'undefined'
					? window
					: null;
		// No `update` listener until the stored records are in: Yjs encodes every transaction's
		// update while the document has one, and the load's transaction would be encoded whole
		// (~1 s for a 100,000-message conversation) only for #onUpdate to skip it. Until then
		// others' transactions are caught by #onEarlyTransaction.
		doc.on('afterTransaction', this.#onEarlyTransaction);
		this.whenLoaded = this.#load();
		// The caller may never await it; failures also go to onError.
		this.whenLoaded.catch((e: unknown) => this.#onError(e));
		// Whatever the document held before we attached is not in any update we will see.
		if (Y.encodeStateVector(doc).length > 1) this.#onUpdate(Y.encodeStateAsUpdate(doc), null);
		doc.on('destroy', this.#onDestroy);
		this.#lifecycle?.addEventListener('pagehide', this.#onPageHide);
		this.#lifecycle?.addEventListener('visibilitychange', this.#onVisibility);
	}

	/** Updates made here that are not yet known to be stored. */
	get unsaved(): number {
		return this.#pending.length + (this.#needFullState ? 1 : 0);
	}

	/**
	 * Resolves once every update made so far is committed to IndexedDB (after retries, if a
	 * write failed). The answer to y-indexeddb #28.
	 *
	 * @example editMessage(doc, id, input); await local.flush(); // safe to close the tab
	 */
	flush(): Promise<void> {
		const upTo = this.#received;
		if (this.#confirmed >= upTo && !this.#needFullState) return Promise.resolve();
		return new Promise((resolve) => {
			this.#flushWaiters.push({ upTo, resolve });
			this.#now();
		});
	}

	/** Merges every stored record into one, now (it also happens on its own; see the options). */
	compact(): Promise<void> {
		this.#compactWanted = true;
		this.#now();
		return this.#whenIdle();
	}

	/** How many records the `updates` store holds (one after a compaction). */
	async storedUpdates(): Promise<number> {
		const db = await this.#connect();
		const tx = db.transaction([UPDATES_STORE], 'readonly');
		return request(tx.objectStore(UPDATES_STORE).count());
	}

	/**
	 * Writes what is left, then closes the connection and stops following the document.
	 * Called on the document's `destroy` too.
	 */
	close(): Promise<void> {
		this.#closePromise ??= this.#close();
		return this.#closePromise;
	}

	async #close(): Promise<void> {
		this.#closing = true;
		this.#following = false;
		this.doc.off('afterTransaction', this.#onEarlyTransaction);
		this.doc.off('update', this.#onUpdate);
		this.doc.off('destroy', this.#onDestroy);
		this.#lifecycle?.removeEventListener('pagehide', this.#onPageHide);
		this.#lifecycle?.removeEventListener('visibilitychange', this.#onVisibility);
		if (this.#compactTimer !== null) clearTimeout(this.#compactTimer);
		this.#compactTimer = null;
		await this.whenLoaded.catch(() => {});
		await this.flush();
		await this.#whenIdle();
		this.#closed = true;
		this.#db?.close();
		this.#db = null;
	}

	readonly #onUpdate = (update: Uint8Array, origin: unknown): void => {
		if (origin === this.#origin) return;
		this.#pending.push(update);
		this.#received++;
		this.#kick();
	};

	/**
	 * Before the load: a transaction of someone else (the relay, another tab, a local edit made
	 * while loading) as the update it made. The document is what the device had before loading
	 * it, usually empty, so encoding from the transaction's state before is cheap; the delete set
	 * goes whole (a delete adds no struct to tell it by).
	 */
	readonly #onEarlyTransaction = (tr: Y.Transaction): void => {
		if (tr.origin === this.#origin) return;
		const changed =
			tr.deleteSet.clients.size > 0 ||
			[...tr.afterState].some(([client, clock]) => clock !== (tr.beforeState.get(client) ?? 0));
		if (!changed) return;
		this.#onUpdate(Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(tr.beforeState)), null);
	};

	/** After the load (or its failure): follow the document's updates from now on. */
	#follow(): void {
		this.doc.off('afterTransaction', this.#onEarlyTransaction);
		if (this.#following || this.#closing) return;
		this.#following = true;
		this.doc.on('update', this.#onUpdate);
	}

	readonly #onDestroy = (): void => {
		void this.close();
	};

	readonly #onPageHide = (): void => this.#now();

	readonly #onVisibility = (): void => {
		const state = (globalThis as { document?: { visibilityState?: string } }).document
			?.visibilityState;
		if (state === undefined || state === 'hidden') this.#now();
	};

	/** Write now, even while waiting to retry: the page may be going away. */
	#now(): void {
		if (this.#retryTimer !== null) {
			clearTimeout(this.#retryTimer);
			this.#retryTimer = null;
		}
		this.#kick();
	}

	#kick(): void {
		if (this.#running || this.#retryTimer !== null || this.#closed) return;
		void this.#run();
	}

	#whenIdle(): Promise<void> {
		if (!this.#running && this.#retryTimer === null) return Promise.resolve();
		return new Promise((resolve) => this.#idleWaiters.push(resolve));
	}

	#connect(): Promise<IDBDatabase> {
		if (this.#db) return Promise.resolve(this.#db);
		this.#opening ??= openUpdatesDb(this.#factory, this.name).then(
			({ db, created }) => {
				this.#opening = null;
				// Created again after we had it open: it was deleted under us (another tab, the
				// browser, the person clearing site data). The document still holds everything.
				if (created && this.#everOpened) this.#needFullState = true;
				this.#everOpened = true;
				db.onclose = () => this.#lost(db);
				db.onversionchange = () => {
					// Let the other connection upgrade or delete; reopen on the next write.
					db.close();
					this.#lost(db);
				};
				this.#db = db;
				return db;
			},
			(error: unknown) => {
				this.#opening = null;
				throw error;
			}
		);
		return this.#opening;
	}

	/** The connection went away (closed by the browser or for another connection). */
	#lost(db: IDBDatabase): void {
		if (this.#db !== db) return;
		this.#db = null;
		if (this.unsaved > 0) this.#retryLater();
	}

	async #load(): Promise<void> {
		try {
			await this.#loadStored();
		} finally {
			// Synchronously after the load's transaction: no transaction falls between the two
			// listeners.
			this.#follow();
		}
	}

	async #loadStored(): Promise<void> {
		await this.#connect();
		if (this.#applyAfter) await this.#applyAfter().catch(() => {});
		// Connected again if the browser closed the connection while we waited.
		const db = await this.#connect();
		const tx = db.transaction([UPDATES_STORE], 'readonly');
		const store = tx.objectStore(UPDATES_STORE);
		const [values, keys] = await Promise.all([
			request(store.getAll()),
			request(store.getAllKeys())
		]);
		this.doc.transact(() => {
			values.forEach((value, i) => {
				// Whatever is in IndexedDB is checked before it reaches the document.
				if (!(value instanceof Uint8Array)) {
					this.#onError(new Error(`${this.name}: record ${String(keys[i])} is not a Yjs update`));
					return;
				}
				try {
					Y.applyUpdate(this.doc, value);
				} catch (error) {
					this.#onError(error);
				}
			});
		}, this.#origin);
		this.#lastKey = keys.reduce<number>(
			(max, k) => (typeof k === 'number' && k > max ? k : max),
			0
		);
		this.#storedCount = keys.length;
		this.#baseKey = null;
		this.#baseBytes = this.#tailBytes = 0;
		values.forEach((value, i) => {
			const bytes = value instanceof Uint8Array ? value.byteLength : 0;
			const key = keys[i];
			if (typeof key === 'number' && bytes > this.#baseBytes) {
				this.#tailBytes += this.#baseBytes;
				this.#baseKey = key;
				this.#baseBytes = bytes;
			} else this.#tailBytes += bytes;
		});
		if (this.#storedCount > this.#compactAbove) this.#compactWanted = true;
		this.#kick();
	}

	async #run(): Promise<void> {
		this.#running = true;
		try {
			// A failed load was reported; what is made here from now on is still worth storing.
			await this.whenLoaded.catch(() => {});
			for (;;) {
				const write = this.#pending.length > 0 || this.#needFullState;
				if (!write && !this.#compactWanted) break;
				const db = await this.#connect();
				if (write) {
					await this.#write(db);
				} else {
					this.#compactWanted = false;
					try {
						await this.#compact(db);
					} catch (error) {
						this.#compactWanted = true;
						throw error;
					}
				}
				this.#failures = 0;
			}
		} catch (error) {
			this.#onError(error);
			// Whatever went wrong, the next attempt starts from a fresh connection.
			const db = this.#db;
			this.#db = null;
			try {
				db?.close();
			} catch {
				// Already closed.
			}
			this.#running = false;
			this.#retryLater();
			return;
		}
		this.#running = false;
		if (this.#storedCount > this.#compactAbove && !this.#closing) this.#compactWhenIdle();
		const waiters = this.#idleWaiters;
		this.#idleWaiters = [];
		for (const w of waiters) w();
	}

	#retryLater(): void {
		if (this.#retryTimer !== null || this.#closed) return;
		// The first retry is at once: a closed connection usually reopens fine.
		const delay =
			this.#failures === 0 ? 0 : Math.min(MAX_RETRY_MS, this.#retryMs * 2 ** (this.#failures - 1));
		this.#failures++;
		this.#retryTimer = setTimeout(() => {
			this.#retryTimer = null;
			this.#kick();
		}, delay);
	}

	#compactWhenIdle(): void {
		if (this.#compactTimer !== null) clearTimeout(this.#compactTimer);
		this.#compactTimer = setTimeout(() => {
			this.#compactTimer = null;
			this.#compactWanted = true;
			this.#kick();
		}, this.#idleCompactMs);
	}

	async #write(db: IDBDatabase): Promise<void> {
		const full = this.#needFullState;
		const count = this.#pending.length;
		const upTo = this.#received;
		const update = full
			? Y.encodeStateAsUpdate(this.doc)
			: count === 1
				? this.#pending[0]!
				: Y.mergeUpdates(this.#pending);
		// Throws InvalidStateError when the connection is closing: caught by #run, which reopens.
		const tx = db.transaction([UPDATES_STORE], 'readwrite');
		const [key] = await Promise.all([
			request(tx.objectStore(UPDATES_STORE).add(update)),
			committed(tx)
		]);
		// Committed: only now may the updates leave memory.
		this.#pending.splice(0, count);
		this.#confirmed = upTo;
		if (full) this.#needFullState = false;
		if (typeof key === 'number') this.#ownKeys.add(key);
		this.#storedCount++;
		this.#tailBytes += update.byteLength;
		const still: FlushWaiter[] = [];
		for (const w of this.#flushWaiters) {
			if (w.upTo <= this.#confirmed && !this.#needFullState) w.resolve();
			else still.push(w);
		}
		this.#flushWaiters = still;
	}

	/**
	 * Replaces the stored records by fewer. While the records written since the last full
	 * compaction are small next to its record (under a quarter of it, which is over
	 * `mergeTailAbove`), only they are merged, into one record beside it; otherwise the whole
	 * document is encoded into one record. A 100,000-
	 * message conversation is a 33 MB record: encoding it took ~0.8 s of the main thread, and
	 * writing it again every eight posts was most of what the browser did while someone posted.
	 */
	async #compact(db: IDBDatabase): Promise<void> {
		const tx = db.transaction([UPDATES_STORE], 'readwrite');
		const done = committed(tx);
		const store = tx.objectStore(UPDATES_STORE);
		try {
			const keys = (await request(store.getAllKeys())).filter(
				(k): k is number => typeof k === 'number'
			);
			const base = this.#baseKey;
			const tailOnly =
				base !== null &&
				keys.includes(base) &&
				this.#baseBytes >= this.#mergeTailAbove &&
				this.#tailBytes * 4 < this.#baseBytes;
			const tail = tailOnly ? keys.filter((k) => k !== base) : keys;
			if (tailOnly && tail.length <= 1) {
				this.#storedCount = keys.length;
				await done;
				return;
			}
			// Records another tab wrote since we loaded: into the document first, so that the merged
			// record holds them too.
			const foreign = keys.filter((k) => k > this.#lastKey && !this.#ownKeys.has(k));
			const updates = await Promise.all(foreign.map((k) => request(store.get(k))));
			this.doc.transact(() => {
				for (const u of updates) if (u instanceof Uint8Array) Y.applyUpdate(this.doc, u);
			}, this.#origin);
			let merged: Uint8Array;
			if (tailOnly) {
				const known = new Map(foreign.map((k, i) => [k, updates[i]]));
				const values = await Promise.all(
					tail.map((k) => (known.has(k) ? known.get(k) : request(store.get(k))))
				);
				merged = Y.mergeUpdates(values.filter((v): v is Uint8Array => v instanceof Uint8Array));
			} else merged = Y.encodeStateAsUpdate(this.doc);
			const added = request(store.add(merged));
			for (const k of tail) store.delete(k);
			const [key] = await Promise.all([added, done]);
			this.#lastKey = typeof key === 'number' ? key : this.#lastKey;
			this.#ownKeys.clear();
			if (tailOnly) {
				this.#storedCount = 2;
				this.#tailBytes = merged.byteLength;
			} else {
				this.#storedCount = 1;
				this.#baseKey = typeof key === 'number' ? key : null;
				this.#baseBytes = merged.byteLength;
				this.#tailBytes = 0;
			}
		} catch (error) {
			await done.catch(() => {});
			throw error;
		}
	}
}

/**
 * Opens a document from IndexedDB: resolves once it holds everything the device stored.
 *
 * @example
 * const local = await openLocalDoc('conv:42');
 * readMessages(local.doc); // instant, no network
 * await local.close();
 */
export async function openLocalDoc(
	name: string,
	options: LocalDocOptions & { doc?: Y.Doc } = {}
): Promise<LocalDoc> {
	const local = new LocalDoc(name, options.doc ?? new Y.Doc(), options);
	await local.whenLoaded;
	return local;
}
