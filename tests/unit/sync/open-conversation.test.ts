import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { postMessage, projectConversation } from '../../../src/lib/model';
import { newestMessages } from '../../../src/lib/db';
import { openConversation } from '../../../src/lib/sync';
import { alice } from '../../fixtures/model';
import {
	channelDoc,
	CONVERSATION_ID,
	expectIndexEqualsProjection,
	openIndex,
	TwoReplicas
} from '../db/helpers';

const quiet = { lifecycle: null, onError: () => {} } as const;

/** A conversation stored on a device after a seeded random history with another replica. */
async function history(factory: IDBFactory, seed: number) {
	const db = openIndex(factory);
	const created = channelDoc();
	const conv = await openConversation(db, CONVERSATION_ID, {
		indexedDB: factory,
		doc: created,
		indexer: { onError: () => {} },
		...quiet
	});
	const net = new TwoReplicas(conv.doc, seed);
	for (let i = 0; i < 150; i++) {
		net.step();
		if (i % 10 === 0) await new Promise((r) => setImmediate(r));
	}
	net.settle();
	await conv.indexer.whenIdle();
	await expectIndexEqualsProjection(db, conv.doc);
	return { db, conv };
}

describe('openConversation', () => {
	it('shows the same index and document after a restart, with no rebuild', async () => {
		const factory = new IDBFactory();
		const { db, conv } = await history(factory, 11);
		await conv.close();
		db.close();

		const db2 = openIndex(factory);
		const newest = await newestMessages(db2, CONVERSATION_ID, 10);
		expect(newest.length).toBeGreaterThan(0);
		const reopened = await openConversation(db2, CONVERSATION_ID, {
			indexedDB: factory,
			...quiet
		});
		expect(projectConversation(reopened.doc)).toEqual(projectConversation(conv.doc));
		await reopened.indexer.whenIdle();
		expect(reopened.indexer.stats.rebuilds).toBe(0);
		await expectIndexEqualsProjection(db2, reopened.doc);
		postMessage(reopened.doc, { content: 'after the restart', created_by: alice });
		await reopened.indexer.whenIdle();
		expect((await newestMessages(db2, CONVERSATION_ID, 1))[0]?.content).toBe('after the restart');
		await expectIndexEqualsProjection(db2, reopened.doc);
		await reopened.close();
		db2.close();
	});

	it('rebuilds the index after a crash left it unmarked, and then equals the projection', async () => {
		const factory = new IDBFactory();
		const { db, conv } = await history(factory, 12);
		// The index's last write had more queued behind it, so it left the rows unmarked…
		await conv.indexer.stop();
		await db.index_state.update(CONVERSATION_ID, { snapshot: null });
		// …and the tab dies before that: the document's storage had flushed, not the index.
		postMessage(conv.doc, { content: 'just before the crash', created_by: alice });
		await conv.local.close();
		db.close();

		const db2 = openIndex(factory);
		const reopened = await openConversation(db2, CONVERSATION_ID, {
			indexedDB: factory,
			...quiet
		});
		await reopened.indexer.whenIdle();
		expect(reopened.indexer.stats.rebuilds).toBe(1);
		await expectIndexEqualsProjection(db2, reopened.doc);
		expect((await newestMessages(db2, CONVERSATION_ID, 1))[0]?.content).toBe(
			'just before the crash'
		);
		await reopened.close();
		db2.close();
	});
});
