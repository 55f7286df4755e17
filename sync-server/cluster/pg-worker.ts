/**
 * The PostgreSQL side of pg-store.ts, in a worker thread (sync-bridge.ts): node-postgres pools,
 * the migrations, every query, and compaction (which decodes and re-encodes a document here,
 * off the relay's event loop).
 *
 * Two pools: `fg` answers the calls the relay waits for (loads, commits, membership), `bg` the
 * ones nothing waits for (compaction, catch-up reads), so a long compaction never delays a
 * commit. A commit is asynchronous (the relay's event loop goes on meanwhile, docs.ts keeps
 * one in flight), so it may run beside a synchronous call and an open pg-sql.ts transaction:
 * `fg` has a connection for each.
 */
import { randomBytes } from 'node:crypto';
import { workerData } from 'node:worker_threads';
import pg from 'pg';
import * as Y from 'yjs';
import { LOCK_NAMESPACE, MIGRATION_LOCK, MIGRATIONS } from './migrations.ts';
import { serveBridge } from './sync-bridge.ts';

export interface PgWorkerOptions {
	url: string;
	/** Statement timeout: a query that runs longer is cancelled by PostgreSQL. */
	statementTimeoutMs: number;
	connectTimeoutMs: number;
}

export interface LoadedRows {
	snapshot: Uint8Array | null;
	ids: number[];
	rows: Uint8Array[];
}

const options = (workerData as { data: PgWorkerOptions }).data;

function pool(max: number): pg.Pool {
	const p = new pg.Pool({
		connectionString: options.url,
		max,
		connectionTimeoutMillis: options.connectTimeoutMs,
		statement_timeout: options.statementTimeoutMs,
		// A transaction left open by a stuck query never holds row locks (or a compaction's
		// advisory lock) for long.
		idle_in_transaction_session_timeout: options.statementTimeoutMs,
		application_name: 'kith-relay'
	});
	// An idle connection that PostgreSQL closes (a restart, a network cut) is reported here; the
	// pool drops it and the next query opens a new one. Unhandled, it would end the worker.
	p.on('error', () => {});
	return p;
}

// int8 (counts, millisecond times) and numeric (sum() of an int8 column, e.g. a quota) as
// numbers, as SQLite gives them: every value Kith stores fits in 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));
pg.types.setTypeParser(1700, (v: string) => Number(v));

const fg = pool(3);
const bg = pool(2);
/** The connection of an open transaction of pg-sql.ts (synchronous calls come one at a time). */
let tx: pg.PoolClient | null = null;

async function transaction<T>(p: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
	const client = await p.connect();
	let broken = false;
	try {
		await client.query('BEGIN');
		const result = await fn(client);
		await client.query('COMMIT');
		return result;
	} catch (err) {
		await client.query('ROLLBACK').catch(() => {
			broken = true;
		});
		throw err;
	} finally {
		client.release(broken);
	}
}

/** Snapshot and log of a document, read by ONE statement: one consistent view, even while
 * another relay compacts it. */
async function loadRows(p: pg.Pool | pg.PoolClient, doc: string): Promise<LoadedRows> {
	const res = await p.query<{ kind: number; id: string; data: Buffer }>(
		`SELECT 0 AS kind, 0::bigint AS id, data FROM kith_snapshots WHERE doc = $1
		 UNION ALL
		 SELECT 1 AS kind, id, data FROM kith_updates WHERE doc = $1
		 ORDER BY kind, id`,
		[doc]
	);
	let snapshot: Uint8Array | null = null;
	const ids: number[] = [];
	const rows: Uint8Array[] = [];
	for (const r of res.rows) {
		if (r.kind === 0) snapshot = r.data;
		else {
			ids.push(Number(r.id));
			rows.push(r.data);
		}
	}
	return { snapshot, ids, rows };
}

async function migrate(): Promise<number> {
	const client = await fg.connect();
	try {
		await client.query(
			`CREATE TABLE IF NOT EXISTS kith_migrations (
				version integer PRIMARY KEY,
				name text NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now()
			)`
		);
		// Relays starting at once: one migrates, the others wait here and find it done. (A
		// session lock, released below or when this connection ends.)
		await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
		try {
			const applied = new Set(
				(await client.query<{ version: number }>('SELECT version FROM kith_migrations')).rows.map(
					(r) => r.version
				)
			);
			const newest = Math.max(0, ...applied);
			const known = Math.max(...MIGRATIONS.map((m) => m.version));
			if (newest > known) {
				throw new Error(
					`The database has schema version ${newest}, newer than this relay knows (${known}): upgrade the relay.`
				);
			}
			for (const m of MIGRATIONS) {
				if (applied.has(m.version)) continue;
				await client.query('BEGIN');
				try {
					await client.query(m.sql);
					await client.query('INSERT INTO kith_migrations (version, name) VALUES ($1, $2)', [
						m.version,
						m.name
					]);
					await client.query('COMMIT');
				} catch (err) {
					await client.query('ROLLBACK');
					throw err;
				}
			}
			return known;
		} finally {
			await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
		}
	} finally {
		client.release();
	}
}

