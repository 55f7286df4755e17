import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	GENERAL_CHANNEL_ID,
	WORKSPACE_DOC,
	listChannel,
	type ConversationMeta,
	conversationDocName,
	createConversation,
	directMessageId,
	postMessage,
	readMembers,
	readMessages,
	readMeta
} from '../../src/lib/model';
import {
	closeCodeWithin,
	closes,
	connect,
	newDevice,
	removeDir,
	startRelay,
	synced,
	tempDataDir,
	until,
	type Relay
} from './helpers/relay';

/** Lists a public channel in the workspace, as onboarding does, so any member may join it. */
async function listPublicly(relay: Relay, token: string, meta: ConversationMeta): Promise<void> {
	const ws = connect(relay, WORKSPACE_DOC, token);
	await synced(ws.provider);
	listChannel(ws.doc, meta);
	await until(() => ws.provider.ws?.bufferedAmount === 0, 2000, 'workspace sent');
	await new Promise((r) => setTimeout(r, 200));
	ws.provider.destroy();
}

describe('conversations created on two devices at once', () => {
	let relay: Relay;
	const dataDir = tempDataDir();
	beforeAll(async () => {
		relay = await startRelay({ dataDir });
	});
	afterAll(async () => {
		await relay.stop();
		removeDir(dataDir);
	});

	it('accepts a direct message both people started offline, and they converge', async () => {
		const a = await newDevice(relay);
		const b = await newDevice(relay);
		const id = directMessageId(a.user, b.user);
		const docA = new Y.Doc();
		const docB = new Y.Doc();
		createConversation(docA, { kind: 'dm', created_by: a.user, members: [b.user] });
		postMessage(docA, { content: 'from a, offline', created_by: a.user });
		createConversation(docB, { kind: 'dm', created_by: b.user, members: [a.user] });
		postMessage(docB, { content: 'from b, offline', created_by: b.user });

		const ca = connect(relay, conversationDocName(id), a.token, docA);
		await synced(ca.provider);
		const cb = connect(relay, conversationDocName(id), b.token, docB);
		const closedB = closes(cb.provider);
		await synced(cb.provider);
		await until(() => readMessages(docA).length === 2 && readMessages(docB).length === 2, 5000);
		expect(await closeCodeWithin(closedB, 500)).toBeNull();
		expect(readMessages(docA)).toEqual(readMessages(docB));
		expect(
			readMembers(docA)
				.map((m) => m.user_id)
				.sort()
		).toEqual([a.user, b.user].sort());
		ca.provider.destroy();
		cb.provider.destroy();
	});

	it('accepts #general created by two people offline as one channel', async () => {
		const a = await newDevice(relay);
		const b = await newDevice(relay);
		const docA = new Y.Doc();
		const docB = new Y.Doc();
		const input = { kind: 'channel' as const, id: GENERAL_CHANNEL_ID, name: 'general' };
		const meta = createConversation(docA, { ...input, created_by: a.user, members: [] });
		createConversation(docB, { ...input, created_by: b.user, members: [] });
		await listPublicly(relay, a.token, meta);
		postMessage(docB, { content: 'hello general', created_by: b.user });

		const ca = connect(relay, conversationDocName(GENERAL_CHANNEL_ID), a.token, docA);
		await synced(ca.provider);
		const cb = connect(relay, conversationDocName(GENERAL_CHANNEL_ID), b.token, docB);
		const closedB = closes(cb.provider);
		await synced(cb.provider);
		await until(() => readMessages(docA).length === 1, 5000, 'b’s message at a');
		expect(await closeCodeWithin(closedB, 500)).toBeNull();
		expect(readMembers(docA)).toEqual(readMembers(docB));
		ca.provider.destroy();
		cb.provider.destroy();
	});

	it('never lets a second creation take over a minted channel or rename #general', async () => {
		const a = await newDevice(relay);
		const b = await newDevice(relay);
		const docA = new Y.Doc();
		const meta = createConversation(docA, {
			kind: 'channel',
			name: 'minted',
			created_by: a.user,
			members: []
		});
		const ca = connect(relay, conversationDocName(meta.id), a.token, docA);
		await synced(ca.provider);
		await listPublicly(relay, a.token, meta);
		// b knows the id (a public channel) and "creates" it again to take it over. Whether Yjs
		// lets b's concurrent values win depends on client ids; either way the relay must
		// refuse any visible change, and a's view must stay as it was.
		const docB = new Y.Doc();
		createConversation(docB, {
			kind: 'channel',
			id: meta.id,
			name: 'taken over',
			created_by: b.user,
			members: []
		});
		const cb = connect(relay, conversationDocName(meta.id), b.token, docB);
		const closedB = closeCodeWithin(closes(cb.provider), 1500);
		const code = await closedB;
		expect([null, 4422]).toContain(code);
		expect(readMeta(docA)).toEqual(meta);
		// A fresh device sees the stored conversation as a made it.
		const c = await newDevice(relay);
		const cc = connect(relay, conversationDocName(meta.id), c.token);
		await synced(cc.provider);
		expect(readMeta(cc.doc)).toEqual(meta);

		const docG = new Y.Doc();
		const general = createConversation(docG, {
			kind: 'channel',
			id: GENERAL_CHANNEL_ID,
			name: 'general',
			created_by: a.user,
			members: []
		});
		const cg = connect(relay, conversationDocName(GENERAL_CHANNEL_ID), a.token, docG);
		await synced(cg.provider);
		const docR = new Y.Doc();
		createConversation(docR, {
			kind: 'channel',
			id: GENERAL_CHANNEL_ID,
			name: 'not general',
			created_by: b.user,
			members: []
		});
		const cr = connect(relay, conversationDocName(GENERAL_CHANNEL_ID), b.token, docR);
		expect([null, 4422]).toContain(await closeCodeWithin(closes(cr.provider), 1500));
		expect(readMeta(docG)?.name).toBe('general');
		const cd = connect(relay, conversationDocName(GENERAL_CHANNEL_ID), c.token);
		await synced(cd.provider);
		expect(readMeta(cd.doc)?.name).toBe(general.name);
		for (const p of [ca, cb, cc, cg, cr, cd]) p.provider.destroy();
	});
});
