import { createSubscriber } from 'svelte/reactivity';
import type { Awareness } from 'y-protocols/awareness';
import type { PresenceState } from '$lib/model';

/** How long a "typing" mark lasts without another keystroke. */
export const TYPING_TIMEOUT_MS = 5_000;

/**
 * Presence and typing from the workspace document's awareness (the seed's `user_status`):
 * who is online, who is typing where. Observes the awareness only while something shows it.
 *
 * @example
 * const presence = new Presence(opener.awareness?.('workspace') ?? null, me);
 * presence.announce({ id: me, name: 'Ada', color: '#2563eb' });
 * presence.isOnline(userId); presence.typingIn(conversationId)
 */
export class Presence {
	readonly #awareness: Awareness | null;
	readonly #me: string;
	readonly #subscribe: () => void;
	#typingTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(awareness: Awareness | null, me: string) {
		this.#awareness = awareness;
		this.#me = me;
		this.#subscribe = createSubscriber((update) => {
			if (!awareness) return;
			awareness.on('change', update);
			return () => awareness.off('change', update);
		});
	}

	#states(): PresenceState[] {
		this.#subscribe();
		if (!this.#awareness) return [];
		const out: PresenceState[] = [];
		for (const state of this.#awareness.getStates().values()) {
			const user = (state as Partial<PresenceState>).user;
			if (user && typeof user.id === 'string') out.push(state as PresenceState);
		}
		return out;
	}

	/** Ids of everyone present now. This device counts itself as present. */
	get online(): string[] {
		return unique([this.#me, ...this.#states().map((s) => s.user.id)]);
	}

	isOnline(userId: string): boolean {
		return userId === this.#me || this.#states().some((s) => s.user.id === userId);
	}

	/** Who (other than this person) is typing in a conversation. */
	typingIn(conversationId: string): string[] {
		const ids = this.#states()
			.filter((s) => s.typing === conversationId && s.user.id !== this.#me)
			.map((s) => s.user.id);
		return unique(ids);
	}

	/** Publishes who this device is. */
	announce(user: PresenceState['user']): void {
		this.#awareness?.setLocalStateField('user', user);
	}

	/** Marks this person as typing in a conversation (cleared after a pause), or not typing. */
	setTyping(conversationId: string | null): void {
		clearTimeout(this.#typingTimer);
		const current = (this.#awareness?.getLocalState() as Partial<PresenceState> | null)?.typing;
		if ((current ?? null) !== conversationId)
			this.#awareness?.setLocalStateField('typing', conversationId);
		if (conversationId !== null)
			this.#typingTimer = setTimeout(() => this.setTyping(null), TYPING_TIMEOUT_MS);
	}

	destroy(): void {
		clearTimeout(this.#typingTimer);
	}
}

function unique(ids: string[]): string[] {
	return ids.filter((id, i) => ids.indexOf(id) === i);
}
