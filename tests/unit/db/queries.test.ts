import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import {
	createConversation,
	postMessage,
	postReply,
	projectUserStatus,
	userStatusId
} from '../../../src/lib/model';
import {
	BlobHashMismatchError,
	ConversationIndexer,
	conversationsOf,
	CorruptRowError,
	getBlob,
	messagesBy,
	newestMessages,
	putBlob,
	recordUserStatus,
	sha256Hex,
	threadReplies,
	userStatus,
	withWords,
	type KithDb
} from '../../../src/lib/db';
import { alice, at, bob, carol, dave } from '../../fixtures/model';
import { openIndex } from './helpers';

/** Two conversations indexed: a channel with 30 messages and replies, and a DM. */
async function seeded(db: KithDb) {
	const channel = new Y.Doc();
	const meta = createConversation(channel, {
		kind: 'channel',
		name: 'general',
		created_by: alice,
		members: [bob, carol],
		created_at: at(0),
		id: '100'
	});
	const dm = new Y.Doc();
	const dmMeta = createConversation(dm, {
		kind: 'dm',
		created_by: alice,
		members: [dave],
		created_at: at(1)
	});
	const indexers = [
		new ConversationIndexer(db, meta.id, channel),
		new ConversationIndexer(db, dmMeta.id, dm)
	];
	await Promise.all(indexers.map((i) => i.start()));
	const posted = [];
	for (let i = 0; i < 30; i++) {
		posted.push(
			postMessage(channel, {
				content: `m${i}`,
				created_by: i % 3 === 0 ? bob : alice,
				created_at: at(10 + i)
			})
		);
	}
	const parent = posted[5]!;
	const replies = [
		postReply(channel, parent.id, { content: 'r1', created_by: carol, created_at: at(100) }),
		postReply(channel, parent.id, { content: 'r2', created_by: bob, created_at: at(101) })
	];
	postMessage(dm, { content: 'psst', created_by: dave, created_at: at(50) });
	await Promise.all(indexers.map((i) => i.stop()));
	return { meta, dmMeta, posted, parent, replies };
}

describe('index queries', () => {
	it('returns the newest N top-level messages of a conversation, newest first', async () => {
		const db = openIndex();
		const { meta, posted } = await seeded(db);
		const newest = await newestMessages(db, meta.id, 5);
		expect(newest.map((m) => m.content)).toEqual(['m29', 'm28', 'm27', 'm26', 'm25']);
		const withReplies = await newestMessages(db, meta.id, 3, { includeReplies: true });
		expect(withReplies.map((m) => m.content)).toEqual(['r2', 'r1', 'm29']);
		const older = await newestMessages(db, meta.id, 2, { before: posted[10]!.created_at });
		expect(older.map((m) => m.content)).toEqual(['m9', 'm8']);
	});

	it('returns a thread’s replies in order', async () => {
		const db = openIndex();
		const { parent, replies } = await seeded(db);
		expect((await threadReplies(db, parent.id)).map((r) => r.id)).toEqual(replies.map((r) => r.id));
		expect(await threadReplies(db, '123')).toEqual([]);
	});

	it('returns messages by author across conversations', async () => {
		const db = openIndex();
		await seeded(db);
		const bobs = await messagesBy(db, bob);
		expect(bobs.every((m) => m.created_by === bob)).toBe(true);
		expect(bobs.map((m) => m.content)).toEqual([
			'r2',
			'm27',
			'm24',
			'm21',
			'm18',
			'm15',
			'm12',
			'm9',
			'm6',
			'm3',
			'm0'
		]);
		expect((await messagesBy(db, dave)).map((m) => m.content)).toEqual(['psst']);
	});

	it('returns the conversations a person belongs to', async () => {
		const db = openIndex();
		const { meta, dmMeta } = await seeded(db);
		expect((await conversationsOf(db, alice)).map((c) => c.id)).toEqual([dmMeta.id, meta.id]);
		expect((await conversationsOf(db, dave)).map((c) => [c.id, c.kind])).toEqual([
			[dmMeta.id, 'dm']
		]);
		expect(await conversationsOf(db, 'nobody')).toEqual([]);
	});

	it('refuses a corrupt row with a named error that says where', async () => {
		const db = openIndex();
		const { meta } = await seeded(db);
		const [newest] = await newestMessages(db, meta.id, 1);
		await db.messages.put({ ...withWords(newest!), reactions: { '👍': 'bob' } as never });
		const error = await newestMessages(db, meta.id, 1).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(CorruptRowError);
		expect((error as CorruptRowError).message).toMatch(/messages .*\.reactions\.👍/);
	});
});

describe('blobs', () => {
	it('stores bytes under their sha256 and gives them back', async () => {
		const db = openIndex();
		const bytes = new TextEncoder().encode('voice message bytes');
		const sha = await putBlob(db, bytes, { type: 'audio/webm' });
		expect(sha).toBe(await sha256Hex(bytes));
		const row = await getBlob(db, sha);
		expect(row).toMatchObject({ sha256: sha, type: 'audio/webm', size: bytes.byteLength });
		expect(new Uint8Array(await row!.data.arrayBuffer())).toEqual(bytes);
		expect(await getBlob(db, 'ff'.repeat(32))).toBeUndefined();
	});

	it('refuses bytes that do not match the attachment’s sha256', async () => {
		const db = openIndex();
		const error = await putBlob(db, new Blob(['x']), { expectedSha256: 'ab'.repeat(32) }).catch(
			(e: unknown) => e
		);
		expect(error).toBeInstanceOf(BlobHashMismatchError);
		expect(await db.blobs.count()).toBe(0);
	});
});

describe('user_status', () => {
	it('keeps when a person was last seen after they go offline', async () => {
		const db = openIndex();
		await recordUserStatus(db, projectUserStatus([alice, bob], new Set([bob])), at(10));
		await recordUserStatus(db, projectUserStatus([alice, bob], new Set([alice])), at(20));
		expect(await userStatus(db, bob)).toEqual({
			id: userStatusId(bob),
			user_id: bob,
			is_online: false,
			last_seen: at(10)
		});
		expect(await userStatus(db, alice)).toMatchObject({ is_online: true, last_seen: at(20) });
	});
});
