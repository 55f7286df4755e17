/**
 * How many of a conversation's members' devices already hold a message, from the state vectors
 * they publish in the conversation's awareness: no receipt protocol, no extra message type.
 * docs/PROTOCOL.md, "Which devices hold a message".
 *
 * Each device publishes `held: { user, device, sv }` in the awareness of every conversation it
 * has open: its user id, a stable device id and its state vector (base64). A message whose
 * item is `(client, clock)` is held by a device whose vector has `sv[client] > clock`.
 * Devices seen once are remembered on this device (the vector they last published), so a
 * device that went offline still counts for what it held.
 *
 * What it can and cannot claim: awareness content is the publishing client's word (the relay
 * checks who may join a conversation, not what they say in their presence), so a member could
 * make the count wrong for others, never change a message. A vector too large for the relay's
 * awareness limit is cut to its entries with the highest clocks: a cut vector only under-counts.
 */
import * as Y from 'yjs';
import { fromBase64, toBase64 } from 'lib0/buffer';
import type { Awareness } from 'y-protocols/awareness';

/** An item id: the Yjs client and the clock of one record. */
export interface ItemRef {
	client: number;
	clock: number;
}

/** What each device publishes under `held` in a conversation's awareness. */
export interface HeldState {
	user: string;
	device: string;
	/** `Y.encodeStateVector`, base64. */
	sv: string;
}

interface Known {
	user: string;
	sv: Map<number, number>;
	/** When this device last heard it (ms). */
	at: number;
}

/** Bytes of an encoded vector that fit in the relay's default awareness limit with room to spare. */
export const MAX_PUBLISHED_SV_BYTES = 2_000;
/** Devices remembered per conversation (the most recently heard). */
const MAX_REMEMBERED = 100;

/** A state vector, cut to its highest clocks when its encoding exceeds `maxBytes`. */
export function publishableVector(doc: Y.Doc, maxBytes = MAX_PUBLISHED_SV_BYTES): Uint8Array {
	const full = Y.encodeStateVector(doc);
	if (full.byteLength <= maxBytes) return full;
	const entries = [...Y.decodeStateVector(full)].sort((a, b) => b[1] - a[1]);
	let keep = entries.length;
	let encoded = full;
	while (encoded.byteLength > maxBytes && keep > 0) {
		keep = Math.floor(keep * 0.8);
		encoded = Y.encodeStateVector(new Map(entries.slice(0, keep)));
	}
	return encoded;
}

function isHeldState(value: unknown): value is HeldState {
	const v = value as Partial<HeldState> | null;
	return (
		typeof v === 'object' &&
		v !== null &&
		typeof v.user === 'string' &&
		typeof v.device === 'string' &&
		typeof v.sv === 'string' &&
		v.sv.length <= 4 * MAX_PUBLISHED_SV_BYTES
	);
}

/**
 * Publishes this device's holdings and follows the others'.
 *
 * @example
 * const holdings = new DeviceHoldings(doc, link.provider.awareness, { user, device, storage });
 * holdings.count(tracker.refsOf(messageId), memberIds); // devices other than this one
 */
export class DeviceHoldings {
	readonly #doc: Y.Doc;
	readonly #awareness: Awareness;
	readonly #user: string;
	readonly #device: string;
	readonly #storage: Pick<Storage, 'getItem' | 'setItem'> | null;
	readonly #key: string;
	readonly #known = new Map<string, Known>();
	readonly #listeners = new Set<() => void>();
	#timer: ReturnType<typeof setTimeout> | null = null;
	readonly #throttleMs: number;

