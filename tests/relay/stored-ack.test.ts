import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { describe, expect, it, vi } from 'vitest';
import { WebsocketProvider } from 'y-websocket';
import { createConversation, postMessage, readMessages } from '../../src/lib/model';
import { messageStored } from '../../sync-server/protocol';
import {
	DeliveryTracker,
	MESSAGE_STORED,
	readStoredMessage,
	type StoredAck
} from '../../src/lib/sync/delivery';
import { generateKeyPair } from '../../src/lib/sync/identity';
import { RelaySession } from '../../src/lib/sync/relay';
import {
	connect,
	createGroupIn,
	newDevice,
	postUntilClosed,
	rawSocket,
	removeDir,
	synced,
	tempDataDir,
	until,
	type Device,
	type Relay,
	withCleanup
} from './helpers/relay';

const { defer, relayAt } = withCleanup();
async function freshRelay(env: Record<string, string> = {}): Promise<Relay> {
	const dir = tempDataDir();
	defer(() => removeDir(dir));
	return relayAt(dir, env);
}

/** A y-websocket client that asks for acknowledgements and records every one it gets. */
function ackingClient(relay: Relay, docName: string, token: string, doc = new Y.Doc()) {
	const provider = new WebsocketProvider(relay.ws, docName, doc, {
		params: { token, ack: '1' },
		WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
		disableBc: true,
		maxBackoffTime: 300
	});
	const acks: StoredAck[] = [];
	const stored = new Map<number, number>();
	provider.messageHandlers[MESSAGE_STORED] = (_e, decoder) => {
		const ack = readStoredMessage(decoder);
		acks.push(ack);
		if (ack.full) stored.clear();
		for (const [c, k] of ack.vector) stored.set(c, Math.max(k, stored.get(c) ?? 0));
	};
	defer(() => provider.destroy());
	return { doc, provider, acks, stored };
}

/** Whether `stored` covers everything `doc`'s own client wrote. */
const coversOwn = (stored: Map<number, number>, doc: Y.Doc) =>
	(stored.get(doc.clientID) ?? 0) >= Y.getState(doc.store, doc.clientID);

async function group(relay: Relay, owner: Device, id: string, members: string[] = []) {
	const a = ackingClient(relay, `conv:${id}`, owner.token);
	return createGroupIn(a, owner, id, members);
}

/** What a fresh download of the document holds, as a state vector. */
async function storedOn(relay: Relay, who: Device, name: string): Promise<Y.Doc> {
	const c = connect(relay, name, who.token);
	await synced(c.provider);
	await new Promise((r) => setTimeout(r, 50));
	c.provider.destroy();
	return c.doc;
}

/** Every client in `claimed` is held by `doc` at least up to the claimed clock. */
function missingFrom(doc: Y.Doc, claimed: Map<number, number>): Array<[number, number, number]> {
	return [...claimed]
		.filter(([c, k]) => Y.getState(doc.store, c) < k)
		.map(([c, k]) => [c, k, Y.getState(doc.store, c)]);
}

