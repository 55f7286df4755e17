import { describe, expect, it } from 'vitest';
import { deleteMessage, postMessage, postReply } from '../../../src/lib/model';
import { readSummary } from '../../../src/lib/state/conversation-list.svelte';
import { countAfter } from '../../../src/lib/state/read-markers.svelte';
import { alice, at, bob, conversation } from '../../fixtures/model';

describe('unread mentions', () => {
	it('counts others’ messages and replies that mention me, after the read marker', () => {
		const { doc } = conversation();
		const first = postMessage(doc, { content: 'hi <@bob>', created_by: alice });
		postMessage(doc, { content: 'no mention', created_by: alice });
		postMessage(doc, { content: 'talking to myself <@bob>', created_by: bob });
		const reply = postReply(doc, first.id, { content: 'in a thread, <@bob>', created_by: alice });
		const gone = postMessage(doc, { content: 'deleted <@bob>', created_by: alice });
		deleteMessage(doc, gone.id, { deleted_by: alice, deleted_at: at(9) });
		const s = readSummary(doc, bob);
		expect(s.mentionIds).toEqual([first.id, reply.id]);
		expect(countAfter(s.mentionIds, null)).toBe(2);
		expect(countAfter(s.mentionIds, first.id)).toBe(1);
		expect(countAfter(s.mentionIds, reply.id)).toBe(0);
		expect(readSummary(doc, alice).mentionIds).toEqual([]);
	});
});
