import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WORKSPACE_DOC } from '$lib/model';
import type { DocOpener } from './doc-opener';

interface Entry {
	doc: Y.Doc;
	ready: Promise<Y.Doc>;
	users: number;
	close: () => void;
	awareness: Awareness | null;
}

/**
 * Opens documents with reference counting: one Y.Doc per name, closed when its last user
 * releases it. `persist` attaches storage to a fresh document and resolves once the stored
 * state is loaded; it returns how to detach.
 */
export class RefCountedOpener implements DocOpener {
	readonly #entries = new Map<string, Entry>();
	readonly #persist: (name: string, doc: Y.Doc) => { ready: Promise<void>; close: () => void };

	constructor(persist: (name: string, doc: Y.Doc) => { ready: Promise<void>; close: () => void }) {
		this.#persist = persist;
	}

	open(name: string): Promise<Y.Doc> {
		let entry = this.#entries.get(name);
		if (!entry) {
			const doc = new Y.Doc();
			const { ready, close } = this.#persist(name, doc);
			// Presence lives on the workspace document (docs/ARCHITECTURE.md).
			const awareness = name === WORKSPACE_DOC ? new Awareness(doc) : null;
			entry = { doc, ready: ready.then(() => doc), users: 0, close, awareness };
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
		entry.close();
		entry.doc.destroy();
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
 * Documents kept in IndexedDB with y-indexeddb, nothing else: the device alone.
 *
 * TODO(integrator): replace with the sync layer's opener (src/lib/sync: local persistence
 * first, then the relay's provider and its awareness) once it exists; nothing above this
 * module needs to change, it only sees {@link DocOpener}.
 */
export function indexeddbOpener(prefix = 'kith:'): DocOpener {
	return new RefCountedOpener((name, doc) => {
		const persistence = new IndexeddbPersistence(prefix + name, doc);
		return {
			ready: persistence.whenSynced.then(() => undefined),
			close: () => void persistence.destroy()
		};
	});
}

/** Documents in memory only (tests, and a fallback when IndexedDB is unavailable). */
export function memoryOpener(): RefCountedOpener {
	return new RefCountedOpener(() => ({ ready: Promise.resolve(), close: () => {} }));
}
