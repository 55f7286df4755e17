import * as decoding from 'lib0/decoding';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { deleteMessage, postMessage, postReply } from '../../../src/lib/model';
import {
	DeliveryTracker,
	encodeStoredMessage,
	indexedDbStoredVectors,
	MESSAGE_STORED,
	openDeliveryTracker,
	readStoredMessage,
	type StoredAck,
	type StoredSource
} from '../../../src/lib/sync/delivery';
import { alice, bob, conversation } from '../../fixtures/model';

/** Everything the document holds, as the relay would acknowledge it once stored. */
const everything = (doc: Y.Doc): StoredAck => ({
	full: true,
	vector: Y.decodeStateVector(Y.encodeStateVector(doc))
});

/** A stand-in for a RelayLink: the test pushes stored messages through it. */
function fakeSource() {
	const listeners = new Set<(ack: StoredAck) => void>();
	const source: StoredSource = {
		onStored(l) {
			listeners.add(l);
			return () => listeners.delete(l);
		}
	};
	return { source, push: (ack: StoredAck) => listeners.forEach((l) => l(ack)) };
}

/** A second replica that has what `from` has (the same Yjs item ids). */
function copyOf(from: Y.Doc): Y.Doc {
	const doc = new Y.Doc();
	Y.applyUpdate(doc, Y.encodeStateAsUpdate(from));
	return doc;
}

describe('the stored message', () => {
	it('round-trips a full vector and an increment through its wire format', () => {
		for (const ack of [
			{ full: true, vector: new Map([[1, 5]]) },
			{ full: false, vector: new Map([[4_000_000_000, 1]]) }
		]) {
			const d = decoding.createDecoder(encodeStoredMessage(ack));
			expect(decoding.readVarUint(d)).toBe(MESSAGE_STORED);
			expect(readStoredMessage(d)).toEqual(ack);
		}
	});

	it('refuses an unknown kind', () => {
		const d = decoding.createDecoder(new Uint8Array([7, 0]));
		expect(() => readStoredMessage(d)).toThrow(/kind 7/);
	});
});