	constructor(
		doc: Y.Doc,
		awareness: Awareness,
		options: {
			user: string;
			device: string;
			/** Where heard devices are remembered (per conversation, under `key`). */
			storage?: Pick<Storage, 'getItem' | 'setItem'> | null;
			key?: string;
			/** Least time between two publications of this device's vector. */
			throttleMs?: number;
		}
	) {
		this.#doc = doc;
		this.#awareness = awareness;
		this.#user = options.user;
		this.#device = options.device;
		this.#storage = options.storage ?? null;
		this.#key = `kith:held:${options.key ?? doc.guid}`;
		this.#throttleMs = options.throttleMs ?? 1_000;
		this.#restore();
		awareness.on('change', this.#onAwareness);
		doc.on('update', this.#onUpdate);
		this.#publish();
		this.#onAwareness();
	}

	/**
	 * How many devices other than this one hold any of `refs` (the items of one message), among
	 * the devices of `members`.
	 */
	count(refs: readonly ItemRef[], members: ReadonlySet<string>): number {
		if (refs.length === 0) return 0;
		let n = 0;
		for (const [device, known] of this.#known) {
			if (device === this.#device || !members.has(known.user)) continue;
			if (refs.some((r) => (known.sv.get(r.client) ?? 0) > r.clock)) n++;
		}
		return n;
	}

	/** Calls `listener` when what others hold may have changed; returns the unsubscribe function. */
	onChange(listener: () => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	destroy(): void {
		if (this.#timer !== null) clearTimeout(this.#timer);
		this.#timer = null;
		this.#awareness.off('change', this.#onAwareness);
		this.#doc.off('update', this.#onUpdate);
		this.#listeners.clear();
	}

	readonly #onUpdate = (): void => {
		if (this.#timer !== null) return;
		this.#timer = setTimeout(() => {
			this.#timer = null;
			this.#publish();
		}, this.#throttleMs);
	};

	#publish(): void {
		const held: HeldState = {
			user: this.#user,
			device: this.#device,
			sv: toBase64(publishableVector(this.#doc))
		};
		this.#awareness.setLocalStateField('held', held);
	}

	readonly #onAwareness = (): void => {
		let changed = false;
		const now = Date.now();
		for (const [clientId, state] of this.#awareness.getStates()) {
			if (clientId === this.#awareness.clientID) continue;
			const held = (state as { held?: unknown }).held;
			if (!isHeldState(held) || held.device === this.#device) continue;
			let sv: Map<number, number>;
			try {
				sv = Y.decodeStateVector(fromBase64(held.sv));
			} catch {
				continue; // another client's garbage: ignore it
			}
			const before = this.#known.get(held.device);
			if (before && before.user === held.user && sameVector(before.sv, sv)) {
				before.at = now;
				continue;
			}
			// A vector only grows: never forget what a device was seen holding.
			if (before && before.user === held.user)
				for (const [c, k] of before.sv) if ((sv.get(c) ?? 0) < k) sv.set(c, k);
			this.#known.set(held.device, { user: held.user, sv, at: now });
			changed = true;
		}
		if (!changed) return;
		this.#save();
		for (const l of this.#listeners) l();
	};

	#restore(): void {
		try {
			const raw = JSON.parse(this.#storage?.getItem(this.#key) ?? '{}') as Record<
				string,
				{ user: string; sv: string; at: number }
			>;
			for (const [device, k] of Object.entries(raw)) {
				if (typeof k?.user !== 'string' || typeof k.sv !== 'string') continue;
				this.#known.set(device, {
					user: k.user,
					sv: Y.decodeStateVector(fromBase64(k.sv)),
					at: Number(k.at) || 0
				});
			}
		} catch {
			// Only a cache of what others held: start over.
			this.#known.clear();
		}
	}

	#save(): void {
		if (!this.#storage) return;
		const newest = [...this.#known].sort((a, b) => b[1].at - a[1].at).slice(0, MAX_REMEMBERED);
		const out: Record<string, { user: string; sv: string; at: number }> = {};
		for (const [device, k] of newest)
			out[device] = { user: k.user, sv: toBase64(Y.encodeStateVector(k.sv)), at: k.at };
		try {
			this.#storage.setItem(this.#key, JSON.stringify(out));
		} catch {
			// A full localStorage costs only the memory of offline devices' holdings.
		}
	}
}

function sameVector(a: Map<number, number>, b: Map<number, number>): boolean {
	if (a.size !== b.size) return false;
	for (const [c, k] of a) if (b.get(c) !== k) return false;
	return true;
}
