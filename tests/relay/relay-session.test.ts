import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, postMessage, readMessages } from '../../src/lib/model';
import { generateKeyPair } from '../../src/lib/sync/identity';
import { RelaySession, type RelayStatus } from '../../src/lib/sync/relay';
import { removeDir, startRelay, tempDataDir, until, type Relay } from './helpers/relay';

function session(relay: Relay, extra: { ttlSeconds?: number; network?: EventTarget } = {}) {
	const refused: Array<{ doc: string; code: number }> = [];
	const s = new RelaySession({
		url: relay.http,
		keyPair: generateKeyPair(),
		WebSocketPolyfill: WebSocket,
		disableBc: true,
		network: extra.network ?? null,
		...(extra.ttlSeconds ? { ttlSeconds: extra.ttlSeconds } : {}),
		onRefused: (doc, code) => refused.push({ doc, code })
	});
	const statuses: RelayStatus[] = [];
	s.onStatus((st) => statuses.push(st));
	return { s, refused, statuses };
}

describe('RelaySession (the app side of the relay connection)', () => {
	let relay: Relay;
	const dataDir = tempDataDir();
	beforeAll(async () => {
		relay = await startRelay({ dataDir });
	});
	afterAll(async () => {
		await relay.stop();
		removeDir(dataDir);
	});

	it('syncs a conversation between two devices and reports them connected', async () => {
		const a = session(relay);
		const b = session(relay);
		const docA = new Y.Doc();
		const meta = createConversation(docA, {
			kind: 'group',
			name: 'pair',
			created_by: a.s.userId,
			members: [b.s.userId]
		});
		const linkA = a.s.connect(`conv:${meta.id}`, docA);
		await linkA.whenSynced;
		const docB = new Y.Doc();
		const linkB = b.s.connect(`conv:${meta.id}`, docB);
		await linkB.whenSynced;
		postMessage(docB, { content: 'hello from b', created_by: b.s.userId });
		await until(() => readMessages(docA).some((m) => m.content === 'hello from b'), 5000);
		expect(a.s.status).toBe('connected');
		expect(b.statuses).toContain('connected');
		a.s.destroy();
		b.s.destroy();
	});

	it('reports catching-up progress: documents connected, and how many have not synced yet', async () => {
		const a = session(relay);
		const seen: string[] = [];
		a.s.onStatus(() => {
			const p = a.s.progress;
			seen.push(`${p.pending}/${p.total}`);
		});
		const links = [];
		for (let i = 0; i < 4; i++) {
			const doc = new Y.Doc();
			const meta = createConversation(doc, {
				kind: 'group',
				name: `catch-up ${i}`,
				created_by: a.s.userId,
				members: []
			});
			for (let m = 0; m < 50; m++) postMessage(doc, { content: `m${m}`, created_by: a.s.userId });
			links.push(a.s.connect(`conv:${meta.id}`, doc));
		}
		await Promise.all(links.map((l) => l.whenSynced));
		await until(() => a.s.progress.total === 4 && a.s.progress.pending === 0, 5000);
		// On the way there, at least one document was connected and not yet in step.
		expect(seen.some((k) => Number(k.split('/')[0]) > 0)).toBe(true);
		expect(seen.at(-1)).toBe('0/4');
		a.s.destroy();
	});

	it('stops retrying a conversation it is not a member of, and says so', async () => {
		const a = session(relay);
		const b = session(relay);
		const docA = new Y.Doc();
		const meta = createConversation(docA, {
			kind: 'group',
			name: 'private',
			created_by: a.s.userId,
			members: []
		});
		await a.s.connect(`conv:${meta.id}`, docA).whenSynced;
		const docB = new Y.Doc();
		b.s.connect(`conv:${meta.id}`, docB);
		await until(() => b.refused.length > 0, 5000, 'refusal');
		expect(b.refused[0]).toEqual({ doc: `conv:${meta.id}`, code: 4403 });
		expect(readMessages(docB)).toEqual([]);
		a.s.destroy();
		b.s.destroy();
	});

	it('keeps edits made offline and sends them when the network returns', async () => {
		const network = new EventTarget();
		const a = session(relay, { network });
		const b = session(relay);
		const docA = new Y.Doc();
		const meta = createConversation(docA, {
			kind: 'group',
			name: 'offline',
			created_by: a.s.userId,
			members: [b.s.userId]
		});
		await a.s.connect(`conv:${meta.id}`, docA).whenSynced;
		const docB = new Y.Doc();
		await b.s.connect(`conv:${meta.id}`, docB).whenSynced;

		network.dispatchEvent(new Event('offline'));
		expect(a.s.status).toBe('offline');
		postMessage(docA, { content: 'written offline', created_by: a.s.userId });
		await new Promise((r) => setTimeout(r, 300));
		expect(readMessages(docB).map((m) => m.content)).not.toContain('written offline');

		network.dispatchEvent(new Event('online'));
		await until(() => readMessages(docB).some((m) => m.content === 'written offline'), 5000);
		await until(() => a.s.status === 'connected', 5000, 'connected again');
		a.s.destroy();
		b.s.destroy();
	});

	it('gets a new token when the relay refuses an expired one, and reconnects', async () => {
		const a = session(relay, { ttlSeconds: 2 });
		const doc = new Y.Doc();
		const meta = createConversation(doc, {
			kind: 'group',
			name: 'tokens',
			created_by: a.s.userId,
			members: []
		});
		const link = a.s.connect(`conv:${meta.id}`, doc);
		await link.whenSynced;
		const first = await a.s.token();
		await new Promise((r) => setTimeout(r, 2_500));
		// Force a reconnect with the now expired token still in the provider's URL.
		link.provider.params = { token: first };
		link.provider.disconnect();
		link.provider.connect();
		await until(() => link.provider.wsconnected && link.provider.synced, 8000, 'reconnect');
		expect(link.provider.params.token).not.toBe(first);
		expect(a.refused).toEqual([]);
		a.s.destroy();
	});
});