describe('DeliveryTracker', () => {
	it('holds a message as pending until the stored vector covers its item, then reports the change', () => {
		const { doc } = conversation();
		const tracker = new DeliveryTracker(doc);
		const seen: Array<ReadonlySet<string>> = [];
		tracker.onChange((p) => seen.push(p));
		const m = postMessage(doc, { content: 'hi', created_by: alice });
		expect(tracker.isStored(m.id)).toBe(false);
		expect(tracker.pendingIds()).toEqual(new Set([m.id]));
		const before = everything(doc);
		const second = postMessage(doc, { content: 'again', created_by: alice });
		// A vector taken before the second post covers the first message only.
		tracker.applyStored({ full: false, vector: before.vector });
		expect(tracker.isStored(m.id)).toBe(true);
		expect(tracker.isStored(second.id)).toBe(false);
		tracker.applyStored(everything(doc));
		expect(tracker.pendingIds()).toEqual(new Set());
		expect(seen.map((s) => [...s])).toEqual([[m.id], [m.id, second.id], [second.id], []]);
	});

	it('says false for a message it does not hold', () => {
		const { doc } = conversation();
		const tracker = new DeliveryTracker(doc);
		tracker.applyStored(everything(doc));
		expect(tracker.isStored('123')).toBe(false);
	});

	it('indexes what the document held before it was created, replies included', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'parent', created_by: alice });
		const r = postReply(doc, m.id, { content: 'reply', created_by: bob });
		const stored = everything(doc);
		const later = postReply(doc, m.id, { content: 'later', created_by: bob });
		const tracker = new DeliveryTracker(doc);
		expect(tracker.pendingIds()).toEqual(new Set([m.id, r.id, later.id]));
		tracker.applyStored(stored);
		expect(tracker.pendingIds()).toEqual(new Set([later.id]));
	});

	it('treats a deletion as pending until the tombstone is stored', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'oops', created_by: alice });
		const tracker = new DeliveryTracker(doc);
		tracker.applyStored(everything(doc));
		deleteMessage(doc, m.id, { deleted_by: alice });
		expect(tracker.isStored(m.id)).toBe(false);
		tracker.applyStored(everything(doc));
		expect(tracker.isStored(m.id)).toBe(true);
		expect(tracker.pendingIds().size).toBe(0);
	});

	it('finds each record of an item that holds several, and keeps them when another replica splits it', () => {
		const { doc } = conversation();
		const tracker = new DeliveryTracker(doc);
		const messages = doc.getArray<{ id: string }>('messages');
		// One push of two records: one Yjs item of length 2.
		messages.push([{ id: '1001' }, { id: '1002' }]);
		const stored = everything(doc);
		const other = copyOf(doc);
		other.getArray<{ id: string }>('messages').insert(1, [{ id: '1003' }]);
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(other, Y.encodeStateVector(doc)));
		tracker.applyStored({ full: false, vector: stored.vector });
		expect(tracker.isStored('1001')).toBe(true);
		expect(tracker.isStored('1002')).toBe(true);
		expect(tracker.pendingIds()).toEqual(new Set(['1003']));
		// Deleting the second half of the split item forgets exactly that record.
		messages.delete(2, 1);
		expect(tracker.isStored('1002')).toBe(false);
		expect(tracker.pendingIds()).toEqual(new Set(['1003']));
	});

	it('shows a message stored again only after a relay that lost it stores it anew', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'hi', created_by: alice });
		const tracker = new DeliveryTracker(doc);
		tracker.applyStored(everything(doc));
		expect(tracker.isStored(m.id)).toBe(true);
		// A relay restored from an older backup says, on connecting, that it holds nothing.
		tracker.applyStored({ full: true, vector: new Map() });
		expect(tracker.isStored(m.id)).toBe(false);
		expect(tracker.pendingIds()).toEqual(new Set([m.id]));
	});

	it('follows a source until detached or destroyed', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'hi', created_by: alice });
		const tracker = new DeliveryTracker(doc);
		const { source, push } = fakeSource();
		const detach = tracker.attach(source);
		detach();
		push(everything(doc));
		expect(tracker.isStored(m.id)).toBe(false);
		tracker.attach(source);
		tracker.destroy();
		push(everything(doc));
		expect(tracker.isStored(m.id)).toBe(false);
	});

	it('remembers on the device what was stored, so a reload offline still knows', async () => {
		const indexedDB = new IDBFactory();
		const store = indexedDbStoredVectors({ indexedDB });
		const { doc, meta } = conversation();
		const docName = `conv:${meta.id}`;
		const sent = postMessage(doc, { content: 'stored', created_by: alice });
		const { source, push } = fakeSource();
		const tracker = await openDeliveryTracker(doc, source, { persist: { store, docName } });
		push({ full: false, vector: everything(doc).vector });
		const unsent = postMessage(doc, { content: 'written offline', created_by: alice });
		await tracker.flush();
		tracker.destroy();
		store.close();

		// A reload: a new store object over the same IndexedDB, the document read back, no relay.
		const again = await openDeliveryTracker(copyOf(doc), null, {
			persist: { store: indexedDbStoredVectors({ indexedDB }), docName }
		});
		expect(again.isStored(sent.id)).toBe(true);
		expect(again.isStored(unsent.id)).toBe(false);
		expect(again.pendingIds()).toEqual(new Set([unsent.id]));
		// Another document's vector is its own.
		const other = await openDeliveryTracker(copyOf(doc), null, {
			persist: { store: indexedDbStoredVectors({ indexedDB }), docName: 'conv:1' }
		});
		expect(other.isStored(sent.id)).toBe(false);
	});

	it('lets the relay’s full vector win over a persisted one that loads later', async () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'hi', created_by: alice });
		let release: (v: Uint8Array) => void = () => {};
		const tracker = new DeliveryTracker(doc, {
			persist: {
				docName: 'conv:9',
				store: {
					load: () => new Promise<Uint8Array>((r) => (release = r)),
					save: async () => {}
				}
			}
		});
		tracker.applyStored({ full: true, vector: new Map() });
		release(Y.encodeStateVector(doc));
		await tracker.whenLoaded;
		expect(tracker.isStored(m.id)).toBe(false);
	});
});
