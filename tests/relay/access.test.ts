import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
	addMember,
	authMessage,
	createConversation,
	directMessageId,
	postMessage,
	readMembers,
	readMessages,
	removeMember,
	toBase64Url
} from '../../src/lib/model';
import { generateKeyPair, sign } from '../../src/lib/sync/identity';
import { createInvite, getSessionToken, RelayAuthError } from '../../src/lib/sync/relay-auth';
import {
	cliToken,
	closeCodeWithin,
	connect,
	newDevice,
	rawSocket,
	removeDir,
	startRelay,
	synced,
	until,
	varBytes,
	type Device,
	type Relay
} from './helpers/relay';

let relay: Relay;
let alice: Device;
let bob: Device;
let carol: Device;

/** A group with a message in it, created by Alice with Bob as a member. */
async function groupWithMessage(id: string) {
	const a = connect(relay, `conv:${id}`, alice.token);
	await synced(a.provider);
	createConversation(a.doc, {
		kind: 'group',
		name: 'secret plans',
		id,
		created_by: alice.user,
		members: [alice.user, bob.user]
	});
	postMessage(a.doc, { content: 'the secret is 42', created_by: alice.user });
	await new Promise((r) => setTimeout(r, 150));
	return a;
}

function closeCodes(provider: {
	on(e: 'connection-close', f: (ev: { code: number } | null) => void): void;
}) {
	const codes: number[] = [];
	provider.on('connection-close', (ev) => {
		if (ev) codes.push(ev.code);
	});
	return codes;
}

/** What a fresh, legitimate device of `who` downloads from the relay now. */
async function relayCopy(id: string, who: Device): Promise<Y.Doc> {
	const c = connect(relay, `conv:${id}`, who.token);
	await synced(c.provider);
	c.provider.destroy();
	return c.doc;
}

beforeAll(async () => {
	relay = await startRelay();
	[alice, bob, carol] = [await newDevice(relay), await newDevice(relay), await newDevice(relay)];
});
afterAll(async () => {
	await relay.stop();
	removeDir(relay.dataDir);
});

