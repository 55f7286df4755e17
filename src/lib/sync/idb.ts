/**
 * The little of raw IndexedDB that {@link LocalDoc} needs, as promises. A request's promise
 * resolves in its success callback, while its transaction is still active; a transaction's
 * promise resolves only on `complete`, which is when the browser has committed it.
 */

/** A request as a promise. */
export function request<T>(req: IDBRequest<T>): Promise<T> {
	return new Promise((resolve, reject) => {
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
	});
}

/** Resolves when the transaction has committed; rejects when it aborts or fails. */
export function committed(tx: IDBTransaction): Promise<void> {
	return new Promise((resolve, reject) => {
		tx.oncomplete = () => resolve();
		tx.onabort = () => reject(tx.error ?? new DOMException('Transaction aborted', 'AbortError'));
		tx.onerror = (event) => {
			// Let `abort` report it once; stop the error from also reaching window.onerror.
			event.preventDefault();
		};
	});
}

/**
 * Opens (or creates) a database with y-indexeddb's layout: `updates` (auto-increment keys,
 * one Yjs update per record) and `custom`. Reports whether it had to create the stores, which
 * means the database was new or had been deleted under us.
 */
export function openUpdatesDb(
	factory: IDBFactory,
	name: string
): Promise<{ db: IDBDatabase; created: boolean }> {
	return new Promise((resolve, reject) => {
		let created = false;
		const req = factory.open(name);
		req.onupgradeneeded = () => {
			created = true;
			const db = req.result;
			if (!db.objectStoreNames.contains(UPDATES_STORE))
				db.createObjectStore(UPDATES_STORE, { autoIncrement: true });
			if (!db.objectStoreNames.contains(CUSTOM_STORE)) db.createObjectStore(CUSTOM_STORE);
		};
		req.onsuccess = () => resolve({ db: req.result, created });
		req.onerror = () => reject(req.error ?? new Error(`Could not open IndexedDB ${name}`));
		req.onblocked = () => {
			// Another connection holds an older version open; `success` follows once it closes.
		};
	});
}

/** y-indexeddb's store names, kept so that either can read the other's data. */
export const UPDATES_STORE = 'updates';
export const CUSTOM_STORE = 'custom';

/** Whether a database of this name exists (opening one would create it). */
async function exists(factory: IDBFactory, name: string): Promise<boolean> {
	// `databases()` is in every current browser; where missing, assume it may exist.
	if (typeof factory.databases !== 'function') return true;
	return (await factory.databases()).some((d) => d.name === name);
}

/**
 * Bytes of the Yjs updates a document's database holds (0 when it has none), read without
 * creating the database.
 *
 * @example const bytes = await storedDocBytes(indexedDB, 'conv:123');
 */
export async function storedDocBytes(factory: IDBFactory, name: string): Promise<number> {
	if (!(await exists(factory, name))) return 0;
	const { db, created } = await openUpdatesDb(factory, name);
	try {
		if (created) return 0;
		const tx = db.transaction([UPDATES_STORE], 'readonly');
		const values = await request(tx.objectStore(UPDATES_STORE).getAll());
		return values.reduce<number>((sum, v) => sum + (v instanceof Uint8Array ? v.byteLength : 0), 0);
	} finally {
		db.close();
	}
}

/** Deletes a document's database; resolves once it is gone (after other connections close). */
export function deleteStoredDoc(factory: IDBFactory, name: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const req = factory.deleteDatabase(name);
		req.onsuccess = () => resolve();
		req.onerror = () => reject(req.error ?? new Error(`Could not delete IndexedDB ${name}`));
	});
}
