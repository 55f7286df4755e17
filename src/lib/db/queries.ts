/**
 * Reads of the local index. Every row is checked against its schema on the way out.
 */
import { Dexie } from 'dexie';
import { blobShaOfUrl, compareIds } from '$lib/model';
import type { KithDb } from './database';
import {
	conversationRowSchema,
	memberRowSchema,
	messageRowSchema,
	userStatusRowSchema,
	type ConversationIndexRow,
	type MemberIndexRow,
	type MessageIndexRow,
	type UserStatusIndexRow
} from './rows';

const parseMessages = (rows: unknown[]): MessageIndexRow[] =>
	rows.map((r) => messageRowSchema.parse(r, 'messages'));

/** The range of one conversation's entries in the `[conversation_id+created_at]` index. */
function ofConversation(db: KithDb, conversationId: string) {
	return db.messages
		.where('[conversation_id+created_at]')
		.between([conversationId, Dexie.minKey], [conversationId, Dexie.maxKey]);
}

/**
 * The newest `limit` top-level messages of a conversation, newest first: a reverse walk of the
 * `[conversation_id+created_at]` index that stops after `limit` matches (never a `count()` or a
 * full read of a long conversation). Pass `includeReplies` for thread replies too.
 *
 * @example const latest = (await newestMessages(db, id, 50)).reverse(); // oldest first for display
 */
export async function newestMessages(
	db: KithDb,
	conversationId: string,
	limit: number,
	options: { includeReplies?: boolean; before?: string } = {}
): Promise<MessageIndexRow[]> {
	const range =
		options.before === undefined
			? ofConversation(db, conversationId)
			: db.messages
					.where('[conversation_id+created_at]')
					.between([conversationId, Dexie.minKey], [conversationId, options.before], true, false);
	let collection = range.reverse();
	if (!options.includeReplies) collection = collection.filter((m) => m.parent_message_id === null);
	return parseMessages(await collection.limit(limit).toArray());
}

/**
 * The replies in one message's thread, oldest first (ties by id).
 *
 * @example const thread = await threadReplies(db, parent.id);
 */
export async function threadReplies(db: KithDb, parentId: string): Promise<MessageIndexRow[]> {
	const rows = parseMessages(
		await db.messages.where('parent_message_id').equals(parentId).toArray()
	);
	return rows.sort((a, b) => cmpTime(a, b));
}

/**
 * Messages written by one person (any conversation), newest first.
 *
 * @example await messagesBy(db, userId, 20)
 */
export async function messagesBy(
	db: KithDb,
	userId: string,
	limit = Infinity
): Promise<MessageIndexRow[]> {
	const rows = parseMessages(await db.messages.where('created_by').equals(userId).toArray());
	return rows.sort((a, b) => cmpTime(b, a)).slice(0, limit);
}

/**
 * The conversations a person is a member of, newest first.
 *
 * @example const mine = await conversationsOf(db, me);
 */
export async function conversationsOf(db: KithDb, userId: string): Promise<ConversationIndexRow[]> {
	const memberships = await db.conversation_members.where('user_id').equals(userId).toArray();
	const ids = memberships.map(
		(m) => memberRowSchema.parse(m, 'conversation_members').conversation_id
	);
	const rows = await db.conversations.bulkGet(ids);
	return rows
		.filter((r) => r !== undefined)
		.map((r) => conversationRowSchema.parse(r, 'conversations'))
		.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
}

/** The members of one conversation. */
export async function membersOf(db: KithDb, conversationId: string): Promise<MemberIndexRow[]> {
	const rows = await db.conversation_members
		.where('[conversation_id+user_id]')
		.between([conversationId, Dexie.minKey], [conversationId, Dexie.maxKey])
		.toArray();
	return rows.map((r) => memberRowSchema.parse(r, 'conversation_members'));
}

/** One conversation's row, or undefined when it is not indexed. */
export async function getConversation(
	db: KithDb,
	conversationId: string
): Promise<ConversationIndexRow | undefined> {
	const row = await db.conversations.get(conversationId);
	return row === undefined ? undefined : conversationRowSchema.parse(row, 'conversations');
}

