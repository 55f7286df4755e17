import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import {
	addMember,
	conversationTypes,
	createConversation,
	deleteMessage,
	directMessageId,
	editMessage,
	localOrigin,
	postMessage,
	postReply,
	postVoiceMessage,
	primeAppend,
	purgeDeleted,
	readMembers,
	readMessages,
	readMeta,
	readThread,
	removeMember,
	toggleReaction,
	ValidationError,
	type ModelOp
} from '../../../src/lib/model';
import {
	alice,
	at,
	attachment,
	bob,
	bytesInclude,
	carol,
	conversation,
	dave,
	transactionsOf
} from '../../fixtures/model';

/** Runs `fn` and asserts it made exactly one transaction, with the local origin of `op`. */
function once<T>(doc: Y.Doc, op: ModelOp, fn: () => T): T {
	const { result, origins } = transactionsOf(doc, fn);
	expect(origins).toEqual([localOrigin(op)]);
	return result;
}

/** Runs `fn` and asserts it changed nothing at all. */
function noTransaction<T>(doc: Y.Doc, fn: () => T): T {
	const { result, origins } = transactionsOf(doc, fn);
	expect(origins).toEqual([]);
	return result;
}

function refused(fn: () => unknown): ValidationError {
	try {
		fn();
	} catch (e) {
		expect(e).toBeInstanceOf(ValidationError);
		return e as ValidationError;
	}
	throw new Error('expected a ValidationError, but the operation succeeded');
}

