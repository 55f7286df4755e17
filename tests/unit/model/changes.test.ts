import * as Y from 'yjs';
import * as prng from 'lib0/prng';
import { describe, expect, it } from 'vitest';
import {
	addMember,
	arrayChanges,
	conversationTypes,
	createConversation,
	deleteMessage,
	describeChanges,
	editMessage,
	isEmptyChange,
	postMessage,
	postReply,
	projectConversation,
	purgeDeleted,
	readAllMessages,
	removeMember,
	toggleReaction,
	ValidationError,
	type ConversationChanges
} from '../../../src/lib/model';
import { alice, at, bob, carol, conversation, dave } from '../../fixtures/model';
import { Network } from '../../fixtures/replicas';
import { RowIndex } from '../../fixtures/row-index';

/** The changes of every transaction `fn` makes on `doc`. */
function described(doc: Y.Doc, fn: () => void): ConversationChanges[] {
	const out: ConversationChanges[] = [];
	const listener = (tr: Y.Transaction) => {
		const c = describeChanges(doc, tr);
		if (!isEmptyChange(c)) out.push(c);
	};
	doc.on('afterTransaction', listener);
	fn();
	doc.off('afterTransaction', listener);
	return out;
}

function copy(doc: Y.Doc): Y.Doc {
	const other = new Y.Doc();
	Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
	return other;
}

describe('describeChanges', () => {
	it('describes creation, a post, an edit, a reaction and a delete, one transaction each', () => {
		const doc = new Y.Doc();
		let id = '';
		const all = described(doc, () => {
			createConversation(doc, {
				kind: 'group',
				name: 'g',
				created_by: alice,
				members: [bob],
				created_at: at(0)
			});
			id = postMessage(doc, { content: 'hi', created_by: bob }).id;
			editMessage(doc, id, { content: 'hey', edited_by: bob, edited_at: at(2) });
			toggleReaction(doc, id, { emoji: '👍', user_id: alice, created_at: at(3) });
			deleteMessage(doc, id, { deleted_by: bob, deleted_at: at(4) });
		});
		expect(all).toHaveLength(5);
		const [create, post, edit, react, del] = all;
		expect(create!.meta).toBe(true);
		expect([...create!.members.keys()].sort()).toEqual([alice, bob]);
		expect(post!.records.map((r) => r.content)).toEqual(['hi']);
		expect(edit!.edits.get(id)).toEqual({ content: 'hey', edited_at: at(2), edited_by: bob });
		expect(react!.reactions).toEqual([
			{ messageId: id, emoji: '👍', userId: alice, created_at: at(3) }
		]);
		expect(del!.records).toEqual([expect.objectContaining({ id, deleted_at: at(4), content: '' })]);
		expect(del!.removed).toEqual([]);
		expect(del!.edits.get(id)).toBeNull();
		expect(del!.reactions).toEqual([
			{ messageId: id, emoji: '👍', userId: alice, created_at: null }
		]);
	});

	it('describes members joining and leaving', () => {
		const { doc } = conversation();
		const [join, leave] = described(doc, () => {
			addMember(doc, { user_id: dave, added_by: dave, created_at: at(1) });
			removeMember(doc, { user_id: carol, removed_by: carol });
		});
		expect(join!.members).toEqual(new Map([[dave, { created_at: at(1), added_by: dave }]]));
		expect(leave!.members).toEqual(new Map([[carol, null]]));
	});

	it('describes a purge of a duplicate tombstone as no change to any row', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'x', created_by: bob });
		const other = copy(doc);
		deleteMessage(doc, m.id, { deleted_by: bob });
		deleteMessage(other, m.id, { deleted_by: bob });
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(other));
		const index = new RowIndex(doc);
		expect(described(doc, () => expect(purgeDeleted(doc)).toBe(true))).toEqual([]);
		expect(index.transactions).toBe(1);
	});

	it('describes the whole first load of a fresh document', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'x', created_by: bob });
		toggleReaction(doc, m.id, { emoji: '👍', user_id: carol, created_at: at(1) });
		const fresh = new Y.Doc();
		const [load] = described(fresh, () =>
			Y.applyUpdate(fresh, Y.encodeStateAsUpdate(doc), { kind: 'storage' })
		);
		expect(load!.meta).toBe(true);
		expect(load!.members.size).toBe(3);
		expect(load!.records.map((r) => r.id)).toEqual([m.id]);
		expect(load!.reactions).toHaveLength(1);
	});
});

