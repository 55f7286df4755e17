import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { postMessage, readMessages, setProfile } from '../../src/lib/model';
import { getSessionToken } from '../../src/lib/sync/relay-auth';
import {
	connect,
	createGroupIn,
	metric,
	newDevice,
	removeDir,
	synced,
	tempDataDir,
	until,
	type Device,
	type Relay,
	withCleanup
} from './helpers/relay';

const { defer, relayAt } = withCleanup();
function track<T extends { provider: { destroy(): void } }>(c: T): T {
	defer(() => c.provider.destroy());
	return c;
}

async function createGroup(relay: Relay, owner: Device, id: string, members: string[] = []) {
	const a = track(connect(relay, `conv:${id}`, owner.token));
	return createGroupIn(a, owner, id, members);
}

async function download(relay: Relay, who: Device, name: string): Promise<Y.Doc> {
	const c = connect(relay, name, who.token);
	await synced(c.provider);
	await new Promise((r) => setTimeout(r, 50));
	c.provider.destroy();
	return c.doc;
}

describe('durability', () => {
	it('keeps everything across a clean restart (SIGTERM exits 0)', async () => {
		const dir = tempDataDir();
		defer(() => removeDir(dir));
		const relay = await relayAt(dir);
		const alice = await newDevice(relay);
		const a = await createGroup(relay, alice, '3001');
		for (let i = 0; i < 30; i++) postMessage(a.doc, { content: `m${i}`, created_by: alice.user });
		await new Promise((r) => setTimeout(r, 100));
		a.provider.destroy();
		expect(await relay.stop()).toBe(0);
		expect(relay.logs.some((l) => l.includes('stopped cleanly'))).toBe(true);

		const again = await relayAt(dir);
		const copy = await download(again, alice, 'conv:3001');
		expect(readMessages(copy).map((m) => m.content)).toEqual(
			readMessages(a.doc).map((m) => m.content)
		);
	});

	it('keeps every update it forwarded before a kill -9', async () => {
		const dir = tempDataDir();
		defer(() => removeDir(dir));
		const relay = await relayAt(dir);
		const alice = await newDevice(relay);
		const bob = await newDevice(relay);
		const a = await createGroup(relay, alice, '3002', [bob.user]);
		const b = track(connect(relay, 'conv:3002', bob.token));
		await synced(b.provider);
		// Alice writes as fast as her client sends; the relay is killed mid-burst.
		let sent = 0;
		const writer = setInterval(() => {
			for (let i = 0; i < 5 && sent < 2000; i++)
				postMessage(a.doc, { content: `burst ${sent++}`, created_by: alice.user });
		}, 2);
		await until(() => readMessages(b.doc).length >= 100, 10_000, '100 forwarded messages');
		await relay.kill();
		clearInterval(writer);
		const forwarded = readMessages(b.doc).map((m) => m.id);
		expect(forwarded.length).toBeGreaterThanOrEqual(100);
		a.provider.destroy();
		b.provider.destroy();

		const again = await relayAt(dir);
		const copy = await download(again, alice, 'conv:3002');
		const stored = new Set(readMessages(copy).map((m) => m.id));
		expect(forwarded.filter((id) => !stored.has(id))).toEqual([]);
	});

	it('evicts an idle document and reloads it intact, compacted', async () => {
		const dir = tempDataDir();
		defer(() => removeDir(dir));
		const relay = await relayAt(dir, { DOC_IDLE_MS: '300', COMPACT_AFTER_UPDATES: '20' });
		const alice = await newDevice(relay);
		const a = await createGroup(relay, alice, '3003');
		for (let i = 0; i < 60; i++) postMessage(a.doc, { content: `m${i}`, created_by: alice.user });
		await new Promise((r) => setTimeout(r, 300));
		expect(await metric(relay, 'kith_docs_in_memory')).toBeGreaterThanOrEqual(1);
		a.provider.destroy();
		const deadline = Date.now() + 5000;
		while ((await metric(relay, 'kith_docs_in_memory')) !== 0 && Date.now() < deadline) {
			await new Promise((r) => setTimeout(r, 100));
		}
		expect(await metric(relay, 'kith_docs_in_memory')).toBe(0);
		expect(await metric(relay, 'kith_compactions_total')).toBeGreaterThanOrEqual(1);
		// Once quiet, the relay runs a full GC so that V8 can hand the freed heap back (memory.ts).
		const releaseBy = Date.now() + 5000;
		while ((await metric(relay, 'kith_memory_releases_total')) < 1 && Date.now() < releaseBy) {
			await new Promise((r) => setTimeout(r, 100));
		}
		expect(await metric(relay, 'kith_memory_releases_total')).toBeGreaterThanOrEqual(1);
		const copy = await download(relay, alice, 'conv:3003');
		expect(readMessages(copy).map((m) => m.content)).toEqual(
			readMessages(a.doc).map((m) => m.content)
		);
	});

	it('reports a full disk to the writer (4507) and damages nothing already stored', async () => {
		const dir = tempDataDir();
		defer(() => removeDir(dir));
		// 40 pages of 4 KiB: room for the tables and a few messages only.
		const relay = await relayAt(dir, { SQLITE_MAX_PAGES: '40', STORAGE_RETRY_MS: '100' });
		const alice = await newDevice(relay);
		const bob = await newDevice(relay);
		const a = await createGroup(relay, alice, '3004', [bob.user]);
		const b = track(connect(relay, 'conv:3004', bob.token));
		await synced(b.provider);
		const codes: number[] = [];
		a.provider.on('connection-close', (ev) => {
			if (ev) codes.push(ev.code);
		});
		for (let i = 0; i < 200 && codes.length === 0; i++) {
			postMessage(a.doc, { content: `${i} `.padEnd(3000, 'x'), created_by: alice.user });
			await new Promise((r) => setTimeout(r, 5));
		}
		await until(() => codes.length > 0, 5000, 'a close');
		a.provider.shouldConnect = false;
		a.provider.disconnect();
		expect(codes[0]).toBe(4507);
		// The relay logs before it closes, but its stdout can reach this process after the close.
		await until(() => relay.logs.some((l) => l.includes('storage is full')), 5000, 'the log line');
		const seen = readMessages(b.doc).map((m) => m.id);
		expect(seen.length).toBeGreaterThan(0);
		expect((await fetch(`${relay.http}/healthz`)).status).toBe(200);
		await relay.kill();

		const again = await relayAt(dir);
		const copy = await download(again, bob, 'conv:3004');
		const stored = new Set(readMessages(copy).map((m) => m.id));
		expect(seen.filter((id) => !stored.has(id))).toEqual([]);
	});
});

