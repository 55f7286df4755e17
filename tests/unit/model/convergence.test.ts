import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import {
	conversationTypes,
	deleteMessage,
	editMessage,
	postMessage,
	postReply,
	purgeDeleted,
	readMembers,
	readMessages,
	readThread,
	removeMember,
	toggleReaction
} from '../../../src/lib/model';
import { alice, at, bob, bytesInclude, carol, conversation, dave } from '../../fixtures/model';
import { expectConverged, expectPurged, Network, snapshot } from '../../fixtures/replicas';

/** Two or more copies of one document, made from the first. */
function copies(doc: Y.Doc, count: number): Y.Doc[] {
	return Array.from({ length: count }, () => {
		const copy = new Y.Doc();
		Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
		return copy;
	});
}

/** Sends every doc's state to every other, in the given order. */
function syncAll(docs: readonly Y.Doc[]): void {
	for (const from of docs) {
		for (const to of docs) {
			if (from !== to) Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)));
		}
	}
}

function expectSame(docs: readonly Y.Doc[]): void {
	const expected = snapshot(docs[0]!);
	for (const d of docs.slice(1)) expect(snapshot(d)).toEqual(expected);
}

describe('convergence under random operations and a random network', () => {
	const seeds = Array.from({ length: 100 }, (_, i) => i + 1);

	it.each(seeds)('ends identical on every replica (seed %i)', (seed) => {
		const net = new Network(seed, {
			replicas: 3 + (seed % 3),
			kind: seed % 4 === 0 ? 'group' : 'channel'
		});
		const steps = 120 + (seed % 5) * 20;
		for (let i = 0; i < steps; i++) net.step();

		// Readers agree once everything is delivered, before any purge.
		net.deliverAll();
		expectConverged(net.replicas);

		net.flush();
		expectConverged(net.replicas);
		for (const r of net.replicas) expectPurged(r.doc);
		expect(net.performed).toBeGreaterThan(steps / 5);
		expect(readMessages(net.replicas[0]!.doc).length).toBeGreaterThan(0);
	});

	it('delivers each replica’s operations more often than it refuses them', () => {
		let performed = 0;
		let refused = 0;
		for (let seed = 100; seed < 110; seed++) {
			const net = new Network(seed, { replicas: 4 });
			for (let i = 0; i < 150; i++) net.step();
			net.flush();
			expectConverged(net.replicas);
			performed += net.performed;
			refused += net.refused;
		}
		// Refusals come from acting on a stale view (a message deleted elsewhere, a member who
		// left): some are expected, but the workload must mostly be real changes.
		expect(performed).toBeGreaterThan(refused * 3);
	});
});

