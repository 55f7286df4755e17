/**
 * Several relays, one workspace: live updates, presence, tokens and membership cross relay
 * processes through Redis; documents live in PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { LOCK_NAMESPACE } from '../../sync-server/cluster/migrations';
import { encodeAwarenessEntries, encodeAwarenessMessage } from '../../sync-server/protocol';
import { createConversation, postMessage, readMessages, removeMember } from '../../src/lib/model';
import {
	closeCodeWithin,
	connect,
	newDevice,
	rawSocket,
	synced,
	until,
	type Device,
	type Relay
} from '../relay/helpers/relay';
import {
	clusterRelay,
	clusterUnavailable,
	docFromDatabase,
	freePort,
	freshDatabase,
	query,
	REDIS_URL
} from './helpers';

const unavailable = await clusterUnavailable();
if (unavailable) console.warn(`SKIPPED cluster tests: ${unavailable}`);

function closeCodes(provider: {
	on(e: 'connection-close', f: (ev: { code: number } | null) => void): void;
}) {
	const codes: number[] = [];
	provider.on('connection-close', (ev) => {
		if (ev) codes.push(ev.code);
	});
	return codes;
}

(unavailable ? describe.skip : describe)('two relays sharing PostgreSQL and Redis', () => {
	let db: Awaited<ReturnType<typeof freshDatabase>>;
	let r1: Relay;
	let r2: Relay;
	let alice: Device;
	let bob: Device;
	let carol: Device;

	beforeAll(async () => {
		db = await freshDatabase();
		const env = {
			DATABASE_URL: db.url,
			REDIS_URL,
			REDIS_PREFIX: `kith-test-${randomBytes(4).toString('hex')}:`,
			COMPACT_AFTER_UPDATES: '10'
		};
		r1 = await clusterRelay(await freePort(), env);
		r2 = await clusterRelay(await freePort(), env);
		alice = await newDevice(r1);
		bob = await newDevice(r2);
		carol = await newDevice(r1);
	});

	afterAll(async () => {
		await r1?.kill();
		await r2?.kill();
		await db?.drop();
	});

	it('migrates the schema once, versioned, and shares one token secret', async () => {
		expect(await query(db.url, 'SELECT version FROM kith_migrations ORDER BY version')).toEqual([
			{ version: 1 },
			{ version: 2 },
			{ version: 3 },
			{ version: 4 }
		]);
		expect(await query(db.url, 'SELECT name FROM kith_secrets')).toEqual([{ name: 'token' }]);
		// A token made by relay 1 opens a document on relay 2, and the other way round.
		const a = connect(r2, 'workspace', alice.token);
		const b = connect(r1, 'workspace', bob.token);
		await synced(a.provider);
		await synced(b.provider);
		a.provider.destroy();
		b.provider.destroy();
		// And the operator's CLI makes its tokens from the same database.
		const cli = spawnSync(
			process.execPath,
			['--import', 'tsx', 'sync-server/cli.ts', 'token', 'operator-bot'],
			{ env: { ...process.env, DATABASE_URL: db.url }, encoding: 'utf8', timeout: 60_000 }
		);
		expect(cli.status, cli.stderr).toBe(0);
		const bot = connect(r2, 'workspace', cli.stdout.trim().split('\n').at(-1)!);
		await synced(bot.provider);
		bot.provider.destroy();
	});

	it('refuses to start on a schema newer than it knows, saying so', async () => {
		const newer = await freshDatabase();
		try {
			await query(
				newer.url,
				`CREATE TABLE kith_migrations (version integer PRIMARY KEY, name text NOT NULL,
				 applied_at timestamptz NOT NULL DEFAULT now());
				 INSERT INTO kith_migrations (version, name) VALUES (99, 'from the future')`
			);
			const started = clusterRelay(await freePort(), {
				DATABASE_URL: newer.url,
				REDIS_URL,
				REDIS_PREFIX: 'kith-test-newer:'
			});
			await expect(started).rejects.toThrow(/schema version 99, newer than this relay knows/);
		} finally {
			await newer.drop();
		}
	});

	it('shows each client the other relay’s updates and presence within a second', async () => {
		const a = connect(r1, 'conv:3001', alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'across',
			id: '3001',
			created_by: alice.user,
			members: [alice.user, bob.user, carol.user]
		});
		await new Promise((r) => setTimeout(r, 200));
		const b = connect(r2, 'conv:3001', bob.token);
		await synced(b.provider);
		await until(() => b.doc.getMap('meta').get('id') === '3001', 2000, 'creation on relay 2');

		const t = Date.now();
		postMessage(a.doc, { content: 'from relay 1', created_by: alice.user });
		await until(
			() => readMessages(b.doc).some((m) => m.content === 'from relay 1'),
			1000,
			'relay 1 → relay 2'
		);
		expect(Date.now() - t).toBeLessThan(1000);
		postMessage(b.doc, { content: 'from relay 2', created_by: bob.user });
		await until(
			() => readMessages(a.doc).some((m) => m.content === 'from relay 2'),
			1000,
			'relay 2 → relay 1'
		);

		b.awareness.setLocalStateField('user', { id: bob.user, name: 'Bob' });
		await until(
			() =>
				[...a.awareness.getStates().values()].some(
					(s) => (s as { user?: { id?: string } }).user?.id === bob.user
				),
			1000,
			'presence relay 2 → relay 1'
		);
		// Carol, on relay 1, cannot take over the presence of Bob's client on relay 2.
		const bobState = () =>
			a.awareness.getStates().get(b.awareness.clientID) as { user?: { id?: string } } | undefined;
		const clock = a.awareness.meta.get(b.awareness.clientID)!.clock;
		const spoof = await rawSocket(`${r1.ws}/conv:3001?token=${carol.token}`);
		spoof.ws.send(
			encodeAwarenessMessage(
				encodeAwarenessEntries([
					{ clientId: b.awareness.clientID, clock: clock + 5, json: '{"typing":true}' }
				])
			)
		);
		await new Promise((r) => setTimeout(r, 300));
		expect(bobState()?.user?.id).toBe(bob.user);
		spoof.ws.close();
		// Gone when Bob's connection closes, on the other relay too.
		b.provider.destroy();
		await until(
			() =>
				![...a.awareness.getStates().values()].some(
					(s) => (s as { user?: { id?: string } }).user?.id === bob.user
				),
			1000,
			'presence removed'
		);
		a.provider.destroy();

		// PostgreSQL holds both messages.
		const stored = await docFromDatabase(db.url, 'conv:3001');
		expect(readMessages(stored).map((m) => m.content)).toEqual(['from relay 1', 'from relay 2']);
	});

	it('disconnects a member removed through relay 1 from relay 2, and keeps them out', async () => {
		const a = connect(r1, 'conv:3002', alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'trio',
			id: '3002',
			created_by: alice.user,
			members: [alice.user, bob.user, carol.user]
		});
		await new Promise((r) => setTimeout(r, 200));
		const c = connect(r2, 'conv:3002', carol.token);
		const codes = closeCodes(c.provider);
		await synced(c.provider);
		await until(() => c.doc.getMap('meta').get('id') === '3002', 2000, 'creation on relay 2');
		removeMember(a.doc, { user_id: carol.user, removed_by: alice.user });
		await until(() => codes.length > 0, 2000, 'carol closed on relay 2');
		c.provider.shouldConnect = false;
		expect(codes[0]).toBe(4410);
		postMessage(a.doc, { content: 'after carol left', created_by: alice.user });
		const raw = await rawSocket(`${r2.ws}/conv:3002?token=${carol.token}`);
		expect(await closeCodeWithin(raw.closed, 3000)).toBe(4403);
		expect(raw.received).toEqual([]);
		c.provider.destroy();
		a.provider.destroy();
	});

	it('compacts under a per-document advisory lock: skipped while another process holds it, never waited for', async () => {
		const name = 'conv:3003';
		const count = async (table: string) =>
			(
				await query<{ n: number }>(
					db.url,
					`SELECT count(*)::int AS n FROM ${table} WHERE doc = $1`,
					[name]
				)
			)[0]!.n;
		// Another process (a slow or stuck relay) holds the document's lock.
		const holder = new pg.Client({ connectionString: db.url });
		await holder.connect();
		await holder.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_NAMESPACE, name]);
		const a = connect(r1, name, alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'compaction',
			id: '3003',
			created_by: alice.user,
			members: [alice.user, bob.user]
		});
		const b = connect(r2, name, bob.token);
		await synced(b.provider);
		for (let i = 0; i < 30; i++) {
			postMessage(a.doc, { content: `m${i}`, created_by: alice.user });
			await new Promise((r) => setTimeout(r, 15));
		}
		// Served and forwarded as usual while the lock is held elsewhere...
		await until(() => readMessages(b.doc).length === 30, 3000, 'all 30 on relay 2');
		await new Promise((r) => setTimeout(r, 800));
		// ...but not compacted: the relays tried, found the lock taken, and went on.
		expect(await count('kith_snapshots')).toBe(0);
		expect(await count('kith_updates')).toBeGreaterThanOrEqual(31);

		await holder.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_NAMESPACE, name]);
		await holder.end();
		for (let i = 30; i < 42; i++) {
			postMessage(a.doc, { content: `m${i}`, created_by: alice.user });
			await new Promise((r) => setTimeout(r, 15));
		}
		const end = Date.now() + 5000;
		while ((await count('kith_snapshots')) === 0 && Date.now() < end)
			await new Promise((r) => setTimeout(r, 100));
		expect(await count('kith_snapshots')).toBe(1);
		expect(await count('kith_updates')).toBeLessThan(10);
		await until(() => readMessages(b.doc).length === 42, 3000, 'all 42 on relay 2');
		const stored = await docFromDatabase(db.url, name);
		expect(readMessages(stored).map((m) => m.content)).toEqual(
			readMessages(a.doc).map((m) => m.content)
		);
		a.provider.destroy();
		b.provider.destroy();
	});
});
