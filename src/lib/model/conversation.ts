/**
 * Operations on a conversation document (`conv:<id>`). Each validates its input, then makes
 * its whole change inside one `doc.transact(fn, origin)`, so observers and the relay see one
 * update per operation.
 */
import * as Y from 'yjs';
import { check, ValidationError } from './errors';
import { directMessageId, newId } from './ids';
import { localOrigin, type Origin } from './origin';
import { prefers } from './records';
import { recordIndex } from './record-index';
import {
	ConversationKey,
	CONVERSATION_KINDS,
	Limits,
	MetaKey,
	reactionKey,
	parseReactionKey,
	type ConversationKind,
	type ConversationMeta,
	type EditRecord,
	type FileAttachment,
	type MemberRecord,
	type MessageRecord
} from './schema';
import {
	checkAttachments,
	checkAudioUrl,
	checkContent,
	checkConversationName,
	checkEmoji,
	checkId,
	checkTimestamp,
	checkUserId
} from './validate';

/** The typed top-level types of a conversation document. */
export interface ConversationTypes {
	meta: Y.Map<unknown>;
	members: Y.Map<MemberRecord>;
	messages: Y.Array<MessageRecord>;
	replies: Y.Array<MessageRecord>;
	reactions: Y.Map<string>;
	edits: Y.Map<EditRecord>;
}

/** The top-level types of a conversation document (created on first access, as Yjs does). */
export function conversationTypes(doc: Y.Doc): ConversationTypes {
	return {
		meta: doc.getMap(ConversationKey.meta),
		members: doc.getMap<MemberRecord>(ConversationKey.members),
		messages: doc.getArray<MessageRecord>(ConversationKey.messages),
		replies: doc.getArray<MessageRecord>(ConversationKey.replies),
		reactions: doc.getMap<string>(ConversationKey.reactions),
		edits: doc.getMap<EditRecord>(ConversationKey.edits)
	};
}

function nowIso(): string {
	return new Date().toISOString();
}

/** The conversation's id, or throws when the document has not been created. */
export function conversationId(doc: Y.Doc): string {
	const id = conversationTypes(doc).meta.get(MetaKey.id);
	if (typeof id !== 'string') {
		throw new ValidationError(
			'unknown_conversation',
			'This conversation has not been created yet.'
		);
	}
	return id;
}

function checkMember(t: ConversationTypes, userId: string, action: string): void {
	check(
		t.members.has(userId),
		'not_a_member',
		`${userId} is not a member of this conversation and cannot ${action}.`
	);
}

export interface CreateConversationInput {
	kind: ConversationKind;
	/** Required for channels and groups; direct messages have none (the UI shows the other person). */
	name?: string | null;
	created_by: string;
	/** Everyone to start with (the creator is added if missing). A direct message: exactly two. */
	members: readonly string[];
	/** Defaults to a new id; a direct message's id is always derived from its two people. */
	id?: string;
	created_at?: string;
}

/**
 * Fills an empty document with a new conversation. For a direct message the id is derived from
 * the two people ({@link directMessageId}), so both devices converge on one document even when
 * each creates it offline; creating it again is a no-op.
 *
 * @example
 * const meta = createConversation(doc, { kind: 'channel', name: 'general', created_by: me, members: [me] })
 */
