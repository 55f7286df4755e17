import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceLinkMessage, readUsers, setProfile, toBase64Url } from '../../src/lib/model';
import {
	claimDeviceLink,
	createDeviceLink,
	DeviceLinkError,
	listDevices,
	revokeDevice
} from '../../src/lib/sync/device-link';
import {
	deserializeKeyPair,
	generateKeyPair,
	holdsIdentityKey,
	sign,
	type DeviceKeyPair
} from '../../src/lib/sync/identity';
import { getSessionToken, RelayAuthError } from '../../src/lib/sync/relay-auth';
import { DEVICE_REVOKED_CLOSE, RelaySession, type RelayStatus } from '../../src/lib/sync/relay';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import {
	closeCodeWithin,
	connect,
	until,
	newDevice,
	rawSocket,
	synced,
	tempDataDir,
	withCleanup,
	type Device,
	type Relay
} from './helpers/relay';

const { relayAt, defer } = withCleanup();

/** Links a second device to `a` and signs it in; returns its key and token. */
async function linkSecond(relay: Relay, a: Device, name = 'Phone') {
	const link = await createDeviceLink({
		relay: relay.http,
		token: a.token,
		identity: a.key,
		conversations: ['7', '42', 'not-an-id']
	});
	const fragment = new URL(link.url).hash;
	const claimed = await claimDeviceLink(relay.http, fragment);
	const key = deserializeKeyPair(claimed.stored);
	const session = await getSessionToken(relay.http, key, { deviceName: name });
	return { link, fragment, key, claimed, token: session.token, session };
}

async function refusal(p: Promise<unknown>): Promise<RelayAuthError> {
	const err = await p.then(
		() => null,
		(e: unknown) => e
	);
	expect(err).toBeInstanceOf(RelayAuthError);
	return err as RelayAuthError;
}

function storedBytes(dataDir: string): Buffer {
	return Buffer.concat(
		readdirSync(dataDir)
			.filter((f) => f.startsWith('kith.sqlite'))
			.map((f) => readFileSync(join(dataDir, f)))
	);
}

describe('a second device', () => {
	it('becomes the same person with a key of its own, which the relay only ever saw encrypted', async () => {
		const relay = await relayAt(tempDataDir());
		const a = await newDevice(relay);
		const b = await linkSecond(relay, a);

		expect(b.session.userId).toBe(a.user);
		expect(b.key.userId).toBe(a.user);
		expect(holdsIdentityKey(b.key)).toBe(false);
		expect(toBase64Url(b.key.publicKey)).not.toBe(toBase64Url(a.key.publicKey));
		// The conversations the identity device knew come along (a private group is listed nowhere).
		expect(b.claimed.conversations).toEqual(['42', '7']);

		// Neither the new device's secret key nor the identity key is anywhere in the relay's files.
		await relay.stop();
		const files = storedBytes(relay.dataDir);
		for (const secret of [b.key.secretKey, a.key.secretKey]) {
			expect(files.includes(Buffer.from(secret))).toBe(false);
			expect(files.includes(Buffer.from(toBase64Url(secret)))).toBe(false);
		}
	});

	it('syncs the history and writes as the same person', async () => {
		const relay = await relayAt(tempDataDir());
		const a = await newDevice(relay);
		const first = connect(relay, 'workspace', a.token);
		defer(() => first.provider.destroy());
		await synced(first.provider);
		setProfile(first.doc, { user_id: a.user, display_name: 'Ada', color: '#2563eb' });

		const b = await linkSecond(relay, a);
		const second = connect(relay, 'workspace', b.token);
		defer(() => second.provider.destroy());
		await synced(second.provider);
		const name = (doc: typeof first.doc) =>
			readUsers(doc).find((u) => u.id === a.user)?.display_name;
		await expect.poll(() => name(second.doc)).toBe('Ada');
		// The relay lets the linked device write the person's own entry (it is that person).
		setProfile(second.doc, { user_id: a.user, display_name: 'Ada L.', color: '#2563eb' });
		await expect.poll(() => name(first.doc)).toBe('Ada L.');
		expect(second.provider.wsconnected).toBe(true);
	});

	it('lists the person’s devices, with names and which is which', async () => {
		const relay = await relayAt(tempDataDir());
		const a = await newDevice(relay);
		const b = await linkSecond(relay, a, 'Chrome on Android');
		const fromA = await listDevices(relay.http, a.token);
		expect(fromA.map((d) => [d.id, d.identity, d.current])).toEqual([
			[a.user, true, true],
			[expect.any(String), false, false]
		]);
		expect(fromA[1]!.name).toBe('Chrome on Android');
		const fromB = await listDevices(relay.http, b.token);
		expect(fromB.find((d) => d.current)?.id).toBe(fromA[1]!.id);
	});
});

