import { createSubscriber } from 'svelte/reactivity';
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