describe('stored acknowledgements (message 100)', () => {
	it('uses the same message number on the relay and in the app', () => {
		expect(MESSAGE_STORED).toBe(messageStored);
		expect(MESSAGE_STORED).toBe(100);
	});

	it('tells a client that asked with ack=1 what is stored when it opens and after it posts', async () => {
		const relay = await freshRelay();
		const alice = await newDevice(relay);
		const a = await group(relay, alice, '5001');
		await until(() => coversOwn(a.stored, a.doc), 5000, 'the creation acknowledged');
		expect(a.acks[0]?.full).toBe(true);
		expect(a.acks[0]?.vector.size).toBe(0);

		const before = a.acks.length;
		// Twenty posts in one turn of the client's event loop: one commit, one acknowledgement.
		for (let i = 0; i < 20; i++) postMessage(a.doc, { content: `m${i}`, created_by: alice.user });
		await until(() => coversOwn(a.stored, a.doc), 5000, 'the posts acknowledged');
		expect(a.acks.slice(before).every((ack) => !ack.full)).toBe(true);
		expect(a.acks.length - before).toBeLessThan(20);

		// A second device opening later learns at once what is already stored.
		const again = ackingClient(relay, 'conv:5001', alice.token);
		await synced(again.provider);
		await until(() => again.acks.length > 0, 5000, 'the first acknowledgement');
		expect(again.acks[0]!.full).toBe(true);
		expect(again.acks[0]!.vector.get(a.doc.clientID)).toBe(Y.getState(a.doc.store, a.doc.clientID));
	});

	it('never sends message 100 to a standard client that did not ask', async () => {
		const relay = await freshRelay();
		const alice = await newDevice(relay);
		const bob = await newDevice(relay);
		const errors = vi.spyOn(console, 'error');
		defer(() => errors.mockRestore());
		const a = await group(relay, alice, '5002', [bob.user]);
		// A standard y-websocket client (bob) that writes too, and a raw socket recording frames.
		const b = connect(relay, 'conv:5002', bob.token);
		defer(() => b.provider.destroy());
		await synced(b.provider);
		const raw = await rawSocket(`${relay.ws}/conv:5002?token=${bob.token}`);
		defer(() => raw.ws.close());
		postMessage(b.doc, { content: 'from a standard client', created_by: bob.user });
		postMessage(a.doc, { content: 'from an acking client', created_by: alice.user });
		await until(() => readMessages(b.doc).length === 2, 5000, 'both messages at bob');
		await until(() => coversOwn(a.stored, b.doc), 5000, 'bob’s post stored');
		// Both posts reach the raw socket (one frame each, or one merged frame if one commit).
		const onRaw = (text: string) => raw.received.some((f) => f.includes(text));
		await until(
			() => onRaw('from a standard client') && onRaw('from an acking client'),
			5000,
			'both posts on the raw socket'
		);
		await new Promise((r) => setTimeout(r, 200));
		expect(raw.received.map((f) => f[0])).not.toContain(MESSAGE_STORED);
		expect(raw.received.every((f) => f[0]! <= 3)).toBe(true);
		const unable = errors.mock.calls.filter((c) => String(c[0]).includes('Unable to compute'));
		expect(unable).toEqual([]);
	});

	it('never claims an update the disk refused, and everything it claimed survives a kill -9', async () => {
		const dir = tempDataDir();
		defer(() => removeDir(dir));
		// 40 pages of 4 KiB: room for the tables and a few messages only.
		const relay = await relayAt(dir, { SQLITE_MAX_PAGES: '40', STORAGE_RETRY_MS: '100' });
		const alice = await newDevice(relay);
		const bob = await newDevice(relay);
		const a = await group(relay, alice, '5003', [bob.user]);
		const b = ackingClient(relay, 'conv:5003', bob.token);
		await synced(b.provider);
		expect(await postUntilClosed(a, alice.user)).toBe(4507);
		// The relay keeps retrying the refused write; give it time to (wrongly) acknowledge it.
		await new Promise((r) => setTimeout(r, 500));
		const claimedA = new Map(a.stored);
		const claimedB = new Map(b.stored);
		// Alice's last posts were never acknowledged, to her or to bob.
		const own = Y.getState(a.doc.store, a.doc.clientID);
		expect(claimedA.get(a.doc.clientID) ?? 0).toBeLessThan(own);
		expect(claimedB.get(a.doc.clientID) ?? 0).toBeLessThan(own);
		expect(claimedA.get(a.doc.clientID) ?? 0).toBeGreaterThan(0);
		await relay.kill();

		const again = await relayAt(dir);
		const copy = await storedOn(again, bob, 'conv:5003');
		expect(missingFrom(copy, claimedA)).toEqual([]);
		expect(missingFrom(copy, claimedB)).toEqual([]);
		// Nothing beyond what was acknowledged reached the disk either: the claim was exact.
		expect(Y.getState(copy.store, a.doc.clientID)).toBe(claimedA.get(a.doc.clientID));
	});

	it('acknowledges only what a relay killed mid-burst had committed', async () => {
		const dir = tempDataDir();
		defer(() => removeDir(dir));
		// The burst is faster than the rate limits allow: lift them, or the writer is closed (4429)
		// in the very turn its updates are accepted, before any acknowledgement reaches it.
		const unlimited = '1000000';
		const relay = await relayAt(dir, {
			CONN_UPDATE_RATE: unlimited,
			CONN_UPDATE_BURST: unlimited,
			USER_UPDATE_RATE: unlimited,
			USER_UPDATE_BURST: unlimited
		});
		const alice = await newDevice(relay);
		const a = await group(relay, alice, '5004');
		let sent = 0;
		const writer = setInterval(() => {
			for (let i = 0; i < 5 && sent < 2000; i++)
				postMessage(a.doc, { content: `burst ${sent++}`, created_by: alice.user });
		}, 2);
		await until(() => (a.stored.get(a.doc.clientID) ?? 0) > 100, 10_000, '100 acknowledged');
		await relay.kill();
		clearInterval(writer);
		const claimed = new Map(a.stored);
		a.provider.shouldConnect = false;
		a.provider.disconnect();

		const again = await relayAt(dir);
		const copy = await storedOn(again, alice, 'conv:5004');
		expect(missingFrom(copy, claimed)).toEqual([]);
	});
});

