import { flushSync } from 'svelte';
import * as Y from 'yjs';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { describe, expect, it } from 'vitest';
import { ReadMarkers, countAfter } from '../../../src/lib/state/read-markers.svelte';
import { Presence } from '../../../src/lib/state/presence.svelte';
import { TypingState, typingText } from '../../../src/lib/state/typing.svelte';

describe('countAfter', () => {
	it.each([
		[[], null, 0],
		[['5', '9', '12'], null, 3],
		[['5', '9', '12'], '9', 1],
		[['5', '9', '12'], '12', 0],
		[['5', '9', '12'], '1', 3],
		[['5', '9', '100'], '99', 1]
	] as const)('counts ids newer than the marker in %j after %s', (ids, marker, expected) => {
		expect(countAfter(ids, marker)).toBe(expected);
	});
});

describe('ReadMarkers', () => {
	it('never moves backwards and survives a new session', () => {
		const map = new Map<string, string>();
		const storage = {
			getItem: (k: string) => map.get(k) ?? null,
			setItem: (k: string, v: string) => void map.set(k, v)
		};
		const markers = new ReadMarkers('me', storage);
		markers.mark('c', '20');
		markers.mark('c', '3');
		expect(markers.get('c')).toBe('20');
		expect(new ReadMarkers('me', storage).get('c')).toBe('20');
		expect(new ReadMarkers('someone-else', storage).get('c')).toBeNull();
	});
});

function peers() {
	const mine = new Awareness(new Y.Doc());
	const theirs = new Awareness(new Y.Doc());
	const sync = () =>
		applyAwarenessUpdate(mine, encodeAwarenessUpdate(theirs, [theirs.clientID]), 'remote');
	return { mine, theirs, sync };
}

describe('Presence and typing', () => {
	it('shows who is online from awareness, as it changes', () => {
		const { mine, theirs, sync } = peers();
		const presence = new Presence(mine, 'ada');
		const seen: boolean[] = [];
		const stop = $effect.root(() => {
			$effect(() => {
				seen.push(presence.isOnline('bo'));
			});
		});
		flushSync();
		theirs.setLocalStateField('user', { id: 'bo', name: 'Bo', color: '#be185d' });
		sync();
		flushSync();
		expect(presence.isOnline('ada')).toBe(true);
		expect(seen).toEqual([false, true]);
		expect(presence.online.sort()).toEqual(['ada', 'bo']);
		stop();
		mine.destroy();
		theirs.destroy();
	});

	it('says who else is typing in a conversation, and stops when told', () => {
		const { mine, theirs, sync } = peers();
		const presenceBo = new Presence(theirs, 'bo');
		presenceBo.announce({ id: 'bo', name: 'Bo', color: '#be185d' });
		const typing = new TypingState(new Presence(mine, 'ada'), 'c1', (id) =>
			id === 'bo' ? 'Bo' : id
		);
		presenceBo.setTyping('c1');
		sync();
		expect(typing.others).toEqual(['bo']);
		expect(typing.text).toBe('Bo is typing…');
		presenceBo.setTyping(null);
		sync();
		expect(typing.text).toBe('');
		presenceBo.destroy();
		mine.destroy();
		theirs.destroy();
	});

	it('throttles its own typing marks', () => {
		const { mine } = peers();
		const presence = new Presence(mine, 'ada');
		const typing = new TypingState(presence, 'c1', (id) => id);
		let changes = 0;
		mine.on('change', () => changes++);
		typing.keystroke(1_000);
		typing.keystroke(1_500);
		typing.keystroke(3_100);
		expect(changes).toBe(1);
		typing.stop();
		expect(changes).toBe(2);
		presence.destroy();
		mine.destroy();
	});

	it.each([
		[[], ''],
		[['Ada'], 'Ada is typing…'],
		[['Ada', 'Bo'], 'Ada and Bo are typing…'],
		[['Ada', 'Bo', 'Cy'], 'Several people are typing…']
	])('words the typing indicator for %j', (names, text) => {
		expect(typingText(names)).toBe(text);
	});
});
