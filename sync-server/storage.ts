/**
 * The embedded store: SQLite (better-sqlite3, WAL) in DATA_DIR.
 *
 * - `updates`: an append-only log of Yjs updates per document. The relay writes each batch in
 *   one transaction before forwarding any update of it (docs.ts, group commit). The commits and
 *   compactions are made by the writer thread (below), which owns the connection
 *   that writes the log: the relay's event loop never waits for their fsync.
 * - `snapshots`: one compacted state per document; compaction writes the snapshot and deletes
 *   the log rows it covers in one transaction, so a crash at any point leaves either the old
 *   rows or the new snapshot, never neither.
 * - workspace membership, invites, and the owner of each Yjs client id per document.
 *
 * Durability: with SQLITE_SYNCHRONOUS=FULL (the default) a committed batch survives power loss
 * (SQLite fsyncs the WAL on every commit); NORMAL survives a crash of the process but may lose
 * the last commits on power loss. WAL checkpoints are made by a worker thread (the
 * checkpointer, below), never inside a commit.
 *
 * Reads stay on the relay's own connection, synchronous: a document is loaded before any other
 * event is handled. WAL gives each read one consistent view (a load is one read transaction, so
 * a compaction committed by the writer between its two statements cannot split it), and every
 * commit the writer has answered is visible to the next read: a document is read from storage
 * only when nothing of it is waiting to be committed (docs.ts evicts a document once settled),
 * or together with what is (docs.ts, `restore`: Yjs applies an update twice as once). Rare
 * writes (members, invites, devices, blobs) stay on the relay's connection too; SQLite's
 * busy timeout orders them with the writer's.
 */
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { prepareWrites, type ClientClaim, type Writes } from './sqlite-writes.ts';
import type { Store } from './store.ts';

/**
 * The checkpointer: a worker thread with its own connection that copies the WAL into the
 * database file (`PRAGMA wal_checkpoint(PASSIVE)`, which fsyncs the database file under FULL)
 * when asked, off the relay's event loop. In WAL mode a checkpoint runs alongside the writer's
 * commits; it never touches what a commit guarantees (the WAL is already synced).
 */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', (m) => {
	if (m === 'close') {
		db.close();
		parentPort.close();
		return;
	}
	let result = null, error = null;
	try { result = db.pragma('wal_checkpoint(PASSIVE)')[0]; } catch (err) { error = String(err && err.message || err); }
	parentPort.postMessage({ result, error });
});
`;

/** How long the relay's start waits for the writer thread to open the database. */
const WRITER_START_MS = 10_000;

/**
 * A write at least this big (the bytes of its updates, or a snapshot) is made on the relay's own
 * connection, once the writer has answered everything before it, and not on the writer thread.
 * Such writes are rare (a device uploading a long history, the snapshot of a big document) and
 * take tens of ms whichever thread makes them, but on the writer thread they grew its own
 * malloc arena by the pages SQLite allocated for them, which glibc then keeps: holding a
 * 100,000-message channel the relay sat at 185 MB instead of 133 (docs/BENCHMARKS.md).
 */
export const BIG_WRITE_BYTES = 1 << 20;

/**
 * The writer: a worker thread that owns the connection committing the log, so SQLite's fsync of
 * each group commit (1–2 ms, more on a busy disk) happens here and not on the relay's event
 * loop, which meanwhile reads sockets and forwards the commit before. Requests are answered one
 * at a time, in the order they came (`Storage.#answers` matches answers by that order): a
 * commit, a compaction, a change of the automatic checkpoint, closing. Started from source
 * text, as the checkpointer is: no tsx, no bundle entry (sqlite-writes.ts).
 */
