import type { Presence } from './presence.svelte';

/** Sends a typing mark at most this often while the person keeps typing. */
export const TYPING_THROTTLE_MS = 2_000;

/** "Ada is typing…", "Ada and Bo are typing…", "Several people are typing…", or ''. */
export function typingText(names: readonly string[]): string {
	if (names.length === 0) return '';
	if (names.length === 1) return `${names[0]} is typing…`;
	if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
	return 'Several people are typing…';
}

/**
 * Typing in one conversation: who else is typing there, and this person's keystrokes,
 * throttled, as awareness marks.
 */
export class TypingState {
	readonly #presence: Presence;
	readonly #conversationId: string;
	readonly #nameOf: (id: string) => string;
	#lastSent = 0;

	readonly text = $derived(typingText(this.others.map((id) => this.#nameOf(id))));

	constructor(presence: Presence, conversationId: string, nameOf: (id: string) => string) {
		this.#presence = presence;
		this.#conversationId = conversationId;
		this.#nameOf = nameOf;
	}

	get others(): string[] {
		return this.#presence.typingIn(this.#conversationId);
	}

	keystroke(now = Date.now()): void {
		if (now - this.#lastSent < TYPING_THROTTLE_MS) return;
		this.#lastSent = now;
		this.#presence.setTyping(this.#conversationId);
	}

	stop(): void {
		this.#lastSent = 0;
		this.#presence.setTyping(null);
	}
}