describe('RelaySession with a DeliveryTracker', () => {
	function session(relay: Relay, network: EventTarget | null = null) {
		const s = new RelaySession({
			url: relay.http,
			keyPair: generateKeyPair(),
			WebSocketPolyfill: WebSocket,
			disableBc: true,
			network
		});
		defer(() => s.destroy());
		return s;
	}

	it('shows a message sent offline as pending, and stored once the relay has it', async () => {
		const relay = await freshRelay();
		const network = new EventTarget();
		const a = session(relay, network);
		const doc = new Y.Doc();
		const meta = createConversation(doc, {
			kind: 'group',
			name: 'offline',
			created_by: a.userId,
			members: []
		});
		const link = a.connect(`conv:${meta.id}`, doc);
		const tracker = new DeliveryTracker(doc);
		tracker.attach(link);
		defer(() => tracker.destroy());
		await link.whenSynced;
		const first = postMessage(doc, { content: 'online', created_by: a.userId });
		await until(() => tracker.isStored(first.id), 5000, 'the first message stored');
		// A tracker attached later hears what the link heard so far.
		const late = new DeliveryTracker(doc);
		late.attach(link);
		expect(late.isStored(first.id)).toBe(true);
		late.destroy();

		network.dispatchEvent(new Event('offline'));
		const offline = postMessage(doc, { content: 'written offline', created_by: a.userId });
		const changes: Array<ReadonlySet<string>> = [];
		tracker.onChange((p) => changes.push(p));
		await new Promise((r) => setTimeout(r, 300));
		expect(tracker.isStored(offline.id)).toBe(false);
		expect(tracker.pendingIds()).toEqual(new Set([offline.id]));

		network.dispatchEvent(new Event('online'));
		await until(() => tracker.isStored(offline.id), 5000, 'the offline message stored');
		expect(tracker.pendingIds()).toEqual(new Set());
		expect(changes.at(-1)).toEqual(new Set());
	});

	it('shows another member’s message as stored the moment it arrives', async () => {
		const relay = await freshRelay();
		const a = session(relay);
		const b = session(relay);
		const docA = new Y.Doc();
		const meta = createConversation(docA, {
			kind: 'group',
			name: 'pair',
			created_by: a.userId,
			members: [b.userId]
		});
		const linkA = a.connect(`conv:${meta.id}`, docA);
		const tracker = new DeliveryTracker(docA);
		tracker.attach(linkA);
		defer(() => tracker.destroy());
		await linkA.whenSynced;
		const docB = new Y.Doc();
		await b.connect(`conv:${meta.id}`, docB).whenSynced;
		const onArrival: boolean[] = [];
		docA.getArray('messages').observe(() => {
			for (const m of readMessages(docA))
				if (m.created_by === b.userId) onArrival.push(tracker.isStored(m.id));
		});
		postMessage(docB, { content: 'from b', created_by: b.userId });
		await until(() => onArrival.length > 0, 5000, 'b’s message at a');
		expect(onArrival).toEqual([true]);
	});
});