const WRITER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const prepareWrites = ${String(prepareWrites)};
let db, writes;
try {
	db = new Database(workerData.file);
	db.pragma('busy_timeout = 5000');
	db.pragma('synchronous = ' + workerData.synchronous);
	db.pragma('wal_autocheckpoint = ' + workerData.autocheckpoint);
	if (workerData.maxPages > 0) db.pragma('max_page_count = ' + workerData.maxPages);
	writes = prepareWrites(db);
	Atomics.store(workerData.ready, 0, 1);
} catch (err) {
	Atomics.store(workerData.ready, 0, 2);
	throw err;
} finally {
	Atomics.notify(workerData.ready, 0);
}
parentPort.on('message', (req) => {
	let res;
	try {
		let ids = null;
		if (req.kind === 'append') ids = writes.append(req.docs, req.data, req.claims);
		else if (req.kind === 'compact') writes.compact(req.doc, req.state, req.lastUpdateId);
		else if (req.kind === 'autocheckpoint') db.pragma('wal_autocheckpoint = ' + req.pages);
		else { db.close(); parentPort.close(); return; }
		res = { ok: true, ids };
	} catch (err) {
		res = { ok: false, message: String((err && err.message) || err), code: err && typeof err.code === 'string' ? err.code : null };
	}
	parentPort.postMessage(res);
});
`;

type WriterRequest =
	| { kind: 'append'; docs: string[]; data: Uint8Array[]; claims: ClientClaim[] }
	| { kind: 'compact'; doc: string; state: Uint8Array; lastUpdateId: number }
	| { kind: 'autocheckpoint'; pages: number }
	| { kind: 'close' };

type WriterResponse =
	{ ok: true; ids: number[] | null } | { ok: false; message: string; code: string | null };

export interface StoredDoc {
	/** The snapshot (if any) then the log, in order. */
	updates: Uint8Array[];
	/** Bytes of all of them: the document's stored size. */
	bytes: number;
	/** Log rows after the snapshot (compaction is due when this grows). */
	logCount: number;
	/** The id of the newest log row, 0 when none. */
	lastUpdateId: number;
	/** Whether anything at all is stored under this name. */
	exists: boolean;
}

/** A write the writer thread refused, with SQLite's code (e.g. SQLITE_FULL) kept. */
export class StorageWriteError extends Error {
	constructor(
		message: string,
		readonly code: string | undefined
	) {
		super(message);
	}
}

/** SQLite's codes for a full disk or database (a write that can succeed after an operator acts). */
export function isDiskFull(err: unknown): boolean {
	const code = (err as { code?: unknown } | null)?.code;
	return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR';
}

function byteSum(data: readonly Uint8Array[]): number {
	let n = 0;
	for (const d of data) n += d.byteLength;
	return n;
}

export class Storage implements Store {
	readonly db: Database.Database;
	readonly #file: string;
	readonly #options: { synchronous: 'FULL' | 'NORMAL'; maxPages: number };
	/** The same writes on this thread's connection: without the writer thread, or a tool's. */
	readonly #writes: Writes;
	readonly #snapshot: Database.Statement<[string], { data: Uint8Array; last_update_id: number }>;
	readonly #log: Database.Statement<[string, number], { id: number; data: Uint8Array }>;
	/** One read transaction: snapshot and log from the same view of the database. */
	readonly #load: (doc: string) => StoredDoc;
	#writer: Worker | null = null;
	/** The requests sent to the writer, oldest first: it answers them in that order. */
	readonly #answers: Array<{
		resolve: (ids: number[] | null) => void;
		reject: (err: Error) => void;
	}> = [];
	/** Writes asked for and not yet answered, on either thread. */
	#outstanding = 0;
	/** Big writes waiting to be made on this thread (a request to the writer waits behind them). */
	#hereWaiting = 0;
	/** Settles once every write asked for so far has been answered. */
	#settled: Promise<unknown> = Promise.resolve();
	#checkpointer: Worker | null = null;
	#checkpointing = false;
	/** Commits since the last checkpoint was asked for. */
	#commits = 0;
	/** Checkpoints that completed (for tests and metrics). */
	checkpoints = 0;
	/** Big writes sent to this thread while the writer runs (for tests). */
	bigWrites = 0;

	/**
	 * @param options.writer false: commit on the calling thread (a command-line tool, a test's
	 *   seeding); the relay's default is the writer thread.
	 */
	constructor(
		dataDir: string,
		options: { synchronous: 'FULL' | 'NORMAL'; maxPages: number; writer?: boolean }
	) {
		mkdirSync(dataDir, { recursive: true, mode: 0o700 });
		const file = join(dataDir, 'kith.sqlite');
		this.#file = file;
		this.#options = { synchronous: options.synchronous, maxPages: options.maxPages };
		this.db = new Database(file);
		chmodSync(file, 0o600);
		this.db.pragma('journal_mode = WAL');
		this.db.pragma(`synchronous = ${options.synchronous}`);
		// A CLI (token, invite) may write at the same time as the relay, and the relay's own
		// connection writes beside the writer thread's: wait rather than fail.
		this.db.pragma('busy_timeout = 5000');
		if (options.maxPages > 0) this.db.pragma(`max_page_count = ${options.maxPages}`);
		// SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages: the
		// commit would wait for it (and, under FULL, an fsync of the database file) between
		// receiving an update and forwarding it. The checkpointer does it alongside.
		this.#startCheckpointer(file, options.synchronous);
		this.db.exec(`
			CREATE TABLE IF NOT EXISTS updates (
				id INTEGER PRIMARY KEY AUTOINCREMENT,
				doc TEXT NOT NULL,
				data BLOB NOT NULL
			);
			CREATE INDEX IF NOT EXISTS updates_doc ON updates (doc, id);
			CREATE TABLE IF NOT EXISTS snapshots (
				doc TEXT PRIMARY KEY,
				data BLOB NOT NULL,
				last_update_id INTEGER NOT NULL,
				updated_at TEXT NOT NULL
			);
			CREATE TABLE IF NOT EXISTS workspace_members (
				user_id TEXT PRIMARY KEY,
				public_key TEXT NOT NULL,
				joined_at TEXT NOT NULL,
				via TEXT NOT NULL
			);
			CREATE TABLE IF NOT EXISTS invites (
				code TEXT PRIMARY KEY,
				created_by TEXT NOT NULL,
				created_at TEXT NOT NULL,
				expires_at INTEGER NOT NULL,
				uses_left INTEGER NOT NULL
			);
			CREATE TABLE IF NOT EXISTS client_owners (
				doc TEXT NOT NULL,
				client_id INTEGER NOT NULL,
				user_id TEXT NOT NULL,
				PRIMARY KEY (doc, client_id)
			);
		`);
		this.#writes = prepareWrites(this.db);
		this.#snapshot = this.db.prepare('SELECT data, last_update_id FROM snapshots WHERE doc = ?');
		this.#log = this.db.prepare(
			'SELECT id, data FROM updates WHERE doc = ? AND id > ? ORDER BY id'
		);
		this.#load = this.db.transaction((doc: string) => {
			const snap = this.#snapshot.get(doc);
			const rows = this.#log.all(doc, snap?.last_update_id ?? 0);
			const updates = [...(snap ? [snap.data] : []), ...rows.map((r) => r.data)];
			return {
				updates,
				bytes: updates.reduce((n, u) => n + u.byteLength, 0),
				logCount: rows.length,
				lastUpdateId: rows.at(-1)?.id ?? snap?.last_update_id ?? 0,
				exists: updates.length > 0
			};
		});
		if (options.writer !== false) this.#startWriter();
	}

	/** Whether commits are made by the writer thread (false: on this thread, synchronously). */
	get threaded(): boolean {
		return this.#writer !== null;
	}

	#startWriter(): void {
		const ready = new Int32Array(new SharedArrayBuffer(4));
		let worker: Worker;
		try {
			worker = new Worker(WRITER, {
				eval: true,
				workerData: {
					file: this.#file,
					synchronous: this.#options.synchronous,
					maxPages: this.#options.maxPages,
					// 0 while the checkpointer runs (it is started first).
					autocheckpoint: this.#checkpointer ? 0 : 1000,
					ready,
					module: createRequire(import.meta.url).resolve('better-sqlite3')
				}
			});
		} catch {
			return;
		}
		// Held only while a request waits for its answer (#request): an idle writer never keeps
		// the process alive.
		worker.unref();
		worker.on('message', (res: WriterResponse) => {
			const waiting = this.#answers.shift();
			if (this.#answers.length === 0) worker.unref();
			if (!waiting) return;
			if (res.ok) waiting.resolve(res.ids);
			else waiting.reject(new StorageWriteError(res.message, res.code ?? undefined));
		});
		const stopped = (err: Error): void => {
			if (this.#writer !== worker) return;
			// From now on the writes are made on this thread. A request that was sent is failed:
			// the relay keeps its updates and commits them again (Yjs stores an update twice
			// harmlessly, should the lost one have been committed after all).
			this.#writer = null;
			for (const w of this.#answers.splice(0)) w.reject(err);
		};
		worker.on('error', (err) => stopped(err));
		worker.on('exit', () =>
			stopped(new StorageWriteError('the writer thread stopped', 'WRITER_STOPPED'))
		);
		// The relay starts (and listens) with its writer ready: the first commit never waits for
		// the thread to start (tens of ms: a Node isolate and better-sqlite3).
		Atomics.wait(ready, 0, 0, WRITER_START_MS);
		if (Atomics.load(ready, 0) !== 1) {
			// Not started in time, or could not open the database: commits stay on this thread.
			void worker.terminate();
			return;
		}
		this.#writer = worker;
	}

	/**
	 * Sends a request to the writer thread (once a big write waiting before it is made); its
	 * answer resolves the promise.
	 */
	#request(req: WriterRequest): Promise<number[] | null> {
		const send = (): Promise<number[] | null> => {
			const worker = this.#writer;
			if (!worker)
				return Promise.reject(new StorageWriteError('the writer thread stopped', 'WRITER_STOPPED'));
			return new Promise((resolve, reject) => {
				if (this.#answers.length === 0) worker.ref();
				this.#answers.push({ resolve, reject });
				worker.postMessage(req);
			});
		};
		return this.#track(this.#hereWaiting > 0 ? this.#settled.then(send) : send());
	}

	/**
	 * Makes a write on this thread: at once when nothing is outstanding, else once the writer has
	 * answered every request before it (two connections writing at once would wait on SQLite's
	 * lock, and commits are made in the order they are asked for).
	 */
	#here<T>(write: () => T): Promise<T> {
		if (this.#writer) this.bigWrites++;
		if (this.#outstanding === 0) {
			try {
				return Promise.resolve(write());
			} catch (err) {
				return Promise.reject(err as Error);
			}
		}
		this.#hereWaiting++;
		return this.#track(this.#settled.then(write).finally(() => this.#hereWaiting--));
	}

	#track<T>(write: Promise<T>): Promise<T> {
		this.#outstanding++;
		const done = write.finally(() => this.#outstanding--);
		this.#settled = done.catch(() => undefined);
		return done;
	}

	#startCheckpointer(file: string, synchronous: string): void {
		try {
			const worker = new Worker(CHECKPOINTER, {
				eval: true,
				workerData: {
					file,
					synchronous,
					module: createRequire(import.meta.url).resolve('better-sqlite3')
				}
			});
			worker.unref();
			worker.on('message', () => {
				this.#checkpointing = false;
				this.checkpoints++;
			});
			worker.on('error', () => this.#stopCheckpointer());
			worker.on('exit', () => this.#stopCheckpointer());
			this.db.pragma('wal_autocheckpoint = 0');
			this.#checkpointer = worker;
		} catch {
			this.#stopCheckpointer();
		}
	}

	/** Without the checkpointer, SQLite checkpoints in the commit again (its default). */
	#stopCheckpointer(): void {
		if (!this.#checkpointer) return;
		this.#checkpointer = null;
		this.#checkpointing = false;
		if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
		if (this.#writer) void this.#request({ kind: 'autocheckpoint', pages: 1000 }).catch(() => {});
	}

	/**
	 * Counts a commit; every `every` commits asks the checkpointer to copy the WAL into the
	 * database file (in the background; one checkpoint at a time).
	 */
	committed(every = 200): void {
		this.#commits++;
		if (this.#commits < every || this.#checkpointing || !this.#checkpointer) return;
		this.#commits = 0;
		this.#checkpointing = true;
		this.#checkpointer.postMessage('checkpoint');
	}

	/** Everything stored for a document, read synchronously (one read transaction). */
	load(doc: string): StoredDoc {
		return this.#load(doc);
	}

	/**
	 * Appends a batch of updates, and the Yjs client ids they claim, in one transaction; resolves
	 * to the row id of each update once committed (durably, under FULL). Rejects (and stores none
	 * of them) when the write fails. Commits are made in the order they are asked for.
	 */
	append(
		batch: ReadonlyArray<{ doc: string; data: Uint8Array }>,
		claims: readonly ClientClaim[] = []
	): Promise<number[]> {
		const docs = batch.map((b) => b.doc);
		const data = batch.map((b) => b.data);
		if (!this.#writer || byteSum(data) >= BIG_WRITE_BYTES)
			return this.#here(() => this.#appendHere(docs, data, claims));
		return this.#request({ kind: 'append', docs, data, claims: [...claims] }).then((ids) => {
			this.committed();
			return ids!;
		});
	}

	/** {@link append} on this thread, synchronously (tools; the relay when the writer is not running). */
	appendNow(
		batch: ReadonlyArray<{ doc: string; data: Uint8Array }>,
		claims: readonly ClientClaim[] = []
	): number[] {
		return this.#appendHere(
			batch.map((b) => b.doc),
			batch.map((b) => b.data),
			claims
		);
	}

	#appendHere(docs: string[], data: Uint8Array[], claims: readonly ClientClaim[]): number[] {
		const ids = this.#writes.append(docs, data, claims);
		this.committed();
		return ids;
	}

	/**
	 * Replaces the log rows up to `lastUpdateId` by `state`, which must hold exactly what those
	 * rows (and the previous snapshot) hold. Made by the writer after every commit asked for
	 * before it: a later commit's rows (ids above `lastUpdateId`) are kept.
	 */
	async compact(doc: string, state: Uint8Array, lastUpdateId: number): Promise<void> {
		if (!this.#writer || state.byteLength >= BIG_WRITE_BYTES)
			return this.#here(() => this.compactNow(doc, state, lastUpdateId));
		await this.#request({ kind: 'compact', doc, state, lastUpdateId });
		this.committed();
	}

	/** {@link compact} on this thread, synchronously. */
	compactNow(doc: string, state: Uint8Array, lastUpdateId: number): void {
		this.#writes.compact(doc, state, lastUpdateId);
		this.committed();
	}

	isMember(userId: string): boolean {
		return (
			this.db.prepare('SELECT 1 FROM workspace_members WHERE user_id = ?').get(userId) !== undefined
		);
	}

	memberCount(): number {
		return (this.db.prepare('SELECT count(*) AS n FROM workspace_members').get() as { n: number })
			.n;
	}

	addMember(userId: string, publicKey: string, via: string): void {
		this.db
			.prepare(
				`INSERT INTO workspace_members (user_id, public_key, joined_at, via) VALUES (?, ?, ?, ?)
				 ON CONFLICT (user_id) DO UPDATE SET public_key = CASE WHEN excluded.public_key <> ''
				 THEN excluded.public_key ELSE workspace_members.public_key END`
			)
			.run(userId, publicKey, new Date().toISOString(), via);
	}

	createInvite(code: string, createdBy: string, expiresAt: number, uses: number): void {
		this.db
			.prepare(
				'INSERT INTO invites (code, created_by, created_at, expires_at, uses_left) VALUES (?, ?, ?, ?, ?)'
			)
			.run(code, createdBy, new Date().toISOString(), expiresAt, uses);
	}

	/** Spends one use of an invite; false when unknown, used up or expired. */
	useInvite(code: string, now: number): boolean {
		return this.db.transaction(() => {
			const res = this.db
				.prepare(
					'UPDATE invites SET uses_left = uses_left - 1 WHERE code = ? AND uses_left > 0 AND expires_at > ?'
				)
				.run(code, now);
			return res.changes === 1;
		})();
	}

	clientOwners(doc: string): Map<number, string> {
		const rows = this.db
			.prepare('SELECT client_id, user_id FROM client_owners WHERE doc = ?')
			.all(doc) as Array<{ client_id: number; user_id: string }>;
		return new Map(rows.map((r) => [r.client_id, r.user_id]));
	}

	claimClients(doc: string, clients: readonly number[], userId: string): void {
		const stmt = this.db.prepare(
			'INSERT OR IGNORE INTO client_owners (doc, client_id, user_id) VALUES (?, ?, ?)'
		);
		this.db.transaction(() => clients.forEach((c) => stmt.run(doc, c, userId)))();
	}

	/**
	 * Closes the connections. The writer closes its own after the requests sent before (the
	 * relay waits for its commits first: docs.ts, `shutdown`).
	 */
	close(): void {
		const worker = this.#checkpointer;
		this.#checkpointer = null;
		// Asked to close, not terminated: a worker terminated while still opening its connection
		// killed the whole process (better-sqlite3 throwing into a terminating isolate: "FATAL
		// ERROR: v8::ToLocalChecked Empty MaybeLocal"). It is unref'd: it holds nothing open.
		worker?.postMessage('close');
		const writer = this.#writer;
		this.#writer = null;
		if (writer) writer.postMessage({ kind: 'close' } satisfies WriterRequest);
		if (this.db.open) this.db.close();
	}
}