export function createConversation(
	doc: Y.Doc,
	input: CreateConversationInput,
	origin: Origin = localOrigin('create-conversation')
): ConversationMeta {
	check(
		CONVERSATION_KINDS.includes(input.kind),
		'bad_kind',
		`Unknown conversation kind ${JSON.stringify(input.kind)}.`
	);
	checkUserId(input.created_by, 'creator');
	const created_at = input.created_at ?? nowIso();
	checkTimestamp(created_at);
	const members = [...new Set([input.created_by, ...input.members])];
	members.forEach((m) => checkUserId(m, 'member id'));
	check(
		members.length <= Limits.membersPerConversation,
		'too_many_members',
		`A conversation holds at most ${Limits.membersPerConversation} members.`
	);

	let id: string;
	let name: string | null;
	if (input.kind === 'dm') {
		check(
			members.length === 2,
			'dm_members',
			'A direct message is between exactly two different people, one of them its creator.'
		);
		id = directMessageId(members[0]!, members[1]!);
		check(
			input.id === undefined || input.id === id,
			'bad_id',
			`A direct message between these two people has the id ${id}.`
		);
		name = null;
	} else {
		id = input.id ?? newId();
		checkId(id, 'conversation id');
		checkConversationName(input.name);
		name = input.name.trim();
	}

	const t = conversationTypes(doc);
	const existing = t.meta.get(MetaKey.id);
	if (existing !== undefined) {
		check(
			input.kind === 'dm' && existing === id,
			'already_exists',
			'This document already holds a conversation.'
		);
		return readMetaOf(t);
	}

	doc.transact(() => {
		t.meta.set(MetaKey.id, id);
		t.meta.set(MetaKey.name, name);
		t.meta.set(MetaKey.kind, input.kind);
		t.meta.set(MetaKey.createdAt, created_at);
		t.meta.set(MetaKey.createdBy, input.created_by);
		for (const m of members) t.members.set(m, { created_at, added_by: input.created_by });
	}, origin);
	return readMetaOf(t);
}

function readMetaOf(t: ConversationTypes): ConversationMeta {
	return {
		id: t.meta.get(MetaKey.id) as string,
		name: (t.meta.get(MetaKey.name) as string | null | undefined) ?? null,
		kind: t.meta.get(MetaKey.kind) as ConversationKind,
		created_at: t.meta.get(MetaKey.createdAt) as string,
		created_by: t.meta.get(MetaKey.createdBy) as string
	};
}

/**
 * Adds a person. The rule (the relay enforces the same one): any member may add people to a
 * channel or group; anyone may join a channel by adding themselves; a direct message only ever
 * holds its two people.
 */
export function addMember(
	doc: Y.Doc,
	input: { user_id: string; added_by: string; created_at?: string },
	origin: Origin = localOrigin('add-member')
): MemberRecord {
	const t = conversationTypes(doc);
	const id = conversationId(doc);
	checkUserId(input.user_id, 'member id');
	checkUserId(input.added_by, 'adder');
	const kind = t.meta.get(MetaKey.kind) as ConversationKind;
	if (kind === 'dm') {
		const creator = t.meta.get(MetaKey.createdBy) as string;
		const allowed = [...t.members.keys(), creator];
		check(
			allowed.some(
				(other) => other !== input.user_id && directMessageId(other, input.user_id) === id
			),
			'dm_members',
			'A direct message only ever holds its two people.'
		);
	}
	const selfJoin = kind === 'channel' && input.user_id === input.added_by;
	if (!selfJoin) checkMember(t, input.added_by, 'add people');
	const existing = t.members.get(input.user_id);
	if (existing) return existing;
	check(
		t.members.size < Limits.membersPerConversation,
		'too_many_members',
		`A conversation holds at most ${Limits.membersPerConversation} members.`
	);
	const record: MemberRecord = {
		created_at: input.created_at ?? nowIso(),
		added_by: input.added_by
	};
	checkTimestamp(record.created_at);
	doc.transact(() => t.members.set(input.user_id, record), origin);
	return record;
}

/**
 * Removes a person. Anyone may leave; only the conversation's creator may remove someone else;
 * nobody leaves or is removed from a direct message.
 */
export function removeMember(
	doc: Y.Doc,
	input: { user_id: string; removed_by: string },
	origin: Origin = localOrigin('remove-member')
): void {
	const t = conversationTypes(doc);
	conversationId(doc);
	checkUserId(input.user_id, 'member id');
	checkUserId(input.removed_by, 'remover');
	check(
		t.meta.get(MetaKey.kind) !== 'dm',
		'dm_members',
		'Nobody can leave or be removed from a direct message.'
	);
	checkMember(t, input.removed_by, 'remove people');
	check(
		input.user_id === input.removed_by || t.meta.get(MetaKey.createdBy) === input.removed_by,
		'not_a_member',
		'Only the creator of a conversation may remove someone else; anyone may leave.'
	);
	if (!t.members.has(input.user_id)) return;
	doc.transact(() => t.members.delete(input.user_id), origin);
}

