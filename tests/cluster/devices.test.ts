/**
 * A person's devices across relays: linked through one relay, claimed and signed in through
 * another (the registry lives in PostgreSQL), and signed out through the first: its sockets on
 * the other relay close at once (4411) and it cannot come back anywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
	claimDeviceLink,
	createDeviceLink,
	listDevices,
	revokeDevice
} from '../../src/lib/sync/device-link';
import { deserializeKeyPair } from '../../src/lib/sync/identity';
import { getSessionToken } from '../../src/lib/sync/relay-auth';
import { closeCodeWithin, newDevice, rawSocket, type Relay } from '../relay/helpers/relay';
import { clusterRelay, clusterUnavailable, freePort, freshDatabase, REDIS_URL } from './helpers';

const unavailable = await clusterUnavailable();
if (unavailable) console.warn(`SKIPPED cluster devices test: ${unavailable}`);

(unavailable ? describe.skip : describe)('linked devices on two relays', () => {
	let db: Awaited<ReturnType<typeof freshDatabase>>;
	let r1: Relay;
	let r2: Relay;

	beforeAll(async () => {
		db = await freshDatabase();
		const env = {
			DATABASE_URL: db.url,
			REDIS_URL,
			REDIS_PREFIX: `kith-test-${randomBytes(4).toString('hex')}:`
		};
		r1 = await clusterRelay(await freePort(), env);
		r2 = await clusterRelay(await freePort(), env);
	});

	afterAll(async () => {
		await r1?.kill();
		await r2?.kill();
		await db?.drop();
	});

	it('links through one relay, signs in through another, and signs out everywhere at once', async () => {
		const a = await newDevice(r1);
		const link = await createDeviceLink({
			relay: r1.http,
			token: a.token,
			identity: a.key,
			conversations: []
		});
		const claimed = await claimDeviceLink(r2.http, new URL(link.url).hash);
		const key = deserializeKeyPair(claimed.stored);
		const b = await getSessionToken(r2.http, key, { deviceName: 'Phone' });
		expect(b.userId).toBe(a.user);
		const listed = await listDevices(r1.http, a.token);
		expect(listed.map((d) => d.name)).toContain('Phone');
		const bId = listed.find((d) => d.id !== a.user)!.id;

		const open = await rawSocket(`${r2.ws}/workspace?token=${b.token}`);
		await revokeDevice(r1.http, a.token, bId);
		expect(await closeCodeWithin(open.closed, 2000)).toBe(4411);
		for (const r of [r1, r2]) {
			const again = await rawSocket(`${r.ws}/workspace?token=${b.token}`);
			expect(await closeCodeWithin(again.closed, 2000)).toBe(4411);
		}
	});
});
