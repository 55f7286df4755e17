/**
 * Connecting documents to the relay: one {@link RelaySession} per device and relay, one
 * y-websocket provider per open document. The session holds the short-lived token (refreshed
 * before it expires, and again when the relay answers 4401), tells retryable refusals from
 * final ones (docs/PROTOCOL.md, close codes), and reports one status for the UI. Every
 * connection asks for delivery acknowledgements (`ack=1`); each link passes them on
 * ({@link RelayLink.onStored}, followed by a DeliveryTracker in delivery.ts). Runs in the
 * browser and in Node (pass `WebSocketPolyfill: ws`).
 */
import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import { WebsocketProvider } from 'y-websocket';
import { MESSAGE_STORED, readStoredMessage, type StoredAck, type StoredSource } from './delivery';
import type { DeviceKeyPair } from './identity';
import { getSessionToken, RelayAuthError, type SessionToken } from './relay-auth';

/** What the UI shows about the relay. */
export type RelayStatus =
	/** No network, or the relay cannot be reached; edits stay on the device and go out later. */
	| 'offline'
	| 'connecting'
	| 'connected'
	/** The relay refused this device (not invited, not a member): retrying cannot help. */
	| 'refused';

/** Close codes after which reconnecting with a new token can help. */
const TOKEN_CLOSE = 4401;
/** Close codes after which this document must not be retried (docs/PROTOCOL.md). */
const FINAL_CLOSES: ReadonlySet<number> = new Set([4403, 4404, 4410, 4411, 4413, 4422]);
/** This device was signed out from another device (docs/PROTOCOL.md, "Devices"). */
export const DEVICE_REVOKED_CLOSE = 4411;
/** Refresh a token this long before it expires (or a quarter of its life, if shorter). */
const REFRESH_MARGIN_MS = 60_000;

export interface RelaySessionOptions {
	/** `http(s)://host:port` of the relay (the app's own origin in the browser). */
	url: string;
	keyPair: DeviceKeyPair;
	/** An invite code, for joining an invite-only workspace the first time. */
	invite?: string;
	/** For Node: the `ws` package's WebSocket. */
	WebSocketPolyfill?: unknown;
	/** Turn off y-websocket's cross-tab BroadcastChannel (several devices in one Node process). */
	disableBc?: boolean;
	/** Ask the relay for shorter-lived tokens (seconds). */
	ttlSeconds?: number;
	/** How the person's device list names this device. */
	deviceName?: string;
	fetch?: typeof fetch;
	/** Where `online`/`offline` events arrive (default: `window` in a browser). */
	network?: EventTarget | null;
	/** A document the relay closed for good, with the relay's reason. */
	onRefused?: (docName: string, code: number, reason: string) => void;
}

/** Asks the relay for its stored state vector (docs/PROTOCOL.md, "Delivery acknowledgements"). */
const ACK_PARAMS = { ack: '1' } as const;

/** One open document's link to the relay. */
export interface RelayLink extends StoredSource {
	readonly provider: WebsocketProvider;
	/** Resolves when the first sync with the relay completed. */
	readonly whenSynced: Promise<void>;
	/**
	 * Calls `listener` with each stored message from the relay; a new listener first gets what
	 * this link heard so far (as one message). Returns the unsubscribe function.
	 */
	onStored(listener: (ack: StoredAck) => void): () => void;
	destroy(): void;
}

/**
 * A device's connection to one relay.
 *
 * @example
 * const relay = new RelaySession({ url: location.origin, keyPair: me });
 * const link = relay.connect('workspace', doc, awareness);
 * relay.onStatus((s) => console.log(s));
 */
export class RelaySession {
	readonly #options: RelaySessionOptions;
	#token: (SessionToken & { margin: number }) | null = null;
	#pending: Promise<SessionToken> | null = null;
	#links = new Map<string, { provider: WebsocketProvider; refused: boolean }>();
	#listeners = new Set<(status: RelayStatus) => void>();
	#status: RelayStatus = 'connecting';
	#progressKey = '0/0';
	#refusedWorkspace = false;
	#online: boolean;
	readonly #network: EventTarget | null;

