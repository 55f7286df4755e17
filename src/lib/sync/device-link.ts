/**
 * Linking a second device (docs/PROTOCOL.md, "Devices"; docs/ARCHITECTURE.md, "One person,
 * several devices").
 *
 * The identity device (the one holding the person's identity key) makes a key for the new
 * device, signs it with the identity key, and seals `{ user_id, secret_key }` with AES-256-GCM
 * under a key derived (HKDF-SHA256) from a random 32-byte secret. The relay gets only the
 * ciphertext, the new device's public key and the signature, under a random link id; the secret
 * travels in the link's fragment (`https://host/link#<id>.<secret>`), which browsers never send
 * to a server. The new device fetches the ciphertext once (the relay deletes it), opens it and
 * is the same person, with a key of its own that the person can revoke.
 *
 * Crypto is @noble/ciphers and @noble/hashes (audited, no dependencies, same code in Node and
 * every browser), not WebCrypto: `crypto.subtle` exists only in secure contexts, and a relay
 * tried on a LAN address over plain http would fail in a confusing way.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
	deviceLinkMessage,
	fromBase64Url,
	isDerivedUserId,
	toBase64Url,
	DEVICE_LINK_CONTEXT
} from '../model/identity';
import { Patterns } from '../model/schema';
import {
	generateKeyPair,
	holdsIdentityKey,
	serializeKeyPair,
	sign,
	keyPairFromSecret,
	type DeviceKeyPair,
	type StoredKeyPair
} from './identity';
import { httpBase, post } from './relay-auth';

/** The path of the app's page that opens a link (src/routes/link). */
export const LINK_PATH = '/link';

/** A link that cannot be used: damaged, used, expired, or for a relay that refused it. */
export class DeviceLinkError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'DeviceLinkError';
	}
}

/** What the sealed bundle holds. */
interface LinkBundle {
	v: 1;
	user_id: string;
	secret_key: string;
	display_name?: string;
	/**
	 * Conversations the identity device knows: a private group is listed nowhere the new device
	 * could find it (channels are in the workspace, direct messages derive from people).
	 */
	conversations?: string[];
}

/** Conversation ids a link carries at most (the newest; ids are time-ordered). */
export const MAX_LINKED_CONVERSATIONS = 300;

const NONCE_BYTES = 12;
const encoder = new TextEncoder();

function bundleKey(secret: Uint8Array, id: string): Uint8Array {
	return hkdf(sha256, secret, encoder.encode(id), encoder.encode(DEVICE_LINK_CONTEXT), 32);
}

/** Seals a bundle: base64url(nonce ‖ AES-256-GCM(key, nonce, aad = id)). */
export function sealLinkBundle(bundle: LinkBundle, id: string, secret: Uint8Array): string {
	const nonce = randomBytes(NONCE_BYTES);
	const sealed = gcm(bundleKey(secret, id), nonce, encoder.encode(id)).encrypt(
		encoder.encode(JSON.stringify(bundle))
	);
	const out = new Uint8Array(NONCE_BYTES + sealed.length);
	out.set(nonce);
	out.set(sealed, NONCE_BYTES);
	return toBase64Url(out);
}

/** Opens a sealed bundle; throws {@link DeviceLinkError} when it does not open or is not one. */
export function openLinkBundle(ciphertext: string, id: string, secret: Uint8Array): LinkBundle {
	const bytes = fromBase64Url(ciphertext);
	const damaged = new DeviceLinkError(
		'This link does not open (is part of it missing?): show a new one on your other device.'
	);
	if (!bytes || bytes.length <= NONCE_BYTES) throw damaged;
	let plain: Uint8Array;
	try {
		plain = gcm(bundleKey(secret, id), bytes.subarray(0, NONCE_BYTES), encoder.encode(id)).decrypt(
			bytes.subarray(NONCE_BYTES)
		);
	} catch {
		throw damaged;
	}
	const b = JSON.parse(new TextDecoder().decode(plain)) as Partial<LinkBundle>;
	if (b.v !== 1 || !isDerivedUserId(b.user_id) || typeof b.secret_key !== 'string') throw damaged;
	const conversations = Array.isArray(b.conversations)
		? b.conversations.filter((id): id is string => typeof id === 'string' && Patterns.id.test(id))
		: [];
	return { ...(b as LinkBundle), conversations };
}

/** The id and secret of a link's fragment (`#<id>.<secret>`, with or without the `#`). */
export function parseLinkFragment(fragment: string): { id: string; secret: Uint8Array } | null {
	const m = /^#?([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(fragment.trim());
	const secret = m ? fromBase64Url(m[2]!) : null;
	return m && secret?.length === 32 ? { id: m[1]!, secret } : null;
}

export interface DeviceLink {
	/** The whole link to open on the new device. */
	url: string;
	id: string;
	/** The new device's id (as the device list will show it once it signs in). */
	deviceId: string;
	/** Milliseconds since the epoch. */
	expiresAt: number;
}

/**
 * Makes a one-time link that lets another browser become the same person (only on the device
 * that holds the identity key).
 *
 * @example
 * const link = await createDeviceLink({ relay: location.origin, token, identity: me });
 * showQr(link.url);
 */
