/**
 * The y-websocket wire protocol (as spoken by the y-websocket 3 client) and Kith's close codes.
 * Every message is `varUint messageType` followed by its body (lib0 encoding).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';

export const messageSync = 0;
export const messageAwareness = 1;
export const messageAuth = 2;
export const messageQueryAwareness = 3;
/**
 * Kith's extension: the state vector the relay has durably stored for the document
 * (docs/PROTOCOL.md, "Delivery acknowledgements"). Sent only to connections that asked for it
 * with `ack=1` on their URL: a standard y-websocket client logs "Unable to compute message" for
 * an unknown type. Well clear of y-websocket's 0–3. The client's copy is MESSAGE_STORED in
 * src/lib/sync/delivery.ts (a test checks they agree).
 */
export const messageStored = 100;
/** The body of a stored message replaces what the client knows (sent when a connection opens). */
export const storedFull = 0;
/** The body holds only the entries that grew: the client merges them, keeping the larger clock. */
export const storedIncrement = 1;

export const syncStep1 = syncProtocol.messageYjsSyncStep1;
export const syncStep2 = syncProtocol.messageYjsSyncStep2;
export const syncUpdate = syncProtocol.messageYjsUpdate;

/**
 * Close codes the relay sends (docs/PROTOCOL.md). 1002 (protocol error) and 1009 (frame too
 * big) come from the WebSocket layer itself.
 */
export const CloseCode = {
	goingAway: 1001,
	protocolError: 1002,
	frameTooBig: 1009,
	/** Not a y-websocket message, or a message that does not decode. */
	malformed: 4400,
	/** Missing, malformed, forged or expired token, or not a workspace member. */
	unauthorized: 4401,
	/** Authenticated, but not allowed to open this document. */
	forbidden: 4403,
	/** Not a Kith document name. */
	unknownDocument: 4404,
	/** Removed from the conversation (by its creator, or left from another device). */
	removed: 4410,
	/** This device was signed out (revoked) by its person (devices.ts). */
	deviceRevoked: 4411,
	/** The document would exceed MAX_DOC_BYTES. */
	documentTooLarge: 4413,
	/** An update or awareness state broke a rule (docs/PROTOCOL.md, "What the relay refuses"). */
	refused: 4422,
	/** Too many updates or awareness messages per second. */
	rateLimited: 4429,
	/** Too many connections from one address. */
	tooManyConnections: 4430,
	/** The client does not read fast enough (MAX_BUFFERED_BYTES queued for it). */
	slowReader: 4508,
	/** The relay cannot store right now (disk full); nothing of the client's was lost or stored. */
	storageUnavailable: 4507,
	/** The relay is overloaded (too many documents in memory); retry later. */
	overloaded: 4503
} as const;

/**
 * What comes before a payload of `payloadBytes` bytes: `tags` (varUints below 128: one byte
 * each), then the payload's length as a varUint (lib0's `writeVarUint8Array` without the bytes).
 */
export function frameHead(tags: readonly number[], payloadBytes: number): Uint8Array {
	let lengthBytes = 1;
	for (let v = payloadBytes; v > 0x7f; v = Math.floor(v / 0x80)) lengthBytes++;
	const head = new Uint8Array(tags.length + lengthBytes);
	let i = 0;
	for (const tag of tags) {
		if (tag < 0 || tag > 0x7f) throw new RangeError(`tag ${String(tag)} is not one byte`);
		head[i++] = tag;
	}
	let v = payloadBytes;
	while (v > 0x7f) {
		head[i++] = 0x80 | (v % 0x80);
		v = Math.floor(v / 0x80);
	}
	head[i] = v;
	return head;
}

/**
 * `tags`, then `payload` as a varUint8Array: the bytes lib0's encoder writes, in one allocation
 * and one copy of the payload. The encoder makes two of each (its growing buffer, then the
 * result): 30 MB of garbage more to serve a device the state of a 100,000-message channel.
 */
export function framed(tags: readonly number[], payload: Uint8Array): Uint8Array {
	const head = frameHead(tags, payload.byteLength);
	const out = new Uint8Array(head.byteLength + payload.byteLength);
	out.set(head);
	out.set(payload, head.byteLength);
	return out;
}

export function encodeUpdateMessage(update: Uint8Array): Uint8Array {
	return framed([messageSync, syncUpdate], update);
}

export function encodeSyncStep1(stateVector: Uint8Array): Uint8Array {
	return framed([messageSync, syncStep1], stateVector);
}

export function encodeSyncStep2(update: Uint8Array): Uint8Array {
	return framed([messageSync, syncStep2], update);
}

export function encodeAwarenessMessage(update: Uint8Array): Uint8Array {
	return framed([messageAwareness], update);
}

/**
 * `varUint 100`, `varUint kind` ({@link storedFull} or {@link storedIncrement}), then
 * `varUint8Array` holding a Yjs-encoded state vector (`Y.encodeStateVector`).
 */
export function encodeStoredMessage(
	kind: typeof storedFull | typeof storedIncrement,
	stateVector: Uint8Array
): Uint8Array {
	return framed([messageStored, kind], stateVector);
}

export interface AwarenessEntry {
	clientId: number;
	clock: number;
	/** The JSON text of the state ('null' when the client removes its state). */
	json: string;
}

/** Decodes an awareness update (throws on malformed input). */
export function decodeAwarenessUpdate(update: Uint8Array, maxEntries: number): AwarenessEntry[] {
	const d = decoding.createDecoder(update);
	const n = decoding.readVarUint(d);
	if (n > maxEntries) throw new RangeError(`${n} awareness entries in one update`);
	const out: AwarenessEntry[] = [];
	for (let i = 0; i < n; i++) {
		const clientId = decoding.readVarUint(d);
		const clock = decoding.readVarUint(d);
		const json = decoding.readVarString(d);
		out.push({ clientId, clock, json });
	}
	if (decoding.hasContent(d)) throw new RangeError('trailing bytes after an awareness update');
	return out;
}

export function encodeAwarenessEntries(entries: readonly AwarenessEntry[]): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, entries.length);
	for (const { clientId, clock, json } of entries) {
		encoding.writeVarUint(e, clientId);
		encoding.writeVarUint(e, clock);
		encoding.writeVarString(e, json);
	}
	return encoding.toUint8Array(e);
}
