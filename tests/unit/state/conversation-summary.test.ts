import * as prng from 'lib0/prng';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import {
	compareIds,
	conversationTypes,
	createConversation,
	mentions,
	postMessage,
	postReply,
	purgeDeleted,
	readMessages,
	readMeta,
	uniqueRecords,
	ValidationError
} from '../../../src/lib/model';
import { SummaryView, type ConversationSummary } from '../../../src/lib/state/conversation-summary';
import { alice, bob, carol, idAt, T0 } from '../../fixtures/model';
import { randomOperation } from '../../fixtures/workload';

/** The summary read the plain way, whole, for comparison. */
function reference(doc: Y.Doc, me: string): ConversationSummary {
	const t = conversationTypes(doc);
	const top = uniqueRecords(t.messages.toArray());
	const replies = uniqueRecords(t.replies.toArray());
	const others = top.filter((r) => r.created_by !== me && !r.deleted_at);
	const newest = others.at(-1);
	return {
		meta: readMeta(doc),
		memberIds: [...t.members.keys()],
		othersMessageIds: others.map((r) => r.id),
		lastMessageId: top.at(-1)?.id ?? null,
		mentionIds: [...top, ...replies]
			.filter((r) => r.created_by !== me && !r.deleted_at && mentions(r.content, me))
			.map((r) => r.id)
			.sort(compareIds),
		newestFromOthers: newest
			? {
					id: newest.id,
					created_by: newest.created_by,
					content: newest.content,
					hasAttachments: newest.file_attachments.length > 0,
					isVoice: newest.audio_url !== null
				}
			: null
	};
}

/** A replica whose summary follows every transaction, as the sidebar's does. */
function watched(doc: Y.Doc, me: string) {
	const view = new SummaryView(doc, me);
	doc.on('afterTransaction', (tr: Y.Transaction) => view.apply(tr));
	return view;
}

describe('SummaryView', () => {
	it.each(Array.from({ length: 20 }, (_, i) => i + 1))(
		'equals a fresh read after every transaction of a random two-device workload (seed %i)',
		(seed) => {
			const gen = prng.create(seed);
			const a = new Y.Doc();
			createConversation(a, {
				kind: 'group',
				id: '7000',
				name: 'g',
				created_by: alice,
				members: [bob, carol],
				created_at: new Date(T0).toISOString()
			});
			const b = new Y.Doc();
			Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
			const va = watched(a, bob);
			const vb = watched(b, carol);
			const inflight: Array<{ to: Y.Doc; update: Uint8Array }> = [];
			a.on('update', (u: Uint8Array, origin: unknown) => {
				if (origin !== 'net') inflight.push({ to: b, update: u });
			});
			b.on('update', (u: Uint8Array, origin: unknown) => {
				if (origin !== 'net') inflight.push({ to: a, update: u });
			});
			let tick = 0;
			for (let step = 0; step < 120; step++) {
				const roll = prng.int32(gen, 0, 11);
				tick += 1;
				const ms = T0 + 60_000 + tick * 100;
				const stamp = {
					id: idAt(ms, prng.uint32(gen, 0, 2 ** 22 - 1)),
					created_at: new Date(ms).toISOString()
				};
				const doc = prng.bool(gen) ? a : b;
				if (roll < 6) {
					randomOperation(doc, gen, stamp);
				} else if (roll < 8) {
					// Mentions, top-level and in threads, by either of the others.
					const by = prng.oneOf(gen, [alice, bob, carol]);
					const who = prng.oneOf(gen, [bob, carol]);
					const parent = readMessages(doc).find((m) => !m.deleted_at);
					try {
						if (roll === 7 && parent)
							postReply(doc, parent.id, { content: `re <@${who}>`, created_by: by, ...stamp });
						else postMessage(doc, { content: `hi <@${who}>`, created_by: by, ...stamp });
					} catch (error) {
						// Someone who left (a random operation) may no longer post.
						if (!(error instanceof ValidationError)) throw error;
					}
				} else if (roll < 11 && inflight.length > 0) {
					const [m] = inflight.splice(prng.int32(gen, 0, inflight.length - 1), 1);
					Y.applyUpdate(m!.to, m!.update, 'net');
				} else {
					purgeDeleted(doc);
				}
				expect(va.summary).toEqual(reference(a, bob));
				expect(vb.summary).toEqual(reference(b, carol));
			}
			while (inflight.length > 0) {
				const m = inflight.shift()!;
				Y.applyUpdate(m.to, m.update, 'net');
			}
			purgeDeleted(a);
			purgeDeleted(b);
			expect(va.summary).toEqual(reference(a, bob));
			expect(vb.summary).toEqual(reference(b, carol));
			// The workload reached what is compared (someone may have left and lost them).
			expect(
				va.summary.othersMessageIds.length + vb.summary.othersMessageIds.length
			).toBeGreaterThan(0);
			expect(va.summary.mentionIds.length + vb.summary.mentionIds.length).toBeGreaterThan(0);
		}
	);

	it('keeps the summary it handed out unchanged, and the same object when nothing it shows changed', () => {
		const doc = new Y.Doc();
		createConversation(doc, {
			kind: 'channel',
			name: 'c',
			created_by: alice,
			members: [bob]
		});
		const view = watched(doc, bob);
		const first = postMessage(doc, { content: 'one <@bob>', created_by: alice });
		const before = view.summary;
		expect(before.othersMessageIds).toEqual([first.id]);
		// Bob's own message moves the newest, not the others' list or the mentions.
		const own = postMessage(doc, { content: 'mine', created_by: bob });
		expect(view.summary.lastMessageId).toBe(own.id);
		expect(view.summary.othersMessageIds).toBe(before.othersMessageIds);
		const second = postMessage(doc, { content: 'two <@bob>', created_by: alice });
		expect(view.summary.othersMessageIds).toEqual([first.id, second.id]);
		expect(view.summary.mentionIds).toEqual([first.id, second.id]);
		expect(before.othersMessageIds).toEqual([first.id]);
		expect(before.mentionIds).toEqual([first.id]);
		const unchanged = view.summary;
		conversationTypes(doc).edits.set(second.id, {
			content: 'edited',
			edited_at: new Date().toISOString(),
			edited_by: alice
		});
		expect(view.summary).toBe(unchanged);
	});
});
