import { describe, expect, it } from 'vitest';
import { parseQuery, postMessage, postReply, type UserRecord } from '../../../src/lib/model';
import { ConversationIndexer } from '../../../src/lib/db';
import { findMessages, type PeopleDirectory } from '../../../src/lib/state/search';
import { alice, bob, carol } from '../../fixtures/model';
import { channelDoc, CONVERSATION_ID, openIndex } from '../db/helpers';

const user = (id: string, display_name: string): UserRecord => ({
	id,
	display_name,
	color: '#2563eb',
	public_key: '',
	created_at: '',
	updated_at: ''
});

const users = [user(alice, 'Ada Lovelace'), user(bob, 'Bo'), user(carol, 'Zoë')];
const directory: PeopleDirectory = {
	users,
	user: (id) => users.find((u) => u.id === id),
	name: (id) => users.find((u) => u.id === id)?.display_name ?? 'Someone'
};
const listed = [{ id: CONVERSATION_ID, label: 'general', kind: 'channel' as const }];

async function setup() {
	const db = openIndex();
	const doc = channelDoc();
	const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
	await indexer.start();
	const hello = postMessage(doc, { content: `hello <@${bob}>, the café opens`, created_by: alice });
	const reply = postReply(doc, hello.id, { content: 'Café au lait please', created_by: carol });
	postMessage(doc, { content: 'unrelated', created_by: bob });
	await indexer.whenIdle();
	const find = (q: string) => findMessages(db, directory, listed, parseQuery(q));
	return { hello, reply, find };
}

describe('findMessages', () => {
	it('shows each result with its conversation, author, thread and marked snippet', async () => {
		const { hello, reply, find } = await setup();
		const { results, problem } = await find('cafe');
		expect(problem).toBeNull();
		expect(results.map((r) => r.id)).toEqual([reply.id, hello.id]);
		expect(results[0]).toMatchObject({
			conversationLabel: 'general',
			conversationKind: 'channel',
			parentId: hello.id,
			authorName: 'Zoë'
		});
		// Mentions read as names in the snippet; the match is marked in the original spelling.
		expect(results[1]!.segments).toEqual([
			{ text: 'hello @Bo, the ', match: false },
			{ text: 'café', match: true },
			{ text: ' opens', match: false }
		]);
	});

	it('resolves from: and in: by name, accents and case aside, and says when nobody matches', async () => {
		const { hello, reply, find } = await setup();
		expect((await find('from:@zoe cafe')).results.map((r) => r.id)).toEqual([reply.id]);
		expect((await find('from:"ada lovelace"')).results.map((r) => r.id)).toEqual([hello.id]);
		expect((await find('in:#gen from:@ada')).results.map((r) => r.id)).toEqual([hello.id]);
		expect(await find('from:@nobody cafe')).toEqual({
			results: [],
			problem: { kind: 'no-person', name: 'nobody' }
		});
		expect(await find('in:#random cafe')).toEqual({
			results: [],
			problem: { kind: 'no-conversation', name: 'random' }
		});
		expect(await find('   ')).toEqual({ results: [], problem: null });
	});
});
