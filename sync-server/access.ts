/**
 * Who may open and write what (docs/PROTOCOL.md, "Access" and "What the relay refuses").
 *
 * Writes are checked after Yjs applied them, on the transaction they made: the relay applies
 * each incoming update in its own transaction with the connection as origin, describes it
 * (the model's describeChanges, in O(what it wrote), plus the deletions below), and when a rule is broken restores
 * the document from storage before anything else runs (docs.ts).
 */
import * as Y from 'yjs';
import {
	CONVERSATION_KINDS,
	ConversationKey,
	MetaKey,
	Patterns,
	WorkspaceKey,
	arrayChanges,
	conversationTypes,
	describeChanges,
	directMessageId,
	GENERAL_CHANNEL_ID,
	inboxTypes,
	isDerivedConversationId,
	parseReactionKey,
	workspaceTypes,
	type ChannelRecord,
	type ConversationKind,
	type EditRecord,
	type MemberRecord,
	type MessageRecord,
	type UserRecord
} from '../src/lib/model/index.ts';

/** A broken rule: the reason goes to the log (never to other clients). */
export type Violation = string | null;

interface KeyChange {
	action: 'add' | 'update' | 'delete';
	oldValue: unknown;
}

function mapChanges(map: Y.Map<unknown>, tr: Y.Transaction): Map<string, KeyChange> {
	const keys = (tr.changed as Map<object, Set<string | null>>).get(map);
	if (!keys) return new Map();
	const event = new Y.YMapEvent(map, tr, keys);
	return event.changes.keys as Map<string, KeyChange>;
}

function isObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Y.AbstractType);
}

/** Only the known top-level types may change, and only with plain JSON values. */
function checkShape(doc: Y.Doc, tr: Y.Transaction, keys: readonly string[]): Violation {
	const allowed = new Set<unknown>(keys.map((k) => doc.share.get(k)));
	const changed = tr.changed as Map<unknown, Set<string | null>>;
	for (const type of changed.keys()) {
		if (!allowed.has(type)) return 'writes a type that is not part of the document schema';
	}
	for (const type of changed.keys()) {
		if (type instanceof Y.Map) {
			for (const key of changed.get(type) ?? []) {
				if (key !== null && type.get(key) instanceof Y.AbstractType)
					return 'nests a Y type in a map';
			}
		} else if (type instanceof Y.Array) {
			for (const item of arrayChanges(tr, type).added) {
				if (!(item.content instanceof Y.ContentAny))
					return 'inserts something other than a JSON record';
			}
		} else {
			return 'writes to a top-level type of the wrong kind';
		}
	}
	return null;
}

export interface ConversationContext {
	convId: string;
	user: string;
	/** Whether storage held anything for this document before this write. */
	existed: boolean;
}

/** The kind of a conversation document now, or null when not created. */
export function conversationKind(doc: Y.Doc): ConversationKind | null {
	const kind = doc.getMap(ConversationKey.meta).get(MetaKey.kind);
	return CONVERSATION_KINDS.includes(kind as ConversationKind) ? (kind as ConversationKind) : null;
}

/** The two people of a direct message (its members must be exactly them). */
function validDmMembers(convId: string, members: string[]): boolean {
	return (
		members.length === 2 &&
		members[0] !== members[1] &&
		directMessageId(members[0]!, members[1]!) === convId
	);
}

function checkCreation(doc: Y.Doc, ctx: ConversationContext): Violation {
	const t = conversationTypes(doc);
	const meta = t.meta.toJSON() as Record<string, unknown>;
	if (meta[MetaKey.id] !== ctx.convId)
		return 'the conversation id does not match the document name';
	const kind = meta[MetaKey.kind];
	if (!CONVERSATION_KINDS.includes(kind as ConversationKind)) return 'unknown conversation kind';
	const createdBy = meta[MetaKey.createdBy];
	if (typeof createdBy !== 'string' || !Patterns.userId.test(createdBy)) {
		return 'bad creator';
	}
	const members = [...t.members.keys()];
	if (!t.members.has(ctx.user))
		return 'the creator of a conversation must list themselves as a member';
	if (kind === 'dm' && !validDmMembers(ctx.convId, members)) {
		return 'a direct message holds exactly the two people of its id';
	}
	for (const m of members) if (!Patterns.userId.test(m)) return 'bad member id';
	return null;
}

/**
 * A conversation whose id is derived (a direct message, `#general`) can be created on two
 * devices at once, offline; the relay then holds one creation when the other arrives. Accept
 * the second when it is the same conversation: same id, kind and name, written by a member of
 * it (for a DM, one of its two people). Yjs resolves the concurrent meta values the same way
 * on every replica, so the result converges.
 */
