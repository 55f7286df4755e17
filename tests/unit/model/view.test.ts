import * as prng from 'lib0/prng';
import * as Y from 'yjs';
import { describe, expect, it, vi } from 'vitest';
import {
	AppendList,
	MessagesView,
	messageById,
	ConversationKey,
	createConversation,
	purgeDeleted,
	readMessages,
	type Message,
	type MessageRecord
} from '../../../src/lib/model';
import { alice, bob, carol, idAt, T0 } from '../../fixtures/model';
import { randomOperation } from '../../fixtures/workload';

/** A replica whose view follows every transaction, as the UI's does. */
function watched(doc: Y.Doc) {
	const view = new MessagesView(doc);
	let changes = 0;
	doc.on('afterTransaction', (tr: Y.Transaction) => {
		if (view.apply(tr)) changes++;
	});
	return { view, changes: () => changes };
}

describe('MessagesView', () => {
	it.each(Array.from({ length: 30 }, (_, i) => i + 1))(
		'equals readMessages after every transaction of a random two-device workload (seed %i)',
		(seed) => {
			const gen = prng.create(seed);
			const a = new Y.Doc();
			createConversation(a, {
				kind: 'group',
				id: '7000',
				name: 'g',
				created_by: alice,
				members: [bob, carol],
				created_at: new Date(T0).toISOString()
			});
			const b = new Y.Doc();
			Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
			const va = watched(a);
			const vb = watched(b);
			const inflight: Array<{ to: Y.Doc; update: Uint8Array }> = [];
			a.on('update', (u: Uint8Array, origin: unknown) => {
				if (origin !== 'net') inflight.push({ to: b, update: u });
			});
			b.on('update', (u: Uint8Array, origin: unknown) => {
				if (origin !== 'net') inflight.push({ to: a, update: u });
			});
			let tick = 0;
			for (let step = 0; step < 120; step++) {
				const roll = prng.int32(gen, 0, 9);
				if (roll < 6) {
					tick += 1;
					const ms = T0 + 60_000 + tick * 100;
					const doc = roll < 3 ? a : b;
					randomOperation(doc, gen, {
						id: idAt(ms, prng.uint32(gen, 0, 2 ** 22 - 1)),
						created_at: new Date(ms).toISOString()
					});
				} else if (roll < 9 && inflight.length > 0) {
					const [m] = inflight.splice(prng.int32(gen, 0, inflight.length - 1), 1);
					Y.applyUpdate(m!.to, m!.update, 'net');
				} else {
					purgeDeleted(prng.bool(gen) ? a : b);
				}
				expect(va.view.messages.toArray()).toEqual(readMessages(a));
				expect(vb.view.messages.toArray()).toEqual(readMessages(b));
			}
			while (inflight.length > 0) {
				const m = inflight.shift()!;
				Y.applyUpdate(m.to, m.update, 'net');
			}
			purgeDeleted(a);
			purgeDeleted(b);
			expect(va.view.messages.toArray()).toEqual(readMessages(a));
			expect(vb.view.messages.toArray()).toEqual(readMessages(b));
			expect(va.view.messages.toArray()).toEqual(vb.view.messages.toArray());
		}
	);

	it('keeps unchanged messages as the same objects, so a keyed list redraws only what changed', () => {
		const doc = new Y.Doc();
		createConversation(doc, { kind: 'channel', name: 'c', created_by: alice, members: [] });
		const { view } = watched(doc);
		const records: MessageRecord[] = Array.from({ length: 3_000 }, (_, i) => ({
			id: idAt(T0 + i, 1),
			created_at: new Date(T0 + i).toISOString(),
			content: `m${i}`,
			created_by: alice,
			conversation_id: doc.getMap(ConversationKey.meta).get('id') as string,
			file_attachments: [],
			parent_message_id: null,
			audio_url: null
		}));
		// A large catch-up rebuilds once rather than inserting one by one.
		doc.getArray<MessageRecord>(ConversationKey.messages).push(records);
		expect(view.messages).toHaveLength(3_000);
		const before = view.messages;
		doc
			.getArray<MessageRecord>(ConversationKey.messages)
			.push([{ ...records[0]!, id: idAt(T0 + 10_000, 1), content: 'newest' }]);
		expect(view.messages).not.toBe(before);
		expect(view.messages.at(-1)?.content).toBe('newest');
		expect(view.messages.get(0)).toBe(before.get(0));
		expect(view.messages.toArray()).toEqual(readMessages(doc));
		// Appended: the list before is unchanged, and the new one shares its items.
		expect(before).toHaveLength(3_000);
		expect(view.messages.sharedPrefix(before)).toBe(3_000);

		// A message that sorts before the newest (a clock behind) is inserted in a copy.
		const appended = view.messages;
		doc
			.getArray<MessageRecord>(ConversationKey.messages)
			.push([{ ...records[0]!, id: idAt(T0 + 5_000, 1), content: 'late' }]);
		expect(view.messages.toArray()).toEqual(readMessages(doc));
		expect(appended.toArray().map((m) => m.content)).toEqual([
			...records.map((r) => r.content),
			'newest'
		]);
		expect(view.messages.get(3_000)?.content).toBe('late');
	});
});

describe('messageById', () => {
	const msg = (id: string) => ({ id }) as Message;
	it('finds a message by binary search in a list sorted by id, and by a walk in one that is not', () => {
		const ids = Array.from({ length: 1_000 }, (_, i) => idAt(T0 + i * 1_000));
		const sorted = AppendList.of(ids.map(msg));
		const find = vi.spyOn(sorted, 'find');
		for (const id of [ids[0]!, ids[500]!, ids.at(-1)!])
			expect(messageById(sorted, id)?.id).toBe(id);
		expect(messageById(sorted, idAt(T0 + 500))).toBeUndefined();
		// Found without a walk; only the miss walked.
		expect(find).toHaveBeenCalledTimes(1);
		const shuffled = AppendList.of([...ids].reverse().map(msg));
		for (const id of [ids[0]!, ids[500]!, ids.at(-1)!])
			expect(messageById(shuffled, id)?.id).toBe(id);
	});
});
