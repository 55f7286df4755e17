import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	WORKSPACE_DOC,
	addMember,
	conversationDocName,
	createConversation,
	directMessageId,
	inboxDocName,
	inboxTypes,
	listChannel,
	readInbox,
	removeMember
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
import { getSessionToken } from '../../src/lib/sync/relay-auth';

/**
 * The inbox (docs/PROTOCOL.md, "Inbox"): the relay lists in `inbox:<user>` every conversation
 * the user is in, so that a device opens only those.
 */
describe('inbox', () => {
	let relay: Relay;
	const dataDir = tempDataDir();
	beforeAll(async () => {
		relay = await startRelay({ dataDir });
	});
	afterAll(async () => {
		await relay.stop();
		removeDir(dataDir);
	});

	it('lists a direct message someone else started, live, and a channel joined then left', async () => {
		const a = await newDevice(relay);
		const b = await newDevice(relay);
		const inboxB = connect(relay, inboxDocName(b.user), b.token);
		await synced(inboxB.provider);
		expect(readInbox(inboxB.doc)).toEqual([]);

		// Ada starts a direct message with Bo: Bo's open inbox hears of it.
		const dm = connect(relay, conversationDocName(directMessageId(a.user, b.user)), a.token);
		await synced(dm.provider);
		createConversation(dm.doc, { kind: 'dm', created_by: a.user, members: [b.user] });
		const dmId = directMessageId(a.user, b.user);
		await until(() => readInbox(inboxB.doc).includes(dmId), 5000, 'the DM in Bo’s inbox');
		expect(inboxTypes(inboxB.doc).conversations.get(dmId)?.kind).toBe('dm');

		// Ada creates a public channel; Bo joins it, then leaves it.
		const channel = new Y.Doc();
		const meta = createConversation(channel, {
			kind: 'channel',
			name: 'inbox-test',
			created_by: a.user,
			members: []
		});
		const ca = connect(relay, conversationDocName(meta.id), a.token, channel);
		await synced(ca.provider);
		const ws = connect(relay, WORKSPACE_DOC, a.token);
		await synced(ws.provider);
		listChannel(ws.doc, meta);
		const inboxA = connect(relay, inboxDocName(a.user), a.token);
		await until(() => readInbox(inboxA.doc).includes(meta.id), 5000, 'the channel in Ada’s inbox');
		expect(readInbox(inboxB.doc)).not.toContain(meta.id);

		const cb = connect(relay, conversationDocName(meta.id), b.token);
		await synced(cb.provider);
		addMember(cb.doc, { user_id: b.user, added_by: b.user });
		await until(() => readInbox(inboxB.doc).includes(meta.id), 5000, 'the joined channel');
		removeMember(cb.doc, { user_id: b.user, removed_by: b.user });
		await until(() => !readInbox(inboxB.doc).includes(meta.id), 5000, 'the left channel gone');
		expect(readInbox(inboxB.doc)).toEqual([dmId]);

		for (const c of [inboxA, inboxB, dm, ca, ws, cb]) c.provider.destroy();
	});

	it('is kept across a restart, and a new device of the same person reads it', async () => {
		const a = await newDevice(relay);
		const b = await newDevice(relay);
		const dmId = directMessageId(a.user, b.user);
		const dm = connect(relay, conversationDocName(dmId), a.token);
		await synced(dm.provider);
		createConversation(dm.doc, { kind: 'dm', created_by: a.user, members: [b.user] });
		const first = connect(relay, inboxDocName(b.user), b.token);
		await until(() => readInbox(first.doc).includes(dmId), 5000, 'listed');
		first.provider.destroy();
		dm.provider.destroy();

		expect(await relay.stop()).toBe(0);
		relay = await startRelay({ dataDir });
		const token = (await getSessionToken(relay.http, b.key)).token;
		const again = connect(relay, inboxDocName(b.user), token);
		await synced(again.provider);
		expect(readInbox(again.doc)).toEqual([dmId]);
		again.provider.destroy();
	});

	it('opens only to its person, and refuses entries that are not conversation ids', async () => {
		const a = await newDevice(relay);
		const b = await newDevice(relay);
		const spy = connect(relay, inboxDocName(b.user), a.token);
		expect(await closeCodeWithin(closes(spy.provider), 5000)).toBe(4403);
		expect(readInbox(spy.doc)).toEqual([]);
		spy.provider.destroy();

		const own = connect(relay, inboxDocName(b.user), b.token);
		await synced(own.provider);
		const closed = closes(own.provider);
		inboxTypes(own.doc).conversations.set('not an id', { kind: 'dm', added_at: '' });
		expect(await closeCodeWithin(closed, 5000)).toBe(4422);
		own.provider.destroy();
	});

	it('lists a conversation again when a member opens it and their inbox lacks it', async () => {
		const a = await newDevice(relay);
		const channel = new Y.Doc();
		const meta = createConversation(channel, {
			kind: 'group',
			name: 'relisted',
			created_by: a.user,
			members: []
		});
		const c = connect(relay, conversationDocName(meta.id), a.token, channel);
		await synced(c.provider);
		const inbox = connect(relay, inboxDocName(a.user), a.token);
		await until(() => readInbox(inbox.doc).includes(meta.id), 5000, 'listed');
		// The person's own device drops it (as an inbox from before this relay version lacks it).
		inboxTypes(inbox.doc).conversations.delete(meta.id);
		await new Promise((r) => setTimeout(r, 300));
		c.provider.destroy();
		const back = connect(relay, conversationDocName(meta.id), a.token);
		await synced(back.provider);
		await until(() => readInbox(inbox.doc).includes(meta.id), 5000, 'listed again');
		for (const x of [inbox, back]) x.provider.destroy();
	});
});
