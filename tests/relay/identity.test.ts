import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
	authMessage,
	fromBase64Url,
	Patterns,
	toBase64Url,
	userIdFromPublicKey
} from '../../src/lib/model';
import {
	deserializeKeyPair,
	generateKeyPair,
	loadOrCreateKeyPair,
	memoryKeyStore,
	serializeKeyPair
} from '../../src/lib/sync/identity';

describe('identity (pure, shared by relay, app and bots)', () => {
	it.each([0, 1, 2, 3, 16, 31, 32, 33, 64])(
		'encodes %i bytes as base64url exactly as Node does, and back',
		(n) => {
			const bytes = randomBytes(n);
			const text = toBase64Url(bytes);
			expect(text).toBe(bytes.toString('base64url'));
			expect(Buffer.from(fromBase64Url(text)!)).toEqual(bytes);
		}
	);

	it.each(['a', 'ab=', 'a+b/', 'AB', 'x y'])('rejects %j as non-canonical base64url', (text) => {
		expect(fromBase64Url(text)).toBeNull();
	});

	it('derives a 22-character user id from the first 16 bytes of the key’s sha256', () => {
		const { publicKey, userId } = generateKeyPair();
		const expected = createHash('sha256')
			.update(publicKey)
			.digest()
			.subarray(0, 16)
			.toString('base64url');
		expect(userIdFromPublicKey(publicKey)).toBe(expected);
		expect(userId).toBe(expected);
		expect(userId).toHaveLength(22);
		expect(Patterns.userId.test(userId)).toBe(true);
		expect(() => userIdFromPublicKey(new Uint8Array(31))).toThrow(/32 bytes/);
	});

	it('signs a text bound to its context, challenge and key', () => {
		const text = new TextDecoder().decode(authMessage('abc', 'KEY'));
		expect(text).toBe('kith-auth-v1\nabc\nKEY\n');
	});

	it('keeps a device key across loads and detects a damaged stored key', async () => {
		const store = memoryKeyStore();
		const first = await loadOrCreateKeyPair(store);
		const again = await loadOrCreateKeyPair(store);
		expect(again.userId).toBe(first.userId);
		const stored = serializeKeyPair(first);
		expect(() =>
			deserializeKeyPair({ ...stored, public_key: toBase64Url(new Uint8Array(32)) })
		).toThrow(/damaged/);
	});
});