describe('the one-time link', () => {
	it('is fetched once: a second fetch finds nothing', async () => {
		const relay = await relayAt(tempDataDir());
		const a = await newDevice(relay);
		const { fragment } = await linkSecond(relay, a);
		const err = await refusal(claimDeviceLink(relay.http, fragment));
		expect(err.status).toBe(404);
		expect(err.code).toBe('link_gone');
	});

	it('expires after LINK_TTL_S, and its device can never sign in', async () => {
		const relay = await relayAt(tempDataDir(), { LINK_TTL_S: '1' });
		const a = await newDevice(relay);
		const link = await createDeviceLink({ relay: relay.http, token: a.token, identity: a.key });
		expect(link.expiresAt - Date.now()).toBeLessThanOrEqual(1000);
		await new Promise((r) => setTimeout(r, 1300));
		const err = await refusal(claimDeviceLink(relay.http, new URL(link.url).hash));
		expect(err.code).toBe('link_gone');

		// A key registered by a link that expired unused is refused, even with the right signature.
		const device = generateKeyPair();
		const id = toBase64Url(new Uint8Array(16).fill(7));
		const deviceKey = toBase64Url(device.publicKey);
		const res = await fetch(`${relay.http}/devices/links`, {
			method: 'POST',
			headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
			body: JSON.stringify({
				id,
				identity_key: toBase64Url(a.key.publicKey),
				device_key: deviceKey,
				signature: toBase64Url(sign(a.key, deviceLinkMessage(a.user, deviceKey, id))),
				ciphertext: 'AAAA'
			})
		});
		expect(res.status).toBe(200);
		await new Promise((r) => setTimeout(r, 1300));
		const linked: DeviceKeyPair = { ...device, userId: a.user };
		const late = await refusal(getSessionToken(relay.http, linked));
		expect(late.status).toBe(401);
		expect(late.code).toBe('unknown_device');
	});

	it('does not open with a wrong secret, and a damaged link is named as such', async () => {
		const relay = await relayAt(tempDataDir());
		const a = await newDevice(relay);
		const link = await createDeviceLink({ relay: relay.http, token: a.token, identity: a.key });
		const [id] = new URL(link.url).hash.slice(1).split('.');
		const wrong = `#${id}.${toBase64Url(new Uint8Array(32).fill(1))}`;
		await expect(claimDeviceLink(relay.http, wrong)).rejects.toBeInstanceOf(DeviceLinkError);
		await expect(claimDeviceLink(relay.http, '#abc')).rejects.toThrow(/not a whole Kith/);
	});

	it('is made only with the identity key: a key of one’s own is not someone else’s', async () => {
		const relay = await relayAt(tempDataDir());
		const a = await newDevice(relay);
		const b = await linkSecond(relay, a);
		// The linked device holds no identity key: the client will not even try…
		await expect(
			createDeviceLink({ relay: relay.http, token: b.token, identity: b.key })
		).rejects.toBeInstanceOf(DeviceLinkError);
		// …and the relay refuses a link signed by another person's key for this person.
		const c = await newDevice(relay);
		const err = await refusal(
			createDeviceLink({ relay: relay.http, token: a.token, identity: c.key })
		);
		expect(err.code).toBe('not_identity_device');
		// A forged signature is refused.
		const device = toBase64Url(generateKeyPair().publicKey);
		const id = toBase64Url(new Uint8Array(16).fill(3));
		const res = await fetch(`${relay.http}/devices/links`, {
			method: 'POST',
			headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/json' },
			body: JSON.stringify({
				id,
				identity_key: toBase64Url(a.key.publicKey),
				device_key: device,
				signature: toBase64Url(sign(b.key, deviceLinkMessage(a.user, device, id))),
				ciphertext: 'AAAA'
			})
		});
		expect(res.status).toBe(401);
	});
});

