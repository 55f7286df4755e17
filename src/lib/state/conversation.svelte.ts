import { createSubscriber } from 'svelte/reactivity';
import type * as Y from 'yjs';
import type { IndexPage } from '$lib/db';
import type { DeliveryTracker, DeviceHoldings } from '$lib/sync';
import {
	addMember,
	AppendList,
	conversationTypes,
	deleteMessage,
	editMessage,
	findMessage,
	messageById,
	postMessage,
	postReply,
	readMembers,
	readMeta,
	readThread,
	removeMember,
	toggleReaction,
	type ConversationMeta,
	type FileAttachment,
	type Member,
	type Message,
	type MessageRecord
} from '$lib/model';
import { DocSnapshot } from './doc-snapshot.svelte';
import { LiveMessages } from './live-messages.svelte';

/**
 * Gives the document's top-level types their real Y types now, outside any reactive context.
 * Yjs keeps types that arrived in an update before anyone asked for them as placeholders, and
 * the first `doc.getArray(...)` converts them inside a transaction: done lazily by a reader in
 * a `$derived`, that transaction would update state mid-derivation (state_unsafe_mutation).
 */
export function materializeConversation(doc: Y.Doc): void {
	conversationTypes(doc);
}

/** An action on a conversation whose document has not loaded yet (index first, below). */
export class ConversationOpeningError extends Error {
	constructor() {
		super('The conversation is still opening on this device. Try again in a moment.');
		this.name = 'ConversationOpeningError';
	}
}

/**
 * A conversation shown from the index while its document loads (docs/ARCHITECTURE.md, "Index
 * first"): its newest page, and the load that ends it, resolving with what the loaded document
 * brings (delivery tracking and holdings, when a relay is connected).
 */
export interface OpeningConversation {
	page: IndexPage;
	loaded: Promise<{ delivery: DeliveryTracker | null; holdings: DeviceHoldings | null }>;
}

/**
 * One conversation as shown: its meta, members and messages (observed only while shown), and
 * the person's actions on it, each a model operation. Actions throw the model's
 * ValidationError; callers route it through `handleError`.
 *
 * @example
 * const c = new ConversationState(doc, me);
 * c.messages.at(-1); c.post('hello'); c.react(id, '👍')
 */
export class ConversationState {
	readonly doc: Y.Doc;
	readonly me: string;
	readonly #meta: DocSnapshot<ConversationMeta | null>;
	readonly #members: DocSnapshot<Member[]>;
	readonly #messages: LiveMessages;

	readonly isMember = $derived(this.members.some((m) => m.user_id === this.me));
	/** The person's newest message that can still be edited (Up on an empty composer). */
	readonly lastOwnMessage = $derived(
		this.messages.findLast((m) => m.created_by === this.me && m.deleted_at === null)
	);

	// Both arrive with the document when it opened index first: state, so readers re-subscribe.
	#delivery: DeliveryTracker | null = $state.raw(null);
	#subscribeDelivery: () => void = $state.raw(() => {});
	#holdings: DeviceHoldings | null = $state.raw(null);
	#subscribeHoldings: () => void = $state.raw(() => {});
	/** The index's page while the document loads; null once it is live (or opened loaded). */
	#page: IndexPage | null = $state.raw(null);
	readonly #pageMessages = $derived(this.#page ? AppendList.of([...this.#page.messages]) : null);
	readonly #live: Promise<void>;
	// Rebuilt whole from the members snapshot, never mutated: a plain Set is right here.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	readonly #memberIds = $derived(new Set(this.members.map((m) => m.user_id)));

