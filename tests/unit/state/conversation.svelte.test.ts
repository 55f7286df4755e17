import { flushSync } from 'svelte';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import {
	ValidationError,
	createConversation,
	readMembers,
	readMessages,
	readMeta
} from '../../../src/lib/model';
import {
	ConversationOpeningError,
	ConversationState,
	ThreadState
} from '../../../src/lib/state/conversation.svelte';

const ADA = 'adaAAAAAAAAAAAAAAAAAAA';
const BO = 'boBBBBBBBBBBBBBBBBBBBB';

function channel() {
	const doc = new Y.Doc();
	createConversation(doc, {
		kind: 'channel',
		name: 'general',
		created_by: ADA,
		members: [ADA, BO]
	});
	return doc;
}

describe('ConversationState', () => {
	it('shows the index page while the document loads, refuses writes, then follows the document', async () => {
		const stored = channel();
		new ConversationState(stored, ADA).post('from before');
		const page = {
			meta: readMeta(stored)!,
			members: readMembers(stored),
			messages: readMessages(stored)
		};
		const doc = new Y.Doc();
		let load = () => {};
		const loaded = new Promise<void>((r) => (load = r)).then(() => {
			Y.applyUpdate(doc, Y.encodeStateAsUpdate(stored), { kind: 'storage' });
			return { delivery: null, holdings: null };
		});
		const ada = new ConversationState(doc, ADA, null, null, { page, loaded });
		const shown: string[][] = [];
		const stop = $effect.root(() => {
			$effect(() => {
				shown.push(ada.messages.map((m) => m.content));
			});
		});
		flushSync();
		expect(ada.live).toBe(false);
		expect(ada.meta).toEqual(page.meta);
		expect(ada.isMember).toBe(true);
		expect(shown).toEqual([['from before']]);
		expect(() => ada.post('too early')).toThrow(ConversationOpeningError);
		load();
		await ada.whenLive;
		flushSync();
		expect(ada.live).toBe(true);
		expect(shown.at(-1)).toEqual(['from before']);
		ada.post('now');
		flushSync();
		expect(shown.at(-1)).toEqual(['from before', 'now']);
		stop();
	});

	it('follows the document while observed: post, edit, react and delete', () => {
		const doc = channel();
		const ada = new ConversationState(doc, ADA);
		const contents: string[][] = [];
		const stop = $effect.root(() => {
			$effect(() => {
				contents.push(ada.messages.map((m) => m.content));
			});
		});
		flushSync();
		const posted = ada.post('helo');
		flushSync();
		ada.edit(posted.id, 'hello');
		flushSync();
		expect(contents.at(-1)).toEqual(['hello']);
		expect(ada.messages.get(0)!.edited_at).not.toBeNull();

		expect(ada.react(posted.id, '👍')).toBe(true);
		new ConversationState(doc, BO).react(posted.id, '👍');
		flushSync();
		expect(ada.messages.get(0)!.reactions).toEqual({ '👍': [ADA, BO] });
		expect(ada.react(posted.id, '👍')).toBe(false);
		flushSync();
		expect(ada.messages.get(0)!.reactions).toEqual({ '👍': [BO] });

		ada.remove(posted.id);
		flushSync();
		expect(ada.messages.get(0)!.deleted_at).not.toBeNull();
		expect(contents.at(-1)).toEqual(['']);
		stop();
	});

	it('offers the last live message of its own for Up-to-edit', () => {
		const doc = channel();
		const ada = new ConversationState(doc, ADA);
		const bo = new ConversationState(doc, BO);
		const first = ada.post('one');
		const second = ada.post('two');
		bo.post('three');
		expect(ada.lastOwnMessage?.id).toBe(second.id);
		ada.remove(second.id);
		expect(ada.lastOwnMessage?.id).toBe(first.id);
		expect(bo.lastOwnMessage?.content).toBe('three');
	});

	it('passes the model refusals through unchanged', () => {
		const doc = channel();
		const ada = new ConversationState(doc, ADA);
		const bo = new ConversationState(doc, BO);
		const posted = ada.post('mine');
		expect(() => bo.edit(posted.id, 'not yours')).toThrow(ValidationError);
		expect(() => ada.post('   ')).toThrow(/empty|content/i);
	});

	it('knows whether the person is a member, and lets them leave and join a channel', () => {
		const doc = channel();
		const bo = new ConversationState(doc, BO);
		expect(bo.isMember).toBe(true);
		bo.leave();
		expect(bo.isMember).toBe(false);
		bo.join();
		expect(bo.isMember).toBe(true);
	});
});

describe('ThreadState', () => {
	it('shows the parent with its reply count and the replies in order', () => {
		const doc = channel();
		const ada = new ConversationState(doc, ADA);
		const parent = ada.post('release on Friday?');
		const thread = new ThreadState(ada, parent.id);
		const bo = new ThreadState(new ConversationState(doc, BO), parent.id);
		bo.post('yes');
		thread.post('great');
		expect(thread.replies.map((r) => r.content)).toEqual(['yes', 'great']);
		expect(thread.parent?.reply_count).toBe(2);
		expect(thread.lastOwnReply?.content).toBe('great');
		expect(ada.messages.map((m) => m.content)).toEqual(['release on Friday?']);
	});
});
