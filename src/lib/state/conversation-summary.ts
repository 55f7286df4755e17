/**
 * What the sidebar needs of one conversation (unread counts, mentions, the newest message),
 * read once and then kept up to date from each transaction's changes: re-reading a
 * 100,000-message conversation on every post cost ~165 ms in the page, and the list holds every
 * conversation open.
 */
import type * as Y from 'yjs';
import {
	compareIds,
	conversationTypes,
	describeChanges,
	mentions,
	prefers,
	readMeta,
	type ConversationMeta,
	type ConversationTypes,
	type MessageRecord
} from '$lib/model';

/** What the sidebar needs of one conversation, read cheaply (no edits, no reactions). */
export interface ConversationSummary {
	meta: ConversationMeta | null;
	memberIds: string[];
	/** Ids of others' live top-level messages, sorted: unread counts are a binary search. */
	othersMessageIds: string[];
	/** The newest top-level message id, for ordering by activity. */
	lastMessageId: string | null;
	/** Ids of others' live messages and replies that mention me, sorted (unread mentions). */
	mentionIds: string[];
	/** Others' newest live top-level message, for notifications. */
	newestFromOthers: IncomingMessage | null;
}

/** What a notification says of a message. */
export interface IncomingMessage {
	id: string;
	created_by: string;
	content: string;
	hasAttachments: boolean;
	isVoice: boolean;
}

/** Above this many records in one transaction (a first sync, a catch-up), rebuild instead. */
const REBUILD_ABOVE = 1_000;

/**
 * The summary of a conversation, read whole. Each id counts once, by the record in force (a
 * tombstone over a live copy, as the readers do). The text is the record's own: an edit does
 * not add or take away a mention.
 *
 * @example readSummary(doc, me).othersMessageIds.length // messages from others
 */
export function readSummary(doc: Y.Doc, me: string): ConversationSummary {
	return new SummaryView(doc, me).summary;
}

/**
 * {@link readSummary}, kept incrementally: each transaction costs what it changed (a test holds
 * it equal to a fresh read).
 *
 * @example
 * const view = new SummaryView(doc, me);
 * doc.on('afterTransaction', (tr) => { if (view.apply(tr)) show(view.summary) });
 */
export class SummaryView {
	readonly #doc: Y.Doc;
	readonly #t: ConversationTypes;
	readonly #me: string;
	/** The record in force for each id, top-level messages and replies. */
	#records = new Map<string, MessageRecord>();
	#others: string[] = [];
	#mentioning: string[] = [];
	#last: string | null = null;
	#summary!: ConversationSummary;

	constructor(doc: Y.Doc, me: string) {
		this.#doc = doc;
		this.#t = conversationTypes(doc);
		this.#me = me;
		this.#rebuild();
	}

	/** The summary now; the same object until a transaction changes it. */
	get summary(): ConversationSummary {
		return this.#summary;
	}

	/** Applies one transaction; returns whether `summary` changed. */
	apply(tr: Y.Transaction): boolean {
		const c = describeChanges(this.#doc, tr);
		if (c.records.length > REBUILD_ABOVE) {
			this.#rebuild();
			return true;
		}
		let changed = c.meta || c.members.size > 0;
		let lastGone = false;
		for (const r of c.records) {
			const current = this.#records.get(r.id);
			if (!prefers(current, r)) continue;
			changed = true;
			if (current) this.#unindex(current);
			this.#records.set(r.id, r);
			this.#index(r);
		}
		for (const id of c.removed) {
			const current = this.#records.get(id);
			if (!current) continue;
			changed = true;
			this.#records.delete(id);
			this.#unindex(current);
			if (id === this.#last) lastGone = true;
		}
		if (!changed) return false;
		// Purged duplicates only (rare): the newest may have to be found again.
		if (lastGone) this.#last = newestTopLevel(this.#records.values());
		this.#summary = this.#make();
		return true;
	}

	#rebuild(): void {
		this.#records.clear();
		for (const array of [this.#t.messages, this.#t.replies]) {
			for (const r of array) {
				if (prefers(this.#records.get(r.id), r)) this.#records.set(r.id, r);
			}
		}
		const others: string[] = [];
		const mentioning: string[] = [];
		let last: string | null = null;
		for (const r of this.#records.values()) {
			if (r.parent_message_id === null && (last === null || compareIds(r.id, last) > 0))
				last = r.id;
			if (this.#isOthers(r)) others.push(r.id);
			if (this.#isMention(r)) mentioning.push(r.id);
		}
		others.sort(compareIds);
		mentioning.sort(compareIds);
		this.#others = others;
		this.#mentioning = mentioning;
		this.#last = last;
		this.#summary = this.#make();
	}

	/** Others' live top-level messages: unread when newer than the read marker. */
	#isOthers(r: MessageRecord): boolean {
		return r.parent_message_id === null && r.created_by !== this.#me && !r.deleted_at;
	}

	/** A mention in a thread counts too: it is read when the thread is (ConversationView). */
	#isMention(r: MessageRecord): boolean {
		return r.created_by !== this.#me && !r.deleted_at && mentions(r.content, this.#me);
	}

	#index(r: MessageRecord): void {
		if (r.parent_message_id === null && (this.#last === null || compareIds(r.id, this.#last) > 0))
			this.#last = r.id;
		// Copy on first change: summaries handed out before stay as they were.
		if (this.#isOthers(r)) insertSorted((this.#others = copied(this.#others, this.#summary)), r.id);
		if (this.#isMention(r))
			insertSorted((this.#mentioning = copied(this.#mentioning, this.#summary)), r.id);
	}

	#unindex(r: MessageRecord): void {
		if (this.#isOthers(r)) removeSorted((this.#others = copied(this.#others, this.#summary)), r.id);
		if (this.#isMention(r))
			removeSorted((this.#mentioning = copied(this.#mentioning, this.#summary)), r.id);
	}

	#make(): ConversationSummary {
		const newestId = this.#others.at(-1);
		const newest = newestId === undefined ? undefined : this.#records.get(newestId);
		return {
			meta: readMeta(this.#doc),
			memberIds: [...this.#t.members.keys()],
			othersMessageIds: this.#others,
			lastMessageId: this.#last,
			mentionIds: this.#mentioning,
			newestFromOthers: newest ? incoming(newest) : null
		};
	}
}

function incoming(r: MessageRecord): IncomingMessage {
	return {
		id: r.id,
		created_by: r.created_by,
		content: r.content,
		hasAttachments: r.file_attachments.length > 0,
		isVoice: r.audio_url !== null
	};
}

function newestTopLevel(records: Iterable<MessageRecord>): string | null {
	let last: string | null = null;
	for (const r of records) {
		if (r.parent_message_id === null && (last === null || compareIds(r.id, last) > 0)) last = r.id;
	}
	return last;
}

/** `ids` itself when it is not in the summary handed out, else a copy to change. */
function copied(ids: string[], summary: ConversationSummary | undefined): string[] {
	return summary && (summary.othersMessageIds === ids || summary.mentionIds === ids)
		? ids.slice()
		: ids;
}

/** Index of the first id not below `id`. */
function lowerBound(ids: readonly string[], id: string): number {
	let lo = 0;
	let hi = ids.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (compareIds(ids[mid]!, id) < 0) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

function insertSorted(ids: string[], id: string): void {
	const i = lowerBound(ids, id);
	if (ids[i] !== id) ids.splice(i, 0, id);
}

function removeSorted(ids: string[], id: string): void {
	const i = lowerBound(ids, id);
	if (ids[i] === id) ids.splice(i, 1);
}
