/**
 * A conversation's newest page, read from the index alone: what the conversation view shows
 * first on a cold open, while the document (100,000 messages: ~30 MB read and a ~0.8 s apply)
 * loads behind it. See docs/ARCHITECTURE.md, "Index first".
 */
import { Dexie } from 'dexie';
import {
	compareIds,
	compareText,
	type ConversationMeta,
	type Member,
	type Message
} from '$lib/model';
import type { KithDb } from './database';
import { INDEX_VERSION } from './indexer';
import {
	conversationRowSchema,
	indexStateRowSchema,
	memberRowSchema,
	messageRowSchema,
	type MessageIndexRow
} from './rows';

/** The newest page of a conversation as the live view would show it (see {@link readIndexPage}). */
export interface IndexPage {
	meta: ConversationMeta;
	members: Member[];
	/** The newest top-level messages, oldest first (the live view's order: by id). */
	messages: Message[];
}

/** Top-level messages in a first page: more than a tall window holds. */
export const INDEX_PAGE_SIZE = 60;

/**
 * A row as the view's {@link Message}. Two fields the index does not keep, both only ever tested
 * for presence by the UI: a tombstone's `deleted_at` (the index keeps a flag, see rows.ts) is
 * its `created_at`, and a member's `added_by` is empty.
 */
export function pageMessage(row: MessageIndexRow, replyCount: number): Message {
	return {
		id: row.id,
		created_at: row.created_at,
		content: row.content,
		created_by: row.created_by,
		conversation_id: row.conversation_id,
		file_attachments: row.file_attachments.map((a) => ({ ...a })),
		parent_message_id: row.parent_message_id,
		audio_url: row.audio_url,
		reactions: row.reactions,
		edited_at: row.edited_at,
		deleted_at: row.deleted ? row.created_at : null,
		reply_count: replyCount
	};
}

/**
 * The newest `limit` top-level messages of a conversation with its meta and members, from the
 * index, in one read transaction; null when the index cannot stand in for the document: no
 * rows, an older index format, or not marked in step (`index_state.snapshot` is null while a
 * write or rebuild is unfinished: a crash mid-write leaves it so). Reply counts come from the
 * `parent_message_id` index (tombstoned replies count, as in the reader).
 *
 * Not detected here: a document change stored in the instant before the page was closed whose
 * index write had not started (the mark is then the previous, non-null one). The document that
 * loads behind the page replaces it, and its indexer rebuilds the rows.
 *
 * @example const page = await readIndexPage(db, id); // page?.messages.at(-1): the newest
 */
export async function readIndexPage(
	db: KithDb,
	conversationId: string,
	limit = INDEX_PAGE_SIZE
): Promise<IndexPage | null> {
	return db.transaction(
		'r',
		[db.index_state, db.conversations, db.conversation_members, db.messages],
		async () => {
			const rawState = await db.index_state.get(conversationId);
			if (rawState === undefined) return null;
			const state = indexStateRowSchema.parse(rawState, 'index_state');
			if (state.version !== INDEX_VERSION || state.snapshot === null) return null;
			const rawConversation = await db.conversations.get(conversationId);
			if (rawConversation === undefined) return null;
			const conversation = conversationRowSchema.parse(rawConversation, 'conversations');
			const [memberRows, messageRows] = await Promise.all([
				db.conversation_members
					.where('[conversation_id+user_id]')
					.between([conversationId, Dexie.minKey], [conversationId, Dexie.maxKey])
					.toArray(),
				db.messages
					.where('[conversation_id+created_at]')
					.between([conversationId, Dexie.minKey], [conversationId, Dexie.maxKey])
					.reverse()
					.filter((m) => m.parent_message_id === null)
					.limit(limit)
					.toArray()
			]);
			const rows = messageRows
				.map((r) => messageRowSchema.parse(r, 'messages'))
				.sort((a, b) => compareIds(a.id, b.id));
			const counts = new Map<string, number>();
			if (rows.length > 0) {
				const parents = await db.messages
					.where('parent_message_id')
					.anyOf(rows.map((r) => r.id))
					.keys();
				for (const p of parents) {
					if (typeof p === 'string') counts.set(p, (counts.get(p) ?? 0) + 1);
				}
			}
			const members: Member[] = memberRows
				.map((r) => memberRowSchema.parse(r, 'conversation_members'))
				.map((m) => ({ user_id: m.user_id, created_at: m.created_at, added_by: '' }))
				.sort(
					(a, b) => compareText(a.created_at, b.created_at) || compareText(a.user_id, b.user_id)
				);
			return {
				meta: {
					id: conversation.id,
					name: conversation.name,
					kind: conversation.kind,
					created_at: conversation.created_at,
					created_by: conversation.created_by
				},
				members,
				messages: rows.map((r) => pageMessage(r, counts.get(r.id) ?? 0))
			};
		}
	);
}
