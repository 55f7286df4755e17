/**
 * The writer thread of the embedded store (storage.ts): it owns the connection that commits the
 * log, so SQLite's fsync of each group commit (1–2 ms, more on a busy disk) happens here and
 * not on the relay's event loop, which meanwhile reads sockets and forwards the batch before.
 *
 * Requests are answered one at a time, in the order they came (storage.ts matches answers to
 * requests by that order): a commit, a compaction, a change of the automatic checkpoint.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { prepareWrites, type ClientClaim, type Writes } from './sqlite-writes.ts';

export interface WriterOptions {
	file: string;
	synchronous: 'FULL' | 'NORMAL';
	maxPages: number;
	/** SQLite's automatic checkpoint, in WAL pages (0 while storage.ts's checkpointer runs). */
	autocheckpoint: number;
	/** Set to 1 (and notified) once the connection is open and the statements prepared, 2 when that failed. */
	ready: Int32Array;
}

export type WriterRequest =
	| { kind: 'append'; docs: string[]; data: Uint8Array[]; claims: ClientClaim[] }
	| { kind: 'compact'; doc: string; state: Uint8Array; lastUpdateId: number }
	| { kind: 'autocheckpoint'; pages: number }
	| { kind: 'close' };

export type WriterResponse =
	{ ok: true; ids: number[] | null } | { ok: false; message: string; code: string | null };

const options = workerData as WriterOptions;
const port = parentPort!;
let db: Database.Database;
let writes: Writes;
try {
	db = new Database(options.file);
	db.pragma('busy_timeout = 5000');
	db.pragma(`synchronous = ${options.synchronous}`);
	db.pragma(`wal_autocheckpoint = ${options.autocheckpoint}`);
	if (options.maxPages > 0) db.pragma(`max_page_count = ${options.maxPages}`);
	writes = prepareWrites(db);
	Atomics.store(options.ready, 0, 1);
} catch (err) {
	// The relay commits on its own connection instead (storage.ts).
	Atomics.store(options.ready, 0, 2);
	throw err;
} finally {
	Atomics.notify(options.ready, 0);
}

port.on('message', (req: WriterRequest) => {
	let res: WriterResponse;
	try {
		let ids: number[] | null = null;
		if (req.kind === 'append') ids = writes.append(req.docs, req.data, req.claims);
		else if (req.kind === 'compact') writes.compact(req.doc, req.state, req.lastUpdateId);
		else if (req.kind === 'autocheckpoint') db.pragma(`wal_autocheckpoint = ${req.pages}`);
		else {
			db.close();
			port.close();
			return;
		}
		res = { ok: true, ids };
	} catch (err) {
		const e = err as { message?: unknown; code?: unknown } | null;
		res = {
			ok: false,
			message: String(e?.message ?? err),
			code: typeof e?.code === 'string' ? e.code : null
		};
	}
	port.postMessage(res);
});
