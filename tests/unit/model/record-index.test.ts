import * as Y from 'yjs';
import * as prng from 'lib0/prng';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
	conversationTypes,
	deleteMessage,
	findMessage,
	locateMessage,
	postMessage,
	postReply,
	purgeDeleted,
	toggleReaction,
	ValidationError
} from '../../../src/lib/model';
import { alice, bob, conversation } from '../../fixtures/model';

/** What findMessage answers, as locateMessage would (the walk it replaces), for one id. */
function expectSameAsWalk(doc: Y.Doc, id: string): void {
	const t = conversationTypes(doc);
	const walked = locateMessage(t, id);
	const found = findMessage(t, id);
	expect(found && { array: found.array, record: found.record }, id).toEqual(
		walked && { array: walked.array, record: walked.record }
	);
}

function sync(a: Y.Doc, b: Y.Doc): void {
	Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
	Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

afterEach(() => vi.restoreAllMocks());

describe('findMessage', () => {
	for (const seed of [1, 2, 3]) {
		it(`answers as the walk of both arrays does through random changes on two devices (seed ${seed})`, () => {
			const gen = prng.create(seed);
			const { doc: a } = conversation();
			const b = new Y.Doc();
			sync(a, b);
			const ids: string[] = [];
			const tops: string[] = [];
			for (let step = 0; step < 300; step++) {
				const doc = prng.bool(gen) ? a : b;
				const me = doc === a ? alice : bob;
				const op = prng.int32(gen, 0, 9);
				try {
					if (op <= 3 || tops.length === 0) {
						const id = postMessage(doc, { content: `m${step}`, created_by: me }).id;
						ids.push(id);
						tops.push(id);
					} else if (op <= 5) {
						ids.push(
							postReply(doc, prng.oneOf(gen, tops), { content: `r${step}`, created_by: me }).id
						);
					} else if (op === 6) {
						deleteMessage(doc, prng.oneOf(gen, ids), { deleted_by: me });
					} else if (op === 7) {
						toggleReaction(doc, prng.oneOf(gen, ids), { emoji: '👍', user_id: me });
					} else if (op === 8) {
						sync(a, b);
						purgeDeleted(a);
					} else {
						// A reply and its parent in one transaction: the parent is not indexed yet.
						doc.transact(() => {
							const parent = postMessage(doc, { content: `p${step}`, created_by: me }).id;
							ids.push(parent, postReply(doc, parent, { content: 'same', created_by: me }).id);
							tops.push(parent);
						});
					}
				} catch (err) {
					// Someone else's message, a deleted one, or one not synced here yet.
					expect(err).toBeInstanceOf(ValidationError);
				}
				for (const id of [...ids.slice(-5), prng.oneOf(gen, ids), '123456789']) {
					expectSameAsWalk(a, id);
					expectSameAsWalk(b, id);
				}
			}
			sync(a, b);
			for (const id of ids) {
				expectSameAsWalk(a, id);
				expectSameAsWalk(b, id);
			}
		});
	}

	it('prefers a tombstone when two devices deleted the same message at once', () => {
		const { doc: a } = conversation();
		const id = postMessage(a, { content: 'twice', created_by: alice }).id;
		const b = new Y.Doc();
		sync(a, b);
		expect(findMessage(conversationTypes(a), id)?.record.deleted_at ?? null).toBeNull();
		deleteMessage(a, id, { deleted_by: alice, deleted_at: '2026-02-01T00:00:00.000Z' });
		deleteMessage(b, id, { deleted_by: alice, deleted_at: '2026-01-15T00:00:00.000Z' });
		sync(a, b);
		for (const doc of [a, b]) {
			expect(findMessage(conversationTypes(doc), id)?.record.deleted_at).toBe(
				'2026-01-15T00:00:00.000Z'
			);
			expectSameAsWalk(doc, id);
		}
	});

	it('reacts and replies without walking the messages once they are indexed', () => {
		const { doc } = conversation();
		const posted: string[] = [];
		for (let i = 0; i < 2_000; i++)
			posted.push(postMessage(doc, { content: `m${i}`, created_by: alice }).id);
		const t = conversationTypes(doc);
		expect(findMessage(t, posted[0]!)).not.toBeNull();
		const toArray = vi.spyOn(Y.Array.prototype, 'toArray');
		const forEach = vi.spyOn(Y.Array.prototype, 'forEach');
		// Yjs's `event.changes` walks the whole array on every insertion.
		const changes = vi.spyOn(Y.YEvent.prototype, 'changes', 'get');
		for (const id of posted.slice(-50)) {
			toggleReaction(doc, id, { emoji: '🎉', user_id: bob });
			postReply(doc, id, { content: 'ok', created_by: bob });
		}
		// A new post is found too: the index follows insertions.
		const late = postMessage(doc, { content: 'late', created_by: bob }).id;
		toggleReaction(doc, late, { emoji: '🎉', user_id: alice });
		expect(toArray).not.toHaveBeenCalled();
		expect(forEach).not.toHaveBeenCalled();
		expect(changes).not.toHaveBeenCalled();
	});
});
