/**
 * What one transaction changed, read from the structs it wrote rather than by walking the
 * document: the relay validates every incoming update (access.ts), and a restore uploads a
 * whole history in one update.
 *
 * Yjs's `YArrayEvent.changes` walks the whole array and builds a delta by `concat`ing each
 * added item's content onto the previous insert: O(n²) in the items one transaction inserts.
 * A restore of a 100,000-message channel spent ~50 s of event loop there (twice: the shape
 * check and the description), and every write to a big channel walked all of it.
 */
import * as Y from 'yjs';
import {
	conversationTypes,
	parseReactionKey,
	type ConversationChanges,
	type MessageRecord
} from '../src/lib/model/index.ts';

export interface ArrayChanges {
	/** Items this transaction inserted into the array and that are still there. */
	added: Y.Item[];
	/** Items that were in the array before this transaction and that it deleted. */
	deleted: Y.Item[];
}

/**
 * The items a transaction added to and deleted from one array: the same sets as
 * `new Y.YArrayEvent(array, tr).changes.added/deleted`, in O(structs written) rather than
 * O(array length) plus the quadratic delta. Call it while the transaction is being cleaned up
 * (`afterTransaction`), before Yjs merges and garbage-collects its structs. Order: by client,
 * then clock (not document order).
 *
 * @example
 * doc.on('afterTransaction', (tr) => arrayChanges(doc.getArray('messages'), tr).added.length)
 */
export function arrayChanges<T>(array: Y.Array<T>, tr: Y.Transaction): ArrayChanges {
	const result: ArrayChanges = { added: [], deleted: [] };
	if (!(tr.changed as Map<unknown, Set<string | null>>).get(array)?.has(null)) return result;
	const clients = tr.doc.store.clients;
	const inArray = (s: unknown): s is Y.Item =>
		s instanceof Y.Item && s.parent === array && s.parentSub === null;
	for (const [client, after] of tr.afterState) {
		const before = tr.beforeState.get(client) ?? 0;
		if (after <= before) continue;
		const structs = clients.get(client);
		if (!structs) continue;
		for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
			const s = structs[i]!;
			if (s.id.clock >= after) break;
			if (inArray(s) && !s.deleted) result.added.push(s);
		}
	}
	for (const [client, ranges] of tr.deleteSet.clients) {
		const structs = clients.get(client);
		if (!structs) continue;
		const before = tr.beforeState.get(client) ?? 0;
		for (const { clock, len } of ranges) {
			if (clock >= before) continue; // added and deleted here: in neither set
			for (let i = Y.findIndexSS(structs, clock); i < structs.length; i++) {
				const s = structs[i]!;
				if (s.id.clock >= Math.min(clock + len, before)) break;
				if (inArray(s) && s.deleted) result.deleted.push(s);
			}
		}
	}
	return result;
}

function records(items: readonly Y.Item[]): MessageRecord[] {
	// Deleted items can already be garbage-collected (content gone): they yield nothing.
	return items.flatMap((item) =>
		item.content instanceof Y.ContentAny ? (item.content.getContent() as MessageRecord[]) : []
	);
}

/**
 * The model's `describeChanges` for the relay: the same description of a transaction on a
 * conversation document (records, removed ids, edits, reactions, members), built from
 * `arrayChanges`. The relay types its documents before any update arrives (docs.ts), so the
 * changed types are matched by identity.
 */
export function describeWrite(doc: Y.Doc, tr: Y.Transaction): ConversationChanges {
	const t = conversationTypes(doc);
	const changed = tr.changed as Map<unknown, Set<string | null>>;
	const keys = (type: unknown): string[] =>
		[...(changed.get(type) ?? [])].filter((k): k is string => k !== null);
	const changes: ConversationChanges = {
		meta: changed.has(t.meta),
		members: new Map(keys(t.members).map((k) => [k, t.members.get(k) ?? null])),
		records: [],
		removed: [],
		edits: new Map(keys(t.edits).map((k) => [k, t.edits.get(k) ?? null])),
		reactions: []
	};
	const added = new Set<string>();
	const deleted = new Set<string>();
	for (const array of [t.messages, t.replies]) {
		const delta = arrayChanges(array, tr);
		for (const record of records(delta.added)) {
			changes.records.push(record);
			added.add(record.id);
		}
		for (const record of records(delta.deleted)) deleted.add(record.id);
	}
	let present: Set<string> | null = null;
	for (const id of deleted) {
		if (added.has(id)) continue;
		present ??= new Set([...t.messages.toArray(), ...t.replies.toArray()].map((r) => r?.id));
		if (!present.has(id)) changes.removed.push(id);
	}
	for (const key of keys(t.reactions)) {
		const parsed = parseReactionKey(key);
		if (parsed) changes.reactions.push({ ...parsed, created_at: t.reactions.get(key) ?? null });
	}
	return changes;
}