function sync(a: Y.Doc, b: Y.Doc): void {
	Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
	Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

describe('createConversation', () => {
	it.each(['channel', 'group'] as const)(
		'creates a %s with its creator as a member in one transaction',
		(kind) => {
			const doc = new Y.Doc();
			const meta = once(doc, 'create-conversation', () =>
				createConversation(doc, {
					kind,
					name: '  design  ',
					created_by: alice,
					members: [bob, alice],
					id: '42',
					created_at: at(0)
				})
			);
			expect(meta).toEqual({
				id: '42',
				name: 'design',
				kind,
				created_at: at(0),
				created_by: alice
			});
			expect(readMeta(doc)).toEqual(meta);
			expect(readMembers(doc)).toEqual([
				{ user_id: alice, created_at: at(0), added_by: alice },
				{ user_id: bob, created_at: at(0), added_by: alice }
			]);
		}
	);

	it('gives a new conversation a fresh id when none is given', () => {
		const first = conversation().meta;
		const second = conversation().meta;
		expect(first.id).toMatch(/^[1-9][0-9]*$/);
		expect(first.id).not.toBe(second.id);
	});

	it('derives a direct message id from its two people, whoever creates it', () => {
		const { doc: fromAlice, meta: a } = conversation({
			kind: 'dm',
			created_by: alice,
			members: [bob]
		});
		const { meta: b } = conversation({ kind: 'dm', created_by: bob, members: [alice] });
		expect(a.id).toBe(directMessageId(alice, bob));
		expect(b.id).toBe(a.id);
		expect(a.name).toBeNull();
		expect(readMembers(fromAlice).map((m) => m.user_id)).toEqual([alice, bob]);
	});

	it('makes creating the same direct message again a no-op', () => {
		const { doc, meta } = conversation({ kind: 'dm', created_by: alice, members: [bob] });
		const again = noTransaction(doc, () =>
			createConversation(doc, { kind: 'dm', created_by: bob, members: [alice] })
		);
		expect(again).toEqual(meta);
	});

	it('converges on one direct message when both people create it offline', () => {
		const { doc: a } = conversation({ kind: 'dm', created_by: alice, members: [bob] });
		const { doc: b } = conversation({ kind: 'dm', created_by: bob, members: [alice] });
		sync(a, b);
		expect(readMeta(a)).toEqual(readMeta(b));
		expect(readMeta(a)?.id).toBe(directMessageId(alice, bob));
		expect(readMembers(a)).toEqual(readMembers(b));
		expect(readMembers(a).map((m) => m.user_id)).toEqual([alice, bob]);
	});

	it('refuses a second conversation in a document that holds one', () => {
		const { doc } = conversation();
		const e = refused(() =>
			createConversation(doc, { kind: 'group', name: 'x', created_by: alice, members: [] })
		);
		expect(e.code).toBe('already_exists');
	});

	it('refuses a direct message whose given id is not the derived one', () => {
		const e = refused(() =>
			createConversation(new Y.Doc(), {
				kind: 'dm',
				created_by: alice,
				members: [bob],
				id: '42'
			})
		);
		expect(e.code).toBe('bad_id');
	});
});

describe('addMember', () => {
	it('lets a member add someone to a group in one transaction', () => {
		const { doc } = conversation({ kind: 'group' });
		const record = once(doc, 'add-member', () =>
			addMember(doc, { user_id: dave, added_by: bob, created_at: at(5) })
		);
		expect(record).toEqual({ created_at: at(5), added_by: bob });
		expect(readMembers(doc).at(-1)).toEqual({ user_id: dave, created_at: at(5), added_by: bob });
	});

	it('lets anyone join a channel by adding themselves', () => {
		const { doc } = conversation({ kind: 'channel' });
		once(doc, 'add-member', () => addMember(doc, { user_id: dave, added_by: dave }));
		expect(readMembers(doc).map((m) => m.user_id)).toContain(dave);
	});

	it('returns the existing record without a transaction when the person is already in', () => {
		const { doc } = conversation();
		const record = noTransaction(doc, () => addMember(doc, { user_id: bob, added_by: carol }));
		expect(record).toEqual({ created_at: at(0), added_by: alice });
	});

	it('keeps a direct message to its two people', () => {
		const { doc } = conversation({ kind: 'dm', created_by: alice, members: [bob] });
		expect(noTransaction(doc, () => addMember(doc, { user_id: bob, added_by: alice }))).toEqual({
			created_at: at(0),
			added_by: alice
		});
		expect(refused(() => addMember(doc, { user_id: carol, added_by: alice })).code).toBe(
			'dm_members'
		);
		expect(refused(() => addMember(doc, { user_id: carol, added_by: carol })).code).toBe(
			'dm_members'
		);
		expect(readMembers(doc).map((m) => m.user_id)).toEqual([alice, bob]);
	});
});

describe('removeMember', () => {
	it('lets a member leave in one transaction', () => {
		const { doc } = conversation();
		once(doc, 'remove-member', () => removeMember(doc, { user_id: bob, removed_by: bob }));
		expect(readMembers(doc).map((m) => m.user_id)).toEqual([alice, carol]);
	});

	it('lets the creator remove someone else', () => {
		const { doc } = conversation({ kind: 'group' });
		once(doc, 'remove-member', () => removeMember(doc, { user_id: carol, removed_by: alice }));
		expect(readMembers(doc).map((m) => m.user_id)).toEqual([alice, bob]);
	});

	it('does nothing when the person is not a member', () => {
		const { doc } = conversation();
		noTransaction(doc, () => removeMember(doc, { user_id: dave, removed_by: alice }));
		expect(readMembers(doc)).toHaveLength(3);
	});

	it('stops a removed person from posting', () => {
		const { doc } = conversation();
		removeMember(doc, { user_id: bob, removed_by: alice });
		expect(refused(() => postMessage(doc, { content: 'hi', created_by: bob })).code).toBe(
			'not_a_member'
		);
	});
});

describe('postMessage', () => {
	it('appends an immutable record in one transaction', () => {
		const { doc, meta } = conversation();
		const record = once(doc, 'post', () =>
			postMessage(doc, { content: 'hello', created_by: bob, id: '1001', created_at: at(1) })
		);
		expect(record).toEqual({
			id: '1001',
			created_at: at(1),
			content: 'hello',
			created_by: bob,
			conversation_id: meta.id,
			file_attachments: [],
			parent_message_id: null,
			audio_url: null
		});
		expect(conversationTypes(doc).messages.toArray()).toEqual([record]);
		expect(readMessages(doc)).toEqual([
			{
				...record,
				reactions: {},
				edited_at: null,
				deleted_at: null,
				reply_count: 0
			}
		]);
	});

	it('leaves a search marker at the end, so the next post does not walk the whole array', () => {
		// Yjs internals (13.6): `push` walks from the start each time; an insert at the length
		// leaves a marker there. A big channel paid ~4 ms a post for the walk.
		const { doc } = conversation();
		const messages = conversationTypes(doc).messages as Y.Array<unknown> & {
			_searchMarker: Array<{ index: number }> | null;
		};
		for (let i = 0; i < 300; i++) {
			// Another client each time, so the items do not merge into one.
			doc.clientID = 10_000 + i;
			postMessage(doc, { content: `m${i}`, created_by: bob });
		}
		const nearest = () => Math.max(-1, ...(messages._searchMarker ?? []).map((m) => m.index));
		expect(nearest()).toBeGreaterThanOrEqual(messages.length - 2);
		expect(readMessages(doc).map((m) => m.content)).toEqual(
			Array.from({ length: 300 }, (_, i) => `m${i}`)
		);
		// A change from another device drops the markers; primeAppend puts one back at the end.
		const other = new Y.Doc();
		Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
		postMessage(other, { content: 'remote', created_by: carol });
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(other, Y.encodeStateVector(doc)));
		expect(nearest()).toBe(-1);
		primeAppend(doc);
		expect(nearest()).toBeGreaterThanOrEqual(messages.length - 2);
	});

	it('stores only the known fields of an attachment and allows no text beside it', () => {
		const { doc } = conversation();
		const extra = { ...attachment(), thumbnail: 'data:image/png;base64,AAAA' };
		const record = postMessage(doc, { content: '', created_by: bob, file_attachments: [extra] });
		expect(record.file_attachments).toEqual([attachment()]);
		expect(Object.keys(conversationTypes(doc).messages.get(0).file_attachments[0]!)).toEqual([
			'id',
			'name',
			'type',
			'size',
			'sha256',
			'url'
		]);
	});

	it('orders messages by id whatever order they were pushed in', () => {
		const { doc } = conversation();
		postMessage(doc, { content: 'second', created_by: bob, id: '2000' });
		postMessage(doc, { content: 'first', created_by: carol, id: '1000' });
		postMessage(doc, { content: 'third', created_by: alice, id: '10000' });
		expect(readMessages(doc).map((m) => m.content)).toEqual(['first', 'second', 'third']);
	});

	it('refuses a second message with an id already used', () => {
		const { doc } = conversation();
		postMessage(doc, { content: 'one', created_by: bob, id: '77' });
		expect(
			refused(() => postMessage(doc, { content: 'two', created_by: bob, id: '77' })).code
		).toBe('already_exists');
	});

	it('returns snapshots that do not write through to the document', () => {
		const { doc } = conversation();
		postMessage(doc, { content: 'x', created_by: bob, file_attachments: [attachment()] });
		const [snapshot] = readMessages(doc);
		snapshot!.file_attachments[0]!.name = 'changed.png';
		snapshot!.content = 'changed';
		expect(readMessages(doc)[0]).toMatchObject({ content: 'x', file_attachments: [attachment()] });
	});
});

