import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import {
	conversationTypes,
	createConversation,
	postMessage,
	readMessages,
	type MessageRecord
} from '../../src/lib/model';
import { DocEntry } from '../../sync-server/docs';
import {
	closeCodeWithin,
	connect,
	metric,
	newDevice,
	rawSocket,
	removeDir,
	startRelay,
	synced,
	until,
	type Device,
	type Relay
} from './helpers/relay';

/** A DocEntry held cold, built the way the relay freezes one (docs.ts, `#freeze`). */
function coldEntry(doc: Y.Doc): DocEntry {
	const state = Y.encodeStateAsUpdate(doc);
	const vector = Y.encodeStateVector(doc);
	const entry = new DocEntry(
		'conv:c1',
		'c1',
		{
			state,
			vector,
			deletes: Y.encodeStateAsUpdate(doc, vector),
			kind: 'group',
			members: new Set(['ana'])
		},
		new Awareness(new Y.Doc()),
		state.byteLength,
		0,
		0,
		true,
		new Map(),
		() => {
			throw new Error('a cold entry was warmed');
		}
	);
	return entry;
}

/** The document a peer holding `base` ends with after applying `update`. */
function after(base: Uint8Array, update: Uint8Array): Uint8Array {
	const d = new Y.Doc();
	Y.applyUpdate(d, base);
	Y.applyUpdate(d, update);
	return Y.encodeStateAsUpdate(d);
}

const record = (i: number, by: string) =>
	({ id: `m${i}`, conversation_id: 'c1', created_by: by, content: `${i}` }) as MessageRecord;

describe('a document held as bytes (DocEntry cold)', () => {
	it('answers sync step 1 and 2 as its Y.Doc would, for new, behind, up-to-date and ahead peers', () => {
		const writers = [new Y.Doc(), new Y.Doc()];
		const snapshots: Uint8Array[] = [new Uint8Array([0, 0])];
		for (let round = 0; round < 4; round++) {
			writers.forEach((w, k) => {
				const m = conversationTypes(w).messages;
				m.push([record(round * 10 + k, `u${k}`), record(round * 10 + k + 5, `u${k}`)]);
				if (m.length > 3) m.delete(1, 1);
			});
			const merged = Y.mergeUpdates(writers.map((w) => Y.encodeStateAsUpdate(w)));
			for (const w of writers) Y.applyUpdate(w, merged);
			snapshots.push(Y.encodeStateAsUpdate(writers[0]!));
		}
		const live = writers[0]!;
		const entry = coldEntry(live);
		expect(entry.cold).not.toBeNull();
		expect(entry.stateVector()).toEqual(Y.encodeStateVector(live));
		// A peer at each earlier snapshot, and one ahead of the relay (an extra client).
		const ahead = new Y.Doc();
		Y.applyUpdate(ahead, Y.encodeStateAsUpdate(live));
		conversationTypes(ahead).messages.push([record(99, 'zed')]);
		const peers = [...snapshots, Y.encodeStateAsUpdate(ahead)];
		for (const base of peers) {
			const d = new Y.Doc();
			Y.applyUpdate(d, base);
			const vector = Y.encodeStateVector(d);
			const fromBytes = entry.diff(vector);
			const fromDoc = Y.encodeStateAsUpdate(live, vector);
			expect(after(base, fromBytes)).toEqual(after(base, fromDoc));
		}
		// The delete set taken from the Y.Doc is what diffing the bytes against their own vector gives.
		const liveVector = Y.encodeStateVector(live);
		expect(entry.cold!.deletes).toEqual(Y.diffUpdate(Y.encodeStateAsUpdate(live), liveVector));
		// An up-to-date peer gets the delete set alone, as from the Y.Doc: a few bytes.
		const upToDate = entry.diff(Y.encodeStateVector(live));
		expect(upToDate.byteLength).toBeLessThanOrEqual(
			Y.encodeStateAsUpdate(live, Y.encodeStateVector(live)).byteLength
		);
		expect(entry.isMember('ana')).toBe(true);
		expect(entry.isMember('bo')).toBe(false);
		expect(entry.kind()).toBe('group');
		expect(entry.cold).not.toBeNull();
	});
});