describe('who may connect', () => {
	it('refuses a missing, forged or expired token with 4401 and sends nothing', async () => {
		const a = await groupWithMessage('2001');
		const short = await getSessionToken(relay.http, alice.key, { ttlSeconds: 1 });
		const [body] = alice.token.split('.');
		const payload = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<
			string,
			unknown
		>;
		const forgedSub = Buffer.from(JSON.stringify({ ...payload, sub: carol.user })).toString(
			'base64url'
		);
		const forged = [
			`${forgedSub}.${alice.token.split('.')[1]}`,
			`${body}.${Buffer.alloc(32, 7).toString('base64url')}`,
			'not-a-token'
		];
		await new Promise((r) => setTimeout(r, 1100));
		const urls = [
			`${relay.ws}/conv:2001`,
			...forged.map((t) => `${relay.ws}/conv:2001?token=${t}`),
			`${relay.ws}/conv:2001?token=${short.token}`
		];
		for (const url of urls) {
			const raw = await rawSocket(url);
			raw.ws.send(new Uint8Array([0, 0, 1, 0]));
			expect(await closeCodeWithin(raw.closed, 3000)).toBe(4401);
			expect(raw.received).toEqual([]);
		}
		a.provider.destroy();
	});

	it('refuses a replayed challenge response', async () => {
		const key = generateKeyPair();
		const { challenge } = (await (
			await fetch(`${relay.http}/auth/challenge`, { method: 'POST' })
		).json()) as { challenge: string };
		const public_key = toBase64Url(key.publicKey);
		const body = JSON.stringify({
			public_key,
			challenge,
			signature: toBase64Url(sign(key, authMessage(challenge, public_key)))
		});
		const post = () =>
			fetch(`${relay.http}/auth/session`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body
			});
		const first = await post();
		expect(first.status).toBe(200);
		const replay = await post();
		expect(replay.status).toBe(401);
		expect(((await replay.json()) as { error: string }).error).toBe('bad_challenge');
		// A signature over another key's challenge text does not verify either.
		const other = generateKeyPair();
		const c2 = (
			(await (await fetch(`${relay.http}/auth/challenge`, { method: 'POST' })).json()) as {
				challenge: string;
			}
		).challenge;
		const bad = await fetch(`${relay.http}/auth/session`, {
			method: 'POST',
			body: JSON.stringify({
				public_key,
				challenge: c2,
				signature: toBase64Url(sign(other, authMessage(c2, public_key)))
			})
		});
		expect(bad.status).toBe(401);
	});

	it('opens a conversation to its members only: a non-member gets 4403 and not one byte', async () => {
		const a = await groupWithMessage('2002');
		const raw = await rawSocket(`${relay.ws}/conv:2002?token=${carol.token}`);
		raw.ws.send(new Uint8Array([0, 0, 1, 0]));
		expect(await closeCodeWithin(raw.closed, 3000)).toBe(4403);
		expect(raw.received).toEqual([]);
		// Bob, a member, gets it.
		const b = await relayCopy('2002', bob);
		expect(readMessages(b).map((m) => m.content)).toEqual(['the secret is 42']);
		a.provider.destroy();
	});

	it('closes a connection opened before the conversation existed once it is created without that user', async () => {
		const raw = await rawSocket(`${relay.ws}/conv:2004?token=${carol.token}`);
		await until(() => raw.received.length > 0, 2000, 'step 1');
		const a = await groupWithMessage('2004');
		expect(await closeCodeWithin(raw.closed, 3000)).toBe(4403);
		// All Carol got is the relay's opening sync step 1 for an empty document.
		expect(raw.received.map((m) => [...m])).toEqual([[0, 0, 1, 0]]);
		// Asking again after the creation gets nothing either.
		const again = await rawSocket(`${relay.ws}/conv:2004?token=${carol.token}`);
		expect(await closeCodeWithin(again.closed, 3000)).toBe(4403);
		expect(again.received).toEqual([]);
		a.provider.destroy();
	});

	it('lets any workspace member join a public channel by adding themselves', async () => {
		const ws = connect(relay, 'workspace', alice.token);
		await synced(ws.provider);
		const a = connect(relay, 'conv:2003', alice.token);
		await synced(a.provider);
		const meta = createConversation(a.doc, {
			kind: 'channel',
			name: 'general',
			id: '2003',
			created_by: alice.user,
			members: [alice.user]
		});
		ws.doc.getMap('channels').set('2003', {
			id: '2003',
			name: 'general',
			created_at: meta.created_at,
			created_by: alice.user
		});
		await new Promise((r) => setTimeout(r, 150));
		const c = connect(relay, 'conv:2003', carol.token);
		const codes = closeCodes(c.provider);
		await synced(c.provider);
		addMember(c.doc, { user_id: carol.user, added_by: carol.user });
		postMessage(c.doc, { content: 'hi all', created_by: carol.user });
		await until(() => readMessages(a.doc).length === 1, 2000, 'carol message at alice');
		expect(codes).toEqual([]);
		expect(
			readMembers(a.doc)
				.map((m) => m.user_id)
				.sort()
		).toEqual([alice.user, carol.user].sort());
		for (const p of [ws, a, c]) p.provider.destroy();
	});

	it('is invite-only off loopback: no invite, no session; an operator or member invite admits one person', async () => {
		const strict = await startRelay({ env: { JOIN_MODE: 'invite' } });
		try {
			const stranger = generateKeyPair();
			await expect(getSessionToken(strict.http, stranger)).rejects.toMatchObject({
				status: 403,
				code: 'invite_required'
			});
			const op = (await import('node:child_process')).spawnSync(
				'./node_modules/.bin/tsx',
				['sync-server/cli.ts', 'invite'],
				{
					env: { ...process.env, DATA_DIR: strict.dataDir },
					encoding: 'utf8'
				}
			);
			const link = op.stdout.trim().split('\n').at(-1)!;
			const code = new URL(link).searchParams.get('invite')!;
			const first = await getSessionToken(strict.http, stranger, { invite: code });
			expect(first.userId).toHaveLength(22);
			await expect(
				getSessionToken(strict.http, generateKeyPair(), { invite: code })
			).rejects.toBeInstanceOf(RelayAuthError);
			// The new member can invite someone else.
			const invite = await createInvite(strict.http, first.token);
			const friend = await getSessionToken(strict.http, generateKeyPair(), { invite: invite.code });
			expect(friend.token).toBeTruthy();
			// And a token from the operator CLI works there too.
			const raw = await rawSocket(
				`${strict.ws}/workspace?token=${cliToken(strict.dataDir, 'ops-bot')}`
			);
			await until(() => raw.received.length > 0, 2000, 'sync step 1');
			raw.ws.close();
		} finally {
			await strict.stop();
			removeDir(strict.dataDir);
		}
	});
});

