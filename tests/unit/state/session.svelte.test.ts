import { flushSync } from 'svelte';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
	ValidationError,
	WORKSPACE_DOC,
	addMember,
	conversationDocName,
	directMessageId,
	postMessage,
	readChannels,
	readMembers,
	readMeta,
	setProfile
} from '../../../src/lib/model';
import { StaticConnection } from '../../../src/lib/state/connection.svelte';
import { memoryOpener, type RefCountedOpener } from '../../../src/lib/state/local-doc-opener';
import { GENERAL_ID, Session } from '../../../src/lib/state/session.svelte';

const ADA = 'adaAAAAAAAAAAAAAAAAAAA';
const BO = 'boBBBBBBBBBBBBBBBBBBBB';

const cleanups: Array<() => void> = [];
afterEach(() => {
	while (cleanups.length) cleanups.pop()!();
});

async function start(me = ADA, opener: RefCountedOpener = memoryOpener()) {
	const session = await Session.start({ opener, me, connection: new StaticConnection() });
	cleanups.push(() => session.destroy());
	return { session, opener };
}

describe('Session', () => {
	it('is not onboarded until the person has a profile', async () => {
		const { session } = await start();
		expect(session.onboarded).toBe(false);
		await session.completeOnboarding('Ada', '#2563eb');
		expect(session.onboarded).toBe(true);
		expect(session.workspace.profile?.display_name).toBe('Ada');
	});

	it('onboarding makes #general a listed channel with the person in it', async () => {
		const { session } = await start();
		const id = await session.completeOnboarding('Ada', '#2563eb');
		expect(id).toBe(GENERAL_ID);
		expect(readChannels(session.workspace.doc).map((c) => c.name)).toEqual(['general']);
		const { meta, members } = await session.withConversation(id, (doc) => ({
			meta: readMeta(doc),
			members: readMembers(doc)
		}));
		expect(meta).toMatchObject({ kind: 'channel', name: 'general' });
		expect(members.map((m) => m.user_id)).toEqual([ADA]);
	});

	it('a second person joins the existing #general instead of making another', async () => {
		const opener = memoryOpener();
		const ada = await start(ADA, opener);
		await ada.session.completeOnboarding('Ada', '#2563eb');
		// Same device documents: Bo's session sees what Ada's wrote (as after a sync).
		const bo = await start(BO, opener);
		await bo.session.completeOnboarding('Bo', '#be185d');
		expect(readChannels(bo.session.workspace.doc)).toHaveLength(1);
		const members = await bo.session.withConversation(GENERAL_ID, readMembers);
		expect(members.map((m) => m.user_id).sort()).toEqual([ADA, BO].sort());
	});

	it('two devices that start offline converge on one #general', async () => {
		const a = await start(ADA);
		const b = await start(BO);
		await a.session.completeOnboarding('Ada', '#2563eb');
		await b.session.completeOnboarding('Bo', '#be185d');
		const docA = await a.opener.open(conversationDocName(GENERAL_ID));
		const docB = await b.opener.open(conversationDocName(GENERAL_ID));
		Y.applyUpdate(docA, Y.encodeStateAsUpdate(docB));
		Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA));
		expect(readMeta(docA)?.id).toBe(readMeta(docB)?.id);
		expect(readMembers(docA)).toEqual(readMembers(docB));
		a.opener.release(conversationDocName(GENERAL_ID));
		b.opener.release(conversationDocName(GENERAL_ID));
	});

	it('refuses a blank channel name before opening any document', async () => {
		const { session, opener } = await start();
		const before = opener.openCount;
		await expect(session.createChannel('   ')).rejects.toBeInstanceOf(ValidationError);
		expect(opener.openCount).toBe(before);
	});

	it('starts the same direct message from either side', async () => {
		const opener = memoryOpener();
		const ada = await start(ADA, opener);
		const bo = await start(BO, opener);
		const fromAda = await ada.session.startDirectMessage(BO);
		const fromBo = await bo.session.startDirectMessage(ADA);
		expect(fromAda).toBe(fromBo);
		expect(fromAda).toBe(directMessageId(ADA, BO));
	});

	it('releases every document it opened on destroy', async () => {
		const opener = memoryOpener();
		const session = await Session.start({ opener, me: ADA, connection: new StaticConnection() });
		await session.completeOnboarding('Ada', '#2563eb');
		flushSync();
		await session.conversations.settled();
		session.destroy();
		expect(opener.openCount).toBe(0);
	});
});

