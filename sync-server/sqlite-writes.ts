/**
 * The relay's writes to the log, as transactions over one better-sqlite3 connection: the writer
 * thread's and, when that thread is not running, the relay's own (storage.ts). Plain
 * JavaScript in a function with no imports and no closure over this module: storage.ts starts
 * the writer thread from its source text (`String(prepareWrites)`), so the thread loads
 * neither tsx (under which the tests run: it compiles at start, seconds under load) nor a
 * bundle entry.
 */
import type Database from 'better-sqlite3';

export interface ClientClaim {
	doc: string;
	clients: readonly number[];
	user: string;
}

export interface Writes {
	/** One group commit: the claims, then the updates, in one transaction; the row id of each update. */
	append(
		docs: readonly string[],
		data: readonly Uint8Array[],
		claims: readonly ClientClaim[]
	): number[];
	/** The snapshot in place of the log rows up to `lastUpdateId`, in one transaction. */
	compact(doc: string, state: Uint8Array, lastUpdateId: number): void;
}

/** Prepares the statements once (`db.transaction` builds its wrappers per call). */
export function prepareWrites(db: Database.Database): Writes {
	const insert = db.prepare('INSERT INTO updates (doc, data) VALUES (?, ?)');
	const claim = db.prepare(
		'INSERT OR IGNORE INTO client_owners (doc, client_id, user_id) VALUES (?, ?, ?)'
	);
	const snapshot = db.prepare(
		`INSERT INTO snapshots (doc, data, last_update_id, updated_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (doc) DO UPDATE SET data = excluded.data,
		 last_update_id = excluded.last_update_id, updated_at = excluded.updated_at`
	);
	const trim = db.prepare('DELETE FROM updates WHERE doc = ? AND id <= ?');
	const append = db.transaction(
		(docs: readonly string[], data: readonly Uint8Array[], claims: readonly ClientClaim[]) => {
			for (const c of claims) for (const id of c.clients) claim.run(c.doc, id, c.user);
			const ids = new Array<number>(docs.length);
			for (let i = 0; i < docs.length; i++)
				ids[i] = Number(insert.run(docs[i], data[i]).lastInsertRowid);
			return ids;
		}
	);
	const compact = db.transaction((doc: string, state: Uint8Array, lastUpdateId: number) => {
		snapshot.run(doc, state, lastUpdateId, new Date().toISOString());
		trim.run(doc, lastUpdateId);
	});
	return { append, compact };
}
