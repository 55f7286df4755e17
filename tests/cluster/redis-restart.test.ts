/**
 * Redis restarted under running relays (a private redis-server of this test, never the
 * machine's shared one): the relays reconnect, resubscribe and catch up from PostgreSQL what
 * went unheard, without a restart of their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, postMessage, readMessages } from '../../src/lib/model';
import { connect, newDevice, synced, until, type Device, type Relay } from '../relay/helpers/relay';
import {
	clusterRelay,
	clusterUnavailable,
	docFromDatabase,
	freePort,
	freshDatabase,
	privateRedis
} from './helpers';

const unavailable = await clusterUnavailable();
if (unavailable) console.warn(`SKIPPED cluster Redis restart test: ${unavailable}`);

const has = (doc: Parameters<typeof readMessages>[0], content: string) =>
	readMessages(doc).some((m) => m.content === content);

(unavailable ? describe.skip : describe)('Redis restarted under two relays', () => {
	let db: Awaited<ReturnType<typeof freshDatabase>>;
	let redis: Awaited<ReturnType<typeof privateRedis>>;
	let r1: Relay;
	let r2: Relay;
	let alice: Device;
	let bob: Device;

	beforeAll(async () => {
		db = await freshDatabase();
		redis = await privateRedis();
		const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: 'kith-test:' };
		r1 = await clusterRelay(await freePort(), env);
		r2 = await clusterRelay(await freePort(), env);
		alice = await newDevice(r1);
		bob = await newDevice(r2);
	});

	afterAll(async () => {
		await r1?.kill();
		await r2?.kill();
		await redis?.stop();
		await db?.drop();
	});

	it('recovers without a relay restart: what was written during the outage arrives, then live updates again', async () => {
		const a = connect(r1, 'conv:6001', alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'outage',
			id: '6001',
			created_by: alice.user,
			members: [alice.user, bob.user]
		});
		const b = connect(r2, 'conv:6001', bob.token);
		await synced(b.provider);
		await until(() => b.doc.getMap('meta').get('id') === '6001', 2000, 'creation on relay 2');
		postMessage(a.doc, { content: 'before', created_by: alice.user });
		await until(() => has(b.doc, 'before'), 1000, 'live before the outage');

		await redis.stop();
		// Each side writes while Redis is down: stored in PostgreSQL, not heard by the other relay.
		postMessage(a.doc, { content: 'during, from relay 1', created_by: alice.user });
		postMessage(b.doc, { content: 'during, from relay 2', created_by: bob.user });
		const stored = async () => readMessages(await docFromDatabase(db.url, 'conv:6001')).length;
		const end = Date.now() + 5000;
		while ((await stored()) < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
		expect(await stored()).toBe(3);
		expect(has(b.doc, 'during, from relay 1')).toBe(false);

		await redis.start();
		await until(
			() => has(b.doc, 'during, from relay 1') && has(a.doc, 'during, from relay 2'),
			8000,
			'caught up after Redis came back'
		);
		// Live again, within a second.
		await until(
			() =>
				r1.logs.some((l) => l.includes('redis is back')) &&
				r2.logs.some((l) => l.includes('redis is back')),
			5000,
			'both relays resubscribed'
		);
		const t = Date.now();
		postMessage(b.doc, { content: 'after', created_by: bob.user });
		await until(() => has(a.doc, 'after'), 1000, 'live after the outage');
		expect(Date.now() - t).toBeLessThan(1000);
		// The same processes all along.
		expect(r1.proc.exitCode).toBeNull();
		expect(r2.proc.exitCode).toBeNull();
		a.provider.destroy();
		b.provider.destroy();
	});
});