describe('what members may write', () => {
	it('refuses a message under another member’s id: the writer is closed with 4422 and nobody sees it', async () => {
		const a = await groupWithMessage('2101');
		const b = connect(relay, 'conv:2101', bob.token);
		const codes = closeCodes(b.provider);
		await synced(b.provider);
		postMessage(b.doc, { content: 'I, Alice, resign', created_by: alice.user });
		await until(() => codes.length > 0, 3000, 'close');
		b.provider.destroy();
		expect(codes[0]).toBe(4422);
		await new Promise((r) => setTimeout(r, 200));
		expect(readMessages(a.doc).map((m) => m.content)).toEqual(['the secret is 42']);
		expect(readMessages(await relayCopy('2101', alice)).map((m) => m.content)).toEqual([
			'the secret is 42'
		]);
		a.provider.destroy();
	});

	it('refuses a member-list change the rule forbids, and disconnects a member the creator removes', async () => {
		const a = connect(relay, 'conv:2102', alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'trio',
			id: '2102',
			created_by: alice.user,
			members: [alice.user, bob.user, carol.user]
		});
		await new Promise((r) => setTimeout(r, 150));
		// Bob is not the creator: he may leave, but not remove Carol.
		const b = connect(relay, 'conv:2102', bob.token);
		const bCodes = closeCodes(b.provider);
		await synced(b.provider);
		b.doc.getMap('members').delete(carol.user);
		await until(() => bCodes.length > 0, 3000, 'bob closed');
		b.provider.destroy();
		expect(bCodes[0]).toBe(4422);
		expect(readMembers(await relayCopy('2102', alice)).map((m) => m.user_id)).toContain(carol.user);

		// Alice, the creator, removes Carol: Carol's connection is closed with 4410.
		const c = connect(relay, 'conv:2102', carol.token);
		const cCodes = closeCodes(c.provider);
		await synced(c.provider);
		removeMember(a.doc, { user_id: carol.user, removed_by: alice.user });
		await until(() => cCodes.length > 0, 3000, 'carol closed');
		c.provider.shouldConnect = false;
		expect(cCodes[0]).toBe(4410);
		// And she cannot come back.
		const raw = await rawSocket(`${relay.ws}/conv:2102?token=${carol.token}`);
		expect(await closeCodeWithin(raw.closed, 3000)).toBe(4403);
		expect(raw.received).toEqual([]);
		c.provider.destroy();
		a.provider.destroy();
	});

	it('keeps a direct message to its two people', async () => {
		const dm = directMessageId(alice.user, bob.user);
		// Carol cannot create Alice and Bob's DM, nor a DM under a wrong id.
		const c = connect(relay, `conv:${dm}`, carol.token);
		const cCodes = closeCodes(c.provider);
		await synced(c.provider);
		const t = c.doc.getMap('meta');
		c.doc.transact(() => {
			t.set('id', dm);
			t.set('name', null);
			t.set('kind', 'dm');
			t.set('created_at', new Date().toISOString());
			t.set('created_by', carol.user);
			c.doc
				.getMap('members')
				.set(carol.user, { created_at: new Date().toISOString(), added_by: carol.user });
			c.doc
				.getMap('members')
				.set(alice.user, { created_at: new Date().toISOString(), added_by: carol.user });
		});
		await until(() => cCodes.length > 0, 3000, 'carol closed');
		c.provider.destroy();
		expect(cCodes[0]).toBe(4422);

		const a = connect(relay, `conv:${dm}`, alice.token);
		await synced(a.provider);
		createConversation(a.doc, { kind: 'dm', created_by: alice.user, members: [bob.user] });
		postMessage(a.doc, { content: 'just us', created_by: alice.user });
		await new Promise((r) => setTimeout(r, 150));
		// Alice cannot add Carol to it either.
		const aCodes = closeCodes(a.provider);
		a.doc
			.getMap('members')
			.set(carol.user, { created_at: new Date().toISOString(), added_by: alice.user });
		await until(() => aCodes.length > 0, 3000, 'alice closed');
		a.provider.destroy();
		expect(aCodes[0]).toBe(4422);
		const copy = await relayCopy(dm, bob);
		expect(
			readMembers(copy)
				.map((m) => m.user_id)
				.sort()
		).toEqual([alice.user, bob.user].sort());
		expect(readMessages(copy).map((m) => m.content)).toEqual(['just us']);
	});

	it('refuses a Yjs client id that another user already writes with', async () => {
		const a = await groupWithMessage('2103');
		// Honest Yjs clients change their id when they see it used by someone else; a malicious
		// one continues Alice's client id with its own message.
		const m = await relayCopy('2103', bob);
		const before = Y.encodeStateVector(m);
		m.clientID = a.doc.clientID;
		postMessage(m, { content: 'same client id, other person', created_by: bob.user });
		const update = Y.encodeStateAsUpdate(m, before);
		const raw = await rawSocket(`${relay.ws}/conv:2103?token=${bob.token}`);
		raw.ws.send(new Uint8Array([0, 2, ...varBytes(update)]));
		expect(await closeCodeWithin(raw.closed, 3000)).toBe(4422);
		await new Promise((r) => setTimeout(r, 100));
		expect(readMessages(a.doc).map((m) => m.content)).toEqual(['the secret is 42']);
		expect(readMessages(await relayCopy('2103', alice)).map((m) => m.content)).toEqual([
			'the secret is 42'
		]);
		a.provider.destroy();
	});

	it('refuses someone else’s profile in the workspace', async () => {
		const ws = connect(relay, 'workspace', bob.token);
		const codes = closeCodes(ws.provider);
		await synced(ws.provider);
		const now = new Date().toISOString();
		ws.doc.getMap('users').set(bob.user, {
			id: bob.user,
			display_name: 'Bob',
			color: '#000000',
			public_key: '',
			created_at: now,
			updated_at: now
		});
		await new Promise((r) => setTimeout(r, 200));
		expect(codes).toEqual([]);
		ws.doc.getMap('users').set(alice.user, {
			id: alice.user,
			display_name: 'Alice is a fraud',
			color: '#000000',
			public_key: '',
			created_at: now,
			updated_at: now
		});
		await until(() => codes.length > 0, 3000, 'close');
		ws.provider.destroy();
		expect(codes[0]).toBe(4422);
	});
});
