/**
 * Redis restarted under running relays (a private redis-server of this test, never the
 * machine's shared one): the relays reconnect, resubscribe and catch up from PostgreSQL what
 * went unheard, without a restart of their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMessage, readMessages } from '../../src/lib/model';
import { until } from '../relay/helpers/relay';
import {
	clusterUnavailable,
	docFromDatabase,
	freshDatabase,
	groupAcross,
	privateRedis,
	relayPair,
	type RelayPair
} from './helpers';

const unavailable = await clusterUnavailable();
if (unavailable) console.warn(`SKIPPED cluster Redis restart test: ${unavailable}`);

const has = (doc: Parameters<typeof readMessages>[0], content: string) =>
	readMessages(doc).some((m) => m.content === content);

(unavailable ? describe.skip : describe)('Redis restarted under two relays', () => {
	let db: Awaited<ReturnType<typeof freshDatabase>>;
	let redis: Awaited<ReturnType<typeof privateRedis>>;
	let pair: RelayPair;

	beforeAll(async () => {
		db = await freshDatabase();
		redis = await privateRedis();
		const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: 'kith-test:' };
		pair = await relayPair(env, env);
	});

	afterAll(async () => {
		await pair?.r1.kill();
		await pair?.r2.kill();
		await redis?.stop();
		await db?.drop();
	});

	it('recovers without a relay restart: what was written during the outage arrives, then live updates again', async () => {
		const { alice, bob, r1, r2 } = pair;
		const { a, b } = await groupAcross(pair, '6001', 'outage');
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
