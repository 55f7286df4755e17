import { SvelteMap } from 'svelte/reactivity';
import { compareIds } from '$lib/model';

/**
 * The newest message id this person has seen in each conversation, kept on the device. Unread
 * counts derive from it; it never goes backwards.
 *
 * TODO(integrator): move into the Dexie index's local settings when src/lib/db lands, so it
 * sits next to the stored unread counters.
 */
export class ReadMarkers {
	readonly #key: string;
	readonly #storage: Pick<Storage, 'getItem' | 'setItem'> | null;
	readonly #markers: SvelteMap<string, string>;

	constructor(me: string, storage: Pick<Storage, 'getItem' | 'setItem'> | null = null) {
		this.#key = `kith:read:${me}`;
		this.#storage = storage;
		let stored: Record<string, string> = {};
		try {
			stored = JSON.parse(storage?.getItem(this.#key) ?? '{}') as Record<string, string>;
		} catch {
			// A damaged marker store only costs unread counts; start over.
		}
		this.#markers = new SvelteMap(Object.entries(stored).filter(([, v]) => typeof v === 'string'));
	}

	/** The last read message id, or null when nothing has been read there. */
	get(conversationId: string): string | null {
		return this.#markers.get(conversationId) ?? null;
	}

	/** Marks everything up to `messageId` as read. */
	mark(conversationId: string, messageId: string): void {
		const previous = this.#markers.get(conversationId);
		if (previous !== undefined && compareIds(previous, messageId) >= 0) return;
		this.#markers.set(conversationId, messageId);
		this.#storage?.setItem(this.#key, JSON.stringify(Object.fromEntries(this.#markers)));
	}
}

/** How many of the sorted ids are newer than the marker. */
export function countAfter(sortedIds: readonly string[], marker: string | null): number {
	if (marker === null) return sortedIds.length;
	let lo = 0;
	let hi = sortedIds.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (compareIds(sortedIds[mid]!, marker) <= 0) lo = mid + 1;
		else hi = mid;
	}
	return sortedIds.length - lo;
}