describe('the relay is a cache, not the only copy', () => {
	it('restores a wiped DATA_DIR from a member device, without duplicates', async () => {
		const dir = tempDataDir();
		defer(() => removeDir(dir));
		const relay = await relayAt(dir);
		const alice = await newDevice(relay);
		const bob = await newDevice(relay);
		const wsA = track(connect(relay, 'workspace', alice.token));
		await synced(wsA.provider);
		setProfile(wsA.doc, { user_id: alice.user, display_name: 'Alice', color: '#3b82f6' });
		const wsB = track(connect(relay, 'workspace', bob.token));
		await synced(wsB.provider);
		setProfile(wsB.doc, { user_id: bob.user, display_name: 'Bob', color: '#ef4444' });
		const a = await createGroup(relay, alice, '3005', [bob.user]);
		const b = track(connect(relay, 'conv:3005', bob.token));
		await synced(b.provider);
		for (let i = 0; i < 10; i++) postMessage(a.doc, { content: `a${i}`, created_by: alice.user });
		for (let i = 0; i < 10; i++) postMessage(b.doc, { content: `b${i}`, created_by: bob.user });
		await until(
			() => readMessages(a.doc).length === 20 && readMessages(b.doc).length === 20,
			3000,
			'both hold 20'
		);
		for (const c of [wsA, wsB, a, b]) c.provider.destroy();
		await relay.stop();
		rmSync(dir, { recursive: true, force: true });

		// A new relay on an empty DATA_DIR (new secret: devices sign in again with their keys).
		const fresh = await relayAt(dir);
		const aliceToken = (await getSessionToken(fresh.http, alice.key)).token;
		const bobToken = (await getSessionToken(fresh.http, bob.key)).token;
		const a2 = track(connect(fresh, 'conv:3005', aliceToken, a.doc));
		const wsA2 = track(connect(fresh, 'workspace', aliceToken, wsA.doc));
		await synced(a2.provider);
		await synced(wsA2.provider);
		await new Promise((r) => setTimeout(r, 200));
		const b2 = track(connect(fresh, 'conv:3005', bobToken, b.doc));
		const wsB2 = track(connect(fresh, 'workspace', bobToken, wsB.doc));
		await synced(b2.provider);
		await synced(wsB2.provider);
		postMessage(b.doc, { content: 'after the restore', created_by: bob.user });
		await until(() => readMessages(a.doc).length === 21, 3000, 'bob post after restore at alice');

		const restored = await download(fresh, { ...bob, token: bobToken }, 'conv:3005');
		const ids = readMessages(restored).map((m) => m.id);
		expect(ids).toHaveLength(21);
		expect(new Set(ids).size).toBe(21);
		expect(restored.getArray('messages').length).toBe(21);
		const ws = await download(fresh, { ...bob, token: bobToken }, 'workspace');
		expect([...ws.getMap('users').keys()].sort()).toEqual([alice.user, bob.user].sort());
	});
});
