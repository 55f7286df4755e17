import type { Socket } from 'node:net';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
	conversationTypes,
	createConversation,
	postMessage,
	readMessages
} from '../../src/lib/model';
import {
	connect,
	newDevice,
	rawSocket,
	removeDir,
	startRelay,
	synced,
	until,
	type Device,
	type Relay
} from './helpers/relay';

let relay: Relay;
let alice: Device;
let bob: Device;
beforeAll(async () => {
	relay = await startRelay();
	alice = await newDevice(relay);
	bob = await newDevice(relay);
});
afterAll(async () => {
	if (process.env.RELAY_LOGS) console.log(relay.logs.join('\n'));
	await relay.stop();
	removeDir(relay.dataDir);
});

function updateFrame(update: Uint8Array): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, 0);
	encoding.writeVarUint(e, 2);
	encoding.writeVarUint8Array(e, update);
	return encoding.toUint8Array(e);
}

/** The payloads of the sync update messages (type 0, 2) among received frames. */
function updatesIn(frames: readonly Buffer[]): Uint8Array[] {
	const out: Uint8Array[] = [];
	for (const f of frames) {
		const d = decoding.createDecoder(f);
		if (decoding.readVarUint(d) !== 0 || decoding.readVarUint(d) !== 2) continue;
		out.push(decoding.readVarUint8Array(d));
	}
	return out;
}

describe('forwarding', () => {
	it('sends each connection one message per commit, merged, without its own updates', async () => {
		const a = connect(relay, 'conv:6001', alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'batch',
			id: '6001',
			created_by: alice.user,
			members: [alice.user, bob.user]
		});
		await new Promise((r) => setTimeout(r, 200));

		// Ten posts from a second device of Alice's, all in one TCP segment: one event-loop
		// turn at the relay, so one group commit.
		const w = new Y.Doc();
		conversationTypes(w);
		const base = Y.encodeStateAsUpdate(a.doc);
		Y.applyUpdate(w, base);
		const updates: Uint8Array[] = [];
		w.on('update', (u: Uint8Array) => updates.push(u));
		for (let i = 0; i < 10; i++)
			postMessage(w, { content: `batched ${i}`, created_by: alice.user });

		const reader = await rawSocket(`${relay.ws}/conv:6001?token=${bob.token}`);
		const writer = await rawSocket(`${relay.ws}/conv:6001?token=${alice.token}`);
		await new Promise((r) => setTimeout(r, 200));
		const before = { reader: reader.received.length, writer: writer.received.length };
		const socket = (writer.ws as unknown as { _socket: Socket })._socket;
		socket.cork();
		for (const u of updates) writer.ws.send(updateFrame(u));
		socket.uncork();

		await until(() => readMessages(a.doc).length === 10, 3000, 'the posts at Alice’s first device');
		await new Promise((r) => setTimeout(r, 200));
		const got = updatesIn(reader.received.slice(before.reader));
		expect(got).toHaveLength(1);
		// Bob's device as it was before the posts, plus that one message: all ten, in order.
		const fresh = new Y.Doc();
		conversationTypes(fresh);
		Y.applyUpdate(fresh, base);
		Y.applyUpdate(fresh, got[0]!);
		expect(readMessages(fresh).map((m) => m.content)).toEqual(
			Array.from({ length: 10 }, (_, i) => `batched ${i}`)
		);
		// The writer's own updates are not echoed back to it.
		expect(updatesIn(writer.received.slice(before.writer))).toHaveLength(0);

		reader.ws.close();
		writer.ws.close();
		a.provider.destroy();
	});
});

describe('forwarding to readers of a channel', () => {
	it('forwards each commit to connected non-members of a listed channel and to its members, once and in order', async () => {
		const ws = connect(relay, 'workspace', alice.token);
		await synced(ws.provider);
		const a = connect(relay, 'conv:6002', alice.token);
		await synced(a.provider);
		const meta = createConversation(a.doc, {
			kind: 'channel',
			name: 'open',
			id: '6002',
			created_by: alice.user,
			members: [alice.user]
		});
		ws.doc.getMap('channels').set('6002', {
			id: '6002',
			name: 'open',
			created_at: meta.created_at,
			created_by: alice.user
		});
		await new Promise((r) => setTimeout(r, 200));

		// Bob is not a member: he reads the channel because the workspace lists it. Two of his
		// connections and a second one of Alice's (a member) each get every commit.
		const readers = await Promise.all([
			rawSocket(`${relay.ws}/conv:6002?token=${bob.token}`),
			rawSocket(`${relay.ws}/conv:6002?token=${bob.token}`),
			rawSocket(`${relay.ws}/conv:6002?token=${alice.token}`)
		]);
		await new Promise((r) => setTimeout(r, 200));
		const base = Y.encodeStateAsUpdate(a.doc);
		const before = readers.map((r) => r.received.length);
		for (let i = 0; i < 5; i++) {
			postMessage(a.doc, { content: `open ${i}`, created_by: alice.user });
			// One commit each: the relay's turn ends between them.
			await new Promise((r) => setTimeout(r, 30));
		}
		await until(
			() => readers.every((r, i) => updatesIn(r.received.slice(before[i])).length >= 5),
			3000,
			'five commits at every reader'
		);
		await new Promise((r) => setTimeout(r, 100));
		for (const [i, r] of readers.entries()) {
			const got = updatesIn(r.received.slice(before[i]));
			expect(got).toHaveLength(5);
			const doc = new Y.Doc();
			conversationTypes(doc);
			Y.applyUpdate(doc, base);
			got.forEach((u, k) => {
				Y.applyUpdate(doc, u);
				expect(readMessages(doc).map((m) => m.content)).toEqual(
					Array.from({ length: k + 1 }, (_, j) => `open ${j}`)
				);
			});
			expect(r.closeCode).toBeNull();
		}
		for (const r of readers) r.ws.close();
		for (const p of [ws, a]) p.provider.destroy();
	});
});
