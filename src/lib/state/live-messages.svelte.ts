import { createSubscriber } from 'svelte/reactivity';
import type * as Y from 'yjs';
import { MessagesView, readMessages, type Message } from '$lib/model';

/**
 * A conversation's top-level messages for the UI, kept by the model's incremental
 * {@link MessagesView} while something shows them: an incoming message costs what it changed,
 * not the size of the channel (a full re-read of 100,000 messages takes ~50 ms). Unchanged
 * messages stay the same objects, so a keyed list redraws only what changed.
 *
 * @example const messages = new LiveMessages(doc); // {#each messages.value as m (m.id)}
 */
export class LiveMessages {
	readonly #doc: Y.Doc;
	readonly #subscribe: () => void;
	#view: MessagesView | null = null;

	constructor(doc: Y.Doc) {
		this.#doc = doc;
		this.#subscribe = createSubscriber((update) => {
			const view = new MessagesView(doc);
			const onTransaction = (tr: Y.Transaction) => {
				if (view.apply(tr)) update();
			};
			this.#view = view;
			doc.on('afterTransaction', onTransaction);
			return () => {
				doc.off('afterTransaction', onTransaction);
				this.#view = null;
			};
		});
	}

	get value(): Message[] {
		this.#subscribe();
		// Unobserved (read outside a reactive context), nothing keeps a view current: read afresh.
		return this.#view?.messages ?? readMessages(this.#doc);
	}
}
