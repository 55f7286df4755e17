import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import type { DeliveryTracker, DeviceHoldings } from '$lib/sync';

/**
 * The seam between the UI and wherever documents come from. The state classes only ever ask
 * an opener for a document by name (`workspace`, `conv:<id>`) and give it back when the view
 * that needed it goes away; they never know whether it came from IndexedDB, the relay or both.
 *
 * Contract:
 * - `open(name)` resolves once the document holds what the device already had (local
 *   storage loaded), so a reader sees the stored conversation, not an empty one.
 * - Opening the same name twice returns the same Y.Doc; each `open` is paired with one
 *   `release`, and the opener may close the document when the last user released it.
 * - `awareness(name)`, when present, gives the y-protocols Awareness of an open document
 *   (Kith uses the workspace's for presence and typing).
 *
 * @example
 * const doc = await opener.open('conv:42');
 * try { readMessages(doc) } finally { opener.release('conv:42') }
 */
export interface DocOpener {
	open(name: string): Promise<Y.Doc>;
	release(name: string): void;
	awareness?(name: string): Awareness | null;
	/** Which messages of an open conversation the relay has stored (null without a relay). */
	delivery?(name: string): DeliveryTracker | null;
	/** Which devices hold an open conversation's messages (null without a relay). */
	holdings?(name: string): DeviceHoldings | null;
	/** Resolves once a released document's storage has closed (freeing space needs it). */
	closed?(name: string): Promise<void>;
	/** Whether anyone holds the document open. */
	isOpen?(name: string): boolean;
	/**
	 * The Y.Doc of a name already `open`ed, before it has loaded (null when not open): a view
	 * can show something else meanwhile and bind to it early. Nothing may write to it before
	 * `open` resolves.
	 */
	loading?(name: string): Y.Doc | null;
	/**
	 * Conversations opened from now until `until` settles read and apply their stored records
	 * only then (at most a few seconds later): the conversation view holds them until the
	 * index's first page has painted.
	 */
	deferApplies?(until: Promise<unknown>): void;
}

/** Whether this device can reach the relay. */
export type ConnectionState = 'connected' | 'connecting' | 'offline' | 'local';

/**
 * A reactive source of the connection state (read `state` inside a component or `$derived`).
 * The relay's provider implements it later; until then {@link LocalConnection} does.
 */
export interface ConnectionSource {
	readonly state: ConnectionState;
	/** What to tell the person, e.g. "Reconnecting in 4 s". */
	readonly detail: string | null;
	/** While conversations catch up with the relay: how many are done of how many. */
	readonly catchingUp?: { done: number; total: number } | null;
}