describe('an index fed by describeChanges', () => {
	it('equals a fresh projection after every local transaction', () => {
		const gen = prng.create(7);
		const doc = new Y.Doc();
		const index = new RowIndex(doc);
		createConversation(doc, {
			kind: 'channel',
			name: 'general',
			created_by: alice,
			members: [bob, carol, dave]
		});
		const everyone = [alice, bob, carol, dave];
		const ids: string[] = [];
		for (let i = 0; i < 200; i++) {
			const who = prng.oneOf(gen, everyone);
			const roll = prng.int32(gen, 0, 9);
			const target = ids.length > 0 ? prng.oneOf(gen, ids) : '';
			const author = readAllMessages(doc).find((x) => x.id === target)?.created_by ?? who;
			try {
				if (roll < 3 || ids.length === 0) {
					ids.push(postMessage(doc, { content: `m${i}`, created_by: who }).id);
				} else if (roll < 5) {
					ids.push(postReply(doc, target, { content: `r${i}`, created_by: who }).id);
				} else if (roll < 8) {
					toggleReaction(doc, target, { emoji: prng.oneOf(gen, ['👍', '🎉']), user_id: who });
				} else if (roll < 9) {
					editMessage(doc, target, { content: `e${i}`, edited_by: author });
				} else {
					deleteMessage(doc, target, { deleted_by: author });
				}
			} catch (e) {
				// A reply to a reply or a deleted target is refused and changes nothing.
				expect(e).toBeInstanceOf(ValidationError);
			}
			expect(index.rows()).toEqual(projectConversation(doc));
		}
		expect(projectConversation(doc).messages.length).toBeGreaterThan(50);
		expect(index.described).toBeGreaterThan(150);
	});

	/** A fresh document with an index, loaded with `base`'s state. */
	function indexedCopy(base: Y.Doc): { doc: Y.Doc; index: RowIndex } {
		const doc = new Y.Doc();
		const index = new RowIndex(doc);
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(base), { kind: 'storage' });
		return { doc, index };
	}

	it('shows a reaction that arrived before its message once the message arrives', () => {
		const { doc: author } = conversation();
		const reactor = copy(author);
		const { doc: observer, index } = indexedCopy(author);
		const m = postMessage(author, { content: 'news', created_by: bob });
		Y.applyUpdate(reactor, Y.encodeStateAsUpdate(author, Y.encodeStateVector(reactor)));
		const before = Y.encodeStateVector(reactor);
		toggleReaction(reactor, m.id, { emoji: '🎉', user_id: carol, created_at: at(9) });
		// The observer gets only the reactor's own update first, as the relay may forward it.
		Y.applyUpdate(observer, Y.encodeStateAsUpdate(reactor, before), {
			kind: 'remote',
			source: 'reactor'
		});
		expect(projectConversation(observer).messages).toEqual([]);
		expect(index.rows()).toEqual(projectConversation(observer));
		Y.applyUpdate(observer, Y.encodeStateAsUpdate(author, Y.encodeStateVector(observer)), {
			kind: 'remote',
			source: 'author'
		});
		expect(projectConversation(observer).messages[0]?.reactions).toEqual({ '🎉': [carol] });
		expect(index.rows()).toEqual(projectConversation(observer));
	});

	it('shows an edit that arrived before its message once the message arrives', () => {
		const { doc: phone } = conversation();
		const laptop = copy(phone);
		const { doc: observer, index } = indexedCopy(phone);
		const m = postMessage(phone, { content: 'typo', created_by: bob });
		Y.applyUpdate(laptop, Y.encodeStateAsUpdate(phone, Y.encodeStateVector(laptop)));
		const before = Y.encodeStateVector(laptop);
		editMessage(laptop, m.id, { content: 'fixed', edited_by: bob });
		Y.applyUpdate(observer, Y.encodeStateAsUpdate(laptop, before));
		expect(index.rows()).toEqual(projectConversation(observer));
		Y.applyUpdate(observer, Y.encodeStateAsUpdate(phone, Y.encodeStateVector(observer)));
		expect(projectConversation(observer).messages[0]?.content).toBe('fixed');
		expect(index.rows()).toEqual(projectConversation(observer));
	});

	it('follows a delete that arrives with the message it deletes', () => {
		const { doc: author } = conversation();
		const { doc: observer, index } = indexedCopy(author);
		const m = postMessage(author, { content: 'gone soon', created_by: bob });
		deleteMessage(author, m.id, { deleted_by: bob });
		Y.applyUpdate(observer, Y.encodeStateAsUpdate(author, Y.encodeStateVector(observer)));
		expect(projectConversation(observer).messages).toEqual([
			expect.objectContaining({ id: m.id, content: '' })
		]);
		expect(index.rows()).toEqual(projectConversation(observer));
	});

	it.each(Array.from({ length: 10 }, (_, i) => i + 1))(
		'finds the items a transaction added and deleted as YArrayEvent does, without walking the array (seed %i)',
		(seed) => {
			const net = new Network(900 + seed, { replicas: 3 });
			let compared = 0;
			for (const r of net.replicas) {
				const t = conversationTypes(r.doc);
				r.doc.on('afterTransaction', (tr: Y.Transaction) => {
					for (const array of [t.messages, t.replies]) {
						const key = [...tr.changed.keys()].find((k) => k._map === array._map);
						const mine = arrayChanges(tr, array);
						if (!key) {
							expect(mine).toEqual({ added: [], deleted: [] });
							continue;
						}
						const { changes } = new Y.YArrayEvent(key as Y.Array<unknown>, tr);
						expect(new Set(mine.added)).toEqual(changes.added);
						expect(new Set(mine.deleted)).toEqual(changes.deleted);
						expect(mine.added).toHaveLength(changes.added.size);
						expect(mine.deleted).toHaveLength(changes.deleted.size);
						compared += changes.added.size + changes.deleted.size;
					}
				});
			}
			for (let i = 0; i < 150; i++) net.step();
			net.flush();
			for (const r of net.replicas) purgeDeleted(r.doc);
			net.flush();
			expect(compared).toBeGreaterThan(50);
		}
	);

	it.each(Array.from({ length: 30 }, (_, i) => i + 1))(
		'equals a fresh projection on every replica of a random network (seed %i)',
		(seed) => {
			const net = new Network(500 + seed, { replicas: 3 + (seed % 3) });
			// Indexes start from the created conversation, fed by each replica's transactions.
			const indexes = net.replicas.map((r) => {
				const fresh = new Y.Doc();
				const index = new RowIndex(fresh);
				Y.applyUpdate(fresh, Y.encodeStateAsUpdate(r.doc));
				return { index, replica: r, fresh };
			});
			for (const x of indexes) {
				x.replica.doc.on('update', (u: Uint8Array) =>
					Y.applyUpdate(x.fresh, u, { kind: 'remote', source: 'self' })
				);
			}
			for (let i = 0; i < 150; i++) {
				net.step();
				if (i % 15 === 0) {
					for (const x of indexes) expect(x.index.rows()).toEqual(projectConversation(x.fresh));
				}
			}
			net.flush();
			for (const x of indexes) {
				expect(x.index.rows()).toEqual(projectConversation(x.replica.doc));
				expect(x.index.described).toBeGreaterThan(10);
			}
		}
	);
});
