/**
 * A conversation's top-level messages, kept up to date incrementally: each transaction costs
 * what it changed, not the size of the channel. `readMessages` re-reads the whole document
 * (about 50 ms for 100,000 messages in Node), which is fine once at open and too slow on every
 * incoming message; this view gives the same result (a test holds it to that) for the price of
 * the touched messages.
 */
import type * as Y from 'yjs';
import { AppendList } from './append-list';
import { describeChanges, reactionsFor } from './changes';
import { conversationTypes, type ConversationTypes } from './conversation';
import { compareIds } from './ids';
import { readAllReactions, toMessage, type Message } from './read';
import { prefers } from './records';
import type { MessageRecord } from './schema';

/** Above this many records in one transaction (a first sync, a catch-up), rebuild instead. */
const REBUILD_ABOVE = 1_000;

/**
 * @example
 * const view = new MessagesView(doc);
 * doc.on('afterTransaction', (tr) => { if (view.apply(tr)) render(view.messages) });
 */
export class MessagesView {
	readonly #doc: Y.Doc;
	readonly #t: ConversationTypes;
	/** The record in force for each id (a tombstone wins over a live copy, as in readMessages). */
	#records = new Map<string, MessageRecord>();
	/** Reply ids per parent (deleted replies count, as in readMessages). */
	#replies = new Map<string, Set<string>>();
	#messages: AppendList<Message> = AppendList.empty();

	constructor(doc: Y.Doc) {
		this.#doc = doc;
		this.#t = conversationTypes(doc);
		this.#rebuild();
	}

	/**
	 * Top-level messages, oldest first; a new list whenever something in it changed. A message
	 * that sorts after all the others (a post, most messages that arrive) is appended to the
	 * list in O(1); any other change copies it.
	 */
	get messages(): AppendList<Message> {
		return this.#messages;
	}

	#rebuild(): void {
		this.#records.clear();
		this.#replies.clear();
		for (const array of [this.#t.messages, this.#t.replies]) for (const r of array) this.#keep(r);
		// What readMessages gives, from the records just kept (one pass over the document, not
		// two: this runs on every cold open). A stable sort of the first-seen order, as there.
		const reactions = readAllReactions(this.#t);
		const top: MessageRecord[] = [];
		for (const r of this.#records.values()) if (r.parent_message_id === null) top.push(r);
		top.sort((a, b) => compareIds(a.id, b.id));
		this.#messages = AppendList.of(
			top.map((r) => toMessage(this.#t, r, reactions.get(r.id), this.#replies.get(r.id)?.size ?? 0))
		);
	}

	/** Records `r` if it is the one in force for its id; returns whether it is. */
	#keep(r: MessageRecord): boolean {
		if (!prefers(this.#records.get(r.id), r)) return false;
		this.#records.set(r.id, r);
		if (r.parent_message_id) {
			let set = this.#replies.get(r.parent_message_id);
			if (!set) this.#replies.set(r.parent_message_id, (set = new Set()));
			set.add(r.id);
		}
		return true;
	}

	/** Applies one transaction; returns whether `messages` changed. */
	apply(tr: Y.Transaction): boolean {
		const c = describeChanges(this.#doc, tr);
		if (c.records.length > REBUILD_ABOVE) {
			this.#rebuild();
			return true;
		}
		const touched = new Set<string>();
		for (const r of c.records) {
			if (!this.#keep(r)) continue;
			touched.add(r.id);
			if (r.parent_message_id) touched.add(r.parent_message_id);
		}
		for (const id of c.removed) {
			const r = this.#records.get(id);
			if (!r) continue;
			this.#records.delete(id);
			touched.add(id);
			if (r.parent_message_id) {
				this.#replies.get(r.parent_message_id)?.delete(id);
				touched.add(r.parent_message_id);
			}
		}
		for (const id of c.edits.keys()) touched.add(id);
		for (const change of c.reactions) touched.add(change.messageId);

		// Messages that sort after every other one are appended (`tail`); anything else is done
		// on a copy (`next`). Positions in the copy equal those in the list until it is changed.
		let next: Message[] | null = null;
		const tail: Message[] = [];
		const reactions = reactionsFor(this.#doc, touched);
		for (const id of touched) {
			const record = this.#records.get(id);
			const pos = next ? search(next, id) : search(this.#messages, id, tail);
			if (!record || record.parent_message_id !== null) {
				// Gone, or a reply (replies live in threads): only its absence matters here.
				if (pos.found) (next ??= this.#copy(tail)).splice(pos.index, 1);
				continue;
			}
			const message = toMessage(
				this.#t,
				record,
				reactions.get(id),
				this.#replies.get(id)?.size ?? 0
			);
			if (!next && !pos.found && pos.index === this.#messages.length + tail.length) {
				tail.push(message);
				continue;
			}
			next ??= this.#copy(tail);
			if (pos.found) next[pos.index] = message;
			else next.splice(pos.index, 0, message);
		}
		if (next) this.#messages = AppendList.of(next);
		else if (tail.length) this.#messages = this.#messages.append(tail);
		else return false;
		return true;
	}

	#copy(tail: Message[]): Message[] {
		const all = this.#messages.toArray();
		for (const m of tail) all.push(m);
		tail.length = 0;
		return all;
	}
}

/**
 * The message with this id in a list sorted oldest first by id (as {@link MessagesView} keeps
 * it): a binary search, then a walk if the list is not in that order after all.
 */
export function messageById(list: AppendList<Message>, id: string): Message | undefined {
	const { found, index } = search(list, id);
	return found ? list.get(index) : list.find((m) => m.id === id);
}

/** Binary search by id in messages sorted by id (`list`, then `tail` after it). */
function search(
	list: AppendList<Message> | readonly Message[],
	id: string,
	tail: readonly Message[] = []
): { found: boolean; index: number } {
	const n = list.length;
	const at = (i: number) =>
		i < n ? (Array.isArray(list) ? list[i] : (list as AppendList<Message>).get(i))! : tail[i - n]!;
	let lo = 0;
	let hi = n + tail.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		const c = compareIds(at(mid).id, id);
		if (c === 0) return { found: true, index: mid };
		if (c < 0) lo = mid + 1;
		else hi = mid;
	}
	return { found: false, index: lo };
}
