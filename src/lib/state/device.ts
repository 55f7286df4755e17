import { toBase64Url } from '$lib/model';
import { loadOrCreateKeyPair, type KeyStore, type StoredKeyPair } from '$lib/sync/identity';

const KEY = 'kith:device-key';

/**
 * Keeps the device key pair in localStorage.
 *
 * TODO(integrator): prefer IndexedDB (or a non-extractable WebCrypto key once Ed25519 is
 * available everywhere) if the sync layer adds a browser key store; the user id derives from
 * the public key either way, so moving the key keeps the identity.
 */
export function localKeyStore(storage: Pick<Storage, 'getItem' | 'setItem'>): KeyStore {
	return {
		load() {
			const text = storage.getItem(KEY);
			if (!text) return null;
			try {
				return JSON.parse(text) as StoredKeyPair;
			} catch {
				throw new Error('The stored device key is damaged: it is not JSON.');
			}
		},
		save(pair) {
			storage.setItem(KEY, JSON.stringify(pair));
		}
	};
}

/** This device's identity: its user id and public key (the key pair is made on first use). */
export async function deviceIdentity(
	storage: Pick<Storage, 'getItem' | 'setItem'>
): Promise<{ userId: string; publicKey: string }> {
	const pair = await loadOrCreateKeyPair(localKeyStore(storage));
	return { userId: pair.userId, publicKey: toBase64Url(pair.publicKey) };
}

/** Set from linking until the person's profile has synced (Shell shows a wait, not onboarding). */
const LINK_PENDING_KEY = 'kith:link-pending';

/** Whether this browser already has a Kith identity. */
export function hasDeviceKey(storage: Pick<Storage, 'getItem'>): boolean {
	return storage.getItem(KEY) !== null;
}

/**
 * Keeps a linked device's key (src/lib/sync/device-link.ts) as this browser's identity. Never
 * replaces one: a browser that already is someone would lose that identity for good.
 */
export function storeLinkedKey(
	storage: Pick<Storage, 'getItem' | 'setItem'>,
	stored: StoredKeyPair
): void {
	if (hasDeviceKey(storage)) {
		throw new Error(
			'This browser already has a Kith identity. Open the link in another browser or profile, or clear this site’s data first.'
		);
	}
	storage.setItem(KEY, JSON.stringify(stored));
	storage.setItem(LINK_PENDING_KEY, '1');
}

/** True from linking until {@link linkDone}: the person's profile is on its way from the relay. */
export function linkPending(storage: Pick<Storage, 'getItem'>): boolean {
	return storage.getItem(LINK_PENDING_KEY) !== null;
}

export function linkDone(storage: Pick<Storage, 'removeItem'>): void {
	storage.removeItem(LINK_PENDING_KEY);
}
