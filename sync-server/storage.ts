/**
 * The embedded store: SQLite (better-sqlite3, WAL) in DATA_DIR.
 *
 * - `updates`: an append-only log of Yjs updates per document. The relay writes each batch in
 *   one transaction before forwarding any update of it (docs.ts, group commit).
 * - `snapshots`: one compacted state per document; compaction writes the snapshot and deletes
 *   the log rows it covers in one transaction, so a crash at any point leaves either the old
 *   rows or the new snapshot, never neither.
 * - workspace membership, invites, and the owner of each Yjs client id per document.
 *
 * Durability: with SQLITE_SYNCHRONOUS=FULL (the default) a committed batch survives power loss
 * (SQLite fsyncs the WAL on every commit); NORMAL survives a crash of the process but may lose
 * the last commits on power loss. WAL checkpoints are made by a worker thread (the
 * checkpointer, below), never inside a commit on the relay's event loop. better-sqlite3 is synchronous: a read or write completes
 * before any other event is handled, which is what lets the relay restore a document from
 * storage without another connection ever seeing a bad state.
 */
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
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
	let result = null, error = null;
	try { result = db.pragma('wal_checkpoint(PASSIVE)')[0]; } catch (err) { error = String(err && err.message || err); }
	parentPort.postMessage({ result, error });
});
`;

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

/** SQLite's codes for a full disk or database (a write that can succeed after an operator acts). */
export function isDiskFull(err: unknown): boolean {
	const code = (err as { code?: unknown } | null)?.code;
	return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR';
}

export class Storage implements Store {
	readonly db: Database.Database;
	readonly #insert: Database.Statement<[string, Uint8Array]>;
	/** One group commit, as one transaction (made once: `db.transaction` builds its wrappers per call). */
	readonly #append: (
		batch: ReadonlyArray<{ doc: string; data: Uint8Array }>,
		claims: ReadonlyArray<{ doc: string; clients: readonly number[]; user: string }>
	) => number[];
	readonly #claim: Database.Statement<[string, number, string]>;
	readonly #snapshot: Database.Statement<[string], { data: Uint8Array; last_update_id: number }>;
	readonly #log: Database.Statement<[string, number], { id: number; data: Uint8Array }>;
	#checkpointer: Worker | null = null;
	#checkpointing = false;
	/** Commits since the last checkpoint was asked for. */
	#commits = 0;
	/** Checkpoints that completed (for tests and metrics). */
	checkpoints = 0;

	constructor(dataDir: string, options: { synchronous: 'FULL' | 'NORMAL'; maxPages: number }) {
		mkdirSync(dataDir, { recursive: true, mode: 0o700 });
		const file = join(dataDir, 'kith.sqlite');
		this.db = new Database(file);
		chmodSync(file, 0o600);
		this.db.pragma('journal_mode = WAL');
		this.db.pragma(`synchronous = ${options.synchronous}`);
		// A CLI (token, invite) may write at the same time as the relay: wait rather than fail.
		this.db.pragma('busy_timeout = 5000');
		if (options.maxPages > 0) this.db.pragma(`max_page_count = ${options.maxPages}`);
		// SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages: the
		// relay's event loop would wait for it (and, under FULL, an fsync of the database file)
		// between receiving an update and forwarding it. The checkpointer does it off the loop.
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
		this.#insert = this.db.prepare('INSERT INTO updates (doc, data) VALUES (?, ?)');
		this.#claim = this.db.prepare(
			'INSERT OR IGNORE INTO client_owners (doc, client_id, user_id) VALUES (?, ?, ?)'
		);
		this.#append = this.db.transaction(
			(
				batch: ReadonlyArray<{ doc: string; data: Uint8Array }>,
				claims: ReadonlyArray<{ doc: string; clients: readonly number[]; user: string }>
			) => {
				for (const c of claims) for (const id of c.clients) this.#claim.run(c.doc, id, c.user);
				return batch.map(({ doc, data }) => Number(this.#insert.run(doc, data).lastInsertRowid));
			}
		);
		this.#snapshot = this.db.prepare('SELECT data, last_update_id FROM snapshots WHERE doc = ?');
		this.#log = this.db.prepare(
			'SELECT id, data FROM updates WHERE doc = ? AND id > ? ORDER BY id'
		);
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

	/** Everything stored for a document, read synchronously. */
	load(doc: string): StoredDoc {
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
	}

	/**
	 * Appends a batch of updates, and the Yjs client ids they claim, in one transaction; returns
	 * the row id of each update. Throws (and stores none of them) when the write fails.
	 */
	append(
		batch: ReadonlyArray<{ doc: string; data: Uint8Array }>,
		claims: ReadonlyArray<{ doc: string; clients: readonly number[]; user: string }> = []
	): number[] {
		const ids = this.#append(batch, claims);
		this.committed();
		return ids;
	}

	/**
	 * Replaces the log rows up to `lastUpdateId` by `state`, which must hold exactly what those
	 * rows (and the previous snapshot) hold.
	 */
	compact(doc: string, state: Uint8Array, lastUpdateId: number): void {
		this.db.transaction(() => {
			this.db
				.prepare(
					`INSERT INTO snapshots (doc, data, last_update_id, updated_at) VALUES (?, ?, ?, ?)
					 ON CONFLICT (doc) DO UPDATE SET data = excluded.data,
					 last_update_id = excluded.last_update_id, updated_at = excluded.updated_at`
				)
				.run(doc, state, lastUpdateId, new Date().toISOString());
			this.db.prepare('DELETE FROM updates WHERE doc = ? AND id <= ?').run(doc, lastUpdateId);
		})();
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

	close(): void {
		const worker = this.#checkpointer;
		this.#checkpointer = null;
		if (worker) void worker.terminate();
		if (this.db.open) this.db.close();
	}
}
