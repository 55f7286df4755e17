import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import {
	createConversation,
	postMessage,
	postReply,
	readMessages,
	toggleReaction,
	deleteMessage,
	editMessage,
	projectConversation
} from '../../src/lib/model';

describe('model smoke', () => {
	it('posts, replies, reacts, edits and deletes', () => {
		const doc = new Y.Doc();
		createConversation(doc, {
			kind: 'channel',
			name: 'general',
			created_by: 'alice',
			members: ['bob']
		});
		const m = postMessage(doc, { content: 'hi', created_by: 'alice' });
		postReply(doc, m.id, { content: 'yo', created_by: 'bob' });
		expect(toggleReaction(doc, m.id, { emoji: '👍', user_id: 'bob' })).toBe(true);
		editMessage(doc, m.id, { content: 'hello', edited_by: 'alice' });
		const [msg] = readMessages(doc);
		expect(msg).toMatchObject({ content: 'hello', reply_count: 1, reactions: { '👍': ['bob'] } });
		deleteMessage(doc, m.id, { deleted_by: 'alice' });
		expect(readMessages(doc)[0]).toMatchObject({ content: '', reply_count: 1, reactions: {} });
		expect(projectConversation(doc).messages).toHaveLength(2);
	});
});