function identicalRecreation(
	doc: Y.Doc,
	ctx: ConversationContext,
	metaChanges: Map<string, KeyChange>
): boolean {
	const t = conversationTypes(doc);
	const kind = t.meta.get(MetaKey.kind);
	if (typeof kind !== 'string' || !isDerivedConversationId(ctx.convId, kind)) return false;
	for (const [key, change] of metaChanges) {
		if (change.action !== 'update') return false;
		if (key === MetaKey.id || key === MetaKey.kind || key === MetaKey.name) {
			if (change.oldValue !== t.meta.get(key)) return false;
		}
	}
	if (t.meta.get(MetaKey.id) !== ctx.convId) return false;
	const createdBy = t.meta.get(MetaKey.createdBy);
	if (typeof createdBy !== 'string' || !t.members.has(createdBy)) return false;
	return t.members.has(ctx.user);
}

function isRecord(v: unknown): v is MessageRecord {
	return isObject(v) && typeof v.id === 'string' && typeof v.created_by === 'string';
}

/**
 * Checks a transaction on `conv:<id>`. Rules: the first write creates the conversation and
 * lists the writer (a DM: exactly its two people); meta never changes after; records are
 * written by their author only (edits, deletes and tombstones too); reactions only under
 * one's own id; membership per the model's rule (any member adds to a channel or group, anyone
 * joins a channel, only the creator removes others, anyone leaves, a DM never changes).
 */
export function validateConversationWrite(
	doc: Y.Doc,
	tr: Y.Transaction,
	ctx: ConversationContext
): Violation {
	const shape = checkShape(doc, tr, Object.values(ConversationKey));
	if (shape) return shape;
	const t = conversationTypes(doc);
	const metaChanges = mapChanges(t.meta, tr);
	const idChange = metaChanges.get(MetaKey.id);
	const createdNow = idChange !== undefined && idChange.action === 'add';
	if (t.meta.get(MetaKey.id) === undefined) return 'the first write must create the conversation';
	if (createdNow) {
		// Nothing stored: a new conversation, or a member device restoring one after the relay
		// lost its DATA_DIR. Its history is accepted as a whole (docs/PROTOCOL.md).
		if (ctx.existed) return 'creates a conversation over an existing document';
		return checkCreation(doc, ctx);
	}
	const kind = conversationKind(doc);
	const recreation = metaChanges.size > 0 && identicalRecreation(doc, ctx, metaChanges);
	if (metaChanges.size > 0 && !recreation) return 'meta is written once, at creation';

	const creator = t.meta.get(MetaKey.createdBy);
	const changes = describeChanges(doc, tr);
	const memberChanges = mapChanges(t.members as Y.Map<unknown>, tr);
	const wasMember = (u: string): boolean => {
		const c = memberChanges.get(u);
		return c ? c.action !== 'add' : t.members.has(u);
	};

	for (const [key, change] of memberChanges) {
		if (kind === 'dm') {
			// A second, identical creation (both people started the DM offline) rewrites the same
			// two members; anything else would change a direct message's people.
			const same = change.action !== 'delete' && validDmMembers(ctx.convId, [...t.members.keys()]);
			if (!same) return 'the members of a direct message never change';
			continue;
		}
		if (change.action === 'delete') {
			if (!wasMember(ctx.user)) return 'a non-member removes a member';
			if (key !== ctx.user && creator !== ctx.user) return 'only the creator removes someone else';
			continue;
		}
		const value = t.members.get(key) as unknown;
		if (!Patterns.userId.test(key)) return 'bad member id';
		if (!isObject(value) || (value as Partial<MemberRecord>).added_by !== ctx.user) {
			return 'a member record names someone else as the adder';
		}
		const selfJoin = kind === 'channel' && key === ctx.user;
		if (!selfJoin && !wasMember(ctx.user)) return 'a non-member adds people';
	}

	const isMemberNow = t.members.has(ctx.user);
	const touchesContent =
		changes.records.length +
			changes.removed.length +
			changes.edits.size +
			changes.reactions.length >
		0;
	if (touchesContent && !isMemberNow && !wasMember(ctx.user)) return 'a non-member writes messages';

	for (const record of changes.records) {
		if (!isRecord(record)) return 'a message record is not an object with id and created_by';
		if (record.created_by !== ctx.user) return "writes a message under someone else's id";
		if (!Patterns.id.test(record.id)) return 'bad message id';
		if (record.conversation_id !== ctx.convId) return 'a record names another conversation';
	}

	// Deleted records: one's own, or a duplicate tombstone purged by purgeDeleted.
	for (const array of [t.messages, t.replies]) {
		if (!(tr.changed as Map<unknown, unknown>).has(array)) continue;
		for (const item of arrayChanges(tr, array).deleted) {
			if (!(item.content instanceof Y.ContentAny)) continue;
			for (const record of item.content.getContent() as unknown[]) {
				if (!isRecord(record)) continue;
				if (record.created_by === ctx.user) continue;
				if (record.deleted_at && locate(t, record.id)?.deleted_at) continue;
				return "deletes someone else's message";
			}
		}
	}

	const editChanges = mapChanges(t.edits as Y.Map<unknown>, tr);
	for (const [id, change] of editChanges) {
		const target = locate(t, id);
		if (change.action === 'delete') {
			const old = change.oldValue as Partial<EditRecord> | undefined;
			if (
				old?.edited_by === ctx.user ||
				!target ||
				target.deleted_at ||
				target.created_by === ctx.user
			)
				continue;
			return "removes someone else's edit";
		}
		const value = t.edits.get(id) as unknown;
		if (!isObject(value) || value.edited_by !== ctx.user) return "edits under someone else's id";
		if (!target || target.created_by !== ctx.user) return "edits someone else's message";
	}

	for (const r of changes.reactions) {
		if (r.userId === ctx.user) continue;
		if (r.created_at === null) {
			const target = locate(t, r.messageId);
			if (!target || target.deleted_at) continue;
		}
		return "reacts under someone else's id";
	}
	for (const [key] of mapChanges(t.reactions as Y.Map<unknown>, tr)) {
		if (!parseReactionKey(key)) return 'bad reaction key';
	}
	return null;
}

