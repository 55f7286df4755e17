/**
 * The installed app's life on the device: offering a new version when its service worker is
 * waiting (src/service-worker), and asking once for persistent storage. Written against small
 * interfaces, so the logic runs in unit tests without a browser.
 */

type Listener = () => void;

export interface WorkerLike {
	readonly state: string;
	postMessage(message: unknown): void;
	addEventListener(type: 'statechange', listener: Listener): void;
}

export interface RegistrationLike {
	readonly waiting: WorkerLike | null;
	readonly installing: WorkerLike | null;
	addEventListener(type: 'updatefound', listener: Listener): void;
	removeEventListener(type: 'updatefound', listener: Listener): void;
	update(): Promise<unknown>;
}

export interface ContainerLike {
	readonly controller: unknown;
	readonly ready: Promise<RegistrationLike>;
	addEventListener(type: 'controllerchange', listener: Listener): void;
	removeEventListener(type: 'controllerchange', listener: Listener): void;
}

/** What the service worker understands: activate now (src/service-worker). */
export const SKIP_WAITING = { type: 'SKIP_WAITING' } as const;

/**
 * A new version of the app, once its service worker has installed and waits for this page.
 * `apply()` lets it take over; the page reloads when it has (controllerchange), never before,
 * and never on the first install (when no version was running, there is nothing to update).
 *
 * Nothing unsent is at risk: messages are in IndexedDB as soon as they are posted, and drafts
 * are written to localStorage on every keystroke (Drafts in composer.svelte.ts).
 *
 * @example
 * const update = new AppUpdate(navigator.serviceWorker, () => location.reload());
 * const stop = update.watch();
 * // {#if update.ready} <button onclick={() => update.apply()}>Reload to update</button>
 */
export class AppUpdate {
	ready = $state(false);
	#waiting: WorkerLike | null = null;
	#applying = false;
	#registration: RegistrationLike | null = null;
	readonly #container: ContainerLike;
	readonly #reload: () => void;

	constructor(container: ContainerLike, reload: () => void) {
		this.#container = container;
		this.#reload = reload;
	}

	/** Starts watching for a waiting version; returns a function that stops. */
	watch(): () => void {
		let stopped = false;
		const onControllerChange = () => {
			if (this.#applying && !stopped) this.#reload();
		};
		this.#container.addEventListener('controllerchange', onControllerChange);
		let registration: RegistrationLike | null = null;
		const onUpdateFound = () => {
			const worker = registration?.installing;
			if (!worker) return;
			worker.addEventListener('statechange', () => {
				if (!stopped && worker.state === 'installed') this.#offer(worker);
			});
		};
		void this.#container.ready.then((r) => {
			if (stopped) return;
			registration = this.#registration = r;
			if (r.waiting) this.#offer(r.waiting);
			r.addEventListener('updatefound', onUpdateFound);
		});
		return () => {
			stopped = true;
			this.#container.removeEventListener('controllerchange', onControllerChange);
			registration?.removeEventListener('updatefound', onUpdateFound);
		};
	}

	/** Asks the server for a newer service worker (Chromium also checks on navigations). */
	async check(): Promise<void> {
		await this.#registration?.update();
	}

	/** Lets the waiting version take over; the page reloads once it has. */
	apply(): void {
		if (!this.#waiting) return;
		this.#applying = true;
		this.#waiting.postMessage(SKIP_WAITING);
	}

	#offer(worker: WorkerLike): void {
		// A page with no controller is on its first install: that is no update.
		if (!this.#container.controller) return;
		this.#waiting = worker;
		this.ready = true;
	}
}

export interface StorageManagerLike {
	persisted(): Promise<boolean>;
	persist(): Promise<boolean>;
}

type KeyStore = Pick<Storage, 'getItem' | 'setItem'>;

const PERSIST_ASKED = 'kith:storage-persist-asked';

/**
 * Asks the browser, once per device, to keep Kith's storage even under pressure: the device
 * holds the conversations. Returns whether storage is persistent (or null when not asked).
 */
export async function requestPersistentStorage(
	storage: StorageManagerLike | undefined,
	flags: KeyStore
): Promise<boolean | null> {
	if (!storage || flags.getItem(PERSIST_ASKED)) return null;
	flags.setItem(PERSIST_ASKED, String(Date.now()));
	try {
		return (await storage.persisted()) || (await storage.persist());
	} catch {
		// A browser that cannot say keeps the default (best-effort) storage: nothing to tell.
		return null;
	}
}