describe('concurrent operations resolve the same everywhere', () => {
	it('keeps every concurrent toggle by different people on the same message and emoji', () => {
		const { doc } = conversation({ members: [bob, carol, dave] });
		const m = postMessage(doc, { content: 'vote', created_by: alice, id: '500' });
		const [a, b, c, d] = copies(doc, 4);
		toggleReaction(a!, m.id, { emoji: '👍', user_id: alice, created_at: at(3) });
		toggleReaction(b!, m.id, { emoji: '👍', user_id: bob, created_at: at(1) });
		toggleReaction(c!, m.id, { emoji: '👍', user_id: carol, created_at: at(2) });
		toggleReaction(d!, m.id, { emoji: '👍', user_id: dave, created_at: at(2) });
		syncAll([d!, b!, a!, c!]);
		expectSame([a!, b!, c!, d!]);
		expect(readMessages(a!)[0]?.reactions).toEqual({ '👍': [bob, carol, dave, alice] });
	});

	it('keeps another person’s reaction when one person toggles theirs off concurrently', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'x', created_by: alice });
		toggleReaction(doc, m.id, { emoji: '🎉', user_id: bob, created_at: at(1) });
		const [a, b] = copies(doc, 2);
		toggleReaction(a!, m.id, { emoji: '🎉', user_id: bob });
		toggleReaction(b!, m.id, { emoji: '🎉', user_id: carol, created_at: at(2) });
		syncAll([a!, b!]);
		expectSame([a!, b!]);
		expect(readMessages(a!)[0]?.reactions).toEqual({ '🎉': [carol] });
	});

	it('resolves concurrent edits of one message to the same text on every device', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'draft', created_by: bob });
		const [phone, laptop, other] = copies(doc, 3);
		editMessage(phone!, m.id, { content: 'from the phone', edited_by: bob, edited_at: at(5) });
		editMessage(laptop!, m.id, { content: 'from the laptop', edited_by: bob, edited_at: at(5) });
		syncAll([laptop!, other!, phone!]);
		expectSame([phone!, laptop!, other!]);
		expect(['from the phone', 'from the laptop']).toContain(readMessages(other!)[0]?.content);
	});

	it('leaves one tombstone when two devices delete the same message at once', () => {
		const { doc } = conversation();
		postMessage(doc, { content: 'before', created_by: alice, id: '100' });
		const m = postMessage(doc, { content: 'regret', created_by: bob, id: '200' });
		postMessage(doc, { content: 'after', created_by: alice, id: '300' });
		const [a, b, c] = copies(doc, 3);
		deleteMessage(a!, m.id, { deleted_by: bob, deleted_at: at(10) });
		deleteMessage(b!, m.id, { deleted_by: bob, deleted_at: at(11) });
		syncAll([a!, b!, c!]);
		// Readers show one message already; the array holds two tombstones until the purge.
		expect(conversationTypes(c!).messages.length).toBe(4);
		expect(readMessages(c!).map((x) => x.id)).toEqual(['100', '200', '300']);
		expectSame([a!, b!, c!]);
		expect(purgeDeleted(a!)).toBe(true);
		expect(purgeDeleted(b!)).toBe(true);
		syncAll([a!, b!, c!]);
		expect(purgeDeleted(c!)).toBe(false);
		for (const d of [a!, b!, c!]) {
			expect(
				conversationTypes(d)
					.messages.toArray()
					.map((r) => r.id)
			).toEqual(['100', '200', '300']);
			expectPurged(d);
		}
		expectSame([a!, b!, c!]);
		expect(readMessages(a!)[1]).toMatchObject({ content: '', deleted_at: expect.any(String) });
	});

	it('leaves no content behind when an edit is made concurrently with a delete', () => {
		const { doc } = conversation();
		const m = postMessage(doc, { content: 'original words', created_by: bob });
		const [deleter, editor] = copies(doc, 2);
		deleteMessage(deleter!, m.id, { deleted_by: bob });
		editMessage(editor!, m.id, { content: 'offline edit words', edited_by: bob });
		toggleReaction(editor!, m.id, { emoji: '👍', user_id: carol });
		syncAll([editor!, deleter!]);
		for (const d of [deleter!, editor!]) {
			expect(readMessages(d)[0]).toMatchObject({ content: '', reactions: {}, edited_at: null });
		}
		purgeDeleted(deleter!);
		purgeDeleted(editor!);
		syncAll([editor!, deleter!]);
		for (const d of [deleter!, editor!]) {
			expectPurged(d);
			const bytes = Y.encodeStateAsUpdate(d);
			expect(bytesInclude(bytes, 'original words')).toBe(false);
			expect(bytesInclude(bytes, 'offline edit words')).toBe(false);
		}
		expectSame([deleter!, editor!]);
	});

	it('keeps both replies when two people start the same thread at once', () => {
		const { doc } = conversation();
		const p = postMessage(doc, { content: 'who is in?', created_by: alice });
		const [a, b, c] = copies(doc, 3);
		postReply(a!, p.id, { content: 'me', created_by: bob, id: '9001' });
		postReply(b!, p.id, { content: 'me too', created_by: carol, id: '9000' });
		syncAll([b!, c!, a!]);
		expectSame([a!, b!, c!]);
		expect(readThread(c!, p.id).map((r) => r.content)).toEqual(['me too', 'me']);
		expect(readMessages(c!)[0]?.reply_count).toBe(2);
	});

	it('keeps a message posted concurrently with its author leaving', () => {
		const { doc } = conversation();
		const [a, b] = copies(doc, 2);
		removeMember(a!, { user_id: carol, removed_by: alice });
		postMessage(b!, { content: 'last words', created_by: carol });
		syncAll([a!, b!]);
		expectSame([a!, b!]);
		expect(readMembers(a!).map((m) => m.user_id)).toEqual([alice, bob]);
		expect(readMessages(a!).map((m) => m.content)).toEqual(['last words']);
	});

	it('shows the same record for two colliding ids on every replica', () => {
		const { doc } = conversation();
		const [a, b] = copies(doc, 2);
		postMessage(a!, { content: 'from a', created_by: alice, id: '4242' });
		postMessage(b!, { content: 'from b', created_by: bob, id: '4242' });
		postMessage(a!, { content: 'later', created_by: alice, id: '5000' });
		syncAll([b!, a!]);
		expectSame([a!, b!]);
		expect(conversationTypes(a!).messages.length).toBe(3);
		// One row per id, as the seed's primary key requires: the first in document order.
		const shown = readMessages(a!).map((m) => m.content);
		expect(shown).toHaveLength(2);
		expect(shown[0]).toBe(conversationTypes(a!).messages.get(0).content);
		expect(shown[1]).toBe('later');
	});
});
