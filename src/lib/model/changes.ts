/**
 * What one transaction changed in a conversation document, message by message: the input of
 * incremental indexes (Dexie on the device, search), so that nothing re-projects the whole
 * document on every keystroke.
 */
import * as Y from 'yjs';
import { arrayChanges } from './array-changes';
import { conversationTypes } from './conversation';
import { orderReactions } from './read';
import { parseReactionKey, type EditRecord, type MemberRecord, type MessageRecord } from './schema';

export interface ReactionChange {
	messageId: string;
	emoji: string;
	userId: string;
	/** When the reaction was added, or null when it was removed. */
	created_at: string | null;
}

export interface ConversationChanges {
	/** The meta map changed (created, renamed). */
	meta: boolean;
	/** Members added or changed (value) and removed (null). */
	members: Map<string, MemberRecord | null>;
	/** Records that appeared: new messages and replies, and tombstones of deleted ones. */
	records: MessageRecord[];
	/** Ids whose records left the document with no replacement (duplicate tombstones purged). */
	removed: string[];
	/** Message ids whose edit changed, with the edit now in force (null: none). */
	edits: Map<string, EditRecord | null>;
	reactions: ReactionChange[];
}

/** Any shared type, as `tr.changed` holds them. */
type AnyType = Y.Transaction['changed'] extends Map<infer T, unknown> ? T : never;

function itemValues(item: Y.Item): MessageRecord[] {
	// Deleted items can already be garbage-collected (content gone): they yield nothing.
	return item.content instanceof Y.ContentAny ? (item.content.getContent() as MessageRecord[]) : [];
}

/**
 * Descriptions already made, per transaction: the index, the message list and the sidebar each
 * describe every transaction, and describing one walks the changed arrays' items (Yjs's
 * `YEvent.changes`): once is enough. Read-only for callers.
 */
const described = new WeakMap<Y.Transaction, ConversationChanges>();

/**
 * Describes a transaction on a conversation document. Call it from
 * `doc.on('afterTransaction', tr => …)`: every listener of one transaction gets the same
 * (shared, not to be changed) description.
 *
 * @example
 * doc.on('afterTransaction', (tr) => index.apply(describeChanges(doc, tr)))
 */
export function describeChanges(doc: Y.Doc, tr: Y.Transaction): ConversationChanges {
	if (tr.doc !== doc) throw new Error('describeChanges: the transaction is of another document');
	let changes = described.get(tr);
	if (!changes) described.set(tr, (changes = describe(doc, tr)));
	return changes;
}

function describe(doc: Y.Doc, tr: Y.Transaction): ConversationChanges {
	const t = conversationTypes(doc);
	// A fresh Y.Doc whose first update arrives before anyone asked for its typed maps and arrays
	// (loading from IndexedDB or the relay) integrates them as plain AbstractTypes, and
	// `doc.getMap`/`getArray` (conversationTypes, just above) then swap in typed objects that
	// share the old ones' `_map`. That first transaction's `tr.changed` is keyed by the old
	// objects, so match on the shared `_map`: by identity the whole first load went undescribed.
	const changedType = (type: { _map: Map<string, Y.Item> }): AnyType | undefined => {
		for (const candidate of tr.changed.keys()) {
			if (candidate._map === type._map) return candidate;
		}
		return undefined;
	};
	const changed = (type: { _map: Map<string, Y.Item> }): Set<string | null> | undefined => {
		const key = changedType(type);
		return key && tr.changed.get(key);
	};
	const changes: ConversationChanges = {
		meta: changed(t.meta) !== undefined,
		members: new Map(),
		records: [],
		removed: [],
		edits: new Map(),
		reactions: []
	};
	for (const key of changed(t.members) ?? []) {
		if (key !== null) changes.members.set(key, t.members.get(key) ?? null);
	}
	const added = new Set<string>();
	const deleted = new Set<string>();
	for (const array of [t.messages, t.replies]) {
		const target = changedType(array);
		if (!target) continue;
		const delta = arrayChanges(tr, target as Y.Array<MessageRecord>);
		for (const item of delta.added) {
			for (const record of itemValues(item)) {
				changes.records.push(record);
				added.add(record.id);
			}
		}
		for (const item of delta.deleted) for (const record of itemValues(item)) deleted.add(record.id);
	}
	// Built once, and only when something was deleted: a restore may delete many records.
	let present: Set<string> | null = null;
	for (const id of deleted) {
		if (added.has(id)) continue;
		present ??= new Set([...t.messages.toArray(), ...t.replies.toArray()].map((r) => r?.id));
		if (!present.has(id)) changes.removed.push(id);
	}
	for (const key of changed(t.edits) ?? []) {
		if (key !== null) changes.edits.set(key, t.edits.get(key) ?? null);
	}
	for (const key of changed(t.reactions) ?? []) {
		if (key === null) continue;
		const parsed = parseReactionKey(key);
		if (parsed) changes.reactions.push({ ...parsed, created_at: t.reactions.get(key) ?? null });
	}
	return changes;
}

/** True when nothing in the description changed. */
export function isEmptyChange(c: ConversationChanges): boolean {
	return (
		!c.meta &&
		c.members.size === 0 &&
		c.records.length === 0 &&
		c.removed.length === 0 &&
		c.edits.size === 0 &&
		c.reactions.length === 0
	);
}

/**
 * The reactions of some messages, in one pass over the reactions map; for records that arrive
 * after their reactions (updates from different people integrate independently).
 */
export function reactionsFor(
	doc: Y.Doc,
	ids: ReadonlySet<string>
): Map<string, Record<string, string[]>> {
	const t = conversationTypes(doc);
	const grouped = new Map<string, Map<string, Array<[string, string]>>>();
	if (ids.size === 0 || t.reactions.size === 0) return new Map();
	for (const [key, created_at] of t.reactions.entries()) {
		const parsed = parseReactionKey(key);
		if (!parsed || !ids.has(parsed.messageId)) continue;
		let byEmoji = grouped.get(parsed.messageId);
		if (!byEmoji) grouped.set(parsed.messageId, (byEmoji = new Map()));
		let people = byEmoji.get(parsed.emoji);
		if (!people) byEmoji.set(parsed.emoji, (people = []));
		people.push([created_at, parsed.userId]);
	}
	return new Map([...grouped].map(([id, byEmoji]) => [id, orderReactions(byEmoji)]));
}
