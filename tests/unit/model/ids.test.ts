import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	compareIds,
	conversationDocName,
	directMessageId,
	hashId,
	ID_EPOCH_MS,
	IdGenerator,
	idTime,
	isId,
	newId,
	parseDocName,
	parseReactionKey,
	reactionKey,
	userStatusId
} from '../../../src/lib/model';

const MAX = 2n ** 63n;
const userId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const canonicalId = fc.bigInt({ min: 1n, max: MAX - 1n }).map((n) => n.toString());

/** A clock that moves by the given steps: forwards, not at all, or backwards. */
function clockFrom(start: number, steps: readonly number[]): () => number {
	let now = start;
	let i = 0;
	return () => {
		const value = now;
		now += steps[i++ % steps.length]!;
		return value;
	};
}

function expectWellFormed(id: string): void {
	expect(id).toMatch(/^[1-9][0-9]*$/);
	const n = BigInt(id);
	expect(n > 0n && n < MAX).toBe(true);
	expect(n.toString()).toBe(id);
	expect(isId(id)).toBe(true);
}

describe('IdGenerator', () => {
	it('makes positive 63-bit decimal ids, strictly increasing, whatever the clock does', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: ID_EPOCH_MS - 10_000, max: Date.UTC(2090, 0, 1) }),
				fc.array(fc.integer({ min: -5_000, max: 5_000 }), { minLength: 1, maxLength: 20 }),
				fc.integer({ min: 2, max: 200 }),
				(start, steps, count) => {
					const ids = new IdGenerator(clockFrom(start, steps));
					let previous = 0n;
					for (let i = 0; i < count; i++) {
						const id = ids.next();
						expectWellFormed(id);
						expect(BigInt(id) > previous).toBe(true);
						previous = BigInt(id);
					}
				}
			),
			{ numRuns: 100 }
		);
	});

	it('keeps increasing through thousands of ids in one stalled millisecond', () => {
		const ids = new IdGenerator(() => Date.UTC(2026, 0, 1));
		const all = Array.from({ length: 5_000 }, () => ids.next());
		for (let i = 1; i < all.length; i++) expect(compareIds(all[i - 1]!, all[i]!)).toBeLessThan(0);
		expect(new Set(all).size).toBe(all.length);
	});

	it('puts the time of making in the high bits', () => {
		fc.assert(
			fc.property(fc.integer({ min: ID_EPOCH_MS, max: Date.UTC(2093, 0, 1) }), (ms) => {
				const id = new IdGenerator(() => ms).next();
				expect(idTime(id).getTime()).toBe(ms);
			})
		);
	});

	it('orders ids made later after ids made earlier, across generators', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: ID_EPOCH_MS, max: Date.UTC(2090, 0, 1) }),
				fc.integer({ min: 1, max: 10 ** 9 }),
				(t, gap) => {
					const early = new IdGenerator(() => t).next();
					const late = new IdGenerator(() => t + gap).next();
					expect(compareIds(early, late)).toBeLessThan(0);
				}
			)
		);
	});

	it('refuses to make ids once the time bits run out', () => {
		expect(() => new IdGenerator(() => Date.UTC(2094, 0, 1)).next()).toThrow(/time bits/);
	});

	it('makes well-formed ids from the device clock', () => {
		const a = newId();
		const b = newId();
		expectWellFormed(a);
		expect(compareIds(a, b)).toBeLessThan(0);
		expect(Math.abs(idTime(a).getTime() - Date.now())).toBeLessThan(60_000);
	});
});

describe('ids as decimal strings', () => {
	it('round-trips every positive 63-bit integer through BigInt', () => {
		fc.assert(
			fc.property(fc.bigInt({ min: 1n, max: MAX - 1n }), (n) => {
				const id = n.toString();
				expect(isId(id)).toBe(true);
				expect(BigInt(id)).toBe(n);
			})
		);
	});

	it('refuses zero, negatives, 2^63 and above, leading zeros and non-strings', () => {
		fc.assert(
			fc.property(fc.bigInt({ min: MAX, max: MAX * 4n }), (n) => {
				expect(isId(n.toString())).toBe(false);
			})
		);
		for (const bad of ['0', '-1', '007', '1.0', '1e3', ' 1', '', '9'.repeat(20), 1, null]) {
			expect(isId(bad)).toBe(false);
		}
		expect(isId((MAX - 1n).toString())).toBe(true);
	});

	it('compares ids as BigInt does', () => {
		fc.assert(
			fc.property(canonicalId, canonicalId, (a, b) => {
				const expected = BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
				expect(Math.sign(compareIds(a, b))).toBe(expected);
			}),
			{ numRuns: 1_000 }
		);
	});
});

describe('derived ids', () => {
	it('gives both people the same direct message id, and other pairs another', () => {
		fc.assert(
			fc.property(userId, userId, userId, (a, b, c) => {
				fc.pre(a !== b && c !== a && c !== b);
				const id = directMessageId(a, b);
				expect(directMessageId(b, a)).toBe(id);
				expect(isId(id)).toBe(true);
				expect(directMessageId(a, c)).not.toBe(id);
			})
		);
	});

	it('hashes any text to a well-formed id, the same every time', () => {
		fc.assert(
			fc.property(fc.string(), (text) => {
				const id = hashId(text);
				expect(isId(id)).toBe(true);
				expect(hashId(text)).toBe(id);
			})
		);
		expect(userStatusId('alice')).not.toBe(userStatusId('bob'));
		expect(userStatusId('alice')).not.toBe(directMessageId('alice', 'bob'));
	});
});

describe('document names and reaction keys', () => {
	it('round-trips a conversation id through its document name', () => {
		fc.assert(
			fc.property(canonicalId, (id) => {
				expect(parseDocName(conversationDocName(id))).toEqual({ kind: 'conversation', id });
			})
		);
		expect(parseDocName('workspace')).toEqual({ kind: 'workspace' });
		for (const bad of ['conv:', 'conv:0', 'conv:01', `conv:${MAX}`, 'conv:abc', 'other']) {
			expect(parseDocName(bad)).toBeNull();
		}
	});

	it('round-trips a reaction key and refuses malformed ones', () => {
		fc.assert(
			fc.property(canonicalId, fc.constantFrom('👍', '🏳️‍🌈', '1️⃣'), userId, (m, e, u) => {
				expect(parseReactionKey(reactionKey(m, e, u))).toEqual({
					messageId: m,
					emoji: e,
					userId: u
				});
			})
		);
		for (const bad of ['', '1|👍', '|👍|bob', '1|👍|', 'nokey'])
			expect(parseReactionKey(bad)).toBeNull();
	});
});
