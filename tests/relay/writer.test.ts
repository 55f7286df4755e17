/**
 * The commit on SQLite's writer thread (sync-server/storage.ts): the relay's event loop
 * no longer waits for it, and nothing may reach a device before its commit is answered.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { postMessage, readMessages } from '../../src/lib/model';
import { BIG_WRITE_BYTES, isDiskFull, Storage } from '../../sync-server/storage';
import {
	connect,
	createGroupIn,
	newDevice,
	postUntilClosed,
	removeDir,
	synced,
	tempDataDir,
	until,
	withCleanup,
	type Device,
	type Relay
} from './helpers/relay';

const { defer, relayAt } = withCleanup();

/** The messages of a conversation as the relay's database holds them now (read by this process). */
function storedIds(dir: string, doc: string): Set<string> {
	const db = new Database(join(dir, 'kith.sqlite'));
	try {
		const read = db.transaction(() => {
			const snap = db
				.prepare('SELECT data, last_update_id AS id FROM snapshots WHERE doc = ?')
				.get(doc) as { data: Uint8Array; id: number } | undefined;
			const rows = db
				.prepare('SELECT data FROM updates WHERE doc = ? AND id > ? ORDER BY id')
				.all(doc, snap?.id ?? 0) as Array<{ data: Uint8Array }>;
			return [...(snap ? [snap.data] : []), ...rows.map((r) => r.data)];
		});
		const copy = new Y.Doc();
		for (const u of read()) Y.applyUpdate(copy, u);
		return new Set(readMessages(copy).map((m) => m.id));
	} finally {
		db.close();
	}
}

async function group(relay: Relay, owner: Device, id: string, members: string[]) {
	const a = connect(relay, `conv:${id}`, owner.token);
	defer(() => a.provider.destroy());
	return createGroupIn(a, owner, id, members);
}

/**
 * A reader that, as each update arrives, reads the database and records every message it holds
 * that the database does not (empty when stored-before-forwarded holds).
 */
function watchReader(relay: Relay, who: Device, dir: string, id: string) {
	const b = connect(relay, `conv:${id}`, who.token);
	defer(() => b.provider.destroy());
	const unstored: string[] = [];
	let checks = 0;
	b.doc.on('update', () => {
		const seen = readMessages(b.doc).map((m) => m.id);
		if (seen.length === 0) return;
		checks++;
		const stored = storedIds(dir, `conv:${id}`);
		for (const m of seen) if (!stored.has(m)) unstored.push(m);
	});
	return { ...b, unstored, checks: () => checks };
}

describe('the writer thread', () => {
	it('forwards an update only once it is in the database, read right after receipt', async () => {
		const dir = tempDataDir();
		defer(() => removeDir(dir));
		// Durable as shipped: the fsync is what the writer thread takes off the event loop.
		const relay = await relayAt(dir, { SQLITE_SYNCHRONOUS: 'FULL' });
		const alice = await newDevice(relay);
		const bob = await newDevice(relay);
		const a = await group(relay, alice, '7001', [bob.user]);
		const b = watchReader(relay, bob, dir, '7001');
		await synced(b.provider);
		// Bursts and single posts: some commits hold many updates, some arrive while one is in flight.
		for (let i = 0; i < 60; i++) {
			postMessage(a.doc, { content: `m${i}`, created_by: alice.user });
			if (i % 10 === 0) await new Promise((r) => setTimeout(r, 15));
			else if (i % 3 === 0) await new Promise((r) => setImmediate(r));
		}
		await until(() => readMessages(b.doc).length === 60, 5000, 'all 60 at the reader');
		expect(b.checks()).toBeGreaterThan(1);
		expect(b.unstored).toEqual([]);
	});

	it('answers a device that opens the document while commits are in flight, from stored state', async () => {
		const dir = tempDataDir();
		defer(() => removeDir(dir));
		const relay = await relayAt(dir, { SQLITE_SYNCHRONOUS: 'FULL' });
		const alice = await newDevice(relay);
		const bob = await newDevice(relay);
		const a = await group(relay, alice, '7002', [bob.user]);
		let posted = 0;
		const posting = (async () => {
			for (; posted < 150; posted++) {
				postMessage(a.doc, { content: `m${posted}`, created_by: alice.user });
				await new Promise((r) => setImmediate(r));
			}
		})();
		// Each opening's sync step 1 lands among commits: answered (never 4507), never ahead of the disk.
		for (let i = 0; i < 4; i++) {
			const b = watchReader(relay, bob, dir, '7002');
			const codes: number[] = [];
			b.provider.on('connection-close', (ev) => {
				if (ev) codes.push(ev.code);
			});
			await synced(b.provider);
			expect(codes).toEqual([]);
			expect(b.unstored).toEqual([]);
			b.provider.destroy();
		}
		await posting;
		const last = watchReader(relay, bob, dir, '7002');
		await until(() => readMessages(last.doc).length === 150, 5000, 'all 150');
		expect(last.unstored).toEqual([]);
	});

	it('reports a failed commit to the writer (4507) and forwards nothing of it', async () => {
		const dir = tempDataDir();
		defer(() => removeDir(dir));
		// 40 pages of 4 KiB: room for the tables and a few messages only.
		const relay = await relayAt(dir, {
			SQLITE_SYNCHRONOUS: 'FULL',
			SQLITE_MAX_PAGES: '40',
			STORAGE_RETRY_MS: '100'
		});
		const alice = await newDevice(relay);
		const bob = await newDevice(relay);
		const a = await group(relay, alice, '7003', [bob.user]);
		const b = watchReader(relay, bob, dir, '7003');
		await synced(b.provider);
		expect(await postUntilClosed(a, alice.user)).toBe(4507);
		// Retries keep failing (the disk stays full): still nothing unstored reaches the reader.
		await new Promise((r) => setTimeout(r, 400));
		expect(readMessages(b.doc).length).toBeGreaterThan(0);
		expect(readMessages(a.doc).length).toBeGreaterThan(readMessages(b.doc).length);
		expect(b.unstored).toEqual([]);
		const stored = storedIds(dir, 'conv:7003');
		expect(readMessages(b.doc).filter((m) => !stored.has(m.id))).toEqual([]);
	});
});