	constructor(
		doc: Y.Doc,
		me: string,
		delivery: DeliveryTracker | null = null,
		holdings: DeviceHoldings | null = null,
		/** Show the index's page until the document (still loading: do not write to it) is in. */
		opening: OpeningConversation | null = null
	) {
		this.doc = doc;
		this.me = me;
		this.#track(delivery, holdings);
		// An empty document's types are created empty; the load then integrates into them.
		materializeConversation(doc);
		this.#meta = new DocSnapshot(doc, readMeta);
		this.#members = new DocSnapshot(doc, readMembers);
		this.#messages = new LiveMessages(doc);
		if (!opening) {
			this.#live = Promise.resolve();
			return;
		}
		this.#page = opening.page;
		this.#live = opening.loaded.then(({ delivery, holdings }) => {
			this.#track(delivery, holdings);
			this.beforeLive?.();
			// The readers below subscribe to the document only now, after its load's transaction.
			this.#page = null;
		});
		// A failed load was reported by the opener; the page stays, read-only.
		this.#live.catch(() => {});
	}

	#track(delivery: DeliveryTracker | null, holdings: DeviceHoldings | null): void {
		this.#delivery = delivery;
		this.#subscribeDelivery = createSubscriber((update) => delivery?.onChange(() => update()));
		this.#holdings = holdings;
		this.#subscribeHoldings = createSubscriber((update) => holdings?.onChange(() => update()));
	}

	/** Called just before the view switches from the index's page to the document (scroll anchor). */
	beforeLive: (() => void) | null = null;

	/** Whether the document is in (false while the index's page stands in for it). */
	get live(): boolean {
		return this.#page === null;
	}

	/** Resolves once the document is in and the view shows it (rejects if it failed to load). */
	get whenLive(): Promise<void> {
		return this.#live;
	}

	get meta(): ConversationMeta | null {
		return this.#page ? this.#page.meta : this.#meta.value;
	}

	get members(): Member[] {
		return this.#page ? this.#page.members : this.#members.value;
	}

	/** Top-level messages, oldest first, with edits, reactions and reply counts merged. */
	get messages(): AppendList<Message> {
		return this.#pageMessages ?? this.#messages.value;
	}

	/**
	 * Whether the relay has durably stored a message (its acknowledgement covers it). Without a
	 * relay, or before the device knows what the relay stored, nothing is claimed as delivered.
	 */
	isDelivered(messageId: string): boolean {
		this.#subscribeDelivery();
		return this.#delivery?.isStored(messageId) ?? false;
	}

	/**
	 * How many of the members' other devices hold a message, from the state vectors they publish
	 * (src/lib/sync/holdings.ts); 0 when unknown.
	 */
	heldBy(messageId: string): number {
		this.#subscribeHoldings();
		this.#subscribeDelivery();
		if (!this.#holdings || !this.#delivery) return 0;
		return this.#holdings.count(this.#delivery.refsOf(messageId), this.#memberIds);
	}

	/** Whether delivery is tracked at all (a relay is connected to this conversation). */
	get tracksDelivery(): boolean {
		return this.#delivery !== null;
	}

	/** Writing before the document is in would validate against an empty one. */
	#writable(): void {
		if (this.#page) throw new ConversationOpeningError();
	}

	/** Posts a message; `extra` carries its files or voice recording (files.svelte.ts). */
	post(
		content: string,
		extra: { file_attachments?: FileAttachment[]; audio_url?: string } = {}
	): MessageRecord {
		this.#writable();
		return postMessage(this.doc, { content, created_by: this.me, ...extra });
	}

	reply(
		parentId: string,
		content: string,
		extra: { file_attachments?: FileAttachment[]; audio_url?: string } = {}
	): MessageRecord {
		this.#writable();
		return postReply(this.doc, parentId, { content, created_by: this.me, ...extra });
	}

	edit(id: string, content: string): void {
		this.#writable();
		editMessage(this.doc, id, { content, edited_by: this.me });
	}

	remove(id: string): void {
		this.#writable();
		deleteMessage(this.doc, id, { deleted_by: this.me });
	}

	/** Toggles this person's reaction; returns whether it is now on. */
	react(id: string, emoji: string): boolean {
		this.#writable();
		return toggleReaction(this.doc, id, { emoji, user_id: this.me });
	}

	/**
	 * Where a message is in this conversation: `parentId` null for a top-level message, its
	 * thread's parent for a reply; null when the document holds no such message.
	 */
	placeOf(id: string): { parentId: string | null } | null {
		const found = findMessage(conversationTypes(this.doc), id);
		return found ? { parentId: found.record.parent_message_id } : null;
	}

	addMembers(userIds: readonly string[]): void {
		this.#writable();
		for (const user_id of userIds) addMember(this.doc, { user_id, added_by: this.me });
	}

	join(): void {
		this.#writable();
		addMember(this.doc, { user_id: this.me, added_by: this.me });
	}

	leave(): void {
		this.#writable();
		removeMember(this.doc, { user_id: this.me, removed_by: this.me });
	}
}

/**
 * One thread: its parent (from the conversation's messages) and its replies (observed only
 * while the panel shows them).
 */
export class ThreadState {
	readonly conversation: ConversationState;
	readonly parentId: string;
	readonly #replies: DocSnapshot<Message[]>;

	// Binary search: this runs on every change to the messages while the thread is open.
	readonly parent = $derived.by(() => messageById(this.conversation.messages, this.parentId));
	readonly lastOwnReply = $derived.by(() =>
		this.replies.findLast((m) => m.created_by === this.conversation.me && m.deleted_at === null)
	);

	constructor(conversation: ConversationState, parentId: string) {
		this.conversation = conversation;
		this.parentId = parentId;
		this.#replies = new DocSnapshot(conversation.doc, (doc) => readThread(doc, parentId));
	}

	get replies(): Message[] {
		return this.#replies.value;
	}

	post(
		content: string,
		extra: { file_attachments?: FileAttachment[]; audio_url?: string } = {}
	): MessageRecord {
		return this.conversation.reply(this.parentId, content, extra);
	}
}
