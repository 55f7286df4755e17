/**
 * Shared identity: how a device's Ed25519 public key becomes a user id, and the exact text a
 * device signs to prove it holds that key (docs/PROTOCOL.md, "Authentication"). Pure: no Node
 * or browser API, so the relay, the app and bots all compute the same bytes.
 */
import { digest } from 'lib0/hash/sha256';

/** Bytes of an Ed25519 public key. */
export const PUBLIC_KEY_BYTES = 32;
/** Bytes of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;
/** Characters of a user id: base64url of 16 bytes, unpadded. */
export const USER_ID_CHARS = 22;
/** Version tag of the signed authentication text; changing it is a protocol change. */
export const AUTH_CONTEXT = 'kith-auth-v1';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Map([...ALPHABET].map((c, i) => [c, i]));

/** Unpadded base64url (RFC 4648 §5) of some bytes. */
export function toBase64Url(bytes: Uint8Array): string {
	let out = '';
	for (let i = 0; i < bytes.length; i += 3) {
		const a = bytes[i]!;
		const b = bytes[i + 1];
		const c = bytes[i + 2];
		out += ALPHABET[a >> 2]!;
		out += ALPHABET[((a & 3) << 4) | ((b ?? 0) >> 4)]!;
		if (b !== undefined) out += ALPHABET[((b & 15) << 2) | ((c ?? 0) >> 6)]!;
		if (c !== undefined) out += ALPHABET[c & 63]!;
	}
	return out;
}

/** The bytes of unpadded base64url text, or null when it is not canonical base64url. */
export function fromBase64Url(text: string): Uint8Array | null {
	if (text.length % 4 === 1) return null;
	const out = new Uint8Array(Math.floor((text.length * 3) / 4));
	let bits = 0;
	let value = 0;
	let n = 0;
	for (const ch of text) {
		const v = LOOKUP.get(ch);
		if (v === undefined) return null;
		value = (value << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (value >> bits) & 255;
		}
	}
	// Leftover bits must be zero, so that each byte string has exactly one encoding.
	if ((value & ((1 << bits) - 1)) !== 0) return null;
	return out;
}

/**
 * The user id of a public key: base64url of the first 16 bytes of its sha256 (22 characters).
 * 128 bits make a collision between two people's keys practically impossible.
 *
 * @example userIdFromPublicKey(keyPair.publicKey) // 'q9Fh0…' (22 characters)
 */
export function userIdFromPublicKey(publicKey: Uint8Array): string {
	if (publicKey.length !== PUBLIC_KEY_BYTES) {
		throw new Error(
			`An Ed25519 public key has ${PUBLIC_KEY_BYTES} bytes, not ${publicKey.length}.`
		);
	}
	return toBase64Url(digest(publicKey).subarray(0, 16));
}

/** True when a text has the shape of a user id derived by {@link userIdFromPublicKey}. */
export function isDerivedUserId(id: unknown): id is string {
	return typeof id === 'string' && id.length === USER_ID_CHARS && /^[A-Za-z0-9_-]+$/.test(id);
}

/**
 * The canonical text a device signs to authenticate: a context tag (so the signature can be
 * used for nothing else), the relay's single-use challenge, and the public key it vouches for.
 * Encoded as UTF-8 bytes.
 *
 * @example ed25519.sign(authMessage(challenge, publicKeyB64), secretKey)
 */
export function authMessage(challenge: string, publicKey: string): Uint8Array {
	return new TextEncoder().encode(`${AUTH_CONTEXT}\n${challenge}\n${publicKey}\n`);
}

/** Version tag of the text a person's identity key signs to register a linked device. */
export const DEVICE_LINK_CONTEXT = 'kith-device-link-v1';

/**
 * The text a person's identity key signs to let a new device key act for them
 * (docs/PROTOCOL.md, "Devices"): the person, the new device's public key and the one-time
 * link that carries it, so the signature registers exactly that key, once. UTF-8 bytes.
 *
 * @example ed25519.sign(deviceLinkMessage(me.userId, deviceKeyB64, linkId), me.secretKey)
 */
export function deviceLinkMessage(
	userId: string,
	devicePublicKey: string,
	linkId: string
): Uint8Array {
	return new TextEncoder().encode(
		`${DEVICE_LINK_CONTEXT}\n${userId}\n${devicePublicKey}\n${linkId}\n`
	);
}
