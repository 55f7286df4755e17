/**
 * The rows of Kith's local index: one schema and one inferred type per persisted shape. The
 * first four tables mirror the seed's (same names, same columns, the same values as
 * `projectConversation`), plus a few local columns that are named below.
 */
import type { ConversationMemberRow, ConversationRow, MessageRow, UserStatusRow } from '$lib/model';
import {
	array,
	blob,
	boolean,
	bytes,
	literal,
	nullable,
	number,
	object,
	record,
	string,
	unknown,
	type Infer
} from './shape';

const fileAttachment = object({
	id: string,
	name: string,
	type: string,
	size: number,
	sha256: string,
	url: string
});

/** `conversations`, plus the local column `kind` (channel, group or dm) for the list view. */
export const conversationRowSchema = object({
	id: string,
	created_at: string,
	name: nullable(string),
	created_by: string,
	kind: literal('channel', 'group', 'dm')
});
export type ConversationIndexRow = Infer<typeof conversationRowSchema>;

/** `conversation_members`; primary key `[conversation_id+user_id]`. */
export const memberRowSchema = object({
	user_id: string,
	created_at: string,
	conversation_id: string
});
export type MemberIndexRow = Infer<typeof memberRowSchema>;

/**
 * `messages` (top-level messages and replies), plus two local columns: `edited_at` (the edit in
 * force, or null) and `deleted` (a tombstone: content, files and audio already empty). A flag
 * rather than the tombstone's `deleted_at`: two devices deleting one message at once make two
 * tombstones with different times, and the index must not depend on which arrived first.
 */
export const messageRowSchema = object({
	id: string,
	created_at: string,
	content: string,
	created_by: string,
	reactions: record(array(string)),
	conversation_id: string,
	file_attachments: array(fileAttachment),
	parent_message_id: nullable(string),
	audio_url: nullable(string),
	edited_at: nullable(string),
	deleted: boolean
});
export type MessageIndexRow = Infer<typeof messageRowSchema>;

/**
 * A `messages` row as stored: the row plus its search fields (`search.ts`), always derived from
 * `content` in the same write (`withWords`), so a deleted message (a tombstone: no content)
 * leaves the search index in the transaction that deletes it. `words` holds `[word, rank]` per
 * distinct normalised word (multiEntry index `*words`); `rank` sorts the rows newest first
 * (index `rank`). Readers never see them: the schema above keeps only the seed's columns and
 * the two local ones.
 */
export type StoredMessageRow = MessageIndexRow & {
	words: Array<[string, string]>;
	cwords: Array<[string, string, string]>;
	rank: string;
};

/** `search_words`: every normalised word ever indexed, so a prefix finds the words it stands for. */
export interface SearchWordRow {
	word: string;
}

/** `user_status`, plus `last_seen` (when this device last saw the person online). */
export const userStatusRowSchema = object({
	id: string,
	is_online: boolean,
	user_id: string,
	last_seen: nullable(string)
});
export type UserStatusIndexRow = Infer<typeof userStatusRowSchema>;

/** Bytes of an attachment or a voice message, content-addressed by their sha256 (hex). */
export const blobRowSchema = object({
	sha256: string,
	data: blob,
	type: string,
	size: number,
	created_at: string
});
export type BlobRow = Infer<typeof blobRowSchema>;

/**
 * A file waiting to reach the relay (src/lib/db/uploads.ts): its bytes are in `blobs`, the
 * message that references it may already be posted. Primary key `[sha256+conversation_id]`.
 */
export const uploadRowSchema = object({
	sha256: string,
	conversation_id: string,
	name: string,
	size: number,
	created_at: string,
	attempts: number,
	/** Why the relay refused it for good (too large, quota, not a member), or null. */
	failed: nullable(string)
});
export type UploadRow = Infer<typeof uploadRowSchema>;

/**
 * How far a conversation's rows are known to be in step with its document. `snapshot` is the
 * encoded Y.Snapshot (state vector and delete set) the rows equal, or null while writes are in
 * flight: a crash then leaves null behind and the next open rebuilds.
 */
export const indexStateRowSchema = object({
	conversation_id: string,
	version: number,
	snapshot: nullable(bytes),
	updated_at: string
});
export type IndexStateRow = Infer<typeof indexStateRowSchema>;

/** Local settings of this device (key → any structured-cloneable value). */
export const settingRowSchema = object({ key: string, value: unknown });
export type SettingRow = Infer<typeof settingRowSchema>;

// The seed columns must stay exactly the model's projection (a compile-time check).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const seedColumns: [
	Same<Omit<ConversationIndexRow, 'kind'>, ConversationRow>,
	Same<MemberIndexRow, ConversationMemberRow>,
	Same<Omit<MessageIndexRow, 'edited_at' | 'deleted'>, MessageRow>,
	Same<Omit<UserStatusIndexRow, 'last_seen'>, UserStatusRow>
] = [true, true, true, true];
void seedColumns;
