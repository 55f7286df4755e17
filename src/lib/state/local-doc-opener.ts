import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { WORKSPACE_DOC, parseDocName } from '$lib/model';
import type { KithDb } from '$lib/db';
import { LocalDoc, openConversation } from '$lib/sync';
import type { DocOpener } from './doc-opener';

interface Entry {
	doc: Y.Doc;
	ready: Promise<Y.Doc>;
	users: number;
	close: () => Promise<void>;
	awareness: Awareness | null;
}

/** Attaches storage to a fresh document: `ready` once loaded, `close` once written and detached. */
export type Persist = (
	name: string,
	doc: Y.Doc
) => { ready: Promise<void>; close: () => Promise<void> };

/**
 * Opens documents with reference counting: one Y.Doc per name, closed when its last user
 * releases it. Reopening a name waits until its previous storage has finished closing, so the
 * new copy loads everything the old one wrote.
 */
export class RefCountedOpener implements DocOpener {
	readonly #entries = new Map<string, Entry>();
	readonly #closing = new Map<string, Promise<void>>();
	readonly #persist: Persist;

	constructor(persist: Persist) {
		this.#persist = persist;
	}

	open(name: string): Promise<Y.Doc> {
		let entry = this.#entries.get(name);
		if (!entry) {
			const doc = new Y.Doc();
			// Presence lives on the workspace document (docs/ARCHITECTURE.md).
			const awareness = name === WORKSPACE_DOC ? new Awareness(doc) : null;
			let close: () => Promise<void> = () => Promise.resolve();
			const previous = this.#closing.get(name) ?? Promise.resolve();
			const ready = previous.then(async () => {
				const attached = this.#persist(name, doc);
				close = attached.close;
				await attached.ready;
				return doc;
			});
			entry = { doc, ready, users: 0, close: () => ready.then(() => close()), awareness };
			this.#entries.set(name, entry);
		}
		entry.users++;
		return entry.ready;
	}

	release(name: string): void {
		const entry = this.#entries.get(name);
		if (!entry) return;
		entry.users--;
		if (entry.users > 0) return;
		this.#entries.delete(name);
		entry.awareness?.destroy();
		const closed = entry
			.close()
			.catch(() => {})
			.finally(() => {
				entry.doc.destroy();
				if (this.#closing.get(name) === closed) this.#closing.delete(name);
			});
		this.#closing.set(name, closed);
	}

	awareness(name: string): Awareness | null {
		return this.#entries.get(name)?.awareness ?? null;
	}

	/** How many documents are open (tests). */
	get openCount(): number {
		return this.#entries.size;
	}
}

/**
 * Documents on this device alone: each opened from IndexedDB by the sync layer's `LocalDoc`
 * (y-indexeddb's store layout, with its gaps closed), and each conversation also fed into the
 * Dexie index through `openConversation` when a database is given.
 *
 * TODO(integrator): add the relay here (a provider per document once it is loaded, and its
 * awareness for `workspace`); nothing above this module changes, it only sees {@link DocOpener}.
 */
export function deviceOpener(
	options: { db?: KithDb | null; onError?: (error: unknown) => void } = {}
): RefCountedOpener {
	const onError = options.onError ?? ((e: unknown) => console.error(e));
	const db = options.db ?? null;
	return new RefCountedOpener((name, doc) => {
		const parsed = parseDocName(name);
		if (db && parsed?.kind === 'conversation') {
			const opened = openConversation(db, parsed.id, { doc, onError });
			return {
				ready: opened.then(() => undefined),
				close: () => opened.then((c) => c.close()).catch(onError)
			};
		}
		const local = new LocalDoc(name, doc, { onError });
		return { ready: local.whenLoaded, close: () => local.close().catch(onError) };
	});
}

/**
 * Documents in memory only, kept across close and reopen like storage would (tests, and a
 * fallback when IndexedDB is unavailable).
 */
export function memoryOpener(): RefCountedOpener {
	const stored = new Map<string, Uint8Array>();
	return new RefCountedOpener((name, doc) => {
		const saved = stored.get(name);
		if (saved) Y.applyUpdate(doc, saved, { kind: 'storage' });
		return {
			ready: Promise.resolve(),
			close: () => {
				stored.set(name, Y.encodeStateAsUpdate(doc));
				return Promise.resolve();
			}
		};
	});
}