describe('Storage with its writer thread', () => {
	it('commits in order: a load after an append resolves sees it; a compaction keeps later rows', async () => {
		const dir = tempDataDir();
		const storage = new Storage(dir, { synchronous: 'FULL', maxPages: 0 });
		try {
			expect(storage.threaded).toBe(true);
			const doc = new Y.Doc();
			const updates: Uint8Array[] = [];
			doc.on('update', (u: Uint8Array) => updates.push(u));
			for (let i = 0; i < 5; i++) doc.getArray<number>('a').push([i]);
			const ids = await storage.append(
				updates.slice(0, 3).map((data) => ({ doc: 'conv:1', data }))
			);
			expect(storage.load('conv:1').logCount).toBe(3);
			// Asked for without waiting: the writer makes them in this order.
			const compacted = storage.compact('conv:1', Y.mergeUpdates(updates.slice(0, 3)), ids[2]!);
			const later = storage.append(updates.slice(3).map((data) => ({ doc: 'conv:1', data })));
			await Promise.all([compacted, later]);
			const loaded = storage.load('conv:1');
			expect(loaded.logCount).toBe(2);
			const copy = new Y.Doc();
			for (const u of loaded.updates) Y.applyUpdate(copy, u);
			expect(copy.getArray<number>('a').toArray()).toEqual([0, 1, 2, 3, 4]);
		} finally {
			storage.close();
			removeDir(dir);
		}
	});

	it('makes a big write on its own connection, after the writer’s earlier commits and before later ones', async () => {
		const dir = tempDataDir();
		const storage = new Storage(dir, { synchronous: 'FULL', maxPages: 0 });
		try {
			const row = (n: number, bytes = 100) => ({
				doc: 'conv:1',
				data: new Uint8Array(bytes).fill(n)
			});
			// Asked for without waiting: the first is still on the writer thread when the big one
			// comes, and the last must wait for the big one.
			const first = storage.append([row(1)]);
			const big = storage.append([row(2, BIG_WRITE_BYTES)]);
			const last = storage.append([row(3)]);
			const bigSnapshot = storage.compact('conv:2', new Uint8Array(BIG_WRITE_BYTES).fill(4), 0);
			const ids = (await Promise.all([first, big, last])).map((r) => r[0]!);
			await bigSnapshot;
			expect(storage.bigWrites).toBe(2);
			expect(ids).toEqual([...ids].sort((a, b) => a - b));
			expect(new Set(ids).size).toBe(3);
			const stored = storage.load('conv:1').updates.map((u) => [u.byteLength, u[0]]);
			expect(stored).toEqual([
				[100, 1],
				[BIG_WRITE_BYTES, 2],
				[100, 3]
			]);
			expect(storage.load('conv:2').bytes).toBe(BIG_WRITE_BYTES);
			// A small write after it all goes to the writer thread again.
			await storage.append([row(5)]);
			expect(storage.bigWrites).toBe(2);
			expect(storage.load('conv:1').logCount).toBe(4);
		} finally {
			storage.close();
			removeDir(dir);
		}
	});

	it('rejects a commit the disk refuses, with SQLite’s code, and keeps what was stored', async () => {
		const dir = tempDataDir();
		const storage = new Storage(dir, { synchronous: 'FULL', maxPages: 40 });
		try {
			await storage.append([{ doc: 'conv:1', data: new Uint8Array(100).fill(1) }]);
			const big = Array.from({ length: 60 }, () => ({
				doc: 'conv:1',
				data: new Uint8Array(4000).fill(2)
			}));
			const err = await storage.append(big).then(
				() => null,
				(e: unknown) => e
			);
			expect(isDiskFull(err)).toBe(true);
			expect(storage.load('conv:1').logCount).toBe(1);
		} finally {
			storage.close();
			removeDir(dir);
		}
	});
});
