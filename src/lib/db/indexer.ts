/**
 * Keeps one conversation's rows in the local index in step with its document, incrementally:
 * each document transaction is described message by message (`describeChanges`) at once, while
 * the document is in that state, and turned into a plan of absolute row values; plans are
 * written by one serial writer that merges whatever queued up during the previous write into
 * one Dexie transaction. The whole document is projected only when the rows cannot be trusted
 * (first open, a crash mid-write, a large catch-up), and then written in chunks.
 *
 * Why the rows can be trusted: `index_state` holds the Y.Snapshot (state vector + delete set)
 * the rows equal, or null. Every incremental write sets it in the same Dexie transaction: to
 * the document's snapshot when that write holds every transaction so far (nothing queued
 * behind it: the usual case, so a reload right after posting needs no rebuild), else to null,
 * and then it is set when the writer is idle (or at the end of a rebuild, to the rebuild's
 * snapshot). A state vector alone would miss changes that only delete (a reaction taken back,
 * a member removed): those add no struct.
 *
 * Writes are kept small: IndexedDB's `put` clones each row (with its search words) on the main
 * thread, and 1,000 rows in one transaction made tasks of 100–450 ms while catching up. Every
 * Dexie transaction here holds at most `chunkSize` rows (a large plan is split, queued plans
 * merge only up to it), and the page gets a turn between two of them.
 *
 *     doc transaction ──describeChanges──▶ Plan (absolute values) ──queue──▶ one Dexie tx per burst
 *     open / crash / big catch-up ─────────▶ rebuild: project once ─────────▶ 200 rows per tx
 */
import * as Y from 'yjs';
import { Dexie } from 'dexie';
import {
	conversationTypes,
	describeChanges,
	isEmptyChange,
	messageRow,
	reactionsFor,
	readAllMessages,
	readMembers,
	readMeta,
	toMessage,
	uniqueRecords,
	type ConversationChanges,
	type ConversationMeta,
	type Message
} from '$lib/model';
import type { KithDb } from './database';
import { putVocabulary, rememberVocabulary, withWords } from './search';
import {
	indexStateRowSchema,
	type ConversationIndexRow,
	type IndexStateRow,
	type MemberIndexRow,
	type MessageIndexRow,
	type StoredMessageRow
} from './rows';

/** Bumped when the rows' format changes: every conversation is then rebuilt once. */
export const INDEX_VERSION = 1;
/**
 * Rows per Dexie transaction (Dexie's bulkPut: ~1.1 s per 10,000 in Chromium, ~0.2 ms a row on
 * the main thread under load: 200 rows stay near a 50 ms task).
 */
export const WRITE_CHUNK = 200;
/** A document transaction with more new records than this is indexed by a rebuild. */
export const REBUILD_ABOVE = 1_000;

export interface IndexerOptions {
	/** Rows per Dexie transaction, in a rebuild and for queued plans. */
	chunkSize?: number;
	/** A transaction with more new records than this is indexed by a (chunked) rebuild. */
	rebuildAbove?: number;
	/** Quiet time after the last write before the rows are marked in step (ms). */
	idleMs?: number;
	/** Where write failures go (the index is rebuilt after one). */
	onError?: (error: unknown) => void;
}

/** What the indexer has done, for tests and diagnostics. */
export interface IndexerStats {
	/** Described transactions that were queued. */
	plans: number;
	/** Dexie transactions that wrote plans (several plans merge into one). */
	batches: number;
	/** Full rebuilds. */
	rebuilds: number;
}

type EditPatch = { content: string; edited_at: string } | 'resolve';

/** The absolute row values after one document transaction. */
interface Plan {
	conversation: ConversationIndexRow | null;
	members: Map<string, MemberIndexRow | null>;
	records: MessageIndexRow[];
	removed: string[];
	edits: Map<string, EditPatch>;
	reactions: Map<string, Record<string, string[]>>;
}

type Task =
	| { kind: 'check'; snapshot: Y.Snapshot; done: (stale: boolean) => void }
	| { kind: 'plan'; plan: Plan }
	| { kind: 'rebuild' }
	| { kind: 'clean' };

/** A message snapshot as an index row. */
export function messageIndexRow(m: Message): MessageIndexRow {
	return { ...messageRow(m), edited_at: m.edited_at, deleted: m.deleted_at !== null };
}

