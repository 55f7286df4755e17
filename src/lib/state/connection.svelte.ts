import { createSubscriber } from 'svelte/reactivity';
import type { RelaySession } from '$lib/sync/relay';
import type { ConnectionSource, ConnectionState } from './doc-opener';

/**
 * The connection state while Kith runs on the device alone: "local" while the browser is
 * online (there is no relay to reach yet), "offline" when it is not.
 *
 * TODO(integrator): the relay's provider gives the real state (connected / connecting /
 * offline, with its backoff); pass it to `Session` instead of this.
 */
export class LocalConnection implements ConnectionSource {
	readonly #subscribe: () => void;

	constructor() {
		this.#subscribe = createSubscriber((update) => {
			window.addEventListener('online', update);
			window.addEventListener('offline', update);
			return () => {
				window.removeEventListener('online', update);
				window.removeEventListener('offline', update);
			};
		});
	}

	get state(): ConnectionState {
		this.#subscribe();
		return navigator.onLine ? 'local' : 'offline';
	}

	get detail(): string | null {
		return this.state === 'local' ? 'No relay yet: everything is saved on this device.' : null;
	}
}

/**
 * The relay's connection state, as the status region shows it. "refused" (this device is not
 * invited, or a conversation closed to it) reads as offline with a reason.
 */
export class RelayConnection implements ConnectionSource {
	readonly #relay: RelaySession;
	readonly #subscribe: () => void;
	#refusal: string | null = null;

	constructor(relay: RelaySession) {
		this.#relay = relay;
		this.#subscribe = createSubscriber((update) => relay.onStatus(() => update()));
	}

	/** Records why the relay refused (shown as the detail while refused). */
	refused(reason: string): void {
		this.#refusal = reason;
	}

	get state(): ConnectionState {
		this.#subscribe();
		const status = this.#relay.status;
		return status === 'refused' ? 'offline' : status;
	}

	/** While documents are catching up after (re)connecting: how many are done of how many. */
	get catchingUp(): { done: number; total: number } | null {
		this.#subscribe();
		const { pending, total } = this.#relay.progress;
		return pending > 0 ? { done: total - pending, total } : null;
	}

	get detail(): string | null {
		this.#subscribe();
		switch (this.#relay.status) {
			case 'connected':
				return 'Messages are delivered to the relay as you send them.';
			case 'connecting':
				return 'Reaching the relay… Messages are kept on this device meanwhile.';
			case 'offline':
				return 'The relay cannot be reached. Keep writing: messages go out when it is back.';
			case 'refused':
				return `The relay refused this device${this.#refusal ? `: ${this.#refusal}` : ''}. Ask a member for an invite link.`;
		}
	}
}

/** What to tell the person when the relay closes a document for good (docs/PROTOCOL.md). */
export function refusalMessage(doc: string, code: number, reason: string): string {
	const what = doc === 'workspace' ? 'the workspace' : 'this conversation';
	switch (code) {
		case 403:
		case 4403:
			return `The relay does not let this device open ${what}: you are not a member. Ask a member to add you.`;
		case 4410:
			return `You were removed from ${what}; what you already had stays on this device.`;
		case 4413:
			return `${what} has reached the relay's size limit; new messages stay on this device.`;
		case 4422:
			return `The relay refused a change to ${what}${reason ? ` (${reason})` : ''}; it stays on this device only.`;
		default:
			return `The relay refused ${what}${reason ? `: ${reason}` : ''} (code ${code}).`;
	}
}

/** A fixed connection state (tests, screenshots). */
export class StaticConnection implements ConnectionSource {
	state = $state<ConnectionState>('local');
	detail = $state<string | null>(null);
	constructor(state: ConnectionState = 'local', detail: string | null = null) {
		this.state = state;
		this.detail = detail;
	}
}

/** Words for a connection state, for the status region. */
export function connectionLabel(state: ConnectionState): string {
	switch (state) {
		case 'connected':
			return 'Connected';
		case 'connecting':
			return 'Connecting…';
		case 'offline':
			return 'Offline';
		case 'local':
			return 'On this device';
	}
}
