import { SvelteMap } from 'svelte/reactivity';

type KeyStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * Unsent text per composer (a conversation, or a thread within it), kept on the device so a
 * draft survives switching conversations and reloading.
 */
export class Drafts {
	readonly #storage: KeyStore | null;
	readonly #prefix: string;
	readonly #texts = new SvelteMap<string, string>();

	constructor(me: string, storage: KeyStore | null = null) {
		this.#storage = storage;
		this.#prefix = `kith:draft:${me}:`;
	}

	get(key: string): string {
		// Reads may happen inside templates and deriveds: never write state here.
		const text = this.#texts.get(key);
		return text ?? this.#storage?.getItem(this.#prefix + key) ?? '';
	}

	set(key: string, text: string): void {
		if (text) {
			this.#texts.set(key, text);
			this.#storage?.setItem(this.#prefix + key, text);
		} else {
			this.#texts.set(key, '');
			this.#storage?.removeItem(this.#prefix + key);
		}
	}
}

/** What a key press in a composer means. */
export type ComposerAction = 'send' | 'newline' | 'edit-last' | 'cancel' | null;

export interface KeyLike {
	key: string;
	shiftKey: boolean;
	altKey: boolean;
	ctrlKey: boolean;
	metaKey: boolean;
	isComposing: boolean;
}

/**
 * Enter sends, Shift+Enter adds a line, Up on an empty composer edits the last own message,
 * Escape cancels. While an input method composes (Japanese, Chinese…), Enter belongs to it.
 */
export function composerAction(e: KeyLike, text: string): ComposerAction {
	if (e.isComposing) return null;
	if (e.key === 'Enter') return e.shiftKey || e.altKey ? 'newline' : 'send';
	if (e.key === 'ArrowUp' && text === '' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey)
		return 'edit-last';
	if (e.key === 'Escape') return 'cancel';
	return null;
}

/**
 * One composer's text, backed by the drafts.
 *
 * @example
 * const c = new ComposerState(drafts, 'conv:42');
 * c.text = 'hi'; c.submit((text) => conversation.post(text))
 */
export class ComposerState {
	readonly #drafts: Drafts;
	readonly key: string;

	constructor(drafts: Drafts, key: string) {
		this.#drafts = drafts;
		this.key = key;
	}

	get text(): string {
		return this.#drafts.get(this.key);
	}

	set text(value: string) {
		this.#drafts.set(this.key, value);
	}

	get canSend(): boolean {
		return this.text.trim() !== '';
	}

	/** Hands the trimmed text to `send`; clears the draft only when `send` did not throw. */
	submit(send: (text: string) => void): boolean {
		const text = this.text.trim();
		if (!text) return false;
		send(text);
		this.text = '';
		return true;
	}
}