function conversationIndexRow(meta: ConversationMeta): ConversationIndexRow {
	return {
		id: meta.id,
		created_at: meta.created_at,
		name: meta.name,
		created_by: meta.created_by,
		kind: meta.kind
	};
}

/**
 * A plan as several, each with at most `rows` records, that written in order leave the same
 * rows: records first, in order, then the rest (as {@link ConversationIndexer}'s writer applies
 * one plan).
 */
function splitPlan(plan: Plan, rows: number): Plan[] {
	if (plan.records.length <= rows) return [plan];
	const parts: Plan[] = [];
	for (let i = 0; i < plan.records.length; i += rows) {
		parts.push({
			conversation: null,
			members: new Map(),
			records: plan.records.slice(i, i + rows),
			removed: [],
			edits: new Map(),
			reactions: new Map()
		});
	}
	const last = parts.at(-1)!;
	parts[parts.length - 1] = { ...plan, records: last.records };
	return parts;
}

/**
 * A macrotask boundary: whatever waits (input, rendering) runs before the next write. A
 * MessageChannel message, not `setTimeout`: timers in a hidden tab run at most once a second
 * (Chromium), which would stretch a rebuild of 500 chunks over minutes.
 */
function yieldToPage(): Promise<void> {
	if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
	return new Promise((resolve) => {
		const { port1, port2 } = new MessageChannel();
		port1.onmessage = () => {
			port1.close();
			resolve();
		};
		port2.postMessage(null);
	});
}

/** The same message (not two messages that drew the same id). */
function sameMessage(a: MessageIndexRow, b: MessageIndexRow): boolean {
	return (
		a.created_at === b.created_at &&
		a.created_by === b.created_by &&
		a.parent_message_id === b.parent_message_id
	);
}

/**
 * Indexes one conversation document into a {@link KithDb}. Attach it after the document has
 * loaded from the device (so loading is not replayed as one huge transaction); `start()` checks
 * the stored rows against the document and rebuilds them in the background when they are stale.
 *
 * @example
 * const indexer = new ConversationIndexer(db, conversationId, doc);
 * await indexer.start(); // rows usable now, or being rebuilt behind the first paint
 * postMessage(doc, { content: 'hi', created_by: me }); // indexed within a microtask or two
 * await indexer.stop();
 */
export class ConversationIndexer {
	readonly #db: KithDb;
	readonly #doc: Y.Doc;
	readonly #chunk: number;
	readonly #rebuildAbove: number;
	readonly #idleMs: number;
	readonly #onError: (error: unknown) => void;
	#tasks: Task[] = [];
	#running = false;
	#started = false;
	#stopped = false;
	#hasMeta = false;
	#rebuildQueued = false;
	#dirty = false;
	#idleTimer: ReturnType<typeof setTimeout> | null = null;
	#idleWaiters: Array<() => void> = [];
	readonly #stats: IndexerStats = { plans: 0, batches: 0, rebuilds: 0 };

	constructor(
		db: KithDb,
		readonly conversationId: string,
		doc: Y.Doc,
		options: IndexerOptions = {}
	) {
		this.#db = db;
		this.#doc = doc;
		this.#chunk = Math.max(1, options.chunkSize ?? WRITE_CHUNK);
		this.#rebuildAbove = options.rebuildAbove ?? REBUILD_ABOVE;
		this.#idleMs = options.idleMs ?? 1_000;
		this.#onError = options.onError ?? ((e) => console.error('Kith index:', e));
	}

