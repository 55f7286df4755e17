/**
 * This device's user id.
 *
 * TODO(integrator): derive it from the device key pair (src/lib/sync/identity.ts,
 * `loadOrCreateKeyPair(...).userId`) once that module lands; until then a random base64url id
 * of the same length (22 characters, 128 bits) kept in localStorage.
 */
const KEY = 'kith:user-id';

export function randomUserId(): string {
	const bytes = new Uint8Array(16);
	crypto.getRandomValues(bytes);
	let text = '';
	for (const b of bytes) text += String.fromCharCode(b);
	return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function deviceUserId(storage: Pick<Storage, 'getItem' | 'setItem'> = localStorage): string {
	const stored = storage.getItem(KEY);
	if (stored && /^[A-Za-z0-9_-]{22}$/.test(stored)) return stored;
	const id = randomUserId();
	storage.setItem(KEY, id);
	return id;
}
