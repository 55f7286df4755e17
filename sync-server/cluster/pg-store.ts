/**
 * The PostgreSQL store (DATABASE_URL): the same contract as the embedded SQLite store
 * (store.ts), for several relay processes sharing one workspace.
 *
 * - The queries run in a worker thread (pg-worker.ts) with node-postgres; the relay waits for
 *   the calls it must (sync-bridge.ts), as it waits for SQLite. A commit is acknowledged to
 *   devices only after PostgreSQL's COMMIT returned.
 * - `load` reads the snapshot and EVERY log row of the document (not "rows after the snapshot's
 *   id"): with several writers, row ids are taken before commit, so a row may become visible
 *   after a row with a larger id. Compaction deletes exactly the rows it folded in.
 * - Compaction runs in the worker under a per-document advisory lock (pg-worker.ts, `compact`);
 *   the relay does not wait for it.
 * - A call that fails (PostgreSQL down, a timeout) throws: the relay's write path keeps the
 *   updates in memory and retries (docs.ts). A commit that timed out here but completed in
 *   PostgreSQL is stored twice on retry: harmless, Yjs updates are idempotent.
 */
import type Database from 'better-sqlite3';
import type { Challenges } from '../auth.ts';
import type { Logger } from '../log.ts';
import type { StoredDoc } from '../storage.ts';
import type { Store } from '../store.ts';
import type { LoadedRows, PgWorkerOptions } from './pg-worker.ts';
import { sqliteLikeDatabase } from './pg-sql.ts';
import { SyncBridge } from './sync-bridge.ts';

/** PostgreSQL's own limit on a statement; the relay's wait is a little longer. */
const STATEMENT_TIMEOUT_MS = 5_000;
const CALL_TIMEOUT_MS = 8_000;

export class PgStore implements Store {
	readonly #bridge: SyncBridge;
	/** Compaction only when at least this many log rows are there (another relay may have done it). */
	readonly #minCompactRows: number;
	readonly #compacting = new Set<string>();

	constructor(
		url: string,
		readonly log: Logger,
		options: { minCompactRows?: number } = {}
	) {
		this.#minCompactRows = options.minCompactRows ?? 2;
		const data: PgWorkerOptions = {
			url,
			statementTimeoutMs: STATEMENT_TIMEOUT_MS,
			connectTimeoutMs: 3_000
		};
		// Beside this module: pg-worker.ts under tsx, .relay/pg-worker.mjs in the bundle (whose
		// chunks share one folder; scripts/build-relay.mjs).
		const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.mjs';
		this.#bridge = new SyncBridge(new URL(`./pg-worker${ext}`, import.meta.url), data);
		// First call: waits for the worker to start too (under tsx it compiles it), hence the long wait.
		const version = this.#bridge.call<number>('migrate', [], 60_000);
		log.info({ schemaVersion: version }, 'postgresql schema ready');
	}

	#call<T>(method: string, ...args: unknown[]): T {
		return this.#bridge.call<T>(method, args, CALL_TIMEOUT_MS);
	}

	static toStored(loaded: LoadedRows): StoredDoc {
		const updates = [...(loaded.snapshot ? [loaded.snapshot] : []), ...loaded.rows];
		return {
			updates,
			bytes: updates.reduce((n, u) => n + u.byteLength, 0),
			logCount: loaded.rows.length,
			lastUpdateId: loaded.ids.at(-1) ?? 0,
			exists: updates.length > 0
		};
	}

	load(doc: string): StoredDoc {
		return PgStore.toStored(this.#call<LoadedRows>('load', doc));
	}

	/**
	 * What storage holds of a document beyond `stateVector`, and the state vector of all it
	 * holds, computed in the worker (a catch-up costs the event loop only what was missed).
	 */
	catchUp(doc: string, stateVector: Uint8Array): Promise<{ diff: Uint8Array; stored: Uint8Array }> {
		return this.#bridge.callAsync('catchUp', [doc, stateVector]);
	}

	/**
	 * A commit in the worker, without blocking the event loop (it did for the 4–6 ms of a
	 * PostgreSQL round trip and commit); docs.ts keeps one in flight at a time.
	 */
	append(
		batch: ReadonlyArray<{ doc: string; data: Uint8Array }>,
		claims: ReadonlyArray<{ doc: string; clients: readonly number[]; user: string }> = []
	): Promise<number[]> {
		return this.#bridge.callAsync<number[]>(
			'append',
			[
				batch.map((b) => b.doc),
				batch.map((b) => b.data),
				claims.map((c) => ({ doc: c.doc, clients: [...c.clients], user: c.user }))
			],
			CALL_TIMEOUT_MS
		);
	}

	/**
	 * Starts a compaction in the worker and returns at once: the state the relay encoded is not
	 * used, because rows other relays committed may not have reached this one yet; the worker
	 * folds what PostgreSQL holds.
	 */
	compact(doc: string): Promise<void> {
		if (this.#compacting.has(doc)) return Promise.resolve();
		this.#compacting.add(doc);
		this.#bridge
			.callAsync<{ compacted: boolean; reason: string; bytes: number; rows: number }>('compact', [
				doc,
				this.#minCompactRows
			])
			.then((r) => {
				if (r.compacted)
					this.log.debug({ doc, bytes: r.bytes, rows: r.rows }, 'document compacted');
				else this.log.debug({ doc, reason: r.reason }, 'compaction skipped');
			})
			.catch((err: unknown) => this.log.warn({ err, doc }, 'compaction failed; the log is intact'))
			.finally(() => this.#compacting.delete(doc));
		return Promise.resolve();
	}

	isMember(userId: string): boolean {
		return this.#call<boolean>('isMember', userId);
	}

	memberCount(): number {
		return this.#call<number>('memberCount');
	}

	addMember(userId: string, publicKey: string, via: string): void {
		this.#call('addMember', userId, publicKey, via);
	}

	createInvite(code: string, createdBy: string, expiresAt: number, uses: number): void {
		this.#call('createInvite', code, createdBy, expiresAt, uses);
	}

	useInvite(code: string, now: number): boolean {
		return this.#call<boolean>('useInvite', code, now);
	}

	clientOwners(doc: string): Map<number, string> {
		return new Map(this.#call<Array<[number, string]>>('clientOwners', doc));
	}

	claimClients(doc: string, clients: readonly number[], userId: string): void {
		this.#call('claimClients', doc, [...clients], userId);
	}

	/** better-sqlite3's API over this database, for devices.ts (cluster/pg-sql.ts). */
	sql(): Database.Database {
		return sqliteLikeDatabase(<T>(method: string, ...args: unknown[]) =>
			this.#call<T>(method, ...args)
		);
	}

	/** Open auth challenges in the database: asked of one relay, answered to any. */
	challenges(): Challenges {
		let calls = 0;
		return {
			add: (challenge, expires, now) =>
				this.#call<boolean>('addChallenge', challenge, expires, now, calls++ % 256 === 0),
			take: (challenge) => this.#call<number | null>('takeChallenge', challenge) ?? undefined
		};
	}

	/** The HMAC secret for session tokens, shared by every relay of the database. */
	secret(): Buffer {
		const value = this.#call<Uint8Array>('secret');
		return Buffer.from(value);
	}

	close(): void {
		try {
			this.#bridge.call('close', [], 2_000);
		} catch {
			// Ending the pools is a courtesy to PostgreSQL; the worker goes either way.
		}
		void this.#bridge.close();
	}
}
