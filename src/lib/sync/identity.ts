/**
 * A device's identity: an Ed25519 key pair, kept by the device, from which its user id
 * derives (src/lib/model/identity.ts). Runs in Node (tests, bots) and in browsers; storage is
 * pluggable so that the app can keep the key in IndexedDB and a bot in a file.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import {
	fromBase64Url,
	isDerivedUserId,
	toBase64Url,
	userIdFromPublicKey
} from '../model/identity';

export interface DeviceKeyPair {
	/** 32-byte Ed25519 secret key (seed). Never leaves the device. */
	secretKey: Uint8Array;
	/** 32-byte Ed25519 public key. */
	publicKey: Uint8Array;
	/**
	 * The person: the user id derived from the public key when this is the person's identity
	 * key; for a linked device (device-link.ts), the person whose identity device linked it.
	 */
	userId: string;
}

/** The JSON form of a key pair, for storage. */
export interface StoredKeyPair {
	v: 1;
	secret_key: string;
	public_key: string;
	/** A linked device's person (absent: the key is the person's identity key). */
	user_id?: string;
}

/**
 * True when the key pair is its person's identity key (the device that can link others),
 * false on a linked device, whose key is its own.
 */
export function holdsIdentityKey(pair: DeviceKeyPair): boolean {
	return userIdFromPublicKey(pair.publicKey) === pair.userId;
}

/** Where a device keeps its key pair. */
export interface KeyStore {
	load(): Promise<StoredKeyPair | null> | StoredKeyPair | null;
	save(pair: StoredKeyPair): Promise<void> | void;
}

/**
 * A new key pair from the platform's secure random source.
 *
 * @example const me = generateKeyPair(); me.userId // 22 characters
 */
export function generateKeyPair(): DeviceKeyPair {
	const secretKey = ed25519.utils.randomSecretKey();
	return keyPairFromSecret(secretKey);
}

/** The key pair of a 32-byte secret key. */
export function keyPairFromSecret(secretKey: Uint8Array): DeviceKeyPair {
	const publicKey = ed25519.getPublicKey(secretKey);
	return { secretKey, publicKey, userId: userIdFromPublicKey(publicKey) };
}

export function serializeKeyPair(pair: DeviceKeyPair): StoredKeyPair {
	return {
		v: 1,
		secret_key: toBase64Url(pair.secretKey),
		public_key: toBase64Url(pair.publicKey),
		...(holdsIdentityKey(pair) ? {} : { user_id: pair.userId })
	};
}

/** The key pair stored as JSON; throws when the stored form is damaged. */
export function deserializeKeyPair(stored: StoredKeyPair): DeviceKeyPair {
	const secret = fromBase64Url(stored.secret_key);
	if (stored.v !== 1 || !secret || secret.length !== 32) {
		throw new Error('The stored device key is damaged: expected a 32-byte Ed25519 secret key.');
	}
	const pair = keyPairFromSecret(secret);
	if (toBase64Url(pair.publicKey) !== stored.public_key) {
		throw new Error('The stored device key is damaged: its public key does not match.');
	}
	if (stored.user_id !== undefined) {
		if (!isDerivedUserId(stored.user_id)) {
			throw new Error('The stored device key is damaged: its person is not a user id.');
		}
		return { ...pair, userId: stored.user_id };
	}
	return pair;
}

/**
 * The device's key pair from a store, generated and saved on first use.
 *
 * @example const me = await loadOrCreateKeyPair(memoryKeyStore())
 */
export async function loadOrCreateKeyPair(store: KeyStore): Promise<DeviceKeyPair> {
	const stored = await store.load();
	if (stored) return deserializeKeyPair(stored);
	const pair = generateKeyPair();
	await store.save(serializeKeyPair(pair));
	return pair;
}

/** A key store in memory (tests, short-lived bots). */
export function memoryKeyStore(initial: StoredKeyPair | null = null): KeyStore {
	let value = initial;
	return {
		load: () => value,
		save: (pair) => {
			value = pair;
		}
	};
}

/** Signs bytes with the device's secret key (Ed25519, 64 bytes). */
export function sign(pair: DeviceKeyPair, message: Uint8Array): Uint8Array {
	return ed25519.sign(message, pair.secretKey);
}