describe('a relay holding idle conversations cold', () => {
	let relay: Relay;
	let alice: Device;
	let bob: Device;
	let carol: Device;

	beforeAll(async () => {
		relay = await startRelay({ env: { DOC_HOT_MS: '150', COLD_MIN_BYTES: '1' } });
		[alice, bob, carol] = [await newDevice(relay), await newDevice(relay), await newDevice(relay)];
	});
	afterAll(async () => {
		await relay.stop();
		removeDir(relay.dataDir);
	});

	async function coldGroup(id: string, messages = 20, content = (i: number) => `m${i}`) {
		const a = connect(relay, `conv:${id}`, alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'cold',
			id,
			created_by: alice.user,
			members: [alice.user, bob.user]
		});
		// One update (a relay's rate limit would refuse hundreds in a burst).
		a.doc.transact(() => {
			for (let i = 0; i < messages; i++)
				postMessage(a.doc, { content: content(i), created_by: alice.user });
		});
		const cold = await metric(relay, 'kith_docs_cold');
		const deadline = Date.now() + 5000;
		while ((await metric(relay, 'kith_docs_cold')) <= cold && Date.now() < deadline) {
			await new Promise((r) => setTimeout(r, 50));
		}
		expect(await metric(relay, 'kith_docs_cold')).toBe(cold + 1);
		return a;
	}

	it('serves a new device and a reconnecting one from the bytes, and stays cold', async () => {
		const a = await coldGroup('7001');
		const coldNow = await metric(relay, 'kith_docs_cold');
		const b = connect(relay, 'conv:7001', bob.token);
		await synced(b.provider);
		await until(() => readMessages(b.doc).length === 20, 5000, 'the history at bob');
		expect(Y.encodeStateAsUpdate(b.doc)).toEqual(Y.encodeStateAsUpdate(a.doc));
		// Bob's sync step 2 holds nothing new: the relay does not build the Y.Doc for it.
		b.provider.disconnect();
		b.provider.connect();
		await synced(b.provider);
		await new Promise((r) => setTimeout(r, 100));
		expect(await metric(relay, 'kith_docs_cold')).toBe(coldNow);
		// A write warms it: forwarded, stored, and cold again later.
		postMessage(b.doc, { content: 'from bob', created_by: bob.user });
		await until(() => readMessages(a.doc).length === 21, 5000, 'bob’s message at alice');
		const deadline = Date.now() + 5000;
		while ((await metric(relay, 'kith_docs_cold')) < coldNow && Date.now() < deadline) {
			await new Promise((r) => setTimeout(r, 50));
		}
		expect(await metric(relay, 'kith_docs_cold')).toBe(coldNow);
		const c = connect(relay, 'conv:7001', bob.token);
		await synced(c.provider);
		await until(() => readMessages(c.doc).length === 21, 5000, 'all 21 from the cold bytes');
		for (const p of [a, b, c]) p.provider.destroy();
	});

	it('serves a history bigger than one frame, from the bytes and from the Y.Doc', async () => {
		// ~200 KB: sent as one message in two frames (docs.ts, sendStep2), the state uncopied.
		const a = await coldGroup('7004', 400, (i) => `${i} `.padEnd(500, 'x'));
		const cold = connect(relay, 'conv:7004', bob.token);
		await synced(cold.provider);
		await until(() => readMessages(cold.doc).length === 400, 5000, 'the history, cold');
		expect(Y.encodeStateAsUpdate(cold.doc)).toEqual(Y.encodeStateAsUpdate(a.doc));
		// A write makes it hot: the next device is served from the Y.Doc.
		postMessage(cold.doc, { content: 'warm', created_by: bob.user });
		await until(() => readMessages(a.doc).length === 401, 5000, 'bob’s message at alice');
		const hot = connect(relay, 'conv:7004', bob.token);
		await synced(hot.provider);
		await until(() => readMessages(hot.doc).length === 401, 5000, 'the history, hot');
		expect(Y.encodeStateAsUpdate(hot.doc)).toEqual(Y.encodeStateAsUpdate(a.doc));
		for (const p of [a, cold, hot]) p.provider.destroy();
	});

	it('refuses a non-member and a forged message to a cold conversation', async () => {
		const a = await coldGroup('7002');
		// Carol is not a member: refused at the door, from the cold member list.
		const stranger = await rawSocket(`${relay.ws}/conv:7002?token=${carol.token}`);
		expect(await closeCodeWithin(stranger.closed, 3000)).toBe(4403);
		// Bob posts under Alice's id: refused (4422), and nobody gets it.
		const b = connect(relay, 'conv:7002', bob.token);
		await synced(b.provider);
		const closes: number[] = [];
		b.provider.on('connection-close', (ev: { code: number } | null) => {
			if (ev) closes.push(ev.code);
		});
		b.provider.shouldConnect = true;
		postMessage(b.doc, { content: 'forged', created_by: alice.user });
		await until(() => closes.includes(4422), 5000, 'the forged write refused');
		b.provider.destroy();
		await new Promise((r) => setTimeout(r, 200));
		expect(readMessages(a.doc).map((m) => m.content)).not.toContain('forged');
		const c = connect(relay, 'conv:7002', alice.token);
		await synced(c.provider);
		await until(() => readMessages(c.doc).length === 20, 5000, 'the stored history');
		expect(readMessages(c.doc).map((m) => m.content)).not.toContain('forged');
		for (const p of [a, c]) p.provider.destroy();
	});

	it('keeps relaying presence after a refused write rebuilt the document', async () => {
		// restore() replaces the Y.Doc; the Awareness used to live on the old one and was
		// destroyed with it, listeners and all: presence stopped reaching anyone.
		const a = await coldGroup('7003');
		const c = connect(relay, 'conv:7003', alice.token);
		await synced(c.provider);
		const b = connect(relay, 'conv:7003', bob.token);
		await synced(b.provider);
		const closes: number[] = [];
		b.provider.on('connection-close', (ev: { code: number } | null) => {
			if (ev) closes.push(ev.code);
		});
		postMessage(b.doc, { content: 'forged', created_by: alice.user });
		await until(() => closes.includes(4422), 5000, 'the forged write refused');
		b.provider.destroy();
		a.awareness.setLocalStateField('user', { id: alice.user, name: 'Alice', color: '#3b82f6' });
		await until(
			() => c.awareness.getStates().get(a.doc.clientID) !== undefined,
			5000,
			'alice’s presence at her other connection'
		);
		for (const p of [a, c]) p.provider.destroy();
	});
});
