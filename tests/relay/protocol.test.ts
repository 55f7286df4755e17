/**
 * The relay's message encoders (sync-server/protocol.ts) write in one copy what lib0's encoder
 * writes in two: the bytes must be the same for every length of payload.
 */
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import * as syncProtocol from 'y-protocols/sync';
import {
	encodeAwarenessMessage,
	encodeStoredMessage,
	encodeSyncStep1,
	encodeSyncStep2,
	encodeUpdateMessage,
	framed,
	messageAwareness,
	messageStored,
	messageSync,
	storedIncrement
} from '../../sync-server/protocol';

function lib0(tags: number[], payload: Uint8Array): Uint8Array {
	const e = encoding.createEncoder();
	for (const t of tags) encoding.writeVarUint(e, t);
	encoding.writeVarUint8Array(e, payload);
	return encoding.toUint8Array(e);
}

/** Payload lengths at each boundary of the varUint length (1 to 4 bytes) and one of 30 MB. */
const LENGTHS = [0, 1, 127, 128, 129, 16_383, 16_384, 2_097_151, 2_097_152, 30_098_465];

describe('the relay’s message encoders', () => {
	it.each(LENGTHS)('write what lib0 writes for a payload of %i bytes', (n) => {
		const payload = new Uint8Array(n);
		for (let i = 0; i < n; i += 997) payload[i] = i % 251;
		if (n > 0) payload[n - 1] = 7;
		expect(
			Buffer.from(framed([messageSync, 2], payload)).equals(lib0([messageSync, 2], payload))
		).toBe(true);
	});

	it('frame each message type as y-protocols and lib0 do', () => {
		const payload = new Uint8Array(300).map((_, i) => i % 256);
		const update = encoding.createEncoder();
		encoding.writeVarUint(update, messageSync);
		syncProtocol.writeUpdate(update, payload);
		expect(encodeUpdateMessage(payload)).toEqual(encoding.toUint8Array(update));
		expect(encodeSyncStep1(payload)).toEqual(
			lib0([messageSync, syncProtocol.messageYjsSyncStep1], payload)
		);
		expect(encodeSyncStep2(payload)).toEqual(
			lib0([messageSync, syncProtocol.messageYjsSyncStep2], payload)
		);
		expect(encodeAwarenessMessage(payload)).toEqual(lib0([messageAwareness], payload));
		expect(encodeStoredMessage(storedIncrement, payload)).toEqual(
			lib0([messageStored, storedIncrement], payload)
		);
	});

	it('refuses a tag that is not one byte', () => {
		expect(() => framed([128], new Uint8Array(1))).toThrow(RangeError);
	});
});
