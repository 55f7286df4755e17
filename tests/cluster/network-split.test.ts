/**
 * A relay cut off from Redis while the others are not (a network split): both sides keep
 * storing; once the link is back, each side gets what the other stored, through the catch-up
 * from PostgreSQL (the cut-off relay's failed publishes are announced on the control channel,
 * since the other relay never lost its own connection).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createConversation, postMessage, readMessages } from '../../src/lib/model';
import { connect, newDevice, synced, until, type Device, type Relay } from '../relay/helpers/relay';
import {
	clusterRelay,
	clusterUnavailable,
	freePort,
	freshDatabase,
	REDIS_URL,
	tcpProxy
} from './helpers';

const unavailable = await clusterUnavailable();
if (unavailable) console.warn(`SKIPPED cluster network split test: ${unavailable}`);

const has = (doc: Parameters<typeof readMessages>[0], content: string) =>
	readMessages(doc).some((m) => m.content === content);

(unavailable ? describe.skip : describe)('a relay cut off from Redis, the other not', () => {
	let db: Awaited<ReturnType<typeof freshDatabase>>;
	let proxy: Awaited<ReturnType<typeof tcpProxy>>;
	let r1: Relay;
	let r2: Relay;
	let alice: Device;
	let bob: Device;

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
		r1 = await clusterRelay(await freePort(), { ...env, REDIS_URL: viaProxy.toString() });
		r2 = await clusterRelay(await freePort(), { ...env, REDIS_URL });
		alice = await newDevice(r1);
		bob = await newDevice(r2);
	});

	afterAll(async () => {
		await r1?.kill();
		await r2?.kill();
		await proxy?.cut();
		await db?.drop();
	});

	it('converges both ways once the link is back', async () => {
		const a = connect(r1, 'conv:8001', alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'split',
			id: '8001',
			created_by: alice.user,
			members: [alice.user, bob.user]
		});
		const b = connect(r2, 'conv:8001', bob.token);
		await synced(b.provider);
		await until(() => b.doc.getMap('meta').get('id') === '8001', 2000, 'created on relay 2');

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
