/**
 * Keeps the tabs of one browser profile in step, with or without the relay.
 *
 * Every tab of a profile is the same person on the same device: they share IndexedDB, and each
 * tab holds its own Y.Doc of every open conversation. y-websocket's own BroadcastChannel only
 * runs while its socket is meant to be connected (it closes with `disconnect()`, which Kith
 * calls when the browser goes offline), so two offline tabs would drift until the relay came
 * back. This channel runs whenever the document is open:
 *
 * - on open, a tab posts `hello` with its state vector; every other tab answers with what the
 *   newcomer lacks and its own state vector, and the newcomer sends back what that tab lacks;
 * - afterwards every change that did not come from this channel is posted as an update.
 *
 * Storage stays safe because each tab's LocalDoc writes its own records and compaction runs in
 * one IndexedDB `readwrite` transaction (IndexedDB serialises them across tabs).
 */
import * as Y from 'yjs';

type TabMessage =
	| { t: 'hello'; from: string; sv: Uint8Array }
	| { t: 'reply'; from: string; to: string; update: Uint8Array; sv: Uint8Array }
	| { t: 'update'; from: string; update: Uint8Array };

/** The transaction origin of updates received from another tab. */
export const TAB_ORIGIN = { kind: 'remote', source: 'tab' } as const;

/** Loose check of a message from another tab (same origin, but still another program's data). */
function isTabMessage(data: unknown): data is TabMessage {
	if (typeof data !== 'object' || data === null) return false;
	const m = data as Record<string, unknown>;
	if (typeof m.from !== 'string') return false;
	if (m.t === 'hello') return m.sv instanceof Uint8Array;
	if (m.t === 'reply')
		return typeof m.to === 'string' && m.update instanceof Uint8Array && m.sv instanceof Uint8Array;
	if (m.t === 'update') return m.update instanceof Uint8Array;
	return false;
}

/** An empty update has no structs and an empty delete set: two zero bytes. */
function isEmptyUpdate(update: Uint8Array): boolean {
	return update.length <= 2 && update.every((b) => b === 0);
}

/**
 * Syncs `doc` with the same document in the profile's other tabs. Returns null where
 * BroadcastChannel does not exist.
 *
 * @example
 * const tabs = TabSync.attach('conv:123', doc, { onError });
 * // …
 * tabs?.destroy();
 */
export class TabSync {
	readonly #doc: Y.Doc;
	readonly #channel: BroadcastChannel;
	readonly #id = crypto.randomUUID();
	readonly #onError: (error: unknown) => void;

	private constructor(doc: Y.Doc, channel: BroadcastChannel, onError: (error: unknown) => void) {
		this.#doc = doc;
		this.#channel = channel;
		this.#onError = onError;
		channel.onmessage = (event: MessageEvent<unknown>) => this.#receive(event.data);
		doc.on('update', this.#onUpdate);
		this.#post({ t: 'hello', from: this.#id, sv: Y.encodeStateVector(doc) });
	}

	static attach(
		name: string,
		doc: Y.Doc,
		options: { onError?: (error: unknown) => void } = {}
	): TabSync | null {
		if (typeof BroadcastChannel === 'undefined') return null;
		const channel = new BroadcastChannel(`kith-doc:${name}`);
		return new TabSync(doc, channel, options.onError ?? ((e) => console.error(e)));
	}

	readonly #onUpdate = (update: Uint8Array, origin: unknown) => {
		if (origin === TAB_ORIGIN) return;
		this.#post({ t: 'update', from: this.#id, update });
	};

	#receive(data: unknown): void {
		if (!isTabMessage(data) || data.from === this.#id) return;
		try {
			switch (data.t) {
				case 'hello':
					this.#post({
						t: 'reply',
						from: this.#id,
						to: data.from,
						update: Y.encodeStateAsUpdate(this.#doc, data.sv),
						sv: Y.encodeStateVector(this.#doc)
					});
					break;
				case 'reply': {
					if (data.to !== this.#id) return;
					Y.applyUpdate(this.#doc, data.update, TAB_ORIGIN);
					const missing = Y.encodeStateAsUpdate(this.#doc, data.sv);
					if (!isEmptyUpdate(missing)) this.#post({ t: 'update', from: this.#id, update: missing });
					break;
				}
				case 'update':
					Y.applyUpdate(this.#doc, data.update, TAB_ORIGIN);
					break;
			}
		} catch (error) {
			// A damaged update from another tab must not take this one down.
			this.#onError(error);
		}
	}

	#post(message: TabMessage): void {
		try {
			this.#channel.postMessage(message);
		} catch (error) {
			this.#onError(error);
		}
	}

	destroy(): void {
		this.#doc.off('update', this.#onUpdate);
		this.#channel.onmessage = null;
		this.#channel.close();
	}
}