/** Every message row of one conversation (top-level and replies), oldest first. */
export async function conversationMessages(
	db: KithDb,
	conversationId: string
): Promise<MessageIndexRow[]> {
	return parseMessages(await ofConversation(db, conversationId).toArray());
}

/**
 * Records who is online now: their rows get `is_online` and `last_seen` = `now`; everyone else
 * known goes offline, keeping their `last_seen`. `rows` come from the model's
 * `projectUserStatus`.
 *
 * @example await recordUserStatus(db, projectUserStatus(userIds, online));
 */
export async function recordUserStatus(
	db: KithDb,
	rows: ReadonlyArray<{ id: string; is_online: boolean; user_id: string }>,
	now: string = new Date().toISOString()
): Promise<void> {
	await db.transaction('rw', db.user_status, async () => {
		const before = await db.user_status.bulkGet(rows.map((r) => r.id));
		await db.user_status.bulkPut(
			rows.map((r, i) => ({
				id: r.id,
				user_id: r.user_id,
				is_online: r.is_online,
				last_seen: r.is_online ? now : (before[i]?.last_seen ?? null)
			}))
		);
	});
}

/** The status of one person, or undefined when never seen. */
export async function userStatus(
	db: KithDb,
	userId: string
): Promise<UserStatusIndexRow | undefined> {
	const row = await db.user_status.where('user_id').equals(userId).first();
	return row === undefined ? undefined : userStatusRowSchema.parse(row, 'user_status');
}

function cmpTime(a: MessageIndexRow, b: MessageIndexRow): number {
	if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
	return compareIds(a.id, b.id);
}

/** What one conversation's index rows weigh on the device (as serialised JSON: an estimate). */
export async function conversationIndexUsage(
	db: KithDb,
	conversationId: string
): Promise<{ messages: number; bytes: number; blobShas: Set<string> }> {
	let messages = 0;
	let bytes = 0;
	const blobShas = new Set<string>();
	await ofConversation(db, conversationId).each((row: MessageIndexRow) => {
		messages++;
		bytes += JSON.stringify(row).length;
		for (const a of row.file_attachments) blobShas.add(a.sha256);
		const voice = blobShaOfUrl(row.audio_url);
		if (voice) blobShas.add(voice);
	});
	return { messages, bytes, blobShas };
}

/**
 * Removes one conversation's rows from the index (its messages, members, row and index state),
 * in one transaction. The document is the truth: reopening it rebuilds them.
 *
 * @example await forgetConversation(db, id); // after its document's storage is gone
 */
export async function forgetConversation(db: KithDb, conversationId: string): Promise<void> {
	await db.transaction(
		'rw',
		[db.conversations, db.conversation_members, db.messages, db.index_state],
		async () => {
			await ofConversation(db, conversationId).delete();
			await db.conversation_members
				.where('[conversation_id+user_id]')
				.between([conversationId, Dexie.minKey], [conversationId, Dexie.maxKey])
				.delete();
			await db.conversations.delete(conversationId);
			await db.index_state.delete(conversationId);
		}
	);
}

/**
 * Deletes the stored bytes among `shas` that no message in the index references any more (a
 * scan of the messages table: for freeing space, not for hot paths). Returns the bytes freed.
 */
export async function dropUnreferencedBlobs(
	db: KithDb,
	shas: ReadonlySet<string>
): Promise<number> {
	if (shas.size === 0) return 0;
	const unused = new Set(shas);
	await db.messages.each((row: MessageIndexRow) => {
		for (const a of row.file_attachments) unused.delete(a.sha256);
		const voice = blobShaOfUrl(row.audio_url);
		if (voice) unused.delete(voice);
	});
	const rows = await db.blobs.bulkGet([...unused]);
	await db.blobs.bulkDelete([...unused]);
	return rows.reduce((sum, r) => sum + (r?.size ?? 0), 0);
}