describe('postVoiceMessage', () => {
	it('posts a recording with no text in one transaction', () => {
		const { doc } = conversation();
		const record = once(doc, 'post', () =>
			postVoiceMessage(doc, { content: '', created_by: carol, audio_url: '/blobs/voice-1' })
		);
		expect(record).toMatchObject({ content: '', audio_url: '/blobs/voice-1', created_by: carol });
		expect(readMessages(doc)[0]?.audio_url).toBe('/blobs/voice-1');
	});
});

describe('postReply', () => {
	it('adds a reply to the thread of a top-level message in one transaction', () => {
		const { doc } = conversation();
		const parent = postMessage(doc, { content: 'question', created_by: alice });
		const reply = once(doc, 'reply', () =>
			postReply(doc, parent.id, { content: 'answer', created_by: bob })
		);
		expect(reply.parent_message_id).toBe(parent.id);
		expect(readThread(doc, parent.id).map((m) => m.content)).toEqual(['answer']);
		expect(readMessages(doc)).toHaveLength(1);
		expect(readMessages(doc)[0]?.reply_count).toBe(1);
	});

	it('keeps replies of different threads apart', () => {
		const { doc } = conversation();
		const p1 = postMessage(doc, { content: 'one', created_by: alice });
		const p2 = postMessage(doc, { content: 'two', created_by: alice });
		postReply(doc, p1.id, { content: 'a', created_by: bob });
		postReply(doc, p2.id, { content: 'b', created_by: bob });
		postReply(doc, p1.id, { content: 'c', created_by: carol });
		expect(readThread(doc, p1.id).map((m) => m.content)).toEqual(['a', 'c']);
		expect(readThread(doc, p2.id).map((m) => m.content)).toEqual(['b']);
		expect(readMessages(doc).map((m) => m.reply_count)).toEqual([2, 1]);
	});
});

