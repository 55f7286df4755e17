import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import {
	DeviceHoldings,
	MAX_PUBLISHED_SV_BYTES,
	publishableVector
} from '../../../src/lib/sync/holdings';

/** Passes every awareness change of each to the others, as the relay would. */
function link(...awarenesses: Awareness[]): void {
	for (const from of awarenesses)
		from.on('update', ({ added, updated, removed }: Record<string, number[]>) => {
			const update = encodeAwarenessUpdate(from, [...added!, ...updated!, ...removed!]);
			for (const to of awarenesses) if (to !== from) applyAwarenessUpdate(to, update, 'relay');
		});
}

function memoryStorage() {
	const m = new Map<string, string>();
	return {
		getItem: (k: string) => m.get(k) ?? null,
		setItem: (k: string, v: string) => void m.set(k, v)
	};
}

function device(user: string, id: string, storage = memoryStorage()) {
	const doc = new Y.Doc();
	const awareness = new Awareness(doc);
	const holdings = new DeviceHoldings(doc, awareness, {
		user,
		device: id,
		storage,
		key: 'conv:1',
		throttleMs: 0
	});
	return { doc, awareness, holdings, storage };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('DeviceHoldings', () => {
	it('counts the other devices whose published vector covers a message, members only', async () => {
		const a = device('ada', 'ada-laptop');
		const b = device('bo', 'bo-phone');
		const c = device('cy', 'cy-desk');
		link(a.awareness, b.awareness, c.awareness);
		const arr = a.doc.getArray<string>('messages');
		arr.push(['hello']);
		const item = arr._start!;
		const refs = [{ client: item.id.client, clock: item.id.clock }];
		await tick();
		expect(a.holdings.count(refs, new Set(['ada', 'bo', 'cy']))).toBe(0);

		Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc));
		await tick();
		expect(a.holdings.count(refs, new Set(['ada', 'bo', 'cy']))).toBe(1);
		Y.applyUpdate(c.doc, Y.encodeStateAsUpdate(a.doc));
		await tick();
		expect(a.holdings.count(refs, new Set(['ada', 'bo', 'cy']))).toBe(2);
		// Cy left the conversation: their device no longer counts.
		expect(a.holdings.count(refs, new Set(['ada', 'bo']))).toBe(1);
		// A later message is held by nobody else yet.
		arr.push(['later']);
		const later = arr._start!.right ?? arr._start!;
		const laterRefs = [{ client: later.id.client, clock: later.id.clock + later.length - 1 }];
		expect(a.holdings.count(laterRefs, new Set(['ada', 'bo', 'cy']))).toBe(0);
	});

	it('remembers what a device held after it went away, across a restart', async () => {
		const a = device('ada', 'ada-laptop');
		const b = device('bo', 'bo-phone');
		link(a.awareness, b.awareness);
		a.doc.getArray<string>('messages').push(['kept']);
		Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc));
		await tick();
		const item = a.doc.getArray('messages')._start!;
		const refs = [{ client: item.id.client, clock: item.id.clock }];
		b.awareness.destroy();
		a.holdings.destroy();
		// Ada's device restarts with the same storage and nobody online.
		const restarted = new DeviceHoldings(a.doc, new Awareness(a.doc), {
			user: 'ada',
			device: 'ada-laptop',
			storage: a.storage,
			key: 'conv:1'
		});
		expect(restarted.count(refs, new Set(['ada', 'bo']))).toBe(1);
		restarted.destroy();
	});

	it('ignores garbage in others’ presence and never counts this device', async () => {
		const a = device('ada', 'ada-laptop');
		const rogue = new Awareness(new Y.Doc());
		link(a.awareness, rogue);
		rogue.setLocalStateField('held', { user: 'mallory', device: 'x', sv: '%%%not base64' });
		rogue.setLocalStateField('held', { user: 'mallory', device: 'ada-laptop', sv: 'AA==' });
		rogue.setLocalStateField('held', 'nonsense');
		await tick();
		a.doc.getArray<string>('messages').push(['mine']);
		const item = a.doc.getArray('messages')._start!;
		expect(
			a.holdings.count([{ client: item.id.client, clock: 0 }], new Set(['ada', 'mallory']))
		).toBe(0);
	});

	it('cuts a vector too large for the relay to its highest clocks', () => {
		const doc = new Y.Doc();
		for (let i = 0; i < 1_000; i++) {
			const other = new Y.Doc();
			other.clientID = 1_000_000 + i;
			other.getArray('x').push(Array.from({ length: (i % 50) + 1 }, () => 1));
			Y.applyUpdate(doc, Y.encodeStateAsUpdate(other));
		}
		const cut = publishableVector(doc);
		expect(cut.byteLength).toBeLessThanOrEqual(MAX_PUBLISHED_SV_BYTES);
		const kept = Y.decodeStateVector(cut);
		const full = Y.decodeStateVector(Y.encodeStateVector(doc));
		const lowestKept = Math.min(...kept.values());
		for (const [client, clock] of full)
			if (clock > lowestKept) expect(kept.get(client)).toBe(clock);
	});
});
