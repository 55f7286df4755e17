import { describe, expect, it } from 'vitest';
import { toBase64Url } from '../../../src/lib/model';
import {
	deviceNameFromUserAgent,
	DeviceLinkError,
	openLinkBundle,
	parseLinkFragment,
	sealLinkBundle
} from '../../../src/lib/sync/device-link';
import {
	deserializeKeyPair,
	generateKeyPair,
	holdsIdentityKey,
	serializeKeyPair
} from '../../../src/lib/sync/identity';

const ID = toBase64Url(new Uint8Array(16).fill(9));
const SECRET = new Uint8Array(32).fill(5);
const bundle = { v: 1 as const, user_id: generateKeyPair().userId, secret_key: 'c2VjcmV0' };

describe('device link bundle', () => {
	it('opens with its secret and id, and holds no plaintext', () => {
		const sealed = sealLinkBundle(bundle, ID, SECRET);
		expect(openLinkBundle(sealed, ID, SECRET)).toEqual({ ...bundle, conversations: [] });
		expect(sealed).not.toContain(bundle.user_id);
		expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain(bundle.user_id);
		// A fresh nonce each time: the same bundle never seals to the same text.
		expect(sealLinkBundle(bundle, ID, SECRET)).not.toBe(sealed);
	});

	it.each([
		['another secret', (s: string) => openLinkBundle(s, ID, new Uint8Array(32).fill(6))],
		['another link id', (s: string) => openLinkBundle(s, toBase64Url(new Uint8Array(16)), SECRET)],
		[
			'a flipped byte',
			(s: string) => {
				const bytes = Buffer.from(s, 'base64url');
				bytes[20]! ^= 1;
				return openLinkBundle(bytes.toString('base64url'), ID, SECRET);
			}
		],
		['a truncated text', (s: string) => openLinkBundle(s.slice(0, 10), ID, SECRET)]
	])('refuses to open with %s', (_what, open) => {
		const sealed = sealLinkBundle(bundle, ID, SECRET);
		expect(() => open(sealed)).toThrow(DeviceLinkError);
	});

	it('carries conversation ids, and drops anything that is not one', () => {
		const sealed = sealLinkBundle(
			{ ...bundle, conversations: ['42', '0', '7', 'conv:1', '123456789012345678901'] },
			ID,
			SECRET
		);
		expect(openLinkBundle(sealed, ID, SECRET).conversations).toEqual(['42', '7']);
	});

	it('reads a link fragment, with or without #, and nothing else', () => {
		const secret = toBase64Url(SECRET);
		expect(parseLinkFragment(`#${ID}.${secret}`)).toEqual({ id: ID, secret: SECRET });
		expect(parseLinkFragment(`${ID}.${secret}`)?.id).toBe(ID);
		for (const bad of ['', '#', `#${ID}`, `#${ID}.${secret.slice(1)}`, `#${ID}.${secret}x`])
			expect(parseLinkFragment(bad)).toBeNull();
	});
});

describe('a linked device key', () => {
	it('keeps its person across storage, and is not an identity key', () => {
		const person = generateKeyPair();
		const own = generateKeyPair();
		const linked = { ...own, userId: person.userId };
		const stored = serializeKeyPair(linked);
		expect(stored.user_id).toBe(person.userId);
		const back = deserializeKeyPair(stored);
		expect(back.userId).toBe(person.userId);
		expect(holdsIdentityKey(back)).toBe(false);
		expect(holdsIdentityKey(person)).toBe(true);
		expect(serializeKeyPair(person).user_id).toBeUndefined();
		expect(() => deserializeKeyPair({ ...stored, user_id: 'not a user id' })).toThrow(/damaged/);
	});

	it.each([
		[
			'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36',
			'Chrome on Linux'
		],
		[
			'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1',
			'Safari on iOS'
		],
		[
			'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
			'Firefox on Windows'
		],
		[
			'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36 EdgA/120 Edg/120',
			'Edge on Android'
		]
	])('names %s as %s', (ua, name) => {
		expect(deviceNameFromUserAgent(ua)).toBe(name);
	});
});
