/**
 * A relay cut off from Redis while the others are not (a network split): both sides keep
 * storing; once the link is back, each side gets what the other stored, through the catch-up
 * from PostgreSQL (the cut-off relay's failed publishes are announced on the control channel,
 * since the other relay never lost its own connection).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { postMessage, readMessages } from '../../src/lib/model';
import { until } from '../relay/helpers/relay';
import {
	clusterUnavailable,
	freshDatabase,
	groupAcross,
	REDIS_URL,
	relayPair,
	tcpProxy,
	type RelayPair
} from './helpers';

const unavailable = await clusterUnavailable();
if (unavailable) console.warn(`SKIPPED cluster network split test: ${unavailable}`);

const has = (doc: Parameters<typeof readMessages>[0], content: string) =>
	readMessages(doc).some((m) => m.content === content);

(unavailable ? describe.skip : describe)('a relay cut off from Redis, the other not', () => {
	let db: Awaited<ReturnType<typeof freshDatabase>>;
	let proxy: Awaited<ReturnType<typeof tcpProxy>>;
	let pair: RelayPair;

	beforeAll(async () => {
		db = await freshDatabase();
		const redis = new URL(REDIS_URL);
		proxy = await tcpProxy(Number(redis.port || 6379));
		const viaProxy = new URL(REDIS_URL);
		viaProxy.port = String(proxy.port);
		const env = {
			DATABASE_URL: db.url,
			REDIS_PREFIX: `kith-test-${randomBytes(4).toString('hex')}:`
		};
		pair = await relayPair({ ...env, REDIS_URL: viaProxy.toString() }, { ...env, REDIS_URL });
	});

	afterAll(async () => {
		await pair?.r1.kill();
		await pair?.r2.kill();
		await proxy?.cut();
		await db?.drop();
	});

	it('converges both ways once the link is back', async () => {
		const { alice, bob, r1 } = pair;
		const { a, b } = await groupAcross(pair, '8001', 'split');

		await proxy.cut();
		await new Promise((r) => setTimeout(r, 200));
		postMessage(a.doc, { content: 'from the cut-off relay', created_by: alice.user });
		postMessage(b.doc, { content: 'from the connected relay', created_by: bob.user });
		await new Promise((r) => setTimeout(r, 500));
		expect(has(b.doc, 'from the cut-off relay')).toBe(false);
		expect(has(a.doc, 'from the connected relay')).toBe(false);

		await proxy.restore();
		await until(
			() => has(b.doc, 'from the cut-off relay') && has(a.doc, 'from the connected relay'),
			8000,
			'converged after the split'
		);
		expect(r1.proc.exitCode).toBeNull();
		a.provider.destroy();
		b.provider.destroy();
	});
});