export interface PostInput {
	content: string;
	created_by: string;
	file_attachments?: readonly FileAttachment[];
	audio_url?: string | null;
	id?: string;
	created_at?: string;
}

function makeRecord(
	t: ConversationTypes,
	conversation_id: string,
	input: PostInput,
	parent: string | null
): MessageRecord {
	checkUserId(input.created_by, 'author');
	checkMember(t, input.created_by, 'post');
	const attachments = input.file_attachments ?? [];
	checkAttachments(attachments);
	const audio_url = input.audio_url ?? null;
	if (audio_url !== null) checkAudioUrl(audio_url);
	checkContent(input.content, attachments.length > 0 || audio_url !== null);
	const id = input.id ?? newId();
	checkId(id, 'message id');
	const created_at = input.created_at ?? nowIso();
	checkTimestamp(created_at);
	return {
		id,
		created_at,
		content: input.content,
		created_by: input.created_by,
		conversation_id,
		// Copy only the known fields: a record is stored forever and sent to everyone.
		file_attachments: attachments.map(({ id, name, type, size, sha256, url }) => ({
			id,
			name,
			type,
			size,
			sha256,
			url
		})),
		parent_message_id: parent,
		audio_url
	};
}

/** Where a message record sits: which array, at which index. */
interface Located {
	array: Y.Array<MessageRecord>;
	index: number;
	record: MessageRecord;
}

/**
 * Finds a message by id, newest first (edits, reactions and replies mostly touch recent ones).
 * Prefers a tombstone when concurrent deletes left duplicates.
 */
export function locateMessage(t: ConversationTypes, id: string): Located | null {
	let found: Located | null = null;
	for (const array of [t.messages, t.replies]) {
		const all = array.toArray();
		for (let i = all.length - 1; i >= 0; i--) {
			const record = all[i]!;
			if (record.id !== id) continue;
			if (prefers(found?.record, record)) found = { array, index: i, record };
		}
		if (found) return found;
	}
	return found;
}

/**
 * Finds a message by id: which array holds the record in force, and the record. O(1) from the
 * arrays' {@link recordIndex} (a reaction, an edit or a reply in a 100,000-message channel
 * walked both arrays: 10–30 ms); inside a transaction, whose changes the index has not seen
 * yet, by {@link locateMessage}.
 */
export function findMessage(
	t: ConversationTypes,
	id: string
): { array: Y.Array<MessageRecord>; record: MessageRecord } | null {
	const doc = t.messages.doc;
	if (doc === null || doc._transaction !== null) return locateMessage(t, id);
	for (const array of [t.messages, t.replies]) {
		const record = recordIndex(array).get(id);
		if (record) return { array, record };
	}
	return null;
}

/**
 * A given id must be new. A generated one is: this device's generator never repeats itself,
 * and another device's concurrent collision could not be seen here anyway (ids.ts). Skipping
 * the scan keeps posting O(1) in a 100,000-message channel (the scan cost ~5 ms there).
 */
function checkNewId(t: ConversationTypes, input: PostInput, id: string): void {
	if (input.id === undefined) return;
	check(!findMessage(t, id), 'already_exists', `A message with id ${id} already exists.`);
}

/**
 * Appends `record` to a message array. Not `push`: it walks the array from its start on every
 * call (Yjs keeps no pointer to the end; 100,000 messages: ~8 ms in Node, ~4 ms of each post in
 * the browser). An insert at the length walks from the array's search marker nearest the end and
 * leaves one there, so a device's consecutive posts walk one item each. Yjs drops the markers
 * when a change from another device arrives; {@link primeAppend} walks again in idle time.
 */
function append(array: Y.Array<MessageRecord>, record: MessageRecord): void {
	array.insert(array.length, [record]);
}

/**
 * Walks the message arrays to their ends once, leaving the search markers there that let a post
 * skip the walk ({@link append}). For idle time, after the document loads and after each change
 * from another device (those drop the markers): the post then costs what it adds.
 *
 * @example requestIdleCallback(() => primeAppend(doc));
 */
export function primeAppend(doc: Y.Doc): void {
	const t = conversationTypes(doc);
	for (const array of [t.messages, t.replies]) if (array.length > 0) array.get(array.length - 1);
}