const handlers = {
	migrate,

	load: (doc: string) => loadRows(fg, doc),

	/**
	 * What storage holds of a document beyond the state vector `sv` (a relay catching up), and
	 * the state vector of everything stored: decoded and diffed here, so the relay applies only
	 * what it lacks (usually nothing) instead of the whole document on its event loop.
	 */
	catchUp: async (doc: string, sv: Uint8Array) => {
		const loaded = await loadRows(bg, doc);
		const ydoc = new Y.Doc();
		ydoc.transact(() => {
			if (loaded.snapshot) Y.applyUpdate(ydoc, loaded.snapshot);
			for (const r of loaded.rows) Y.applyUpdate(ydoc, r);
		});
		const result = { diff: Y.encodeStateAsUpdate(ydoc, sv), stored: Y.encodeStateVector(ydoc) };
		ydoc.destroy();
		return result;
	},

	append: (
		docs: string[],
		datas: Uint8Array[],
		claims: Array<{ doc: string; clients: number[]; user: string }>
	) =>
		transaction(fg, async (c) => {
			for (const claim of claims) {
				await c.query(
					`INSERT INTO kith_client_owners (doc, client_id, user_id)
					 SELECT $1, unnest($2::bigint[]), $3 ON CONFLICT DO NOTHING`,
					[claim.doc, claim.clients, claim.user]
				);
			}
			// Ids are taken in the batch's order (ORDER BY n), so they follow commit order here.
			const res = await c.query<{ id: string }>(
				`INSERT INTO kith_updates (doc, data)
				 SELECT doc, data FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS t(doc, data, n)
				 ORDER BY n RETURNING id`,
				[docs, datas.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength))]
			);
			return res.rows.map((r) => Number(r.id));
		}),

	/**
	 * Folds a document's log into its snapshot, unless another process is doing it right now:
	 * `pg_try_advisory_xact_lock` never waits, and the lock ends with the transaction (or with
	 * the connection of a process that died), so a slow or dead relay never blocks the others.
	 * Only the rows read are deleted: a row another relay commits meanwhile stays in the log.
	 */
	compact: (doc: string, minRows: number) =>
		transaction(bg, async (c) => {
			const locked = await c.query<{ ok: boolean }>(
				'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok',
				[LOCK_NAMESPACE, doc]
			);
			if (!locked.rows[0]?.ok) return { compacted: false, reason: 'locked', bytes: 0, rows: 0 };
			const loaded = await loadRows(c, doc);
			if (loaded.rows.length < minRows)
				return { compacted: false, reason: 'small', bytes: 0, rows: loaded.rows.length };
			const ydoc = new Y.Doc();
			ydoc.transact(() => {
				if (loaded.snapshot) Y.applyUpdate(ydoc, loaded.snapshot);
				for (const r of loaded.rows) Y.applyUpdate(ydoc, r);
			});
			// Includes anything still pending in the document: nothing stored is dropped.
			const state = Y.encodeStateAsUpdate(ydoc);
			ydoc.destroy();
			await c.query(
				`INSERT INTO kith_snapshots (doc, data, updated_at) VALUES ($1, $2, now())
				 ON CONFLICT (doc) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
				[doc, Buffer.from(state.buffer, state.byteOffset, state.byteLength)]
			);
			await c.query('DELETE FROM kith_updates WHERE doc = $1 AND id = ANY($2::bigint[])', [
				doc,
				loaded.ids
			]);
			return { compacted: true, reason: '', bytes: state.byteLength, rows: loaded.rows.length };
		}),

	isMember: async (userId: string) =>
		(await fg.query('SELECT 1 FROM kith_workspace_members WHERE user_id = $1', [userId]))
			.rowCount === 1,

	memberCount: async () =>
		Number(
			(await fg.query<{ n: string }>('SELECT count(*) AS n FROM kith_workspace_members')).rows[0]!.n
		),

	addMember: async (userId: string, publicKey: string, via: string) => {
		await fg.query(
			`INSERT INTO kith_workspace_members (user_id, public_key, via) VALUES ($1, $2, $3)
			 ON CONFLICT (user_id) DO UPDATE SET public_key = CASE WHEN excluded.public_key <> ''
			 THEN excluded.public_key ELSE kith_workspace_members.public_key END`,
			[userId, publicKey, via]
		);
	},

	createInvite: async (code: string, createdBy: string, expiresAt: number, uses: number) => {
		await fg.query(
			'INSERT INTO kith_invites (code, created_by, expires_at, uses_left) VALUES ($1, $2, $3, $4)',
			[code, createdBy, expiresAt, uses]
		);
	},

	useInvite: async (code: string, now: number) =>
		(
			await fg.query(
				'UPDATE kith_invites SET uses_left = uses_left - 1 WHERE code = $1 AND uses_left > 0 AND expires_at > $2',
				[code, now]
			)
		).rowCount === 1,

	clientOwners: async (doc: string) =>
		(
			await fg.query<{ client_id: string; user_id: string }>(
				'SELECT client_id, user_id FROM kith_client_owners WHERE doc = $1',
				[doc]
			)
		).rows.map((r) => [Number(r.client_id), r.user_id] as [number, string]),

	claimClients: async (doc: string, clients: number[], userId: string) => {
		await fg.query(
			`INSERT INTO kith_client_owners (doc, client_id, user_id)
			 SELECT $1, unnest($2::bigint[]), $3 ON CONFLICT DO NOTHING`,
			[doc, clients, userId]
		);
	},

	/** A new challenge; expired ones are swept now and then (every 256th call). */
	addChallenge: async (challenge: string, expires: number, now: number, sweep: boolean) => {
		if (sweep) await fg.query('DELETE FROM kith_challenges WHERE expires_at <= $1', [now]);
		const open = await fg.query<{ n: string }>(
			'SELECT count(*) AS n FROM kith_challenges WHERE expires_at > $1',
			[now]
		);
		if (Number(open.rows[0]!.n) >= 10_000) return false;
		await fg.query('INSERT INTO kith_challenges (challenge, expires_at) VALUES ($1, $2)', [
			challenge,
			expires
		]);
		return true;
	},

	/** Single use across every relay: the DELETE that returns the row wins. */
	takeChallenge: async (challenge: string) => {
		const res = await fg.query<{ expires_at: string }>(
			'DELETE FROM kith_challenges WHERE challenge = $1 RETURNING expires_at',
			[challenge]
		);
		return res.rows[0] ? Number(res.rows[0].expires_at) : null;
	},

	/** The token secret every relay shares: made by the first relay to ask, then read by all. */
	secret: async () => {
		await fg.query(
			`INSERT INTO kith_secrets (name, value) VALUES ('token', $1) ON CONFLICT (name) DO NOTHING`,
			[randomBytes(32)]
		);
		const res = await fg.query<{ value: Buffer }>(
			`SELECT value FROM kith_secrets WHERE name = 'token'`
		);
		return res.rows[0]!.value;
	},

	// pg-sql.ts: better-sqlite3's API for devices.ts.
	sqlExec: async (sql: string) => {
		await (tx ?? fg).query(sql);
	},
	sqlRows: async (sql: string, params: unknown[], limit: number) => {
		const rows = (await (tx ?? fg).query(sql, params)).rows;
		return limit === 1 ? rows[0] : rows;
	},
	sqlRun: async (sql: string, params: unknown[]) =>
		(await (tx ?? fg).query(sql, params)).rowCount ?? 0,
	sqlBegin: async () => {
		if (tx) throw new Error('a transaction is already open');
		const client = await fg.connect();
		try {
			await client.query('BEGIN');
		} catch (err) {
			client.release(true);
			throw err;
		}
		tx = client;
	},
	sqlCommit: async () => {
		const client = tx;
		tx = null;
		if (!client) return;
		try {
			await client.query('COMMIT');
		} finally {
			client.release();
		}
	},
	sqlRollback: async () => {
		const client = tx;
		tx = null;
		if (!client) return;
		let broken = false;
		await client.query('ROLLBACK').catch(() => {
			broken = true;
		});
		client.release(broken);
	},

	close: async () => {
		await Promise.all([fg.end(), bg.end()]);
	}
};

export type PgHandlers = typeof handlers;

serveBridge(
	workerData as Parameters<typeof serveBridge>[0],
	handlers as unknown as Record<string, (...args: never[]) => unknown>
);
