import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { WORKSPACE_DOC, parseDocName } from '$lib/model';
import type { KithDb } from '$lib/db';
import {
	DeliveryTracker,
	DeviceHoldings,
	LocalDoc,
	TabSync,
	openConversation,
	type StoredVectorStore
} from '$lib/sync';
import type { RelayLink, RelaySession } from '$lib/sync/relay';
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
	doc: Y.Doc,
	awareness: Awareness | null
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
	/** The delivery tracker of an open conversation, when a relay is connected. */
	delivery: (name: string) => DeliveryTracker | null = () => null;
	/** Which devices hold an open conversation's messages, when a relay is connected. */
	holdings: (name: string) => DeviceHoldings | null = () => null;

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
				const attached = this.#persist(name, doc, awareness);
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

	/** Resolves once a released document's storage has finished closing (at once if open or unknown). */
	closed(name: string): Promise<void> {
		return this.#closing.get(name) ?? Promise.resolve();
	}

	/** Whether anyone holds the document open. */
	isOpen(name: string): boolean {
		return this.#entries.has(name);
	}

	/** The document of an open name, loaded or not. */
	loading(name: string): Y.Doc | null {
		return this.#entries.get(name)?.doc ?? null;
	}

	/** Set by {@link deviceOpener}; without storage there is nothing to defer. */
	deferApplies: (until: Promise<unknown>) => void = () => {};

	awareness(name: string): Awareness | null {
		return this.#entries.get(name)?.awareness ?? null;
	}

	/** How many documents are open (tests). */
	get openCount(): number {
		return this.#entries.size;
	}
}

/** What the opener needs of the relay (src/lib/sync/relay.ts's RelaySession). */
export interface RelayOptions {
	session: RelaySession;
	/** Where each conversation's last acknowledged state vector is kept on the device. */
	storedVectors: StoredVectorStore;
	/**
	 * Who this device is, for publishing which messages it holds (src/lib/sync/holdings.ts);
	 * without it nothing is published or counted.
	 */
	device?: { user: string; id: string; storage: Pick<Storage, 'getItem' | 'setItem'> | null };
}

/**
 * The longest a conversation's stored records wait for a first paint (`deferApplies`): only
 * reached when that paint never comes (it normally takes well under a second).
 */
const MAX_DEFER_APPLY_MS = 5_000;

const capped = (until: Promise<unknown>): Promise<unknown> =>
	Promise.race([until, new Promise((resolve) => setTimeout(resolve, MAX_DEFER_APPLY_MS))]);

/**
 * Documents on this device, and on the relay when one is given: each opened from IndexedDB
 * first by the sync layer's `LocalDoc` (y-indexeddb's store layout, with its gaps closed), each
 * conversation also fed into the Dexie index through `openConversation`; then, once loaded,
 * connected to the relay (the workspace with its awareness, for presence), with a
 * {@link DeliveryTracker} per conversation that knows which messages the relay has stored.
 */
export function deviceOpener(
	options: {
		db?: KithDb | null;
		relay?: RelayOptions | null;
		onError?: (error: unknown) => void;
		/**
		 * Hold conversations' stored records from the start until the first `deferApplies` has
		 * been released: the sidebar opens every conversation before the view of the one shown
		 * exists, and a long one's apply would otherwise come before that view's first paint.
		 */
		deferFromStart?: boolean;
	} = {}
): RefCountedOpener {
	const onError = options.onError ?? ((e: unknown) => console.error(e));
	const db = options.db ?? null;
	const relay = options.relay ?? null;
	const trackers = new Map<string, DeliveryTracker>();
	let releaseStart: (() => void) | null = null;
	let applyGate: Promise<unknown> = options.deferFromStart
		? capped(new Promise<void>((resolve) => (releaseStart = resolve)))
		: Promise.resolve();
	const holdings = new Map<string, DeviceHoldings>();
	const opener = new RefCountedOpener((name, doc, awareness) => {
		const parsed = parseDocName(name);
		let local: { ready: Promise<void>; close: () => Promise<void> };
		if (db && parsed?.kind === 'conversation') {
			const opened = openConversation(db, parsed.id, { doc, onError, applyAfter: () => applyGate });
			local = {
				ready: opened.then(() => undefined),
				close: () => opened.then((c) => c.close()).catch(onError)
			};
		} else {
			const stored = new LocalDoc(name, doc, { onError });
			local = { ready: stored.whenLoaded, close: () => stored.close().catch(onError) };
		}
		// Other tabs of this profile: in step from the moment the stored copy is loaded.
		const loaded = local;
		let tabs: TabSync | null = null;
		local = {
			ready: loaded.ready.then(() => {
				tabs = TabSync.attach(name, doc, { onError });
			}),
			close: () => {
				tabs?.destroy();
				return loaded.close();
			}
		};
		if (!relay) return local;
		let link: RelayLink | null = null;
		let tracker: DeliveryTracker | null = null;
		let held: DeviceHoldings | null = null;
		// The relay comes after the device's own copy has loaded: the first sync then sends only
		// what the relay lacks, and the UI never waits on the network.
		const ready = local.ready.then(() => {
			link = relay.session.connect(name, doc, awareness ?? undefined);
			if (parsed?.kind === 'conversation') {
				tracker = new DeliveryTracker(doc, {
					persist: { store: relay.storedVectors, docName: name },
					onError
				});
				tracker.attach(link);
				trackers.set(name, tracker);
				const device = relay.device;
				if (device) {
					held = new DeviceHoldings(doc, link.provider.awareness, {
						user: device.user,
						device: device.id,
						storage: device.storage,
						key: name
					});
					holdings.set(name, held);
				}
			}
		});
		return {
			ready,
			close: async () => {
				if (held) {
					holdings.delete(name);
					held.destroy();
				}
				if (tracker) {
					trackers.delete(name);
					await tracker.flush().catch(onError);
					tracker.destroy();
				}
				link?.destroy();
				await local.close();
			}
		};
	});
	opener.deferApplies = (until) => {
		applyGate = capped(until);
		const release = releaseStart;
		releaseStart = null;
		if (release) void applyGate.then(release);
	};
	opener.delivery = (name) => trackers.get(name) ?? null;
	opener.holdings = (name) => holdings.get(name) ?? null;
	return opener;
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