describe('editMessage', () => {
	it('replaces the text of a message in one transaction', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'helo', created_by: bob });
		const edit = once(doc, 'edit', () =>
			editMessage(doc, m.id, { content: 'hello', edited_by: bob, edited_at: at(9) })
		);
		expect(edit).toEqual({ content: 'hello', edited_at: at(9), edited_by: bob });
		expect(readMessages(doc)[0]).toMatchObject({ content: 'hello', edited_at: at(9) });
		expect(conversationTypes(doc).messages.get(0).content).toBe('helo');
	});

	it('keeps the latest of several edits', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'v1', created_by: bob });
		editMessage(doc, m.id, { content: 'v2', edited_by: bob });
		editMessage(doc, m.id, { content: 'v3', edited_by: bob });
		expect(readMessages(doc)[0]?.content).toBe('v3');
	});

	it('edits a reply in its thread', () => {
		const { doc } = conversation();
		const p = postMessage(doc, { content: 'p', created_by: alice });
		const r = postReply(doc, p.id, { content: 'r', created_by: bob });
		editMessage(doc, r.id, { content: 'r2', edited_by: bob });
		expect(readThread(doc, p.id)[0]?.content).toBe('r2');
	});

	it('allows emptying the text of a message that carries a file', () => {
		const { doc } = conversation();
		const m = postMessage(doc, {
			content: 'see',
			created_by: bob,
			file_attachments: [attachment()]
		});
		editMessage(doc, m.id, { content: '', edited_by: bob });
		expect(readMessages(doc)[0]).toMatchObject({ content: '', file_attachments: [attachment()] });
	});
});

describe('deleteMessage', () => {
	function withEverything() {
		const { doc } = conversation();
		postMessage(doc, { content: 'before', created_by: alice, id: '100' });
		const m = postMessage(doc, {
			content: 'the secret plan',
			created_by: bob,
			id: '200',
			file_attachments: [attachment({ name: 'secret-plan.pdf', url: '/blobs/secret-blob' })],
			audio_url: '/blobs/secret-voice'
		});
		postMessage(doc, { content: 'after', created_by: alice, id: '300' });
		postReply(doc, m.id, { content: 'a reply that stays', created_by: carol });
		editMessage(doc, m.id, { content: 'the edited secret', edited_by: bob });
		toggleReaction(doc, m.id, {
			emoji: '🙈',
			user_id: carol,
			created_at: '2026-07-07T07:07:07.777Z'
		});
		return { doc, m };
	}

	it('replaces the record in place by a tombstone in one transaction, and the thread stays', () => {
		const { doc, m } = withEverything();
		const tombstone = once(doc, 'delete', () =>
			deleteMessage(doc, m.id, { deleted_by: bob, deleted_at: at(60) })
		);
		expect(tombstone).toEqual({
			...m,
			content: '',
			file_attachments: [],
			audio_url: null,
			deleted_at: at(60)
		});
		expect(
			conversationTypes(doc)
				.messages.toArray()
				.map((r) => r.id)
		).toEqual(['100', '200', '300']);
		expect(readMessages(doc)[1]).toMatchObject({
			id: m.id,
			content: '',
			file_attachments: [],
			audio_url: null,
			reactions: {},
			edited_at: null,
			deleted_at: at(60),
			reply_count: 1
		});
		expect(readThread(doc, m.id).map((r) => r.content)).toEqual(['a reply that stays']);
		const t = conversationTypes(doc);
		expect(t.edits.size).toBe(0);
		expect(t.reactions.size).toBe(0);
		expect(purgeDeleted(doc)).toBe(false);
	});

	it('removes the content, files, voice, edit and reaction from the encoded document', () => {
		const { doc, m } = withEverything();
		const replica = new Y.Doc();
		Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
		const secrets = [
			'the secret plan',
			'secret-plan.pdf',
			'/blobs/secret-blob',
			'/blobs/secret-voice',
			'the edited secret',
			'2026-07-07T07:07:07.777Z'
		];
		for (const s of secrets) expect(bytesInclude(Y.encodeStateAsUpdate(doc), s)).toBe(true);

		const { origins } = transactionsOf(doc, () => deleteMessage(doc, m.id, { deleted_by: bob }));
		expect(origins).toHaveLength(1);
		// The replica gets only the delete, as it would from the relay.
		Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(replica)));
		for (const d of [doc, replica]) {
			const update = Y.encodeStateAsUpdate(d);
			for (const s of secrets) expect(bytesInclude(update, s), s).toBe(false);
			expect(bytesInclude(update, 'a reply that stays')).toBe(true);
		}
		expect(readMessages(replica)).toEqual(readMessages(doc));
	});

	it('refuses to delete twice or on someone else’s behalf', () => {
		const { doc, m } = withEverything();
		expect(refused(() => deleteMessage(doc, m.id, { deleted_by: alice })).code).toBe(
			'not_the_author'
		);
		deleteMessage(doc, m.id, { deleted_by: bob });
		expect(refused(() => deleteMessage(doc, m.id, { deleted_by: bob })).code).toBe(
			'message_deleted'
		);
		expect(refused(() => editMessage(doc, m.id, { content: 'again', edited_by: bob })).code).toBe(
			'message_deleted'
		);
		expect(refused(() => toggleReaction(doc, m.id, { emoji: '👍', user_id: bob })).code).toBe(
			'message_deleted'
		);
	});

	it('deletes a reply and leaves its parent alone', () => {
		const { doc } = conversation();
		const p = postMessage(doc, { content: 'p', created_by: alice });
		const r1 = postReply(doc, p.id, { content: 'r1', created_by: bob });
		postReply(doc, p.id, { content: 'r2', created_by: carol });
		deleteMessage(doc, r1.id, { deleted_by: bob });
		expect(readThread(doc, p.id).map((r) => [r.content, r.deleted_at !== null])).toEqual([
			['', true],
			['r2', false]
		]);
		expect(readMessages(doc)[0]).toMatchObject({ content: 'p', reply_count: 2 });
	});
});

