/**
 * Several relays, one workspace: live updates, presence, tokens and membership cross relay
 * processes through Redis; documents live in PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
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
			REDIS_PREFIX: `kith-test-${randomBytes(4).toString('hex')}:`
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
			{ version: 1 }
		]);
		expect(await query(db.url, 'SELECT name FROM kith_secrets')).toEqual([{ name: 'token' }]);
		// A token made by relay 1 opens a document on relay 2, and the other way round.
		const a = connect(r2, 'workspace', alice.token);
		const b = connect(r1, 'workspace', bob.token);
		await synced(a.provider);
		await synced(b.provider);
		a.provider.destroy();
		b.provider.destroy();
	});

	it('shows each client the other relay’s updates and presence within a second', async () => {
		const a = connect(r1, 'conv:3001', alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'across',
			id: '3001',
			created_by: alice.user,
			members: [alice.user, bob.user]
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
});