export async function createDeviceLink(options: {
	relay: string;
	token: string;
	identity: DeviceKeyPair;
	/** Where the app is opened (default: the relay's address; the relay serves the app). */
	appUrl?: string;
	displayName?: string;
	/** Conversation ids to hand over (the newest {@link MAX_LINKED_CONVERSATIONS}). */
	conversations?: Iterable<string>;
	fetch?: typeof fetch;
}): Promise<DeviceLink> {
	const { identity } = options;
	if (!holdsIdentityKey(identity)) {
		throw new DeviceLinkError(
			'Only the device that holds your identity key (the first one you used Kith on) can link devices.'
		);
	}
	const device = generateKeyPair();
	const id = toBase64Url(randomBytes(16));
	const secret = randomBytes(32);
	const deviceKey = toBase64Url(device.publicKey);
	const ciphertext = sealLinkBundle(
		{
			v: 1,
			user_id: identity.userId,
			secret_key: toBase64Url(device.secretKey),
			...(options.displayName ? { display_name: options.displayName } : {}),
			conversations: newest([...(options.conversations ?? [])], MAX_LINKED_CONVERSATIONS)
		},
		id,
		secret
	);
	const res = await post<{ id: string; expires_at: number }>(
		options.fetch ?? fetch,
		`${httpBase(options.relay)}/devices/links`,
		{
			id,
			identity_key: toBase64Url(identity.publicKey),
			device_key: deviceKey,
			signature: toBase64Url(sign(identity, deviceLinkMessage(identity.userId, deviceKey, id))),
			ciphertext
		},
		options.token
	);
	const app = new URL(options.appUrl ?? httpBase(options.relay));
	return {
		url: `${app.origin}${LINK_PATH}#${id}.${toBase64Url(secret)}`,
		id,
		deviceId: device.userId,
		expiresAt: res.expires_at
	};
}

function newest(ids: string[], n: number): string[] {
	const valid = [...new Set(ids)].filter((id) => Patterns.id.test(id));
	valid.sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : BigInt(b) < BigInt(a) ? -1 : 0));
	return valid.slice(0, n);
}

/**
 * Fetches (once: the relay forgets it) and opens a link; returns the key to store on this
 * device.
 *
 * @example const { stored } = await claimDeviceLink(location.origin, location.hash)
 */
export async function claimDeviceLink(
	relay: string,
	fragment: string,
	options: { fetch?: typeof fetch } = {}
): Promise<{
	stored: StoredKeyPair;
	userId: string;
	displayName: string | null;
	conversations: string[];
}> {
	const link = parseLinkFragment(fragment);
	if (!link) {
		throw new DeviceLinkError(
			'This is not a whole Kith device link: copy it again from your other device.'
		);
	}
	const { ciphertext } = await post<{ ciphertext: string }>(
		options.fetch ?? fetch,
		`${httpBase(relay)}/devices/links/${link.id}/claim`,
		{}
	);
	const bundle = openLinkBundle(ciphertext, link.id, link.secret);
	const secretKey = fromBase64Url(bundle.secret_key);
	if (secretKey?.length !== 32) throw new DeviceLinkError('This link holds a damaged key.');
	const pair = { ...keyPairFromSecret(secretKey), userId: bundle.user_id };
	return {
		stored: serializeKeyPair(pair),
		userId: bundle.user_id,
		displayName: bundle.display_name ?? null,
		conversations: bundle.conversations ?? []
	};
}

/** One of the person's devices, as the relay lists it. */
export interface DeviceInfo {
	id: string;
	name: string;
	createdAt: number;
	lastSeenAt: number;
	/** The device holding the identity key. */
	identity: boolean;
	/** This device. */
	current: boolean;
}

/** The person's devices in use (signed in at least once, not signed out). */
export async function listDevices(
	relay: string,
	token: string,
	options: { fetch?: typeof fetch } = {}
): Promise<DeviceInfo[]> {
	const res = await post<{
		current: string | null;
		devices: Array<{
			id: string;
			name: string;
			created_at: number;
			last_seen_at: number;
			identity: boolean;
		}>;
	}>(options.fetch ?? fetch, `${httpBase(relay)}/devices`, null, token, 'GET');
	return res.devices.map((d) => ({
		id: d.id,
		name: d.name,
		createdAt: d.created_at,
		lastSeenAt: d.last_seen_at,
		identity: d.identity,
		current: d.id === res.current
	}));
}

/** Signs a device out: its tokens stop working and its open connections close (4411). */
export async function revokeDevice(
	relay: string,
	token: string,
	deviceId: string,
	options: { fetch?: typeof fetch } = {}
): Promise<void> {
	await post(
		options.fetch ?? fetch,
		`${httpBase(relay)}/devices/${encodeURIComponent(deviceId)}/revoke`,
		{},
		token
	);
}

/** A short name for this browser, from its user agent ("Chrome on Linux"). */
export function deviceNameFromUserAgent(ua: string): string {
	const browser = /Edg\//.test(ua)
		? 'Edge'
		: /OPR\//.test(ua)
			? 'Opera'
			: /Firefox\//.test(ua)
				? 'Firefox'
				: /(Chrome|Chromium)\//.test(ua)
					? 'Chrome'
					: /Safari\//.test(ua)
						? 'Safari'
						: 'Browser';
	const os = /Android/.test(ua)
		? 'Android'
		: /iPhone|iPad|iPod/.test(ua)
			? 'iOS'
			: /Mac OS X|Macintosh/.test(ua)
				? 'macOS'
				: /Windows/.test(ua)
					? 'Windows'
					: /CrOS/.test(ua)
						? 'ChromeOS'
						: /Linux/.test(ua)
							? 'Linux'
							: 'another system';
	return `${browser} on ${os}`;
}