describe('toggleReaction', () => {
	it('turns one person’s reaction on and off, one transaction each', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'hi', created_by: alice });
		expect(once(doc, 'react', () => toggleReaction(doc, m.id, { emoji: '👍', user_id: bob }))).toBe(
			true
		);
		expect(readMessages(doc)[0]?.reactions).toEqual({ '👍': [bob] });
		expect(once(doc, 'react', () => toggleReaction(doc, m.id, { emoji: '👍', user_id: bob }))).toBe(
			false
		);
		expect(readMessages(doc)[0]?.reactions).toEqual({});
	});

	it('orders emojis by their first reaction and people by when they reacted', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'hi', created_by: alice });
		toggleReaction(doc, m.id, { emoji: '🎉', user_id: carol, created_at: at(3) });
		toggleReaction(doc, m.id, { emoji: '👍', user_id: bob, created_at: at(1) });
		toggleReaction(doc, m.id, { emoji: '👍', user_id: alice, created_at: at(2) });
		toggleReaction(doc, m.id, { emoji: '🎉', user_id: bob, created_at: at(3) });
		expect(readMessages(doc)[0]?.reactions).toEqual({ '👍': [bob, alice], '🎉': [bob, carol] });
		expect(Object.keys(readMessages(doc)[0]!.reactions)).toEqual(['👍', '🎉']);
	});

	it('reacts to a reply', () => {
		const { doc } = conversation();
		const p = postMessage(doc, { content: 'p', created_by: alice });
		const r = postReply(doc, p.id, { content: 'r', created_by: bob });
		toggleReaction(doc, r.id, { emoji: '❤️', user_id: alice });
		expect(readThread(doc, p.id)[0]?.reactions).toEqual({ '❤️': [alice] });
		expect(readMessages(doc)[0]?.reactions).toEqual({});
	});
});

describe('purgeDeleted', () => {
	it('changes nothing in a document with no leftovers', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'x', created_by: bob });
		toggleReaction(doc, m.id, { emoji: '👍', user_id: bob });
		expect(noTransaction(doc, () => purgeDeleted(doc))).toBe(false);
	});

	it('drops an edit and a reaction that arrived after the delete, in one transaction', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'x', created_by: bob });
		const other = new Y.Doc();
		Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
		editMessage(other, m.id, { content: 'late edit', edited_by: bob });
		toggleReaction(other, m.id, { emoji: '👍', user_id: carol });
		deleteMessage(doc, m.id, { deleted_by: bob });
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(other));
		expect(readMessages(doc)[0]).toMatchObject({ content: '', reactions: {}, edited_at: null });
		expect(once(doc, 'purge', () => purgeDeleted(doc))).toBe(true);
		const t = conversationTypes(doc);
		expect([t.edits.size, t.reactions.size]).toEqual([0, 0]);
		expect(bytesInclude(Y.encodeStateAsUpdate(doc), 'late edit')).toBe(false);
	});
});