/**
 * Posts a top-level message. A message carries text, files, a voice recording, or several.
 *
 * @example postMessage(doc, { content: 'hello', created_by: me })
 */
export function postMessage(
	doc: Y.Doc,
	input: PostInput,
	origin: Origin = localOrigin('post')
): MessageRecord {
	const t = conversationTypes(doc);
	const record = makeRecord(t, conversationId(doc), input, null);
	checkNewId(t, input, record.id);
	doc.transact(() => append(t.messages, record), origin);
	return record;
}

/** Posts a voice message: `audio_url` points at the stored recording; content may be empty. */
export function postVoiceMessage(
	doc: Y.Doc,
	input: Omit<PostInput, 'audio_url'> & { audio_url: string },
	origin: Origin = localOrigin('post')
): MessageRecord {
	checkAudioUrl(input.audio_url);
	return postMessage(doc, input, origin);
}

/**
 * Replies in the thread of a top-level message. Threads are one level deep, as in Slack.
 *
 * @example postReply(doc, parent.id, { content: 'in thread', created_by: me })
 */
export function postReply(
	doc: Y.Doc,
	parentId: string,
	input: PostInput,
	origin: Origin = localOrigin('reply')
): MessageRecord {
	const t = conversationTypes(doc);
	const conversation = conversationId(doc);
	checkId(parentId, 'parent message id');
	const parent = findMessage(t, parentId);
	check(
		parent !== null,
		'unknown_parent',
		`There is no message ${parentId} in this conversation to reply to.`
	);
	check(
		parent.array === t.messages,
		'reply_to_reply',
		'A reply cannot have replies of its own: reply in the thread of the top-level message.'
	);
	const record = makeRecord(t, conversation, input, parentId);
	checkNewId(t, input, record.id);
	doc.transact(() => append(t.replies, record), origin);
	return record;
}

/** `find`'s answer for a message that exists and is not deleted; throws otherwise. */
function findLive<Found extends { record: MessageRecord }>(
	t: ConversationTypes,
	id: string,
	find: (t: ConversationTypes, id: string) => Found | null
): Found {
	checkId(id, 'message id');
	const found = find(t, id);
	check(found !== null, 'unknown_message', `There is no message ${id} in this conversation.`);
	check(!found.record.deleted_at, 'message_deleted', 'This message has been deleted.');
	return found;
}

/** Replaces the text of one's own message. The latest edit wins everywhere. */
export function editMessage(
	doc: Y.Doc,
	id: string,
	input: { content: string; edited_by: string; edited_at?: string },
	origin: Origin = localOrigin('edit')
): EditRecord {
	const t = conversationTypes(doc);
	const { record } = findLive(t, id, findMessage);
	checkUserId(input.edited_by, 'editor');
	check(
		record.created_by === input.edited_by,
		'not_the_author',
		'Only its author can edit a message.'
	);
	checkMember(t, input.edited_by, 'edit');
	checkContent(input.content, record.file_attachments.length > 0 || record.audio_url !== null);
	const edit: EditRecord = {
		content: input.content,
		edited_at: input.edited_at ?? nowIso(),
		edited_by: input.edited_by
	};
	checkTimestamp(edit.edited_at, 'edited_at');
	doc.transact(() => t.edits.set(id, edit), origin);
	return edit;
}

/** Every reaction key of one message (one pass over the flat map). */
function reactionKeysOf(t: ConversationTypes, id: string): string[] {
	const prefix = `${id}|`;
	return [...t.reactions.keys()].filter((k) => k.startsWith(prefix));
}

/**
 * Deletes one's own message: the record is replaced in place by a tombstone with the same id,
 * time, author and parent, so its thread stays; its content, files, voice recording, edits and
 * reactions leave the document (not merely hidden).
 */
