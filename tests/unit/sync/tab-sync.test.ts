import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { TabSync } from '../../../src/lib/sync/tab-sync';

const open: TabSync[] = [];
afterEach(() => {
	for (const t of open.splice(0)) t.destroy();
});

function tab(name: string, doc: Y.Doc, onError?: (e: unknown) => void): TabSync {
	const sync = TabSync.attach(name, doc, onError ? { onError } : {});
	if (!sync) throw new Error('BroadcastChannel is missing in this runtime');
	open.push(sync);
	return sync;
}

async function until(check: () => boolean, ms = 2_000): Promise<void> {
	const end = Date.now() + ms;
	while (!check()) {
		if (Date.now() > end) throw new Error('timed out');
		await new Promise((r) => setTimeout(r, 5));
	}
}

const texts = (doc: Y.Doc) => doc.getArray<string>('messages').toArray().sort();

describe('TabSync', () => {
	it('brings a newly opened tab and an open one to the same state, both ways', async () => {
		const a = new Y.Doc();
		const b = new Y.Doc();
		a.getArray<string>('messages').push(['written in tab A while alone']);
		b.getArray<string>('messages').push(['written in tab B while alone']);
		tab('conv:1', a);
		tab('conv:1', b);
		await until(() => texts(a).length === 2 && texts(b).length === 2);
		expect(texts(a)).toEqual(texts(b));
	});

	it('passes every later edit to the other tabs, and none to another document', async () => {
		const a = new Y.Doc();
		const b = new Y.Doc();
		const c = new Y.Doc();
		const other = new Y.Doc();
		tab('conv:2', a);
		tab('conv:2', b);
		tab('conv:2', c);
		tab('conv:3', other);
		for (let i = 0; i < 20; i++) [a, b, c][i % 3]!.getArray<string>('messages').push([`m${i}`]);
		await until(() => [a, b, c].every((d) => texts(d).length === 20));
		expect(texts(b)).toEqual(texts(a));
		expect(texts(c)).toEqual(texts(a));
		expect(texts(other)).toEqual([]);
	});

	it('reports a damaged message from another tab and keeps working', async () => {
		const errors: unknown[] = [];
		const a = new Y.Doc();
		const b = new Y.Doc();
		tab('conv:4', a, (e) => errors.push(e));
		tab('conv:4', b);
		const rogue = new BroadcastChannel('kith-doc:conv:4');
		rogue.postMessage({ t: 'update', from: 'rogue', update: new Uint8Array([1, 2, 3, 250]) });
		rogue.postMessage({ t: 'nonsense' });
		await until(() => errors.length === 1);
		b.getArray<string>('messages').push(['still in step']);
		await until(() => texts(a).length === 1);
		expect(texts(a)).toEqual(['still in step']);
		rogue.close();
	});

	it('stops sending and receiving once destroyed', async () => {
		const a = new Y.Doc();
		const b = new Y.Doc();
		const ta = tab('conv:5', a);
		tab('conv:5', b);
		ta.destroy();
		b.getArray<string>('messages').push(['after A closed']);
		a.getArray<string>('messages').push(['A alone']);
		await new Promise((r) => setTimeout(r, 100));
		expect(texts(a)).toEqual(['A alone']);
		expect(texts(b)).toEqual(['after A closed']);
	});
});
