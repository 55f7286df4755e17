import * as prng from 'lib0/prng';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { conversationDocName, postMessage, projectConversation } from '../../../src/lib/model';
import {
	BackupError,
	exportBackup,
	importBackup,
	readBackup,
	type Backup
} from '../../../src/lib/state/backup';
import { memoryOpener } from '../../../src/lib/state/local-doc-opener';
import { alice, conversation, idAt, T0 } from '../../fixtures/model';
import { randomOperation } from '../../fixtures/workload';

/** A device holding `count` conversations, each with a seeded random history. */
async function deviceWithHistory(count: number, seed: number) {
	const opener = memoryOpener();
	const gen = prng.create(seed);
	const ids: string[] = [];
	for (let c = 0; c < count; c++) {
		const { doc: made, meta } = conversation({ id: idAt(T0 + c, c), name: `room-${c}` });
		for (let i = 0; i < 60; i++)
			randomOperation(made, gen, {
				id: idAt(T0 + 10_000 + c * 1000 + i, i),
				created_at: new Date(T0 + 10_000 + i * 1000).toISOString()
			});
		const doc = await opener.open(conversationDocName(meta.id));
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(made));
		opener.release(conversationDocName(meta.id));
		ids.push(meta.id);
	}
	return { opener, ids };
}

const userStatus = [{ id: '1', is_online: true, user_id: alice }];

async function projections(opener: ReturnType<typeof memoryOpener>, ids: string[]) {
	const out = [];
	for (const id of ids) {
		const doc = await opener.open(conversationDocName(id));
		out.push(projectConversation(doc));
		opener.release(conversationDocName(id));
	}
	return out;
}

describe('export and import', () => {
	it('writes the seed tables with the seed columns, and round-trips onto an empty device', async () => {
		const { opener, ids } = await deviceWithHistory(3, 7);
		const backup = await exportBackup({ opener, me: alice, conversationIds: ids, userStatus });
		expect(Object.keys(backup)).toEqual(
			expect.arrayContaining(['user_status', 'conversations', 'conversation_members', 'messages'])
		);
		expect(backup.conversations).toHaveLength(3);
		expect(Object.keys(backup.messages[0]!).sort()).toEqual(
			[
				'audio_url',
				'content',
				'conversation_id',
				'created_at',
				'created_by',
				'file_attachments',
				'id',
				'parent_message_id',
				'reactions'
			].sort()
		);
		expect(backup.messages.length).toBeGreaterThan(20);

		const fresh = memoryOpener();
		const summary = await importBackup(JSON.stringify(backup), { opener: fresh });
		expect(summary).toMatchObject({ conversations: 3, messages: backup.messages.length });
		expect(await projections(fresh, ids)).toEqual(await projections(opener, ids));
	});

	it('merges into a device that already has some of it, and a second import changes nothing', async () => {
		const { opener, ids } = await deviceWithHistory(2, 11);
		const backup = JSON.stringify(
			await exportBackup({ opener, me: alice, conversationIds: ids, userStatus })
		);
		// The device went on after the export: a new message the file lacks must survive.
		const doc = await opener.open(conversationDocName(ids[0]!));
		const before = projectConversation(doc).messages.length;
		postMessage(doc, {
			content: 'written after the export',
			created_by: alice,
			id: idAt(T0 + 900_000),
			created_at: new Date(T0 + 900_000).toISOString()
		});
		opener.release(conversationDocName(ids[0]!));
		await importBackup(backup, { opener });
		const once = await projections(opener, ids);
		await importBackup(backup, { opener });
		expect(await projections(opener, ids)).toEqual(once);
		expect(once[0]!.messages).toHaveLength(before + 1);
		expect(once[0]!.messages.some((m) => m.content === 'written after the export')).toBe(true);
	});

	it.each<[string, (b: Backup) => unknown, RegExp]>([
		['not JSON', () => '{nope', /not JSON/],
		['another format', (b) => ({ ...b, format: 'slack-export' }), /not a Kith export/],
		['a newer version', (b) => ({ ...b, version: 2 }), /version 2.*Update Kith/],
		['a missing table', ({ messages: _m, ...rest }) => rest, /damaged.*messages/],
		[
			'a row edited by hand',
			(b) => ({ ...b, messages: b.messages.map((m, i) => (i ? m : { ...m, content: 'forged' })) }),
			/rows do not match its documents/
		],
		[
			'a damaged document',
			(b) => ({ ...b, documents: { ...b.documents, [b.conversations[0]!.id]: 'AAAA' } }),
			/damaged|another one/
		]
	])('refuses %s with a clear error and changes nothing', async (_, mutate, message) => {
		const { opener, ids } = await deviceWithHistory(1, 3);
		const backup = await exportBackup({ opener, me: alice, conversationIds: ids, userStatus });
		const mutated = mutate(backup);
		const text = typeof mutated === 'string' ? mutated : JSON.stringify(mutated);
		const fresh = memoryOpener();
		await expect(importBackup(text, { opener: fresh })).rejects.toThrow(BackupError);
		await expect(importBackup(text, { opener: fresh })).rejects.toThrow(message);
		expect((await projections(fresh, ids))[0]!.messages).toEqual([]);
	});

	it('readBackup gives back each conversation document', async () => {
		const { opener, ids } = await deviceWithHistory(2, 5);
		const backup = await exportBackup({ opener, me: alice, conversationIds: ids, userStatus });
		const { docs } = readBackup(JSON.stringify(backup));
		expect([...docs.keys()].sort()).toEqual([...ids].sort());
	});
});
