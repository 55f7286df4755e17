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