describe('signing a device out', () => {
	it('closes its open sockets at once and refuses its token and new sessions', async () => {
		const relay = await relayAt(tempDataDir());
		const a = await newDevice(relay);
		const b = await linkSecond(relay, a);
		const bId = (await listDevices(relay.http, b.token)).find((d) => d.current)!.id;
		const open = await rawSocket(`${relay.ws}/workspace?token=${b.token}`);
		const other = await rawSocket(`${relay.ws}/workspace?token=${a.token}`);

		await revokeDevice(relay.http, a.token, bId);
		expect(await closeCodeWithin(open.closed, 2000)).toBe(4411);
		// The identity device is untouched.
		expect(await closeCodeWithin(other.closed, 300)).toBeNull();
		other.ws.close();

		const again = await rawSocket(`${relay.ws}/workspace?token=${b.token}`);
		expect(await closeCodeWithin(again.closed, 2000)).toBe(4411);
		const session = await refusal(getSessionToken(relay.http, b.key));
		expect(session.status).toBe(403);
		expect(session.code).toBe('device_revoked');
		expect(session.message).toMatch(/signed out from another device/);
		const list = await refusal(listDevices(relay.http, b.token));
		expect(list.code).toBe('device_revoked');
		expect((await listDevices(relay.http, a.token)).map((d) => d.id)).toEqual([a.user]);
	});

	it('is for the person’s own devices only, and never the identity device', async () => {
		const relay = await relayAt(tempDataDir());
		const a = await newDevice(relay);
		const b = await linkSecond(relay, a);
		const d = await linkSecond(relay, a, 'Laptop');
		const devices = await listDevices(relay.http, a.token);
		const bId = devices.find((x) => x.name === 'Phone')!.id;
		const dId = devices.find((x) => x.name === 'Laptop')!.id;

		// Another person sees only their own devices and cannot sign out someone else's.
		const c = await newDevice(relay);
		expect((await listDevices(relay.http, c.token)).map((x) => x.id)).toEqual([c.user]);
		expect((await refusal(revokeDevice(relay.http, c.token, bId))).status).toBe(404);
		// Nobody signs out the identity device; a linked device signs out only itself.
		expect((await refusal(revokeDevice(relay.http, b.token, a.user))).code).toBe('identity_device');
		expect((await refusal(revokeDevice(relay.http, a.token, a.user))).code).toBe('identity_device');
		expect((await refusal(revokeDevice(relay.http, b.token, dId))).code).toBe(
			'not_identity_device'
		);
		expect((await listDevices(relay.http, a.token)).map((x) => x.id).sort()).toEqual(
			[a.user, bId, dId].sort()
		);
		await revokeDevice(relay.http, d.token, dId);
		expect((await listDevices(relay.http, b.token)).map((x) => x.id).sort()).toEqual(
			[a.user, bId].sort()
		);
		// Without a token, nothing.
		expect((await fetch(`${relay.http}/devices`)).status).toBe(401);
	});
});

describe('the app, signed out from another device', () => {
	it('stops at once and says why, and says it again on its next start', async () => {
		const relay = await relayAt(tempDataDir());
		const a = await newDevice(relay);
		const b = await linkSecond(relay, a);
		const start = () => {
			const refused: number[] = [];
			const statuses: RelayStatus[] = [];
			const s = new RelaySession({
				url: relay.http,
				keyPair: b.key,
				WebSocketPolyfill: WebSocket,
				disableBc: true,
				network: null,
				onRefused: (_doc, code) => refused.push(code)
			});
			s.onStatus((st) => statuses.push(st));
			defer(() => s.destroy());
			return { s, refused, statuses };
		};
		const running = start();
		await running.s.connect('workspace', new Y.Doc()).whenSynced;
		const bId = (await listDevices(relay.http, await running.s.token())).find((d) => d.current)!.id;

		await revokeDevice(relay.http, a.token, bId);
		await until(() => running.refused.length > 0, 3000, 'the refusal');
		expect(running.refused).toEqual([DEVICE_REVOKED_CLOSE]);
		expect(running.s.status).toBe('refused');

		// A fresh start signs in again: the relay refuses the session, reported the same way.
		const next = start();
		next.s.connect('workspace', new Y.Doc());
		await until(() => next.refused.length > 0, 3000, 'the refusal on start');
		expect(next.refused).toEqual([DEVICE_REVOKED_CLOSE]);
		expect(next.s.status).toBe('refused');
	});
});
