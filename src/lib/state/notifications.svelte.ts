/**
 * System notifications and the app badge (docs/ARCHITECTURE.md, "Notifications").
 *
 * - Permission is asked only from a click (`enable()`), never on load.
 * - A new message from someone else, in a conversation the person is not looking at (another
 *   conversation, or this one while the window is hidden), shows one notification per
 *   conversation (tagged by conversation, so a burst replaces rather than stacks).
 * - Messages that were already there when the app opened never notify: only growth seen while
 *   running does (after a long time offline, that is one notification per conversation).
 * - The app badge shows the unread total where the platform has `navigator.setAppBadge`.
 */
import { compareIds, decodeMentions } from '$lib/model';
import type { ConversationItem, IncomingMessage } from './conversation-list.svelte';

export type Permission = 'default' | 'granted' | 'denied' | 'unsupported';

/** Where notifications go: the service worker's registration, or `new Notification`. */
export interface NotificationSink {
	permission(): Permission;
	request(): Promise<Permission>;
	show(title: string, options: { body: string; tag: string; data: { url: string } }): void;
}

/** The browser's notifications, through the service worker where one controls the page. */
export function browserNotifications(): NotificationSink {
	const supported = typeof Notification !== 'undefined';
	return {
		permission: () => (supported ? Notification.permission : 'unsupported'),
		request: async () => (supported ? await Notification.requestPermission() : 'unsupported'),
		show(title, options) {
			const fallback = () => new Notification(title, { ...options, icon: '/icon-192.png' });
			// The service worker's notifications survive the tab and open the app when clicked.
			const registration = navigator.serviceWorker?.controller
				? navigator.serviceWorker.ready
				: null;
			if (!registration) return void fallback();
			registration
				.then((r) => r.showNotification(title, { ...options, icon: '/icon-192.png' }))
				.catch(fallback);
		}
	};
}

/** The text of a notification for one message (mentions as `@Name`, by `nameOf`). */
export function notificationBody(
	message: IncomingMessage,
	nameOf: (userId: string) => string | null = () => null
): string {
	const text = decodeMentions(message.content, nameOf).trim().replace(/\s+/g, ' ');
	if (text) return text.length > 140 ? `${text.slice(0, 139)}…` : text;
	if (message.isVoice) return 'Sent a voice message';
	if (message.hasAttachments) return 'Sent a file';
	return 'Sent a message';
}

const ENABLED_KEY = 'kith:notifications';

export interface NotifierOptions {
	/** A person's display name. */
	name: (userId: string) => string;
	/** The conversation on screen, if any. */
	current: () => string | null;
	/** Whether the window is visible (`document.visibilityState`). */
	visible: () => boolean;
	/** Where clicking the notification leads. */
	url: (conversationId: string) => string;
	/** Where the on/off choice is kept. */
	storage?: Pick<Storage, 'getItem' | 'setItem'> | null;
}

/**
 * Watches the conversation list and notifies.
 *
 * @example
 * const notifier = new MessageNotifier(sink, { storage: localStorage, ... });
 * $effect(() => notifier.update(list.items)); // every change of the list
 */
export class MessageNotifier {
	/** The permission, as the settings page shows it. */
	permission = $state<Permission>('default');
	/** The person turned notifications on here (and may turn them off without the browser). */
	enabled = $state(false);
	readonly #sink: NotificationSink;
	readonly #storage: Pick<Storage, 'getItem' | 'setItem'> | null;
	// What was last seen per conversation: bookkeeping, never rendered.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	readonly #seen = new Map<string, string | null>();
	readonly #options: NotifierOptions;

	constructor(sink: NotificationSink, options: NotifierOptions) {
		this.#sink = sink;
		this.#storage = options.storage ?? null;
		this.#options = options;
		this.permission = sink.permission();
		this.enabled = this.permission === 'granted' && this.#storage?.getItem(ENABLED_KEY) === 'on';
	}

	/** Asks for permission (call from a click) and turns notifications on when granted. */
	async enable(): Promise<Permission> {
		this.permission = await this.#sink.request();
		this.enabled = this.permission === 'granted';
		this.#storage?.setItem(ENABLED_KEY, this.enabled ? 'on' : 'off');
		return this.permission;
	}

	disable(): void {
		this.enabled = false;
		this.#storage?.setItem(ENABLED_KEY, 'off');
	}

	/** Compares the list with what was seen before and notifies for what is new. */
	update(items: readonly ConversationItem[]): void {
		for (const item of items) {
			if (item.freed) continue;
			const newest = item.newestFromOthers;
			if (!this.#seen.has(item.id)) {
				// First sight (app start, or a conversation just listed): a baseline, not news.
				this.#seen.set(item.id, newest?.id ?? null);
				continue;
			}
			const before = this.#seen.get(item.id) ?? null;
			if (!newest || (before !== null && compareIds(newest.id, before) <= 0)) continue;
			this.#seen.set(item.id, newest.id);
			if (!this.enabled || this.#sink.permission() !== 'granted') continue;
			const looking = this.#options.current() === item.id && this.#options.visible();
			if (looking) continue;
			const who = this.#options.name(newest.created_by);
			const where = item.kind === 'dm' ? who : `${who} in #${item.label}`;
			this.#sink.show(where, {
				body: notificationBody(newest, (u) => this.#options.name(u)),
				tag: `kith:${item.id}`,
				data: { url: this.#options.url(item.id) }
			});
		}
	}
}

/** Sets the app badge to the unread total where the platform has one; 0 clears it. */
export function setAppBadge(total: number, nav: Navigator | null = globalThis.navigator ?? null) {
	if (!nav || typeof nav.setAppBadge !== 'function') return;
	const done = total > 0 ? nav.setAppBadge(total) : nav.clearAppBadge();
	// A platform may refuse (no installed app): the badge is a nicety, never an error.
	done.catch(() => {});
}
