import { untrack } from 'svelte';
import { SvelteMap, SvelteSet, createSubscriber } from 'svelte/reactivity';
import type * as Y from 'yjs';
import { compareIds, conversationDocName, type ConversationMeta } from '$lib/model';
import {
	readSummary,
	SummaryView,
	type ConversationSummary,
	type IncomingMessage
} from './conversation-summary';
import { materializeConversation } from './conversation.svelte';
import type { DocOpener } from './doc-opener';
import { countAfter, type ReadMarkers } from './read-markers.svelte';
import type { WorkspaceDirectory } from './workspace.svelte';
import { handleError } from './errors.svelte';

export { readSummary, type ConversationSummary, type IncomingMessage };

/**
 * One conversation's summary for the list, kept by {@link SummaryView} while something shows
 * it: a post costs what it changed, not the size of the conversation.
 */
class LiveSummary {
	readonly #doc: Y.Doc;
	readonly #me: string;
	readonly #subscribe: () => void;
	#view: SummaryView | null = null;

	constructor(doc: Y.Doc, me: string) {
		this.#doc = doc;
		this.#me = me;
		this.#subscribe = createSubscriber((update) => {
			const view = new SummaryView(doc, me);
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

	get value(): ConversationSummary {
		this.#subscribe();
		// Unobserved (read outside a reactive context), nothing keeps a view current: read afresh.
		return this.#view?.summary ?? readSummary(this.#doc, this.#me);
	}
}

/** One row of the sidebar. */
export interface ConversationItem {
	id: string;
	kind: ConversationMeta['kind'];
	/** `general`, or the other person's display name for a direct message. */
	label: string;
	/** The other person of a direct message. */
	otherUserId: string | null;
	unread: number;
	/** Unread messages that mention me (counted apart in the sidebar). */
	mentions: number;
	lastMessageId: string | null;
	newestFromOthers: IncomingMessage | null;
	/** Its storage on this device was freed: listed, not open, restored from the relay when opened. */
	freed?: boolean;
}

/** What the sidebar keeps of a freed conversation (its document is not open). */
export interface FreedConversation {
	id: string;
	kind: ConversationMeta['kind'];
	label: string;
	otherUserId: string | null;
}

/**
 * Conversations whose storage on this device was freed (settings, "Free space"): the list shows
 * them without opening their documents, until the person opens one again.
 */
export class FreedConversations {
	readonly #key: string;
	readonly #storage: Pick<Storage, 'getItem' | 'setItem'> | null;
	readonly entries: SvelteMap<string, FreedConversation>;

	constructor(me: string, storage: Pick<Storage, 'getItem' | 'setItem'> | null = null) {
		this.#key = `kith:freed:${me}`;
		this.#storage = storage;
		let stored: unknown = [];
		try {
			stored = JSON.parse(storage?.getItem(this.#key) ?? '[]');
		} catch {
			// A damaged list only means the conversations are opened (and synced) again.
		}
		const valid = (Array.isArray(stored) ? stored : []).filter(
			(x): x is FreedConversation =>
				typeof x === 'object' &&
				x !== null &&
				typeof x.id === 'string' &&
				typeof x.label === 'string' &&
				['channel', 'group', 'dm'].includes(x.kind)
		);
		this.entries = new SvelteMap(valid.map((f) => [f.id, f]));
	}

	has(id: string): boolean {
		return this.entries.has(id);
	}

	add(entry: FreedConversation): void {
		this.entries.set(entry.id, entry);
		this.#save();
	}

	/** The person opened it again: it is synced and stored as before. */
	restore(id: string): void {
		if (this.entries.delete(id)) this.#save();
	}

	#save(): void {
		this.#storage?.setItem(this.#key, JSON.stringify([...this.entries.values()]));
	}
}

/**
 * Conversation ids this device has created or opened, so they are listed even before the
 * relay lists them in the person's inbox (offline, or a relay not reached yet).
 */
export class KnownConversations {
	readonly #key: string;
	readonly #storage: Pick<Storage, 'getItem' | 'setItem'> | null;
	readonly ids: SvelteSet<string>;

