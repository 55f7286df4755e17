/**
 * The projection of Kith's documents onto the seed's relational schema: exactly its tables and
 * column names. int8 columns are decimal strings, timestamptz ISO-8601 strings, jsonb plain
 * JSON values. Pure: the same document always gives the same rows.
 */
import type * as Y from 'yjs';
import { userStatusId } from './ids';
import { readAllMessages, readMembers, readMeta, type Message } from './read';
import type { FileAttachment } from './schema';

/** `conversations` */
export interface ConversationRow {
	id: string;
	created_at: string;
	name: string | null;
	created_by: string;
}

/** `conversation_members` */
export interface ConversationMemberRow {
	user_id: string;
	created_at: string;
	conversation_id: string;
}

/** `messages` */
export interface MessageRow {
	id: string;
	created_at: string;
	content: string;
	created_by: string;
	/** jsonb: { emoji: [user_id…] } */
	reactions: Record<string, string[]>;
	conversation_id: string;
	/** jsonb: [{ id, name, type, size, sha256, url }] */
	file_attachments: FileAttachment[];
	parent_message_id: string | null;
	audio_url: string | null;
}

/** `user_status` */
export interface UserStatusRow {
	id: string;
	is_online: boolean;
	user_id: string;
}

/** The seed's rows for one conversation document. */
export interface ConversationProjection {
	conversations: ConversationRow[];
	conversation_members: ConversationMemberRow[];
	messages: MessageRow[];
}

/** A message snapshot as a `messages` row. */
export function messageRow(m: Message): MessageRow {
	return {
		id: m.id,
		created_at: m.created_at,
		content: m.content,
		created_by: m.created_by,
		reactions: m.reactions,
		conversation_id: m.conversation_id,
		file_attachments: m.file_attachments,
		parent_message_id: m.parent_message_id,
		audio_url: m.audio_url
	};
}

/**
 * Projects one conversation document onto the seed's tables. A document not yet created (or
 * not yet synced) projects to no rows. Deleted messages stay as rows with empty content, so
 * that their replies' `parent_message_id` still names a message.
 *
 * @example projectConversation(doc).messages.map((m) => m.content)
 */
export function projectConversation(doc: Y.Doc): ConversationProjection {
	const meta = readMeta(doc);
	if (!meta) return { conversations: [], conversation_members: [], messages: [] };
	return {
		conversations: [
			{ id: meta.id, created_at: meta.created_at, name: meta.name, created_by: meta.created_by }
		],
		conversation_members: readMembers(doc).map((m) => ({
			user_id: m.user_id,
			created_at: m.created_at,
			conversation_id: meta.id
		})),
		messages: readAllMessages(doc).map(messageRow)
	};
}

/**
 * `user_status` rows: one per known person, online when any of their devices is present in the
 * workspace's awareness.
 */
export function projectUserStatus(
	userIds: Iterable<string>,
	onlineUserIds: ReadonlySet<string>
): UserStatusRow[] {
	return [...new Set(userIds)].sort().map((user_id) => ({
		id: userStatusId(user_id),
		is_online: onlineUserIds.has(user_id),
		user_id
	}));
}
