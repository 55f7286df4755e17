import { describe, expect, it } from 'vitest';
import { readMembers, readMessages, readMeta, type Message } from '../../../src/lib/model';
import { ConversationIndexer, INDEX_VERSION, readIndexPage } from '../../../src/lib/db';
import { channelDoc, CONVERSATION_ID, openIndex, TwoReplicas } from './helpers';

/** The page's stand-in for a tombstone's time is not the document's: compare whether it is set. */
const shown = (messages: readonly Message[]) =>
	messages.map(({ deleted_at, ...m }) => ({ ...m, deleted: deleted_at !== null }));

async function indexedAfterRandomOps(seed: number) {
	const db = openIndex();
	const doc = channelDoc();
	const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc, { idleMs: 5 });
	await indexer.start();
	const net = new TwoReplicas(doc, seed);
	for (let i = 0; i < 300; i++) net.step();
	net.settle();
	await indexer.stop();
	return { db, doc, performed: net.performed };
}

describe('readIndexPage', () => {
	for (const seed of [1, 2, 3]) {
		it(`shows exactly the live view's newest messages, edits, deletes, reactions and reply counts (seed ${seed})`, async () => {
			const { db, doc, performed } = await indexedAfterRandomOps(seed);
			expect(performed).toBeGreaterThan(50);
			const live = readMessages(doc);
			expect(live.some((m) => m.deleted_at !== null)).toBe(true);
			expect(live.some((m) => m.edited_at !== null)).toBe(true);
			expect(live.some((m) => m.reply_count > 0)).toBe(true);
			for (const limit of [1, 10, live.length + 5]) {
				const page = await readIndexPage(db, CONVERSATION_ID, limit);
				expect(page).not.toBeNull();
				expect(shown(page!.messages)).toEqual(shown(live.slice(-limit)));
				expect(page!.meta).toEqual(readMeta(doc));
				expect(page!.members).toEqual(readMembers(doc).map((m) => ({ ...m, added_by: '' })));
			}
		});
	}

	it('falls back (null) when the index is not marked in step with the document', async () => {
		const { db } = await indexedAfterRandomOps(4);
		expect(await readIndexPage(db, CONVERSATION_ID)).not.toBeNull();
		const state = (await db.index_state.get(CONVERSATION_ID))!;
		// A write or rebuild that did not finish leaves the mark null.
		await db.index_state.put({ ...state, snapshot: null });
		expect(await readIndexPage(db, CONVERSATION_ID)).toBeNull();
		// Rows of an older format are rebuilt before they are trusted.
		await db.index_state.put({ ...state, version: INDEX_VERSION + 1 });
		expect(await readIndexPage(db, CONVERSATION_ID)).toBeNull();
		await db.index_state.put(state);
		expect(await readIndexPage(db, CONVERSATION_ID)).not.toBeNull();
	});

	it('falls back (null) for a conversation the index has never seen', async () => {
		const db = openIndex();
		expect(await readIndexPage(db, CONVERSATION_ID)).toBeNull();
	});
});