	constructor(me: string, storage: Pick<Storage, 'getItem' | 'setItem'> | null = null) {
		this.#key = `kith:known:${me}`;
		this.#storage = storage;
		let stored: unknown = [];
		try {
			stored = JSON.parse(storage?.getItem(this.#key) ?? '[]');
		} catch {
			// Only a cache of ids: start over.
		}
		this.ids = new SvelteSet(
			Array.isArray(stored) ? stored.filter((x) => typeof x === 'string') : []
		);
	}

	add(id: string): void {
		if (this.ids.has(id)) return;
		this.ids.add(id);
		this.#storage?.setItem(this.#key, JSON.stringify([...this.ids]));
	}
}

interface Open {
	doc: Y.Doc;
	summary: LiveSummary;
}

/**
 * The person's conversations (channels they belong to and direct messages) with unread counts.
 * It opens the document of every candidate through the opener, and releases them on
 * `destroy()`. The candidates are the conversations the relay lists in the person's inbox
 * (`inbox:<me>`, written by the relay as it accepts membership changes: a direct message
 * someone else started arrives this way) and the ids this device knows: never one document
 * per public channel or per person, which would hold a relay connection for each (a
 * workspace of 500 people would open 500 sockets per device).
 *
 * @example
 * const list = new ConversationList(opener, directory, markers, known, freed, inbox);
 * list.channels; list.directMessages; list.unread(id)
 */
export class ConversationList {
	readonly #opener: DocOpener;
	readonly #directory: WorkspaceDirectory;
	readonly #markers: ReadMarkers;
	readonly #known: KnownConversations;
	readonly #freed: FreedConversations;
	readonly #inbox: { readonly value: readonly string[] } | null;
	readonly #open = new SvelteMap<string, Open>();
	// Bookkeeping of in-flight opens, never rendered: deliberately not reactive.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	readonly #pending = new Set<string>();
	readonly #stop: () => void;
	#destroyed = false;

	readonly #candidates = $derived.by(() => {
		// Built whole on each change and never mutated after: a plain Set is right here.
		// eslint-disable-next-line svelte/prefer-svelte-reactivity
		const ids = new Set<string>(this.#known.ids);
		for (const id of this.#inbox?.value ?? []) ids.add(id);
		for (const id of this.#freed.entries.keys()) ids.delete(id);
		return ids;
	});

	readonly items: ConversationItem[] = $derived.by(() => {
		const me = this.#directory.me;
		const out: ConversationItem[] = [];
		for (const [id, { summary }] of this.#open) {
			// Freed but not yet released: listed below, once.
			if (this.#freed.has(id)) continue;
			const s = summary.value;
			if (!s.meta || !s.memberIds.includes(me)) continue;
			const other = s.meta.kind === 'dm' ? (s.memberIds.find((m) => m !== me) ?? me) : null;
			out.push({
				id,
				kind: s.meta.kind,
				label: other !== null ? this.#directory.name(other) : (s.meta.name ?? id),
				otherUserId: other,
				unread: countAfter(s.othersMessageIds, this.#markers.get(id)),
				mentions: countAfter(s.mentionIds, this.#markers.get(id)),
				lastMessageId: s.lastMessageId,
				newestFromOthers: s.newestFromOthers
			});
		}
		for (const f of this.#freed.entries.values())
			out.push({
				...f,
				unread: 0,
				mentions: 0,
				lastMessageId: null,
				newestFromOthers: null,
				freed: true
			});
		return out.sort((a, b) => a.label.localeCompare(b.label) || compareIds(a.id, b.id));
	});

	readonly channels = $derived(this.items.filter((i) => i.kind !== 'dm'));
	readonly directMessages = $derived(this.items.filter((i) => i.kind === 'dm'));

	constructor(
		opener: DocOpener,
		directory: WorkspaceDirectory,
		markers: ReadMarkers,
		known: KnownConversations,
		freed: FreedConversations = new FreedConversations(''),
		/** The person's inbox (`readInbox` of `inbox:<me>`, reactive); null: known ids only. */
		inbox: { readonly value: readonly string[] } | null = null
	) {
		this.#opener = opener;
		this.#directory = directory;
		this.#markers = markers;
		this.#known = known;
		this.#freed = freed;
		this.#inbox = inbox;
		this.#stop = $effect.root(() => {
			$effect(() => {
				const wanted = this.#candidates;
				untrack(() => this.#reconcile(wanted));
			});
		});
	}

	/** The item of a conversation, when the person is in it. */
	item(id: string): ConversationItem | undefined {
		return this.items.find((i) => i.id === id);
	}

	/** Resolves once every candidate document has been opened (tests, first paint). */
	async settled(): Promise<void> {
		while (this.#pending.size > 0) await new Promise((r) => setTimeout(r, 5));
	}

	#reconcile(wanted: ReadonlySet<string>): void {
		for (const id of wanted) {
			if (this.#open.has(id) || this.#pending.has(id)) continue;
			this.#pending.add(id);
			const name = conversationDocName(id);
			this.#opener.open(name).then(
				(doc) => {
					this.#pending.delete(id);
					if (this.#destroyed) return this.#opener.release(name);
					const me = this.#directory.me;
					materializeConversation(doc);
					this.#open.set(id, { doc, summary: new LiveSummary(doc, me) });
				},
				(e: unknown) => {
					this.#pending.delete(id);
					handleError(e, 'Opening a conversation');
				}
			);
		}
		for (const id of [...this.#open.keys()]) {
			if (wanted.has(id)) continue;
			this.#open.delete(id);
			this.#opener.release(conversationDocName(id));
		}
	}

	destroy(): void {
		this.#destroyed = true;
		this.#stop();
		for (const id of this.#open.keys()) this.#opener.release(conversationDocName(id));
		this.#open.clear();
	}
}