	get stats(): Readonly<IndexerStats> {
		return { ...this.#stats };
	}

	/**
	 * Starts following the document. Resolves once the stored rows have been checked: with
	 * `stale: true` a rebuild is running in the background ({@link whenIdle} waits for it).
	 */
	start(): Promise<{ stale: boolean }> {
		if (this.#started) throw new Error('ConversationIndexer.start() was called twice');
		this.#started = true;
		const meta = readMeta(this.#doc);
		if (meta && meta.id !== this.conversationId) {
			throw new Error(
				`Document holds conversation ${meta.id}, but was opened as ${this.conversationId}`
			);
		}
		this.#hasMeta = meta !== null;
		this.#doc.on('afterTransaction', this.#onTransaction);
		// The snapshot is taken now, before any transaction is queued behind the check.
		const snapshot = Y.snapshot(this.#doc);
		return new Promise((resolve) => {
			this.#push({ kind: 'check', snapshot, done: (stale) => resolve({ stale }) });
		});
	}

	/** Re-projects the whole conversation (in chunks), after whatever is already queued. */
	rebuild(): Promise<void> {
		this.#queueRebuild();
		return this.whenIdle();
	}

	/** Resolves when everything queued so far is written. */
	whenIdle(): Promise<void> {
		if (!this.#running && this.#tasks.length === 0) return Promise.resolve();
		return new Promise((resolve) => this.#idleWaiters.push(resolve));
	}

	/**
	 * Stops following the document, writes what is queued and marks the rows in step, so the
	 * next open needs no rebuild.
	 */
	async stop(): Promise<void> {
		if (this.#stopped) return;
		this.#stopped = true;
		this.#doc.off('afterTransaction', this.#onTransaction);
		if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
		this.#idleTimer = null;
		// Behind everything queued; it writes only if some plan left the rows dirty.
		this.#push({ kind: 'clean' });
		await this.whenIdle();
	}

	readonly #onTransaction = (tr: Y.Transaction): void => {
		if (this.#stopped || tr.changed.size === 0) return;
		// A queued rebuild has not taken its snapshot yet: it will include this transaction.
		if (this.#rebuildQueued) return;
		const changes = describeChanges(this.#doc, tr);
		if (isEmptyChange(changes)) return;
		if (!this.#hasMeta) {
			// The projection of a document without meta is empty; once meta arrives, everything
			// that came before it has to be indexed at once.
			if (readMeta(this.#doc)) this.#queueRebuild();
			return;
		}
		if (changes.records.length > this.#rebuildAbove) {
			this.#queueRebuild();
			return;
		}
		this.#stats.plans++;
		for (const plan of splitPlan(this.#plan(changes), this.#chunk))
			this.#push({ kind: 'plan', plan });
	};

	#plan(changes: ConversationChanges): Plan {
		const doc = this.#doc;
		const t = conversationTypes(doc);
		const meta = changes.meta ? readMeta(doc) : null;
		const plan: Plan = {
			conversation: meta ? conversationIndexRow(meta) : null,
			members: new Map(),
			records: [],
			removed: changes.removed,
			edits: new Map(),
			reactions: new Map()
		};
		for (const [user_id, m] of changes.members) {
			plan.members.set(
				user_id,
				m ? { user_id, created_at: m.created_at, conversation_id: this.conversationId } : null
			);
		}
		if (changes.records.length > 0) {
			// Reactions can arrive before their message (each person's update integrates on its own).
			const live = new Set(changes.records.filter((r) => !r.deleted_at).map((r) => r.id));
			const reactions = reactionsFor(doc, live);
			for (const r of changes.records) {
				plan.records.push(messageIndexRow(toMessage(t, r, reactions.get(r.id), 0)));
			}
		}
		for (const [id, edit] of changes.edits) {
			// An edit taken away (only a delete does that) needs the original text: looked up at
			// write time, and only if the row is still live.
			plan.edits.set(id, edit ? { content: edit.content, edited_at: edit.edited_at } : 'resolve');
		}
		if (changes.reactions.length > 0) {
			// Ordering a message's reactions needs all of them, with their times: one pass over the
			// reactions map, as the model's own toggle makes.
			const ids = new Set(changes.reactions.map((r) => r.messageId));
			const now = reactionsFor(doc, ids);
			for (const id of ids) plan.reactions.set(id, now.get(id) ?? {});
		}
		return plan;
	}

	#queueRebuild(): void {
		if (this.#rebuildQueued) return;
		this.#rebuildQueued = true;
		this.#push({ kind: 'rebuild' });
	}

	#push(task: Task): void {
		this.#tasks.push(task);
		void this.#pump();
	}

	async #pump(): Promise<void> {
		if (this.#running) return;
		this.#running = true;
		if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
		this.#idleTimer = null;
		while (this.#tasks.length > 0) {
			const task = this.#tasks.shift()!;
			try {
				if (task.kind === 'plan') {
					const plans = [task.plan];
					let rows = task.plan.records.length;
					for (let next = this.#tasks[0]; next?.kind === 'plan'; next = this.#tasks[0]) {
						rows += next.plan.records.length;
						if (rows > this.#chunk) break;
						plans.push(next.plan);
						this.#tasks.shift();
					}
					await this.#writePlans(plans);
					// More to write: let the page (input, a frame) in first.
					if (this.#tasks.length > 0) await yieldToPage();
				} else if (task.kind === 'check') {
					const stale = await this.#isStale(task.snapshot);
					if (stale) {
						this.#rebuildQueued = true;
						this.#tasks.unshift({ kind: 'rebuild' });
					}
					task.done(stale);
				} else if (task.kind === 'rebuild') {
					this.#rebuildQueued = false;
					await this.#rebuildNow();
				} else {
					await this.#markClean();
				}
			} catch (error) {
				this.#onError(error);
				// A failed write leaves the rows behind the document: rebuild them, once.
				if (task.kind === 'plan' || task.kind === 'check') this.#queueRebuild();
				if (task.kind === 'check') task.done(true);
			}
		}
		this.#running = false;
		if (this.#dirty && !this.#stopped) {
			this.#idleTimer = setTimeout(() => {
				this.#idleTimer = null;
				this.#push({ kind: 'clean' });
			}, this.#idleMs);
		}
		const waiters = this.#idleWaiters;
		this.#idleWaiters = [];
		for (const w of waiters) w();
	}

	async #isStale(snapshot: Y.Snapshot): Promise<boolean> {
		const raw = await this.#db.index_state.get(this.conversationId);
		if (raw === undefined) return true;
		const state = indexStateRowSchema.parse(raw, 'index_state');
		if (state.version !== INDEX_VERSION || state.snapshot === null) return true;
		return !Y.equalSnapshots(Y.decodeSnapshot(state.snapshot), snapshot);
	}

	#stateRow(snapshot: Uint8Array | null): IndexStateRow {
		return {
			conversation_id: this.conversationId,
			version: INDEX_VERSION,
			snapshot,
			updated_at: new Date().toISOString()
		};
	}

	async #writePlans(plans: Plan[]): Promise<void> {
		const db = this.#db;
		const ids = new Set<string>();
		for (const p of plans) {
			for (const r of p.records) ids.add(r.id);
			for (const id of p.removed) ids.add(id);
			for (const id of p.edits.keys()) ids.add(id);
			for (const id of p.reactions.keys()) ids.add(id);
		}
		const idList = [...ids];
		this.#dirty = true;
		let inStep = false;
		let vocabulary: string[] = [];
		await db.transaction(
			'rw',
			[db.conversations, db.conversation_members, db.messages, db.search_words, db.index_state],
			async () => {
				const before = idList.length > 0 ? await db.messages.bulkGet(idList) : [];
				const rows = new Map<string, MessageIndexRow | null>();
				idList.forEach((id, i) => {
					const row = before[i];
					if (row !== undefined) rows.set(id, row);
				});
				const resolve = new Set<string>();
				let conversation: ConversationIndexRow | null = null;
				const members = new Map<string, MemberIndexRow | null>();
				for (const p of plans) {
					if (p.conversation) conversation = p.conversation;
					for (const [user, m] of p.members) members.set(user, m);
					for (const row of p.records) {
						const cur = rows.get(row.id);
						// A tombstone wins over a live record of the same id, as in the readers.
						if (!cur || row.deleted || (!cur.deleted && sameMessage(cur, row)))
							rows.set(row.id, row);
						else if (!cur.deleted) resolve.add(row.id); // two messages drew one id
					}
					for (const id of p.removed) rows.set(id, null);
					for (const [id, edit] of p.edits) {
						const cur = rows.get(id);
						if (!cur || cur.deleted) continue;
						if (edit === 'resolve') resolve.add(id);
						else rows.set(id, { ...cur, content: edit.content, edited_at: edit.edited_at });
					}
					for (const [id, reactions] of p.reactions) {
						const cur = rows.get(id);
						if (cur && !cur.deleted) rows.set(id, { ...cur, reactions });
					}
				}
				for (const id of resolve) rows.set(id, this.#rowFromDoc(id));
				const puts: StoredMessageRow[] = [];
				const deletes: string[] = [];
				for (const [id, row] of rows) {
					if (row) puts.push(withWords(row));
					else deletes.push(id);
				}
				if (puts.length > 0) {
					await db.messages.bulkPut(puts);
					vocabulary = await putVocabulary(db, puts);
				}
				if (deletes.length > 0) await db.messages.bulkDelete(deletes);
				if (conversation) await db.conversations.put(conversation);
				const memberPuts = [...members.values()].filter((m) => m !== null);
				const memberDeletes = [...members]
					.filter(([, m]) => m === null)
					.map(([user]): [string, string] => [this.conversationId, user]);
				if (memberPuts.length > 0) await db.conversation_members.bulkPut(memberPuts);
				if (memberDeletes.length > 0) await db.conversation_members.bulkDelete(memberDeletes);
				// Nothing queued behind these plans (and we run between Yjs transactions, never in
				// one): every transaction so far is in them, so the rows equal the document now.
				// ~2 ms for 100,000 messages; it spares the next open a rebuild of all of them.
				inStep = this.#tasks.length === 0 && !this.#rebuildQueued;
				const snapshot = inStep ? Y.encodeSnapshot(Y.snapshot(this.#doc)) : null;
				await db.index_state.put(this.#stateRow(snapshot));
			}
		);
		if (inStep) this.#dirty = false;
		rememberVocabulary(db, vocabulary);
		this.#stats.batches++;
	}

	/** One message's row computed from the document as it is now (rare paths only: O(n)). */
	#rowFromDoc(id: string): MessageIndexRow | null {
		const t = conversationTypes(this.#doc);
		const records = [...t.messages.toArray(), ...t.replies.toArray()].filter((r) => r.id === id);
		const record = uniqueRecords(records)[0];
		if (!record) return null;
		const reactions = reactionsFor(this.#doc, new Set([id])).get(id);
		return messageIndexRow(toMessage(t, record, reactions, 0));
	}

	async #rebuildNow(): Promise<void> {
		const db = this.#db;
		const cid = this.conversationId;
		const snapshot = Y.encodeSnapshot(Y.snapshot(this.#doc));
		const meta = readMeta(this.#doc);
		this.#hasMeta = meta !== null;
		const messages = meta ? readAllMessages(this.#doc).map(messageIndexRow) : [];
		const members: MemberIndexRow[] = meta
			? readMembers(this.#doc).map((m) => ({
					user_id: m.user_id,
					created_at: m.created_at,
					conversation_id: cid
				}))
			: [];
		this.#dirty = true;
		await db.transaction(
			'rw',
			[db.conversations, db.conversation_members, db.messages, db.index_state],
			async () => {
				await db.index_state.put(this.#stateRow(null));
				const keep = new Set(messages.map((m) => m.id));
				const stored = await db.messages
					.where('[conversation_id+created_at]')
					.between([cid, Dexie.minKey], [cid, Dexie.maxKey])
					.primaryKeys();
				await db.messages.bulkDelete(stored.filter((id) => !keep.has(id)));
				const people = new Set(members.map((m) => m.user_id));
				const storedMembers = await db.conversation_members
					.where('[conversation_id+user_id]')
					.between([cid, Dexie.minKey], [cid, Dexie.maxKey])
					.primaryKeys();
				await db.conversation_members.bulkDelete(
					storedMembers.filter(([, user]) => !people.has(user))
				);
				if (!meta) await db.conversations.delete(cid);
			}
		);
		// Separate transactions, so that reads (the first paint) and input get in between.
		for (let i = 0; i < messages.length; i += this.#chunk) {
			if (i > 0) await yieldToPage();
			const chunk = messages.slice(i, i + this.#chunk).map(withWords);
			const vocabulary = await db.transaction('rw', [db.messages, db.search_words], async () => {
				await db.messages.bulkPut(chunk);
				return putVocabulary(db, chunk);
			});
			rememberVocabulary(db, vocabulary);
		}
		await db.transaction(
			'rw',
			[db.conversations, db.conversation_members, db.index_state],
			async () => {
				if (meta) await db.conversations.put(conversationIndexRow(meta));
				for (let i = 0; i < members.length; i += this.#chunk) {
					await db.conversation_members.bulkPut(members.slice(i, i + this.#chunk));
				}
				// The rows now equal the projection at `snapshot`; queued plans will mark them dirty.
				await db.index_state.put(this.#stateRow(snapshot));
			}
		);
		this.#dirty = this.#tasks.length > 0;
		this.#stats.rebuilds++;
	}

	async #markClean(): Promise<void> {
		// Only when nothing is queued: then every transaction so far is in the rows.
		if (this.#tasks.length > 0 || !this.#dirty) return;
		const snapshot = Y.encodeSnapshot(Y.snapshot(this.#doc));
		this.#dirty = false;
		await this.#db.index_state.put(this.#stateRow(snapshot));
	}
}
