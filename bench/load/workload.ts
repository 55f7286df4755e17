/**
 * What the load clients write: exactly what Kith writes. A conversation is created with the
 * model's createConversation, and every message record is made by the model's postMessage and
 * pushed into `messages` in one transaction of its own, as postMessage does.
 *
 * postMessage first scans the conversation for a duplicate id (O(n) per post), which makes
 * building a 100,000-message channel quadratic; so the record is made by postMessage on a
 * small scratch copy of the conversation and pushed into the real document the same way
 * (one `push([record])` per transaction, origin `localOrigin('post')`): the same record, the
 * same Yjs structure, the same update bytes (written `insert(length, …)`, which makes the same
 * item as `push`).
 *
 * A big channel is written by several devices (`devices` > 1: the document's client id turns
 * between posts). One device posting 100,000 messages in a row makes Yjs merge each new item
 * into the previous one (ContentAny.mergeWith copies the array: quadratic, 35 s here), which
 * is neither fast to build nor what a channel with many people looks like.
 */
import * as Y from 'yjs';
import {
	conversationTypes,
	createConversation,
	localOrigin,
	postMessage
} from '../../src/lib/model/index.ts';
import { marker } from './client.ts';

/** 100 characters: the marker, then filler. */
export function content(writer: number, seq: number): string {
	const head = marker(writer, seq);
	return head + ' lorem ipsum dolor sit amet consectetur'.repeat(3).slice(0, 100 - head.length);
}

export class Author {
	readonly doc = new Y.Doc();
	#scratch: Y.Doc | null = null;
	#scratchPosts = 0;
	/** The update that created the conversation (what a fresh relay is sent first). */
	readonly creation: Uint8Array;

	constructor(
		readonly convId: string,
		readonly user: string,
		readonly members: readonly string[],
		readonly writer = 0,
		readonly devices = 1,
		/** Another author's creation update: this one joins that conversation instead of creating it. */
		from: Uint8Array | null = null
	) {
		if (from) {
			Y.applyUpdate(this.doc, from);
			this.creation = from;
		} else this.creation = this.#create(this.doc);
		this.#baseClient = this.doc.clientID;
	}

	readonly #baseClient: number;

	#create(doc: Y.Doc): Uint8Array {
		let update: Uint8Array | null = null;
		const grab = (u: Uint8Array): void => {
			update = u;
		};
		doc.on('update', grab);
		createConversation(doc, {
			kind: 'channel',
			name: 'bench',
			id: this.convId,
			created_by: this.user,
			members: [...this.members],
			created_at: '2026-11-25T10:00:00.000Z'
		});
		doc.off('update', grab);
		return update!;
	}

	/** Posts message `seq` (content with its marker); returns the update, as a relay receives it. */
	post(seq: number, capture = true): Uint8Array | null {
		if (!this.#scratch || this.#scratchPosts >= 256) {
			this.#scratch?.destroy();
			this.#scratch = new Y.Doc();
			this.#create(this.#scratch);
			this.#scratchPosts = 0;
		}
		this.#scratchPosts++;
		const record = postMessage(this.#scratch, {
			content: content(this.writer, seq),
			created_by: this.user
		});
		let update: Uint8Array | null = null;
		const grab = (u: Uint8Array): void => {
			update = u;
		};
		if (this.devices > 1) this.doc.clientID = this.#baseClient + (seq % this.devices);
		if (capture) this.doc.on('update', grab);
		const { messages } = conversationTypes(this.doc);
		// insert at the end = push (the same item, the same left origin), but through Yjs's search
		// markers: push walks the whole list to find its end, quadratic over 100,000 items.
		this.doc.transact(() => messages.insert(messages.length, [record]), localOrigin('post'));
		if (capture) this.doc.off('update', grab);
		return update;
	}
}
