import { flushSync } from 'svelte';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import {
	createConversation,
	editMessage,
	postMessage,
	readMessages,
	type Message
} from '../../../src/lib/model';
import { LiveMessages } from '../../../src/lib/state/live-messages.svelte';

describe('LiveMessages', () => {
	it('follows the document while shown, redrawing only changed messages, and lets go after', async () => {
		const doc = new Y.Doc();
		createConversation(doc, { kind: 'channel', name: 'c', created_by: 'ada', members: [] });
		const first = postMessage(doc, { content: 'one', created_by: 'ada' });
		const live = new LiveMessages(doc);
		const seen: Message[][] = [];
		const stop = $effect.root(() => {
			$effect(() => {
				seen.push(live.value);
			});
		});
		flushSync();
		postMessage(doc, { content: 'two', created_by: 'ada' });
		flushSync();
		editMessage(doc, first.id, { content: 'one!', edited_by: 'ada' });
		flushSync();
		const last = seen.at(-1)!;
		expect(last).toEqual(readMessages(doc));
		expect(last.map((m) => m.content)).toEqual(['one!', 'two']);
		// The edit replaced the first message only; the second is the object drawn before.
		const beforeEdit = seen.find((s) => s.length === 2 && s[0]!.content === 'one')!;
		expect(last[1]).toBe(beforeEdit[1]);
		stop();
		await Promise.resolve();
		expect(doc._observers.get('afterTransaction')?.size ?? 0).toBe(0);
		// Unobserved reads are fresh.
		postMessage(doc, { content: 'three', created_by: 'ada' });
		expect(live.value.map((m) => m.content)).toEqual(['one!', 'two', 'three']);
	});
});
