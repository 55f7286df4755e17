import { createSubscriber } from 'svelte/reactivity';
import type * as Y from 'yjs';

/**
 * A reactive, read-only view of a Y.Doc: `value` is `read(doc)`, recomputed at most once per
 * Yjs transaction and only while something reactive reads it (createSubscriber: the document
 * is observed only while shown, and the observer is removed when nothing reads it any more).
 *
 * @example
 * const messages = new DocSnapshot(doc, readMessages);
 * // in a component: {#each messages.value as m (m.id)} …
 */
export class DocSnapshot<T> {
	readonly #doc: Y.Doc;
	readonly #read: (doc: Y.Doc) => T;
	readonly #subscribe: () => void;
	#value: T | undefined;
	#stale = true;
	#observing = false;

	constructor(doc: Y.Doc, read: (doc: Y.Doc) => T) {
		this.#doc = doc;
		this.#read = read;
		this.#subscribe = createSubscriber((update) => {
			// Yjs calls afterTransaction once per transaction: one recompute per change at most.
			const onTransaction = () => {
				this.#stale = true;
				update();
			};
			doc.on('afterTransaction', onTransaction);
			this.#observing = true;
			this.#stale = true;
			return () => {
				doc.off('afterTransaction', onTransaction);
				this.#observing = false;
			};
		});
	}

	get value(): T {
		this.#subscribe();
		// Unobserved (read outside a reactive context), nothing marks it stale: read afresh.
		if (this.#stale || !this.#observing || this.#value === undefined) {
			this.#value = this.#read(this.#doc);
			this.#stale = false;
		}
		return this.#value;
	}
}
