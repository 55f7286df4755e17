/**
 * Readers: plain typed snapshots of a conversation, never live Y types. Two replicas that have
 * seen the same updates return equal snapshots, in the same order.
 */
import type * as Y from 'yjs';
import { compareIds } from './ids';
import { conversationTypes, type ConversationTypes } from './conversation';
import { prefers } from './records';
import {
	MetaKey,
	parseReactionKey,
	type ConversationKind,
	type ConversationMeta,
	type FileAttachment,
	type MessageRecord
} from './schema';

/** A message as the UI and the index see it: record, latest edit and reactions merged. */
export interface Message {
	id: string;
	created_at: string;
	content: string;
	created_by: string;
	conversation_id: string;
	file_attachments: FileAttachment[];
	parent_message_id: string | null;
	audio_url: string | null;
	/** emoji → user ids, in the order they reacted (then by id). */
	reactions: Record<string, string[]>;
	edited_at: string | null;
	deleted_at: string | null;
	/** Replies in its thread (top-level messages; 0 for replies). */
	reply_count: number;
}

/** A member of a conversation. */
export interface Member {
	user_id: string;
	created_at: string;
	added_by: string;
}

/** Locale-independent text order (code points, case folded first): the same on every device. */
export function compareText(a: string, b: string): number {
	const x = a.toLowerCase();
	const y = b.toLowerCase();
	if (x !== y) return x < y ? -1 : 1;
	return a < b ? -1 : a > b ? 1 : 0;
}

/** The conversation's meta, or null before it has been created (or synced). */
export function readMeta(doc: Y.Doc): ConversationMeta | null {
	const { meta } = conversationTypes(doc);
	const id = meta.get(MetaKey.id);
	if (typeof id !== 'string') return null;
	return {
		id,
		name: (meta.get(MetaKey.name) as string | null | undefined) ?? null,
		kind: meta.get(MetaKey.kind) as ConversationKind,
		created_at: meta.get(MetaKey.createdAt) as string,
		created_by: meta.get(MetaKey.createdBy) as string
	};
}

/** Members ordered by when they joined, then by id. */
export function readMembers(doc: Y.Doc): Member[] {
	const { members } = conversationTypes(doc);
	return [...members.entries()]
		.map(([user_id, m]) => ({ user_id, created_at: m.created_at, added_by: m.added_by }))
		.sort((a, b) => compareText(a.created_at, b.created_at) || compareText(a.user_id, b.user_id));
}

/**
 * All reactions of the conversation, grouped: message id → emoji → user ids. Emojis are
 * ordered by their first reaction, people by when they reacted (ties by id), so the result is
 * the same on every replica.
 */
export function readAllReactions(t: ConversationTypes): Map<string, Record<string, string[]>> {
	const grouped = new Map<string, Map<string, Array<[string, string]>>>();
	for (const [key, created_at] of t.reactions.entries()) {
		const parsed = parseReactionKey(key);
		if (!parsed) continue;
		let byEmoji = grouped.get(parsed.messageId);
		if (!byEmoji) grouped.set(parsed.messageId, (byEmoji = new Map()));
		let people = byEmoji.get(parsed.emoji);
		if (!people) byEmoji.set(parsed.emoji, (people = []));
		people.push([created_at, parsed.userId]);
	}
	const result = new Map<string, Record<string, string[]>>();
	for (const [messageId, byEmoji] of grouped) {
		result.set(messageId, orderReactions(byEmoji));
	}
	return result;
}

/** Orders one message's reactions deterministically (see {@link readAllReactions}). */
export function orderReactions(
	byEmoji: Map<string, Array<[created_at: string, user_id: string]>>
): Record<string, string[]> {
	const byPerson = (a: [string, string], b: [string, string]) =>
		compareText(a[0], b[0]) || compareText(a[1], b[1]);
	const entries = [...byEmoji.entries()].map(([emoji, people]) => {
		people.sort(byPerson);
		return { emoji, first: people[0]!, users: people.map((p) => p[1]) };
	});
	entries.sort((a, b) => byPerson(a.first, b.first) || compareText(a.emoji, b.emoji));
	const out: Record<string, string[]> = {};
	for (const e of entries) out[e.emoji] = e.users;
	return out;
}

/**
 * One record per id in id (time) order. Concurrent deletes can leave two tombstones of one
 * message until {@link purgeDeleted} runs; the tombstone wins over a live copy.
 */
export function uniqueRecords(records: readonly MessageRecord[]): MessageRecord[] {
	const byId = new Map<string, MessageRecord>();
	for (const r of records) {
		if (prefers(byId.get(r.id), r)) byId.set(r.id, r);
	}
	// A stable sort over a converged array order: equal ids (collisions) keep document order.
	return [...byId.values()].sort((a, b) => compareIds(a.id, b.id));
}

/** Merges a record with its edit, reactions and reply count. */
export function toMessage(
	t: ConversationTypes,
	record: MessageRecord,
	reactions: Record<string, string[]> | undefined,
	replyCount: number
): Message {
	const deleted = record.deleted_at !== undefined;
	const edit = deleted ? undefined : t.edits.get(record.id);
	return {
		id: record.id,
		created_at: record.created_at,
		content: deleted ? '' : (edit?.content ?? record.content),
		created_by: record.created_by,
		conversation_id: record.conversation_id,
		file_attachments: deleted ? [] : record.file_attachments.map((a) => ({ ...a })),
		parent_message_id: record.parent_message_id,
		audio_url: deleted ? null : record.audio_url,
		reactions: deleted ? {} : (reactions ?? {}),
		edited_at: edit?.edited_at ?? null,
		deleted_at: record.deleted_at ?? null,
		reply_count: replyCount
	};
}

function replyCounts(replies: readonly MessageRecord[]): Map<string, number> {
	const counts = new Map<string, number>();
	for (const r of replies) {
		if (r.parent_message_id)
			counts.set(r.parent_message_id, (counts.get(r.parent_message_id) ?? 0) + 1);
	}
	return counts;
}

/**
 * The conversation's top-level messages, oldest first, with edits, reactions and reply counts.
 *
 * @example readMessages(doc).at(-1)?.content // the newest message's text
 */
export function readMessages(doc: Y.Doc): Message[] {
	const t = conversationTypes(doc);
	const reactions = readAllReactions(t);
	const counts = replyCounts(uniqueRecords(t.replies.toArray()));
	return uniqueRecords(t.messages.toArray()).map((r) =>
		toMessage(t, r, reactions.get(r.id), counts.get(r.id) ?? 0)
	);
}

/** The replies in one message's thread, oldest first. */
export function readThread(doc: Y.Doc, parentId: string): Message[] {
	const t = conversationTypes(doc);
	const reactions = readAllReactions(t);
	return uniqueRecords(t.replies.toArray().filter((r) => r.parent_message_id === parentId)).map(
		(r) => toMessage(t, r, reactions.get(r.id), 0)
	);
}

/** Every message, top-level and replies, oldest first. */
export function readAllMessages(doc: Y.Doc): Message[] {
	const t = conversationTypes(doc);
	const reactions = readAllReactions(t);
	const replies = uniqueRecords(t.replies.toArray());
	const counts = replyCounts(replies);
	return uniqueRecords([...t.messages.toArray(), ...replies]).map((r) =>
		toMessage(t, r, reactions.get(r.id), r.parent_message_id ? 0 : (counts.get(r.id) ?? 0))
	);
}
