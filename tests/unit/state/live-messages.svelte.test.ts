import { flushSync } from 'svelte';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import {
	conversationTypes,
	createConversation,
	editMessage,
	postMessage,
	readMessages,
	type AppendList,
	type Message
} from '../../../src/lib/model';
import { LiveMessages } from '../../../src/lib/state/live-messages.svelte';

describe('LiveMessages', () => {
	it('follows the document while shown, redrawing only changed messages, and lets go after', async () => {
		const doc = new Y.Doc();
		createConversation(doc, { kind: 'channel', name: 'c', created_by: 'ada', members: [] });
		const first = postMessage(doc, { content: 'one', created_by: 'ada' });
		const live = new LiveMessages(doc);
		const seen: AppendList<Message>[] = [];
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
		expect(last.toArray()).toEqual(readMessages(doc));
		expect(last.map((m) => m.content)).toEqual(['one!', 'two']);
		// Each list drawn stays as it was drawn: the post appended to the first, the edit copied.
		expect(seen.map((s) => s.map((m) => m.content))).toEqual([
			['one'],
			['one', 'two'],
			['one!', 'two']
		]);
		// The edit replaced the first message only; the second is the object drawn before.
		const beforeEdit = seen.find((s) => s.length === 2 && s.get(0)!.content === 'one')!;
		expect(last.get(1)).toBe(beforeEdit.get(1));
		stop();
		await Promise.resolve();
		expect(doc._observers.get('afterTransaction')?.size ?? 0).toBe(0);
		// Unobserved reads are fresh.
		postMessage(doc, { content: 'three', created_by: 'ada' });
		expect(live.value.map((m) => m.content)).toEqual(['one!', 'two', 'three']);
	});
});

describe('LiveMessages priming', () => {
	it('walks to the end of the messages in idle time after a change from another device', async () => {
		const doc = new Y.Doc();
		createConversation(doc, { kind: 'channel', name: 'c', created_by: 'ada', members: [] });
		const other = new Y.Doc();
		Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
		for (let i = 0; i < 100; i++) {
			other.clientID = 500 + i; // one item each: they do not merge
			postMessage(other, { content: `m${i}`, created_by: 'ada' });
		}
		const messages = conversationTypes(doc).messages as unknown as {
			length: number;
			_searchMarker: Array<{ index: number }>;
		};
		const nearest = () => Math.max(-1, ...messages._searchMarker.map((m) => m.index));
		const live = new LiveMessages(doc);
		const stop = $effect.root(() => {
			$effect(() => void live.value);
		});
		flushSync();
		Y.applyUpdate(doc, Y.encodeStateAsUpdate(other), 'net');
		expect(nearest()).toBe(-1);
		await new Promise((r) => setTimeout(r, 300));
		expect(nearest()).toBeGreaterThanOrEqual(messages.length - 2);
		stop();
	});
});
