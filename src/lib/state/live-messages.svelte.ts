import { createSubscriber } from 'svelte/reactivity';
import type * as Y from 'yjs';
import {
	AppendList,
	conversationTypes,
	MessagesView,
	primeAppend,
	readMessages,
	type Message
} from '$lib/model';
import { cancelIdle, requestIdle } from './idle-callback';

/**
 * A conversation's top-level messages for the UI, kept by the model's incremental
 * {@link MessagesView} while something shows them: an incoming message costs what it changed,
 * not the size of the channel (a full re-read of 100,000 messages takes ~50 ms). Unchanged
 * messages stay the same objects, so a keyed list redraws only what changed, and a new message
 * at the end is appended to the list without copying it.
 *
 * @example const messages = new LiveMessages(doc); // messages.value.at(-1): the newest
 */
export class LiveMessages {
	readonly #doc: Y.Doc;
	readonly #subscribe: () => void;
	#view: MessagesView | null = null;

	constructor(doc: Y.Doc) {
		this.#doc = doc;
		this.#subscribe = createSubscriber((update) => {
			const view = new MessagesView(doc);
			const t = conversationTypes(doc);
			// Shown, a conversation is where the person may post next: keep the walk to the end
			// of its messages out of the keypress (primeAppend), redone after others' changes.
			let primer: number | null = null;
			const prime = () => {
				primer ??= requestIdle(
					() => {
						primer = null;
						primeAppend(doc);
					},
					{ timeout: 2_000, fallbackDelay: 200 }
				);
			};
			const onTransaction = (tr: Y.Transaction) => {
				if (view.apply(tr)) update();
				if (!tr.local && (tr.changed.has(t.messages) || tr.changed.has(t.replies))) prime();
			};
			this.#view = view;
			doc.on('afterTransaction', onTransaction);
			prime();
			return () => {
				doc.off('afterTransaction', onTransaction);
				if (primer !== null) cancelIdle(primer);
				this.#view = null;
			};
		});
	}

	get value(): AppendList<Message> {
		this.#subscribe();
		// Unobserved (read outside a reactive context), nothing keeps a view current: read afresh.
		return this.#view?.messages ?? AppendList.of(readMessages(this.#doc));
	}
}
