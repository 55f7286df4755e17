import * as Y from 'yjs';
import { forceCloseDatabase, IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import {
	editMessage,
	postMessage,
	projectConversation,
	readAllMessages
} from '../../../src/lib/model';
import { LocalDoc, openLocalDoc, type LocalDocOptions } from '../../../src/lib/sync';
import { alice, bob } from '../../fixtures/model';
import { channelDoc } from '../db/helpers';

const NAME = 'conv:7000';

/** The browser closing a connection on its own (fires `close`); fake-indexeddb mistypes it. */
const forceClose = (db: IDBDatabase) =>
	forceCloseDatabase(db as unknown as Parameters<typeof forceCloseDatabase>[0]);

/** A fake IndexedDB that records the connections it opens and can be told to refuse opens. */
function trackedIndexedDb() {
	const inner = new IDBFactory();
	const connections: IDBDatabase[] = [];
	const control = { failOpens: false };
	const factory: IDBFactory = {
		open(name: string, version?: number) {
			if (control.failOpens) throw new DOMException('The disk is gone', 'UnknownError');
			const req = version === undefined ? inner.open(name) : inner.open(name, version);
			req.addEventListener('success', () => connections.push(req.result));
			return req;
		},
		deleteDatabase: (name: string) => inner.deleteDatabase(name),
		cmp: (a: unknown, b: unknown) => inner.cmp(a, b),
		databases: () => inner.databases()
	};
	return { factory, inner, connections, control };
}

/** What a separate connection finds in the store: the document it holds and its record count. */
async function readStored(
	factory: IDBFactory,
	name = NAME
): Promise<{ doc: Y.Doc; records: number }> {
	const db = await new Promise<IDBDatabase>((resolve, reject) => {
		const req = factory.open(name);
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error);
	});
	const values = await new Promise<unknown[]>((resolve, reject) => {
		const req = db.transaction('updates', 'readonly').objectStore('updates').getAll();
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error);
	});
	db.close();
	const doc = new Y.Doc();
	for (const v of values) Y.applyUpdate(doc, v as Uint8Array);
	return { doc, records: values.length };
}

/** The stored records, as [key, bytes], by key. */
async function readRecords(factory: IDBFactory, name = NAME): Promise<Array<[number, number]>> {
	const db = await new Promise<IDBDatabase>((resolve, reject) => {
		const req = factory.open(name);
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error);
	});
	const store = db.transaction('updates', 'readonly').objectStore('updates');
	const read = <T>(req: IDBRequest<T>) =>
		new Promise<T>((resolve, reject) => {
			req.onsuccess = () => resolve(req.result);
			req.onerror = () => reject(req.error);
		});
	const [keys, values] = await Promise.all([read(store.getAllKeys()), read(store.getAll())]);
	db.close();
	return keys.map((k, i) => [k as number, (values[i] as Uint8Array).byteLength]);
}

/** A conversation document stored in `factory`, with `n` messages. */
async function stored(factory: IDBFactory, n: number, options: LocalDocOptions = {}) {
	const doc = channelDoc();
	const errors: unknown[] = [];
	const local = new LocalDoc(NAME, doc, {
		indexedDB: factory,
		lifecycle: null,
		onError: (e) => errors.push(e),
		...options
	});
	await local.whenLoaded;
	for (let i = 0; i < n; i++) postMessage(doc, { content: `m${i}`, created_by: alice });
	return { doc, local, errors };
}

/**
 * Opens a LocalDoc over `factory` whose stored records wait for `paint()` (as the app's first
 * paint), once LocalDoc has asked for that wait.
 */
async function heldUntilPaint(factory: IDBFactory) {
	let paint = () => {};
	const painted = new Promise<void>((r) => (paint = r));
	let asked = false;
	const doc = new Y.Doc();
	const loading = new LocalDoc(NAME, doc, {
		indexedDB: factory,
		lifecycle: null,
		applyAfter: () => {
			asked = true;
			return painted;
		}
	});
	await expect.poll(() => asked).toBe(true);
	return { doc, loading, paint };
}

const contents = (doc: Y.Doc) => readAllMessages(doc).map((m) => m.content);