describe('ConversationList', () => {
	it('lists channels and direct messages with unread counts from the read markers', async () => {
		const opener = memoryOpener();
		const { session } = await start(ADA, opener);
		await session.completeOnboarding('Ada', '#2563eb');
		const ws = await opener.open(WORKSPACE_DOC);
		setProfile(ws, { user_id: BO, display_name: 'Bo', color: '#be185d' });
		opener.release(WORKSPACE_DOC);
		const dm = await session.startDirectMessage(BO);
		let posted = '';
		await session.withConversation(GENERAL_ID, (doc) => {
			addMember(doc, { user_id: BO, added_by: BO });
			postMessage(doc, { content: 'hi all', created_by: BO });
			posted = postMessage(doc, { content: 'anyone?', created_by: BO }).id;
			postMessage(doc, { content: 'me', created_by: ADA });
		});
		const seen: Array<{ label: string; unread: number; kind: string }[]> = [];
		const stop = $effect.root(() => {
			$effect(() => {
				seen.push(
					session.conversations.items.map(({ label, unread, kind }) => ({ label, unread, kind }))
				);
			});
		});
		cleanups.push(stop);
		flushSync();
		await session.conversations.settled();
		flushSync();
		expect(seen.at(-1)).toEqual([
			{ label: 'Bo', unread: 0, kind: 'dm' },
			{ label: 'general', unread: 2, kind: 'channel' }
		]);
		expect(session.conversations.item(dm)?.otherUserId).toBe(BO);

		session.markers.mark(GENERAL_ID, posted);
		flushSync();
		expect(session.conversations.item(GENERAL_ID)?.unread).toBe(0);
	});

	it('drops a channel from the list when the person leaves it', async () => {
		const { session } = await start();
		await session.completeOnboarding('Ada', '#2563eb');
		const id = await session.createChannel('design');
		const stop = $effect.root(() => {
			$effect(() => void session.conversations.channels.length);
		});
		cleanups.push(stop);
		flushSync();
		await session.conversations.settled();
		flushSync();
		expect(session.conversations.channels.map((c) => c.label)).toEqual(['design', 'general']);
		await session.withConversation(id, (doc) => {
			doc.getMap('members').delete(ADA);
		});
		flushSync();
		expect(session.conversations.channels.map((c) => c.label)).toEqual(['general']);
	});
});

describe('RefCountedOpener', () => {
	it('shares one document per name and reopens it only after the old copy is written', async () => {
		const { RefCountedOpener } = await import('../../../src/lib/state/local-doc-opener');
		const events: string[] = [];
		let finishClose!: () => void;
		const opener = new RefCountedOpener((name) => {
			events.push(`attach ${name}`);
			return {
				ready: Promise.resolve(),
				close: () =>
					new Promise<void>((resolve) => {
						events.push(`closing ${name}`);
						finishClose = () => {
							events.push(`closed ${name}`);
							resolve();
						};
					})
			};
		});
		const [a, b] = await Promise.all([opener.open('conv:1'), opener.open('conv:1')]);
		expect(a).toBe(b);
		opener.release('conv:1');
		expect(opener.openCount).toBe(1);
		opener.release('conv:1');
		expect(opener.openCount).toBe(0);
		const reopened = opener.open('conv:1');
		await Promise.resolve();
		await Promise.resolve();
		expect(events).toEqual(['attach conv:1', 'closing conv:1']);
		finishClose();
		expect(await reopened).not.toBe(a);
		expect(events).toEqual(['attach conv:1', 'closing conv:1', 'closed conv:1', 'attach conv:1']);
	});
});
