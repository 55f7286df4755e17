/**
 * Kith's ids: int8-compatible (positive, below 2^63), time-ordered, and made on the device
 * with no coordination. Carried as decimal strings: JavaScript numbers lose precision above
 * 2^53, and PostgreSQL's int8 reads a decimal string as is.
 *
 * Layout of the 63 bits (the sign bit of an int8 is always 0):
 *
 *     62                          22 21                    0
 *     [ milliseconds since 2024-01-01T00:00:00Z (41 bits) ][ random (22 bits) ]
 *
 * 41 bits of milliseconds last 69.7 years (until 2093-09). Ids from one device are strictly
 * increasing: within one millisecond (or when the clock steps back) the generator keeps the
 * last time and adds a random step of 1–1024 to the low part, carrying into the time part on
 * overflow; so a device can mint at least ~4,000 ids per millisecond without going backwards.
 *
 * Collisions: two devices collide only when they mint in the same millisecond and draw the same
 * 22 random bits: 1 in 4,194,304 for such a pair. With a whole team minting λ ids per
 * millisecond, same-millisecond pairs occur about λ²/2 times per millisecond, so collisions
 * about λ²/2^23 per millisecond: a team posting 1 message a second in total expects one
 * collision in ~270 years; a sustained 100 per second (far beyond a chat team) one in ~10 days.
 * Coarser time would not help: halving the time resolution doubles the same-window pairs and
 * adds only one random bit. Readers still order colliding ids deterministically (id, then
 * document order), so replicas agree even then.
 */
import { digest } from 'lib0/hash/sha256';

/** 2024-01-01T00:00:00Z, the zero of the time part. */
export const ID_EPOCH_MS = Date.UTC(2024, 0, 1);
const RANDOM_BITS = 22n;
const MAX_ID = (1n << 63n) - 1n;
const TIME_MAX = (1n << 41n) - 1n;

function randomBits(bits: number): bigint {
	const buf = new Uint32Array(2);
	crypto.getRandomValues(buf);
	const value = (BigInt(buf[0]!) << 32n) | BigInt(buf[1]!);
	return value & ((1n << BigInt(bits)) - 1n);
}

/**
 * A generator of ids. One per device (the module exports one); tests make their own with a
 * fake clock.
 *
 * @example
 * const ids = new IdGenerator(); ids.next() // '5531264927458230272'
 */
export class IdGenerator {
	#last = 0n;
	constructor(private readonly now: () => number = Date.now) {}

	next(): string {
		const time = BigInt(Math.max(0, Math.floor(this.now()) - ID_EPOCH_MS));
		if (time > TIME_MAX) throw new Error('Kith ids ran out of time bits (after 2093)');
		let id = (time << RANDOM_BITS) | randomBits(Number(RANDOM_BITS));
		if (id <= this.#last) id = this.#last + 1n + randomBits(10);
		if (id > MAX_ID) throw new Error('Kith id overflowed 63 bits');
		this.#last = id;
		return id.toString();
	}
}

const deviceIds = new IdGenerator();

/** A new id from this device's generator. */
export function newId(): string {
	return deviceIds.next();
}

/** True when `id` is a decimal string of a positive int8. */
export function isId(id: unknown): id is string {
	return typeof id === 'string' && /^[1-9][0-9]{0,18}$/.test(id) && BigInt(id) <= MAX_ID;
}

/** Orders two ids numerically (time order for generated ids). */
export function compareIds(a: string, b: string): number {
	if (a.length !== b.length) return a.length - b.length;
	return a < b ? -1 : a > b ? 1 : 0;
}

/** When a generated id was made (meaningless for hashed ids such as a direct message's). */
export function idTime(id: string): Date {
	return new Date(Number(BigInt(id) >> RANDOM_BITS) + ID_EPOCH_MS);
}

/** A positive 63-bit id from the sha256 of a text: the same text always gives the same id. */
export function hashId(text: string): string {
	const bytes = digest(new TextEncoder().encode(text));
	let value = 0n;
	for (let i = 0; i < 8; i++) value = (value << 8n) | BigInt(bytes[i]!);
	value &= MAX_ID;
	return (value === 0n ? 1n : value).toString();
}

/**
 * The id of the direct message between two people: both sides compute the same one, so their
 * devices open the same document without asking anyone.
 *
 * @example directMessageId('alice', 'bob') === directMessageId('bob', 'alice') // true
 */
export function directMessageId(a: string, b: string): string {
	const [x, y] = a < b ? [a, b] : [b, a];
	return hashId(`kith-dm\n${x}\n${y}`);
}

/**
 * `#general`'s id: derived, so that every device (even two people starting offline) opens the
 * one channel everyone joins, instead of each creating their own.
 */
export const GENERAL_CHANNEL_ID = hashId('kith-channel\ngeneral');

/**
 * True for conversations whose id is derived from what they are (a direct message, `#general`)
 * rather than minted: two devices may create such a conversation concurrently, and the relay
 * accepts the second, identical creation (docs/PROTOCOL.md).
 */
export function isDerivedConversationId(id: string, kind: string): boolean {
	return kind === 'dm' || (kind === 'channel' && id === GENERAL_CHANNEL_ID);
}

/** The stable `user_status.id` of a person. */
export function userStatusId(userId: string): string {
	return hashId(`kith-user-status\n${userId}`);
}