export function deleteMessage(
	doc: Y.Doc,
	id: string,
	input: { deleted_by: string; deleted_at?: string },
	origin: Origin = localOrigin('delete')
): MessageRecord {
	const t = conversationTypes(doc);
	// Its index too: the tombstone takes its place (a walk; deleting is rare).
	const found = findLive(t, id, locateMessage);
	checkUserId(input.deleted_by, 'deleter');
	check(
		found.record.created_by === input.deleted_by,
		'not_the_author',
		'Only its author can delete a message.'
	);
	checkMember(t, input.deleted_by, 'delete');
	const deleted_at = input.deleted_at ?? nowIso();
	checkTimestamp(deleted_at, 'deleted_at');
	const tombstone = tombstoneOf(found.record, deleted_at);
	doc.transact(() => {
		found.array.delete(found.index, 1);
		found.array.insert(found.index, [tombstone]);
		t.edits.delete(id);
		for (const key of reactionKeysOf(t, id)) t.reactions.delete(key);
	}, origin);
	return tombstone;
}

function tombstoneOf(record: MessageRecord, deleted_at: string): MessageRecord {
	return {
		id: record.id,
		created_at: record.created_at,
		content: '',
		created_by: record.created_by,
		conversation_id: record.conversation_id,
		file_attachments: [],
		parent_message_id: record.parent_message_id,
		audio_url: null,
		deleted_at
	};
}

/**
 * Toggles one person's reaction with one emoji on a message; returns whether it is now on.
 * Each (message, emoji, person) is its own key, so concurrent toggles by different people never
 * overwrite each other.
 */
export function toggleReaction(
	doc: Y.Doc,
	id: string,
	input: { emoji: string; user_id: string; created_at?: string },
	origin: Origin = localOrigin('react')
): boolean {
	const t = conversationTypes(doc);
	findLive(t, id, findMessage);
	checkEmoji(input.emoji);
	checkUserId(input.user_id, 'reacting user id');
	checkMember(t, input.user_id, 'react');
	const key = reactionKey(id, input.emoji, input.user_id);
	if (t.reactions.has(key)) {
		doc.transact(() => t.reactions.delete(key), origin);
		return false;
	}
	check(
		reactionKeysOf(t, id).length < Limits.reactionsPerMessage,
		'too_many_reactions',
		`A message holds at most ${Limits.reactionsPerMessage} reactions.`
	);
	const created_at = input.created_at ?? nowIso();
	checkTimestamp(created_at);
	doc.transact(() => t.reactions.set(key, created_at), origin);
	return true;
}

/**
 * Makes the document hold no trace of deleted messages, whatever arrived concurrently: drops
 * duplicate records of one id (two devices deleting the same message at once each insert a
 * tombstone), edits and reactions of deleted messages (an edit made offline, merged after the
 * delete). Idempotent; call it after applying remote updates. Returns whether it changed
 * anything.
 */
export function purgeDeleted(doc: Y.Doc, origin: Origin = localOrigin('purge')): boolean {
	const t = conversationTypes(doc);
	const deleted = new Set<string>();
	const duplicates: Array<{ array: Y.Array<MessageRecord>; index: number }> = [];
	for (const array of [t.messages, t.replies]) {
		const byId = new Map<string, number[]>();
		const all = array.toArray();
		all.forEach((r, i) => {
			if (r.deleted_at) deleted.add(r.id);
			const group = byId.get(r.id);
			if (group) group.push(i);
			else byId.set(r.id, [i]);
		});
		for (const [id, indexes] of byId) {
			// Only a deleted message's duplicates go: two live records sharing an id are an id
			// collision between two messages, and both stay (readers order them deterministically).
			if (indexes.length < 2 || !deleted.has(id)) continue;
			const keep = indexes.reduce((best, i) => (prefers(all[best], all[i]!) ? i : best));
			for (const index of indexes) if (index !== keep) duplicates.push({ array, index });
		}
	}
	const edits = [...t.edits.keys()].filter((id) => deleted.has(id));
	const reactions = [...t.reactions.keys()].filter((k) => {
		const parsed = parseReactionKey(k);
		return parsed !== null && deleted.has(parsed.messageId);
	});
	if (duplicates.length + edits.length + reactions.length === 0) return false;
	doc.transact(() => {
		// Delete from the highest index down so earlier indexes stay valid.
		duplicates.sort((a, b) => b.index - a.index);
		for (const d of duplicates) d.array.delete(d.index, 1);
		for (const id of edits) t.edits.delete(id);
		for (const k of reactions) t.reactions.delete(k);
	}, origin);
	return true;
}
