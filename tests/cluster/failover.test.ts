/**
 * Three relays behind nginx (the README's configuration), a seeded random workload of posts,
 * edits, reactions and membership changes from clients spread over them, one relay killed
 * with kill -9 mid-run and restarted: every client and PostgreSQL end equal, and every update
 * a relay acknowledged as stored is there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import * as prng from 'lib0/prng';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import {
	addMember,
	createConversation,
	editMessage,
	postMessage,
	readMembers,
	readMessages,
	removeMember,
	toggleReaction
} from '../../src/lib/model';
import { MESSAGE_STORED, readStoredMessage } from '../../src/lib/sync/delivery';
import { snapshot } from '../fixtures/replicas';
import { metric, newDevice, synced, until, type Device, type Relay } from '../relay/helpers/relay';
import {
	clusterRelay,
	clusterUnavailable,
	docFromDatabase,
	freePort,
	freshDatabase,
	query,
	REDIS_URL,
	startNginx
} from './helpers';

const unavailable = await clusterUnavailable();
if (unavailable) console.warn(`SKIPPED cluster failover test: ${unavailable}`);

const SEED = Number(process.env.KITH_TEST_SEED ?? 9);
const STEPS = 240;
const CONV = '5001';

interface Client {
	name: string;
	device: Device;
	doc: Y.Doc;
	provider: WebsocketProvider;
	/** What the relays acknowledged as stored: client id → clock. */
	stored: Map<number, number>;
}