	constructor(options: RelaySessionOptions) {
		this.#options = options;
		this.#network =
			options.network !== undefined
				? options.network
				: typeof window !== 'undefined'
					? window
					: null;
		this.#online = typeof navigator === 'undefined' ? true : navigator.onLine !== false;
		this.#network?.addEventListener('online', this.#onOnline);
		this.#network?.addEventListener('offline', this.#onOffline);
	}

	get status(): RelayStatus {
		return this.#status;
	}

	get userId(): string {
		return this.#options.keyPair.userId;
	}

	/** The relay's `http(s)://host:port`. */
	get url(): string {
		return this.#options.url;
	}

	get keyPair(): DeviceKeyPair {
		return this.#options.keyPair;
	}

	/**
	 * Catching up: of the documents connected to the relay, how many have not finished their
	 * first sync since (re)connecting. `pending` 0 means everything is in step.
	 */
	get progress(): { pending: number; total: number } {
		let pending = 0;
		let total = 0;
		for (const link of this.#links.values()) {
			if (link.refused || !link.provider.wsconnected) continue;
			total++;
			if (!link.provider.synced) pending++;
		}
		return { pending, total };
	}

	/** Calls `listener` now and on every change of status or progress; returns the unsubscribe function. */
	onStatus(listener: (status: RelayStatus) => void): () => void {
		this.#listeners.add(listener);
		listener(this.#status);
		return () => this.#listeners.delete(listener);
	}

	/** A valid token, fetched or refreshed when needed (one request at a time). */
	async token(): Promise<string> {
		const t = this.#token;
		if (t && t.expiresAt - Date.now() > t.margin) return t.token;
		const requested = Date.now();
		this.#pending ??= getSessionToken(this.#options.url, this.#options.keyPair, {
			...(this.#options.invite ? { invite: this.#options.invite } : {}),
			...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
			...(this.#options.ttlSeconds ? { ttlSeconds: this.#options.ttlSeconds } : {}),
			...(this.#options.deviceName ? { deviceName: this.#options.deviceName } : {})
		}).finally(() => {
			this.#pending = null;
		});
		const fresh = await this.#pending;
		const margin = Math.min(REFRESH_MARGIN_MS, (fresh.expiresAt - requested) / 4);
		this.#token = { ...fresh, margin };
		return fresh.token;
	}

	/**
	 * Starts syncing `doc` (named `docName`: `workspace` or `conv:<id>`) with the relay. Local
	 * edits made before or while offline go out when the connection opens.
	 */
	connect(docName: string, doc: Y.Doc, awareness?: Awareness): RelayLink {
		const existing = this.#links.get(docName);
		if (existing) throw new Error(`${docName} is already connected to the relay`);
		const wsUrl = this.#options.url.replace(/^http/, 'ws') + '/sync';
		const provider = new WebsocketProvider(wsUrl, docName, doc, {
			connect: false,
			params: { ...ACK_PARAMS },
			...(awareness ? { awareness } : {}),
			...(this.#options.WebSocketPolyfill
				? { WebSocketPolyfill: this.#options.WebSocketPolyfill as typeof WebSocket }
				: {}),
			// Keep retrying through rate limits and overload; stop on refusals (handled below).
			shouldReconnect: (event) => event.code !== TOKEN_CLOSE && !FINAL_CLOSES.has(event.code),
			maxBackoffTime: 5_000,
			...(this.#options.disableBc ? { disableBc: true } : {})
		});
		const link = { provider, refused: false };
		this.#links.set(docName, link);
		// Kith's extension message: the relay's stored state vector, kept and passed on.
		const storedListeners = new Set<(ack: StoredAck) => void>();
		let heard: { full: boolean; vector: Map<number, number> } | null = null;
		provider.messageHandlers[MESSAGE_STORED] = (_encoder, decoder) => {
			const ack = readStoredMessage(decoder);
			if (ack.full || !heard) heard = { full: ack.full, vector: new Map(ack.vector) };
			else
				for (const [client, clock] of ack.vector)
					if (clock > (heard.vector.get(client) ?? 0)) heard.vector.set(client, clock);
			for (const l of storedListeners) l(ack);
		};
		provider.on('status', () => this.#update());
		provider.on('sync', () => this.#update());
		provider.on('closed', ({ code, reason }) => {
			if (code === TOKEN_CLOSE) {
				// Expired (or the relay's secret changed): a fresh token, then try again.
				this.#token = null;
				this.#open(docName, provider);
				return;
			}
			link.refused = true;
			// Signed out: the whole device is refused, not just this document.
			if (code === DEVICE_REVOKED_CLOSE) this.#refusedWorkspace = true;
			this.#options.onRefused?.(docName, code, reason);
			this.#update();
		});
		const whenSynced = new Promise<void>((resolve) => {
			if (provider.synced) resolve();
			else provider.once('sync', () => resolve());
		});
		this.#open(docName, provider);
		this.#update();
		return {
			provider,
			whenSynced,
			onStored: (listener) => {
				storedListeners.add(listener);
				if (heard) listener({ full: heard.full, vector: new Map(heard.vector) });
				return () => storedListeners.delete(listener);
			},
			destroy: () => {
				storedListeners.clear();
				this.#links.delete(docName);
				provider.destroy();
				this.#update();
			}
		};
	}

	#open(docName: string, provider: WebsocketProvider): void {
		if (!this.#online) return;
		this.token().then(
			(token) => {
				if (this.#links.get(docName)?.provider !== provider) return;
				provider.params = { token, ...ACK_PARAMS };
				provider.connect();
			},
			(error: unknown) => {
				// 401/403: not invited, or the device's key was refused. Anything else (no relay at
				// this address, 5xx, network down) may pass: retry.
				if (error instanceof RelayAuthError && (error.status === 401 || error.status === 403)) {
					this.#refusedWorkspace = true;
					const code = error.code === 'device_revoked' ? DEVICE_REVOKED_CLOSE : error.status;
					this.#options.onRefused?.(docName, code, error.message);
					this.#update();
					return;
				}
				// The relay is unreachable: try again later.
				setTimeout(() => this.#open(docName, provider), 5_000);
				this.#update();
			}
		);
	}

	readonly #onOnline = () => {
		this.#online = true;
		for (const [name, link] of this.#links) {
			if (link.refused) continue;
			// Attempts that failed while offline grew y-websocket's backoff (up to
			// maxBackoffTime): the network is back, so start again from the shortest wait.
			link.provider.wsUnsuccessfulReconnects = 0;
			this.#open(name, link.provider);
		}
		this.#update();
	};

	readonly #onOffline = () => {
		// An open socket may not notice for 30 s (TOOLCHAIN.md): close it ourselves.
		this.#online = false;
		for (const link of this.#links.values()) link.provider.disconnect();
		this.#update();
	};

	#update(): void {
		let next: RelayStatus;
		const links = [...this.#links.values()].filter((l) => !l.refused);
		if (this.#refusedWorkspace) next = 'refused';
		else if (!this.#online) next = 'offline';
		// Reachability, not per-document progress (each message shows its own delivery): one open
		// connection proves the relay is there.
		else if (links.some((l) => l.provider.wsconnected)) next = 'connected';
		else if (links.some((l) => l.provider.wsconnecting)) next = 'connecting';
		else if (links.length === 0) next = 'connecting';
		else next = 'offline';
		const { pending, total } = this.progress;
		const progressKey = `${pending}/${total}`;
		if (next === this.#status && progressKey === this.#progressKey) return;
		this.#status = next;
		this.#progressKey = progressKey;
		for (const l of this.#listeners) l(next);
	}

	/** Disconnects every document and stops listening. */
	destroy(): void {
		for (const link of this.#links.values()) link.provider.destroy();
		this.#links.clear();
		this.#network?.removeEventListener('online', this.#onOnline);
		this.#network?.removeEventListener('offline', this.#onOffline);
	}
}
