import { spawnSync } from 'node:child_process';
import * as decoding from 'lib0/decoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createConversation, postMessage, readMessages } from '../../src/lib/model';
import {
	cliToken,
	connect,
	newDevice,
	rawSocket,
	removeDir,
	startRelay,
	synced,
	until,
	varBytes,
	type Relay
} from './helpers/relay';

let relay: Relay;
beforeAll(async () => {
	relay = await startRelay();
});
afterAll(async () => {
	if (process.env.RELAY_LOGS) console.log(relay.logs.join('\n'));
	await relay.stop();
	removeDir(relay.dataDir);
});

describe('two standard y-websocket clients', () => {
	it('see each other’s messages and presence within a second, and a closed tab’s presence goes at once', async () => {
		const alice = await newDevice(relay);
		const bob = await newDevice(relay);
		const a = connect(relay, 'conv:1001', alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'pair',
			id: '1001',
			created_by: alice.user,
			members: [alice.user, bob.user]
		});
		const b = connect(relay, 'conv:1001', bob.token);
		await synced(b.provider);
		await until(
			() => readMessages(b.doc).length === 0 && b.doc.getMap('meta').get('id') === '1001',
			2000,
			'meta'
		);

		const t0 = Date.now();
		postMessage(a.doc, { content: 'hello bob', created_by: alice.user });
		await until(() => readMessages(b.doc).length === 1, 1000, 'message at bob');
		postMessage(b.doc, { content: 'hi alice', created_by: bob.user });
		await until(() => readMessages(a.doc).length === 2, 1000, 'reply at alice');
		expect(Date.now() - t0).toBeLessThan(1000);
		expect(readMessages(a.doc).map((m) => m.content)).toEqual(
			readMessages(b.doc).map((m) => m.content)
		);

		a.awareness.setLocalStateField('user', { id: alice.user, name: 'Alice', color: '#3b82f6' });
		b.awareness.setLocalStateField('user', { id: bob.user, name: 'Bob', color: '#ef4444' });
		await until(
			() => b.awareness.getStates().get(a.doc.clientID) !== undefined,
			1000,
			'alice presence at bob'
		);
		await until(
			() => a.awareness.getStates().get(b.doc.clientID) !== undefined,
			1000,
			'bob presence at alice'
		);

		// A closed tab: the socket just goes away, no goodbye message from the client.
		a.provider.shouldConnect = false;
		(a.provider.ws as unknown as { terminate(): void }).terminate();
		const closedAt = Date.now();
		await until(() => !b.awareness.getStates().has(a.doc.clientID), 3000, 'alice presence gone');
		expect(Date.now() - closedAt).toBeLessThan(3000);
		// Only Alice's state went: Bob's own state is still known to the relay.
		const c = connect(relay, 'conv:1001', alice.token);
		await until(
			() => c.awareness.getStates().has(b.doc.clientID),
			2000,
			'bob presence for a new client'
		);
		a.provider.destroy();
		b.provider.destroy();
		c.provider.destroy();
	});

	it('answers a device that already holds the conversation with almost nothing', async () => {
		const alice = await newDevice(relay);
		const a = connect(relay, 'conv:1002', alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'channel',
			name: 'big',
			id: '1002',
			created_by: alice.user,
			members: [alice.user]
		});
		for (let i = 0; i < 200; i++)
			postMessage(a.doc, { content: `message ${i} `.repeat(10), created_by: alice.user });
		await until(() => Y.encodeStateAsUpdate(a.doc).length > 20_000, 2000);
		const full = Y.encodeStateAsUpdate(a.doc).length;
		// Let the relay store and apply everything before asking.
		await new Promise((r) => setTimeout(r, 300));

		const raw = await rawSocket(`${relay.ws}/conv:1002?token=${alice.token}`);
		const step1 = new Uint8Array([0, 0, ...varBytes(Y.encodeStateVector(a.doc))]);
		raw.ws.send(step1);
		await until(() => raw.received.some((m) => m[0] === 0 && m[1] === 1), 2000, 'sync step 2');
		const step2 = raw.received.find((m) => m[0] === 0 && m[1] === 1)!;
		const d = decoding.createDecoder(step2);
		decoding.readVarUint(d);
		decoding.readVarUint(d);
		const update = decoding.readVarUint8Array(d);
		expect(full).toBeGreaterThan(20_000);
		expect(update.length).toBeLessThan(64);
		// And a new device gets the whole conversation.
		const fresh = new Y.Doc();
		const b = connect(relay, 'conv:1002', alice.token, fresh);
		await synced(b.provider);
		await until(() => readMessages(fresh).length === 200, 2000, 'full history');
		raw.ws.close();
		a.provider.destroy();
		b.provider.destroy();
	});

	it('lets the example bot read a conversation and post to it with a token from npm run token', async () => {
		const alice = await newDevice(relay);
		const botId = 'example-bot';
		const token = cliToken(relay.dataDir, botId, 600);
		expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
		const a = connect(relay, 'conv:1003', alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'bots',
			id: '1003',
			created_by: alice.user,
			members: [alice.user, botId]
		});
		postMessage(a.doc, { content: 'hello bot', created_by: alice.user });
		await new Promise((r) => setTimeout(r, 200));
		const res = spawnSync('./node_modules/.bin/tsx', ['examples/bot.ts', 'beep from the bot'], {
			env: { ...process.env, RELAY: relay.ws, TOKEN: token, USER_ID: botId, CONV: '1003' },
			encoding: 'utf8',
			timeout: 20_000
		});
		expect(res.stderr).not.toMatch(/closed the connection|timed out/);
		expect(res.status).toBe(0);
		expect(res.stdout).toContain(`${alice.user}: hello bot`);
		await until(
			() =>
				readMessages(a.doc).some(
					(m) => m.content === 'beep from the bot' && m.created_by === botId
				),
			3000,
			'bot message'
		);
		a.provider.destroy();
	});
});
