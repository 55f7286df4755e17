import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import {
	createConversation,
	deleteMessage,
	postMessage,
	postReply,
	purgeDeleted,
	toggleReaction,
	type Origin
} from '../../../src/lib/model';
import {
	ConversationIndexer,
	conversationMessages,
	INDEX_VERSION,
	withWords
} from '../../../src/lib/db';
import { alice, at, bob, carol, T0 } from '../../fixtures/model';
import {
	channelDoc,
	CONVERSATION_ID,
	expectIndexEqualsProjection,
	openIndex,
	TwoReplicas
} from './helpers';

const remote = (source: string): Origin => ({ kind: 'remote', source });

describe('ConversationIndexer', () => {
	for (const seed of [1, 2, 3]) {
		it(`keeps the index equal to the projection through random local and remote operations (seed ${seed})`, async () => {
			const db = openIndex();
			const doc = channelDoc();
			const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc, { idleMs: 5 });
			expect(await indexer.start()).toEqual({ stale: true });
			const net = new TwoReplicas(doc, seed);
			for (let round = 0; round < 4; round++) {
				for (let i = 0; i < 60; i++) {
					net.step();
					// Let writes start (and overlap later transactions) at irregular points.
					if (i % 7 === 3) await new Promise((r) => setImmediate(r));
				}
				await indexer.whenIdle();
				await expectIndexEqualsProjection(db, doc);
			}
			net.settle();
			await indexer.whenIdle();
			await expectIndexEqualsProjection(db, doc);
			expect(net.performed).toBeGreaterThan(100);
			// Incremental: one rebuild (the first open), the rest written from transactions.
			expect(indexer.stats.rebuilds).toBe(1);
			expect(indexer.stats.plans).toBeGreaterThan(100);
			expect(indexer.stats.batches).toBeGreaterThanOrEqual(4);
			expect(indexer.stats.batches).toBeLessThan(indexer.stats.plans);
			await indexer.stop();
			db.close();
		});
	}

	it('merges a burst of transactions into few Dexie transactions', async () => {
		const db = openIndex();
		const doc = channelDoc();
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
		await indexer.start();
		await indexer.whenIdle();
		for (let i = 0; i < 50; i++) postMessage(doc, { content: `m${i}`, created_by: alice });
		await indexer.whenIdle();
		expect(indexer.stats.plans).toBe(50);
		expect(indexer.stats.batches).toBeLessThanOrEqual(2);
		expect(await db.messages.count()).toBe(50);
		await expectIndexEqualsProjection(db, doc);
		await indexer.stop();
	});

	it('indexes a large catch-up by a chunked rebuild instead of one huge write', async () => {
		const db = openIndex();
		const doc = channelDoc();
		const other = new Y.Doc();
		Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc, {
			chunkSize: 40,
			rebuildAbove: 40
		});
		await indexer.start();
		await indexer.whenIdle();
		other.transact(() => {
			for (let i = 0; i < 130; i++) postMessage(other, { content: `old ${i}`, created_by: bob });
		});
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(other, Y.encodeStateVector(doc)), remote('relay'));
		postMessage(doc, { content: 'typed while it indexes', created_by: alice });
		await indexer.whenIdle();
		expect(indexer.stats.rebuilds).toBe(2);
		expect(await db.messages.count()).toBe(131);
		await expectIndexEqualsProjection(db, doc);
		await indexer.stop();
	});

	it('writes a transaction with many records, and a burst, in Dexie transactions of at most chunkSize rows', async () => {
		const db = openIndex();
		const doc = channelDoc();
		const other = new Y.Doc();
		Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc, { chunkSize: 40 });
		await indexer.start();
		await indexer.whenIdle();
		const first = indexer.stats;
		const m = postMessage(doc, { content: 'before', created_by: alice });
		other.transact(() => {
			for (let i = 0; i < 130; i++) postMessage(other, { content: `old ${i}`, created_by: bob });
		});
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(other, Y.encodeStateVector(doc)), remote('relay'));
		toggleReaction(doc, m.id, { emoji: '👍', user_id: bob });
		for (let i = 0; i < 50; i++) postMessage(doc, { content: `burst ${i}`, created_by: alice });
		await indexer.whenIdle();
		const { rebuilds, batches } = indexer.stats;
		// No rebuild: 130 records are below rebuildAbove; 181 rows in at least ⌈181 / 40⌉ writes.
		expect(rebuilds).toBe(first.rebuilds);
		expect(batches - first.batches).toBeGreaterThanOrEqual(5);
		expect(await db.messages.count()).toBe(181);
		expect((await db.messages.get(m.id))?.reactions).toEqual({ '👍': [bob] });
		await expectIndexEqualsProjection(db, doc);
		await indexer.stop();
	});

	it('indexes a message whose reactions arrived before it', async () => {
		const db = openIndex();
		const doc = channelDoc();
		const bobs = new Y.Doc();
		const carols = new Y.Doc();
		Y.applyUpdate(bobs, Y.encodeStateAsUpdate(doc));
		Y.applyUpdate(carols, Y.encodeStateAsUpdate(doc));
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
		await indexer.start();
		const before = Y.encodeStateVector(carols);
		const m = postMessage(bobs, { content: 'hello', created_by: bob });
		Y.applyUpdate(carols, Y.encodeStateAsUpdate(bobs, before));
		const carolsBefore = Y.encodeStateVector(carols);
		toggleReaction(carols, m.id, { emoji: '🎉', user_id: carol, created_at: at(5) });
		// Carol's reaction reaches us first; it needs nothing of Bob's to integrate.
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(carols, carolsBefore), remote('carol'));
		await indexer.whenIdle();
		expect(await db.messages.get(m.id)).toBeUndefined();
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(bobs, before), remote('bob'));
		await indexer.whenIdle();
		expect((await db.messages.get(m.id))?.reactions).toEqual({ '🎉': [carol] });
		await expectIndexEqualsProjection(db, doc);
		await indexer.stop();
	});

	it('keeps one tombstone row when two devices delete the same message at once', async () => {
		const db = openIndex();
		const doc = channelDoc();
		const m = postMessage(doc, { content: 'oops', created_by: alice });
		postReply(doc, m.id, { content: 'thread stays', created_by: bob });
		const other = new Y.Doc();
		Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
		await indexer.start();
		const sv = Y.encodeStateVector(other);
		deleteMessage(doc, m.id, { deleted_by: alice, deleted_at: at(10) });
		deleteMessage(other, m.id, { deleted_by: alice, deleted_at: at(11) });
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(other, sv), remote('other'));
		await indexer.whenIdle();
		await expectIndexEqualsProjection(db, doc);
		expect(purgeDeleted(doc)).toBe(true);
		await indexer.whenIdle();
		await expectIndexEqualsProjection(db, doc);
		expect(await db.messages.get(m.id)).toMatchObject({ content: '', deleted: true });
		await indexer.stop();
	});

	it('indexes everything that came before the conversation’s meta once the meta arrives', async () => {
		const db = openIndex();
		const created = channelDoc();
		postMessage(created, { content: 'first', created_by: alice });
		const doc = new Y.Doc();
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
		expect(await indexer.start()).toEqual({ stale: true });
		await indexer.whenIdle();
		expect(await db.conversations.count()).toBe(0);
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(created), remote('relay'));
		await indexer.whenIdle();
		await expectIndexEqualsProjection(db, doc);
		expect(await db.messages.count()).toBe(1);
		await indexer.stop();
	});

	it('marks the rows in step with the write itself, so a reload right after posting needs no rebuild', async () => {
		const db = openIndex();
		const doc = channelDoc();
		// An idle mark far away: only the write's own mark can make the next start current.
		const first = new ConversationIndexer(db, CONVERSATION_ID, doc, { idleMs: 60_000 });
		await first.start();
		await first.whenIdle();
		const m = postMessage(doc, { content: 'sent just before the reload', created_by: alice });
		toggleReaction(doc, m.id, { emoji: '👍', user_id: bob });
		await first.whenIdle();
		expect((await db.index_state.get(CONVERSATION_ID))?.snapshot).toBeInstanceOf(Uint8Array);
		// The page goes away without stop() (a reload): the next open finds the rows current.
		const copy = new Y.Doc();
		Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
		const second = new ConversationIndexer(db, CONVERSATION_ID, copy);
		expect(await second.start()).toEqual({ stale: false });
		await expectIndexEqualsProjection(db, copy);
		await second.stop();
		await first.stop();
	});

	it('marks the rows in step once idle, so that the next start needs no rebuild', async () => {
		const factoryDb = openIndex();
		const doc = channelDoc();
		const first = new ConversationIndexer(factoryDb, CONVERSATION_ID, doc, { idleMs: 5 });
		await first.start();
		postMessage(doc, { content: 'one', created_by: alice });
		await first.whenIdle();
		await new Promise((r) => setTimeout(r, 30));
		const state = await factoryDb.index_state.get(CONVERSATION_ID);
		expect(state?.version).toBe(INDEX_VERSION);
		expect(state?.snapshot).toBeInstanceOf(Uint8Array);
		await first.stop();

		const second = new ConversationIndexer(factoryDb, CONVERSATION_ID, doc);
		expect(await second.start()).toEqual({ stale: false });
		await second.stop();
		// A change the index never saw (made while nobody indexed): stale, rebuilt.
		toggleReaction(doc, (await conversationMessages(factoryDb, CONVERSATION_ID))[0]!.id, {
			emoji: '👍',
			user_id: bob
		});
		const third = new ConversationIndexer(factoryDb, CONVERSATION_ID, doc);
		expect(await third.start()).toEqual({ stale: true });
		await third.whenIdle();
		await expectIndexEqualsProjection(factoryDb, doc);
		await third.stop();
	});

	it('notices a change that only deletes (a reaction taken back) as stale', async () => {
		const db = openIndex();
		const doc = channelDoc();
		const m = postMessage(doc, { content: 'x', created_by: alice });
		toggleReaction(doc, m.id, { emoji: '👍', user_id: bob });
		const first = new ConversationIndexer(db, CONVERSATION_ID, doc);
		await first.start();
		await first.stop();
		const sv = Y.encodeStateVector(doc);
		toggleReaction(doc, m.id, { emoji: '👍', user_id: bob });
		// Nothing was inserted, so a state vector alone would call the rows current.
		expect(Y.encodeStateVector(doc)).toEqual(sv);
		const second = new ConversationIndexer(db, CONVERSATION_ID, doc);
		expect(await second.start()).toEqual({ stale: true });
		await second.whenIdle();
		expect((await db.messages.get(m.id))?.reactions).toEqual({});
		await second.stop();
	});

	it('removes rows that the document no longer holds when it rebuilds', async () => {
		const db = openIndex();
		const doc = channelDoc();
		await db.messages.put(
			withWords({
				id: '999',
				created_at: new Date(T0).toISOString(),
				content: 'left over',
				created_by: alice,
				reactions: {},
				conversation_id: CONVERSATION_ID,
				file_attachments: [],
				parent_message_id: null,
				audio_url: null,
				edited_at: null,
				deleted: false
			})
		);
		await db.conversation_members.put({
			user_id: 'mallory',
			created_at: at(0),
			conversation_id: CONVERSATION_ID
		});
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
		await indexer.start();
		await indexer.whenIdle();
		await expectIndexEqualsProjection(db, doc);
		await indexer.stop();
	});

	it('refuses to index a document that holds another conversation', () => {
		const db = openIndex();
		const doc = new Y.Doc();
		createConversation(doc, { kind: 'group', name: 'g', created_by: alice, members: [bob] });
		expect(() => new ConversationIndexer(db, CONVERSATION_ID, doc).start()).toThrow(
			/was opened as 7000/
		);
	});
});

describe('ConversationIndexer with colliding ids', () => {
	it('shows the same one of two messages that drew one id as the projection does', async () => {
		const db = openIndex();
		const doc = channelDoc();
		const other = new Y.Doc();
		Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
		await indexer.start();
		const sv = Y.encodeStateVector(other);
		const id = '5000000000000000001';
		postMessage(doc, { id, content: 'mine', created_by: alice, created_at: at(1) });
		postMessage(other, { id, content: 'theirs', created_by: bob, created_at: at(2) });
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(other, sv), remote('bob'));
		await indexer.whenIdle();
		await expectIndexEqualsProjection(db, doc);
		await indexer.stop();
	});
});