function locate(t: ReturnType<typeof conversationTypes>, id: string): MessageRecord | undefined {
	let found: MessageRecord | undefined;
	for (const array of [t.messages, t.replies]) {
		for (const r of array.toArray()) {
			if (r?.id === id && (!found || (r.deleted_at && !found.deleted_at))) found = r;
		}
	}
	return found;
}

export interface WorkspaceContext {
	user: string;
	existed: boolean;
	/** The stored kind of a conversation, or null when it does not exist. */
	kindOf: (convId: string) => ConversationKind | null;
}

/**
 * Checks a transaction on `workspace`: each person writes only their own `users` entry; a
 * channel is listed (or unlisted) only by its creator, and only if the conversation is a
 * channel. A workspace with nothing stored accepts its first upload as a whole (restore).
 */
export function validateWorkspaceWrite(
	doc: Y.Doc,
	tr: Y.Transaction,
	ctx: WorkspaceContext
): Violation {
	const shape = checkShape(doc, tr, Object.values(WorkspaceKey));
	if (shape) return shape;
	if (!ctx.existed) return null;
	const { users, channels } = workspaceTypes(doc);
	for (const [key, change] of mapChanges(users as Y.Map<unknown>, tr)) {
		if (key !== ctx.user) return "writes someone else's profile";
		if (change.action === 'delete') continue;
		const value = users.get(key) as Partial<UserRecord> | undefined;
		if (!isObject(value) || value.id !== ctx.user) return "writes someone else's profile";
	}
	for (const [key, change] of mapChanges(channels as Y.Map<unknown>, tr)) {
		const old = change.oldValue as Partial<ChannelRecord> | undefined;
		const value = channels.get(key) as Partial<ChannelRecord> | undefined;
		// #general is listed by whoever created it, and two people may create it offline at once:
		// the second, identical listing is accepted (see identicalRecreation).
		const relisting =
			key === GENERAL_CHANNEL_ID &&
			change.action === 'update' &&
			isObject(value) &&
			value.name === old?.name;
		if (old && old.created_by !== ctx.user && !relisting) {
			return "changes someone else's channel listing";
		}
		if (change.action === 'delete') continue;
		if (!isObject(value) || value.id !== key || value.created_by !== ctx.user) {
			return 'lists a channel under someone else';
		}
		if (!Patterns.id.test(key)) return 'bad channel id';
		const kind = ctx.kindOf(key);
		if (kind !== null && kind !== 'channel')
			return 'lists a private conversation as a public channel';
	}
	return null;
}

/**
 * Checks a transaction on `inbox:<user>` (opened only by that user, connection.ts): the relay
 * writes it; the person's own devices may write back what they hold (a relay that lost its
 * data is given it again), in the inbox's shape. It lists conversation ids and nothing else:
 * what is listed is only what the person's devices try to open, so it grants nothing.
 */
export function validateInboxWrite(doc: Y.Doc, tr: Y.Transaction): Violation {
	const shape = checkShape(doc, tr, ['conversations']);
	if (shape) return shape;
	const { conversations } = inboxTypes(doc);
	for (const [key, change] of mapChanges(conversations as Y.Map<unknown>, tr)) {
		if (change.action === 'delete') continue;
		if (!Patterns.id.test(key)) return 'bad conversation id in an inbox';
		const value = conversations.get(key) as unknown;
		if (
			!isObject(value) ||
			!CONVERSATION_KINDS.includes((value as { kind: ConversationKind }).kind)
		)
			return 'bad inbox entry';
	}
	return null;
}

/** Whether `user` may open a conversation document as it is now. */
export function mayOpenConversation(
	doc: Y.Doc,
	convId: string,
	user: string,
	workspace: () => Y.Doc
): boolean {
	const kind = conversationKind(doc);
	if (kind === null) return true; // not created yet: the first write must create it
	if (conversationTypes(doc).members.has(user)) return true;
	return kind === 'channel' && workspaceTypes(workspace()).channels.has(convId);
}