describe('LocalDoc', () => {
	it('shows everything after a restart, with no network', async () => {
		const factory = new IDBFactory();
		const { doc, local } = await stored(factory, 5);
		editMessage(doc, readAllMessages(doc)[0]!.id, { content: 'edited', edited_by: alice });
		await local.close();
		const reopened = await openLocalDoc(NAME, { indexedDB: factory, lifecycle: null });
		expect(projectConversation(reopened.doc)).toEqual(projectConversation(doc));
		expect(contents(reopened.doc)).toEqual(['edited', 'm1', 'm2', 'm3', 'm4']);
		await reopened.close();
	});

	it('resolves flush() only once the update is committed and readable by another connection', async () => {
		const factory = new IDBFactory();
		const { doc, local } = await stored(factory, 0);
		postMessage(doc, { content: 'the last word', created_by: bob });
		expect(local.unsaved).toBeGreaterThan(0);
		await local.flush();
		expect(local.unsaved).toBe(0);
		expect(contents((await readStored(factory)).doc)).toEqual(['the last word']);
		await local.close();
	});

	it('keeps an edit made just before closing', async () => {
		const factory = new IDBFactory();
		const { doc, local } = await stored(factory, 1);
		editMessage(doc, readAllMessages(doc)[0]!.id, { content: 'last second', edited_by: alice });
		void local.close();
		doc.destroy();
		await local.close();
		const reopened = await openLocalDoc(NAME, { indexedDB: factory, lifecycle: null });
		expect(contents(reopened.doc)).toEqual(['last second']);
		await reopened.close();
	});

	it('does not grow the store when reopened 20 times with no edits', async () => {
		const factory = new IDBFactory();
		const { local } = await stored(factory, 0);
		const doc = local.doc;
		for (let i = 0; i < 12; i++) {
			postMessage(doc, { content: `m${i}`, created_by: alice });
			await local.flush();
		}
		await local.close();
		expect((await readStored(factory)).records).toBe(12);
		const counts: number[] = [];
		for (let i = 0; i < 20; i++) {
			const reopened = await openLocalDoc(NAME, { indexedDB: factory, lifecycle: null });
			expect(readAllMessages(reopened.doc)).toHaveLength(12);
			await reopened.close();
			counts.push((await readStored(factory)).records);
		}
		// Compacted to one on the first reopen (12 > 8), and never written again after that.
		expect(counts).toEqual(Array(20).fill(1));
	});

	it('merges stored updates into one when idle after writes', async () => {
		const factory = new IDBFactory();
		const { doc, local } = await stored(factory, 0, { compactAbove: 3, idleCompactMs: 5 });
		for (let i = 0; i < 10; i++) {
			postMessage(doc, { content: `m${i}`, created_by: alice });
			await local.flush();
		}
		expect(await local.storedUpdates()).toBeGreaterThan(3);
		await new Promise((r) => setTimeout(r, 40));
		expect(await local.storedUpdates()).toBe(1);
		const after = await readStored(factory);
		expect(after.records).toBe(1);
		expect(projectConversation(after.doc)).toEqual(projectConversation(doc));
		await local.close();
	});

	it('merges only the small records beside a big one, until they grow to a quarter of it', async () => {
		const factory = new IDBFactory();
		const options = { compactAbove: 3, mergeTailAbove: 1 };
		// A big first record: the history, as a full compaction leaves it.
		const first = await stored(factory, 400, options);
		await first.local.compact();
		await first.local.close();
		const base = await readRecords(factory);
		expect(base).toHaveLength(1);
		const { doc, local } = await stored(factory, 0, options);
		for (let i = 0; i < 6; i++) {
			postMessage(doc, { content: `new ${i}`, created_by: alice });
			await local.flush();
		}
		await local.compact();
		const merged = await readRecords(factory);
		// The big record untouched (same key, same bytes), the six posts merged into one.
		expect(merged).toHaveLength(2);
		expect(merged[0]).toEqual(base[0]);
		expect(projectConversation((await readStored(factory)).doc)).toEqual(projectConversation(doc));
		// Past a quarter of the big record, the whole document is written as one again.
		for (let i = 0; i < 200; i++) postMessage(doc, { content: `more ${i}`, created_by: alice });
		await local.flush();
		await local.compact();
		expect(await readRecords(factory)).toHaveLength(1);
		expect(contents((await readStored(factory)).doc)).toHaveLength(606);
		await local.close();
	});

	it('keeps updates that another tab wrote when it compacts', async () => {
		const factory = new IDBFactory();
		const { doc, local } = await stored(factory, 2);
		await local.flush();
		const other = await openLocalDoc(NAME, { indexedDB: factory, lifecycle: null });
		postMessage(other.doc, { content: 'from the other tab', created_by: bob });
		await other.flush();
		await local.compact();
		expect(await local.storedUpdates()).toBe(1);
		expect(contents(doc)).toContain('from the other tab');
		expect(contents((await readStored(factory)).doc)).toEqual(['m0', 'm1', 'from the other tab']);
		await Promise.all([local.close(), other.close()]);
	});

	it('survives its connection being closed by the browser, and keeps every edit', async () => {
		const { factory, connections, inner } = trackedIndexedDb();
		const { doc, local, errors } = await stored(factory, 1);
		await local.flush();
		expect(connections).toHaveLength(1);
		// The write of this post is queued; the connection goes away before it starts.
		postMessage(doc, { content: 'in flight', created_by: alice });
		forceClose(connections[0]!);
		postMessage(doc, { content: 'after the close', created_by: bob });
		await local.flush();
		expect(connections.length).toBeGreaterThan(1);
		// A close without any event (the connection is just gone) is noticed on the next write.
		connections.at(-1)!.close();
		postMessage(doc, { content: 'after a silent close', created_by: bob });
		await local.flush();
		await local.close();
		// The forced close announced itself (its `close` event); the silent one failed a write.
		expect(errors.map((e) => (e as Error).name)).toEqual(['InvalidStateError']);
		expect(contents((await readStored(inner)).doc)).toEqual([
			'm0',
			'in flight',
			'after the close',
			'after a silent close'
		]);
	});

	it('keeps an update in memory until its transaction commits, and writes it again after an abort', async () => {
		const { factory, connections, inner } = trackedIndexedDb();
		const { doc, local, errors } = await stored(factory, 0);
		await local.flush();
		// As a browser does when it closes the connection under a write in flight.
		const conn = connections[0]!;
		const transaction = conn.transaction.bind(conn);
		conn.transaction = ((stores: string | string[], mode?: IDBTransactionMode) => {
			const tx = transaction(stores, mode);
			if (mode === 'readwrite') queueMicrotask(() => tx.abort());
			return tx;
		}) as IDBDatabase['transaction'];
		postMessage(doc, { content: 'survives the abort', created_by: alice });
		await local.flush();
		await local.close();
		expect(errors.map((e) => (e as Error).name)).toEqual(['AbortError']);
		expect(contents((await readStored(inner)).doc)).toEqual(['survives the abort']);
	});

	it('writes the whole document again when its database is deleted under it', async () => {
		const { factory, inner } = trackedIndexedDb();
		const { doc, local } = await stored(factory, 3);
		await local.flush();
		await new Promise<void>((resolve, reject) => {
			const req = inner.deleteDatabase(NAME);
			req.onsuccess = () => resolve();
			req.onerror = () => reject(req.error);
		});
		postMessage(doc, { content: 'after the delete', created_by: alice });
		await local.flush();
		await local.close();
		expect(contents((await readStored(inner)).doc)).toEqual(['m0', 'm1', 'm2', 'after the delete']);
	});

	it('writes at once on pagehide instead of waiting out its retry delay', async () => {
		const { factory, connections, control, inner } = trackedIndexedDb();
		const lifecycle = new EventTarget();
		const { doc, local } = await stored(factory, 0, { retryMs: 60_000, lifecycle });
		const errors: unknown[] = [];
		await local.close();
		const reopened = new LocalDoc(NAME, doc, {
			indexedDB: factory,
			retryMs: 60_000,
			lifecycle,
			onError: (e) => errors.push(e)
		});
		await reopened.whenLoaded;
		control.failOpens = true;
		forceClose(connections.at(-1)!);
		postMessage(doc, { content: 'written on pagehide', created_by: alice });
		await new Promise((r) => setTimeout(r, 30));
		// It tried, failed to reopen, and now waits a minute before the next try.
		expect(errors.length).toBeGreaterThan(0);
		expect(reopened.unsaved).toBeGreaterThan(0);
		control.failOpens = false;
		lifecycle.dispatchEvent(new Event('pagehide'));
		const flushed = await Promise.race([
			reopened.flush().then(() => true),
			new Promise((r) => setTimeout(() => r(false), 1_000))
		]);
		expect(flushed).toBe(true);
		await reopened.close();
		expect(contents((await readStored(inner)).doc)).toEqual(['written on pagehide']);
	});

	it('loads with no update listener attached, so the stored state is not encoded again', async () => {
		const factory = new IDBFactory();
		const { local } = await stored(factory, 20);
		await local.close();
		const doc = new Y.Doc();
		// Yjs encodes a transaction's whole update whenever the document has an `update` listener
		// (for 100,000 messages ~1 s spent on the load, only to be skipped as storage's own).
		const listening: boolean[] = [];
		doc.on('afterTransaction', (tr: Y.Transaction) => {
			if ((tr.origin as { kind?: string } | null)?.kind === 'storage')
				listening.push(doc._observers.has('update'));
		});
		const reopened = await openLocalDoc(NAME, { indexedDB: factory, lifecycle: null, doc });
		expect(listening).toEqual([false]);
		expect(readAllMessages(doc)).toHaveLength(20);
		expect(reopened.unsaved).toBe(0);
		// …and it follows the document from then on.
		postMessage(doc, { content: 'after the load', created_by: bob });
		expect(reopened.unsaved).toBe(1);
		await reopened.close();
		expect(contents((await readStored(factory)).doc)).toContain('after the load');
	});

	it('keeps changes made to the document while it was loading', async () => {
		const factory = new IDBFactory();
		const { local } = await stored(factory, 3);
		await local.close();
		const doc = new Y.Doc();
		const loading = new LocalDoc(NAME, doc, { indexedDB: factory, lifecycle: null });
		doc.getMap('probe').set('at once', 1);
		await Promise.resolve();
		doc.getMap('probe').set('a microtask later', 2);
		await loading.whenLoaded;
		doc.getMap('probe').delete('at once');
		await loading.close();
		const { doc: again } = await readStored(factory);
		expect(again.getMap('probe').toJSON()).toEqual({ 'a microtask later': 2 });
		expect(contents(again)).toEqual(['m0', 'm1', 'm2']);
	});

	it('applies the stored records only once applyAfter has settled, keeping what was made meanwhile', async () => {
		const factory = new IDBFactory();
		const { local } = await stored(factory, 3);
		await local.close();
		const { doc, loading, paint } = await heldUntilPaint(factory);
		await new Promise((r) => setTimeout(r, 20));
		expect(contents(doc)).toEqual([]);
		doc.getMap('probe').set('while held', 1);
		paint();
		await loading.whenLoaded;
		expect(contents(doc)).toEqual(['m0', 'm1', 'm2']);
		await loading.close();
		const { doc: again } = await readStored(factory);
		expect(again.getMap('probe').toJSON()).toEqual({ 'while held': 1 });
		expect(contents(again)).toEqual(['m0', 'm1', 'm2']);
	});

	it('reads the stored records only once applyAfter has settled (a record stored meanwhile loads too)', async () => {
		const factory = new IDBFactory();
		const { local } = await stored(factory, 2);
		await local.close();
		const { doc, loading, paint } = await heldUntilPaint(factory);
		// Another tab stores a message while this one waits for its first paint.
		const otherLocal = await openLocalDoc(NAME, { indexedDB: factory, lifecycle: null });
		postMessage(otherLocal.doc, { content: 'm2', created_by: alice });
		await otherLocal.close();
		paint();
		await loading.whenLoaded;
		expect(contents(doc)).toEqual(['m0', 'm1', 'm2']);
		await loading.close();
	});

	it('skips a stored record that is not a Yjs update, and reports it', async () => {
		const factory = new IDBFactory();
		const { local } = await stored(factory, 1);
		await local.close();
		await new Promise<void>((resolve, reject) => {
			const req = factory.open(NAME);
			req.onsuccess = () => {
				const tx = req.result.transaction('updates', 'readwrite');
				tx.objectStore('updates').add('not an update');
				tx.oncomplete = () => {
					req.result.close();
					resolve();
				};
			};
			req.onerror = () => reject(req.error);
		});
		const errors: unknown[] = [];
		const reopened = await openLocalDoc(NAME, {
			indexedDB: factory,
			lifecycle: null,
			onError: (e) => errors.push(e)
		});
		expect(contents(reopened.doc)).toEqual(['m0']);
		expect(String(errors[0])).toMatch(/is not a Yjs update/);
		await reopened.close();
	});
});
