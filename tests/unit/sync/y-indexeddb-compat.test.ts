// y-indexeddb opens the global indexedDB; this file alone installs the fake one globally.
import 'fake-indexeddb/auto';
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { describe, expect, it } from 'vitest';
import { postMessage, readAllMessages } from '../../../src/lib/model';
import { openLocalDoc } from '../../../src/lib/sync';
import { alice, bob } from '../../fixtures/model';
import { channelDoc } from '../db/helpers';

const contents = (doc: Y.Doc) => readAllMessages(doc).map((m) => m.content);

describe('LocalDoc and y-indexeddb', () => {
	it('reads what y-indexeddb stored, and y-indexeddb reads what it stores', async () => {
		const name = 'conv:7000';
		const doc = channelDoc();
		const theirs = new IndexeddbPersistence(name, doc);
		await theirs.whenSynced;
		postMessage(doc, { content: 'written by y-indexeddb', created_by: alice });
		await new Promise((r) => setTimeout(r, 10));
		await theirs.destroy();

		const ours = await openLocalDoc(name, { lifecycle: null });
		expect(contents(ours.doc)).toEqual(['written by y-indexeddb']);
		postMessage(ours.doc, { content: 'written by LocalDoc', created_by: bob });
		await ours.close();

		const again = new Y.Doc();
		const theirsAgain = new IndexeddbPersistence(name, again);
		await theirsAgain.whenSynced;
		expect(contents(again)).toEqual(['written by y-indexeddb', 'written by LocalDoc']);
		await theirsAgain.destroy();
	});

	it('does not grow the store on reloads with no edits, where y-indexeddb adds a record each time', async () => {
		const name = 'conv:grow';
		const count = async () => {
			const local = await openLocalDoc(name, { lifecycle: null });
			const n = await local.storedUpdates();
			await local.close();
			return n;
		};
		const seed = await openLocalDoc(name, { lifecycle: null, doc: channelDoc() });
		await seed.close();
		const start = await count();
		for (let i = 0; i < 5; i++) {
			const p = new IndexeddbPersistence(name, new Y.Doc());
			await p.whenSynced;
			await p.destroy();
		}
		const afterTheirs = await count();
		expect(afterTheirs).toBe(start + 5); // y-indexeddb #31
		for (let i = 0; i < 5; i++) await count();
		expect(await count()).toBe(afterTheirs);
	});
});
