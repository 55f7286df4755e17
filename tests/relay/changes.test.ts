import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
	arrayChanges,
	conversationTypes,
	describeChanges,
	type MessageRecord
} from '../../src/lib/model';

/** A small seeded PRNG (mulberry32), so that a failure replays. */
function prng(seed: number): () => number {
	let a = seed;
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const record = (id: string, by: string): MessageRecord =>
	({
		id,
		conversation_id: 'c1',
		created_by: by,
		content: id,
		created_at: '2026-11-25T00:00:00.000Z'
	}) as MessageRecord;

/** Random inserts and deletes on `doc`'s messages, replies, edits and reactions. */
function randomWrites(doc: Y.Doc, random: () => number, n: number, tag: string): void {
	const t = conversationTypes(doc);
	doc.transact(() => {
		for (let i = 0; i < n; i++) {
			const array = random() < 0.8 ? t.messages : t.replies;
			const r = random();
			if (r < 0.6 || array.length === 0) {
				const count = 1 + Math.floor(random() * 3);
				const at = Math.floor(random() * (array.length + 1));
				array.insert(
					at,
					Array.from({ length: count }, (_, k) => record(`${tag}-${i}-${k}`, tag))
				);
			} else if (r < 0.85) {
				const at = Math.floor(random() * array.length);
				array.delete(at, Math.min(array.length - at, 1 + Math.floor(random() * 3)));
			} else if (r < 0.93) {
				t.reactions.set(`m${i}|👍|${tag}`, '2026-11-25T00:00:00.000Z');
			} else {
				t.edits.set(`m${i}`, { content: 'x', edited_by: tag, edited_at: 'now' } as never);
			}
		}
	});
}

const ids = (items: readonly Y.Item[]): string[] =>
	items.map((i) => `${i.id.client}:${i.id.clock}:${i.length}`).sort();

describe('arrayChanges and describeChanges', () => {
	it('find what YArrayEvent.changes and describeChanges find, over seeded random edits', () => {
		let sawDeleted = 0;
		let sawRemoved = 0;
		for (let seed = 1; seed <= 15; seed++) {
			const random = prng(seed);
			// Three writers; the "relay" receives their updates in a random order.
			const writers = [0, 1, 2].map(() => new Y.Doc());
			const relay = new Y.Doc();
			conversationTypes(relay);
			let checked = 0;
			relay.on('afterTransaction', (tr: Y.Transaction) => {
				const t = conversationTypes(relay);
				for (const array of [t.messages, t.replies]) {
					const expected = (tr.changed as Map<unknown, unknown>).has(array)
						? new Y.YArrayEvent(array, tr).changes
						: { added: new Set<Y.Item>(), deleted: new Set<Y.Item>() };
					const actual = arrayChanges(tr, array);
					expect(ids(actual.added)).toEqual(ids([...expected.added]));
					expect(ids(actual.deleted)).toEqual(ids([...expected.deleted]));
					sawDeleted += actual.deleted.length;
				}
				const want = describeChanges(relay, tr);
				const got = describeChanges(relay, tr);
				const byId = (a: MessageRecord, b: MessageRecord) => a.id.localeCompare(b.id);
				expect([...got.records].sort(byId)).toEqual([...want.records].sort(byId));
				expect([...got.removed].sort()).toEqual([...want.removed].sort());
				sawRemoved += got.removed.length;
				expect(got.edits).toEqual(want.edits);
				expect(got.members).toEqual(want.members);
				expect(got.meta).toBe(want.meta);
				expect([...got.reactions].sort((a, b) => a.messageId.localeCompare(b.messageId))).toEqual(
					[...want.reactions].sort((a, b) => a.messageId.localeCompare(b.messageId))
				);
				checked++;
			});
			for (let round = 0; round < 6; round++) {
				const updates: Uint8Array[] = [];
				writers.forEach((w, k) => {
					const collect = (u: Uint8Array) => updates.push(u);
					w.on('update', collect);
					randomWrites(w, random, 1 + Math.floor(random() * 8), `u${k}r${round}`);
					w.off('update', collect);
				});
				// Sometimes one merged update (a restore), sometimes one by one, shuffled.
				if (random() < 0.3) Y.applyUpdate(relay, Y.mergeUpdates(updates));
				else {
					for (const u of [...updates].sort(() => random() - 0.5)) Y.applyUpdate(relay, u);
				}
				// The writers catch up with each other, so later deletes hit others' records.
				const state = Y.encodeStateAsUpdate(relay);
				for (const w of writers) Y.applyUpdate(w, state);
			}
			expect(checked).toBeGreaterThan(0);
		}
		// The cases that matter were reached: deletions of earlier records, records removed.
		expect(sawDeleted).toBeGreaterThan(0);
		expect(sawRemoved).toBeGreaterThan(0);
	});

	it('describes a restore of thousands of records in one transaction', () => {
		const writer = new Y.Doc();
		const t = conversationTypes(writer);
		for (let i = 0; i < 5000; i++) t.messages.push([record(`m${i}`, 'ana')]);
		t.messages.delete(10, 5);
		const relay = new Y.Doc();
		conversationTypes(relay);
		let described: ReturnType<typeof describeChanges> | null = null;
		let added = 0;
		relay.on('afterTransaction', (tr: Y.Transaction) => {
			described = describeChanges(relay, tr);
			added = arrayChanges(tr, conversationTypes(relay).messages).added.length;
		});
		Y.applyUpdate(relay, Y.encodeStateAsUpdate(writer));
		expect(described!.records).toHaveLength(4995);
		expect(described!.removed).toEqual([]);
		expect(added).toBeGreaterThan(0);
	});
});