(unavailable ? describe.skip : describe)('three relays behind nginx', () => {
	let db: Awaited<ReturnType<typeof freshDatabase>>;
	let nginx: Awaited<ReturnType<typeof startNginx>>;
	const ports: number[] = [];
	const relays: Relay[] = [];
	let env: Record<string, string> & {
		DATABASE_URL: string;
		REDIS_URL: string;
		REDIS_PREFIX: string;
	};
	const clients: Client[] = [];

	beforeAll(async () => {
		db = await freshDatabase();
		env = {
			DATABASE_URL: db.url,
			REDIS_URL,
			REDIS_PREFIX: `kith-test-${randomBytes(4).toString('hex')}:`,
			// Compaction runs often, on whichever relay gets there first, during the workload.
			COMPACT_AFTER_UPDATES: '30'
		};
		for (let i = 0; i < 3; i++) ports.push(await freePort());
		for (const p of ports) relays.push(await clusterRelay(p, env));
		nginx = await startNginx(ports);
	});

	afterAll(async () => {
		for (const c of clients) c.provider.destroy();
		await nginx?.stop();
		for (const r of relays) await r.kill();
		await db?.drop();
	});

	function client(name: string, device: Device): Client {
		const doc = new Y.Doc();
		const provider = new WebsocketProvider(nginx.ws, `conv:${CONV}`, doc, {
			params: { token: device.token, ack: '1' },
			WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
			disableBc: true,
			maxBackoffTime: 300
		});
		const stored = new Map<number, number>();
		provider.messageHandlers[MESSAGE_STORED] = (_e, decoder) => {
			const ack = readStoredMessage(decoder);
			if (ack.full) stored.clear();
			for (const [c, k] of ack.vector) stored.set(c, Math.max(k, stored.get(c) ?? 0));
		};
		const c = { name, device, doc, provider, stored };
		clients.push(c);
		return c;
	}

	it('ends with every client and PostgreSQL equal, and every acknowledged update stored', async () => {
		// Sessions through nginx: the challenge and its answer may reach different relays.
		const relayLike = { http: nginx.http } as unknown as Relay;
		const people: Device[] = [];
		for (let i = 0; i < 4; i++) people.push(await newDevice(relayLike));
		const [alice] = people as [Device, ...Device[]];

		const owner = client('alice-0', alice);
		await synced(owner.provider);
		createConversation(owner.doc, {
			kind: 'group',
			name: 'failover',
			id: CONV,
			created_by: alice.user,
			members: people.map((p) => p.user)
		});
		await until(() => (owner.stored.get(owner.doc.clientID) ?? 0) > 0, 5000, 'creation stored');
		// Two clients per person (a laptop and a phone), spread over the relays by nginx.
		for (const [i, p] of people.entries()) {
			if (i > 0) client(`p${i}-0`, p);
			client(`p${i}-1`, p);
		}
		for (const c of clients) await synced(c.provider, 10_000);
		for (const r of relays) expect(await metric(r, 'kith_connections')).toBeGreaterThan(0);

		const gen = prng.create(SEED);
		const removed = new Set<string>();
		/** Every message posted: who, and the clock its client reached with it. */
		const posted: Array<{ id: string; client: Client; clientId: number; clock: number }> = [];
		const killAt = Math.floor(STEPS / 3);
		const restartAt = Math.floor((2 * STEPS) / 3);
		const deadline = Date.now() + 60_000;
		for (let step = 0; step < STEPS && Date.now() < deadline; step++) {
			if (step === killAt) await relays[1]!.kill();
			if (step === restartAt) relays[1] = await clusterRelay(ports[1]!, env);
			// y-websocket stops after a 44xx close (removed: 4410, or a write refused because it
			// raced with the removal: 4422), as the app's session does until it is let back in.
			for (const x of clients)
				if (!removed.has(x.device.user) && !x.provider.shouldConnect) x.provider.connect();
			const c = prng.oneOf(gen, clients);
			const me = c.device.user;
			const kind = prng.int32(gen, 0, 99);
			if (c.device === alice && kind >= 90) {
				// Membership: Alice (the creator) removes someone, or adds a removed person back.
				const back = [...removed];
				if (back.length > 0 && prng.bool(gen)) {
					const user = prng.oneOf(gen, back);
					// This device may not have heard of the removal yet: then it is a no-op.
					if (!readMembers(c.doc).some((m) => m.user_id === user)) {
						addMember(c.doc, { user_id: user, added_by: me });
						removed.delete(user);
					}
				} else {
					const others = readMembers(c.doc)
						.map((m) => m.user_id)
						.filter((u) => u !== me);
					if (others.length > 0) {
						const user = prng.oneOf(gen, others);
						removeMember(c.doc, { user_id: user, removed_by: me });
						removed.add(user);
					}
				}
			} else if (!removed.has(me)) {
				const mine = readMessages(c.doc).filter((m) => m.created_by === me && !m.deleted_at);
				const all = readMessages(c.doc).filter((m) => !m.deleted_at);
				if (kind < 50 || all.length === 0) {
					const m = postMessage(c.doc, { content: `step ${step} by ${c.name}`, created_by: me });
					posted.push({
						id: m.id,
						client: c,
						clientId: c.doc.clientID,
						clock: Y.getState(c.doc.store, c.doc.clientID)
					});
				} else if (kind < 65 && mine.length > 0) {
					editMessage(c.doc, prng.oneOf(gen, mine).id, {
						content: `edited at ${step}`,
						edited_by: me
					});
				} else {
					toggleReaction(c.doc, prng.oneOf(gen, all).id, {
						emoji: prng.oneOf(gen, ['👍', '🎉', '❤️']),
						user_id: me
					});
				}
			}
			await new Promise((r) => setTimeout(r, prng.int32(gen, 5, 40)));
		}
		// Everyone back in, so every client may sync the whole conversation again.
		await until(
			() => [...removed].every((u) => !readMembers(owner.doc).some((m) => m.user_id === u)),
			10_000,
			'the owner has seen every removal'
		);
		for (const user of removed) addMember(owner.doc, { user_id: user, added_by: alice.user });
		removed.clear();
		await new Promise((r) => setTimeout(r, 300));
		for (const c of clients) if (!c.provider.shouldConnect) c.provider.connect();

		const acknowledged = posted.filter((p) => (p.client.stored.get(p.clientId) ?? 0) >= p.clock);
		expect(acknowledged.length).toBeGreaterThan(posted.length / 2);

		// Converged: every client equal to every other and to PostgreSQL.
		const equal = async (): Promise<boolean> => {
			const stored = await docFromDatabase(db.url, `conv:${CONV}`);
			const expected = JSON.stringify(snapshot(stored));
			const sv = Y.encodeStateVector(stored).toString();
			return clients.every(
				(c) =>
					c.provider.synced &&
					JSON.stringify(snapshot(c.doc)) === expected &&
					Y.encodeStateVector(c.doc).toString() === sv
			);
		};
		const end = Date.now() + 30_000;
		while (!(await equal()) && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
		const stored = await docFromDatabase(db.url, `conv:${CONV}`);
		if (process.env.KITH_TEST_DEBUG) {
			const svOf = (d: Y.Doc) => JSON.stringify([...Y.decodeStateVector(Y.encodeStateVector(d))]);
			console.log(
				'PG',
				svOf(stored),
				readMessages(stored).length,
				readMembers(stored).map((m) => m.user_id.slice(0, 6))
			);
			for (const c of clients)
				console.log(
					c.name,
					c.device.user.slice(0, 6),
					c.doc.clientID,
					c.provider.synced,
					c.provider.wsconnected,
					svOf(c.doc),
					readMessages(c.doc).length,
					readMembers(c.doc).map((m) => m.user_id.slice(0, 6))
				);
			for (const r of relays)
				console.log(
					r.logs
						.filter((l) => /"level":(40|50)|refused|closing/.test(l))
						.slice(-15)
						.join('\n')
				);
		}
		for (const c of clients) {
			expect(snapshot(c.doc), `${c.name} differs from PostgreSQL`).toEqual(snapshot(stored));
			expect(Y.encodeStateVector(c.doc), `${c.name}'s state vector`).toEqual(
				Y.encodeStateVector(stored)
			);
		}
		const ids = new Set(readMessages(stored).map((m) => m.id));
		for (const p of acknowledged)
			expect(ids.has(p.id), `acknowledged ${p.id} is stored`).toBe(true);
		// Nothing posted was lost either: clients resend what was not acknowledged.
		for (const p of posted) expect(ids.has(p.id), `posted ${p.id} is stored`).toBe(true);
		// Relays compacted the log into a snapshot while the workload ran (under the advisory lock).
		expect(
			await query(db.url, 'SELECT count(*)::int AS n FROM kith_snapshots WHERE doc = $1', [
				`conv:${CONV}`
			])
		).toEqual([{ n: 1 }]);
		// The restarted relay serves again.
		expect(await metric(relays[1]!, 'kith_connections')).toBeGreaterThanOrEqual(0);
	});
});
