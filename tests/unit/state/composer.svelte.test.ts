import { describe, expect, it } from 'vitest';
import {
	ComposerState,
	Drafts,
	composerAction,
	type KeyLike
} from '../../../src/lib/state/composer.svelte';

function key(k: string, mods: Partial<KeyLike> = {}): KeyLike {
	return {
		key: k,
		shiftKey: false,
		altKey: false,
		ctrlKey: false,
		metaKey: false,
		isComposing: false,
		...mods
	};
}

function memoryStorage() {
	const map = new Map<string, string>();
	return {
		map,
		getItem: (k: string) => map.get(k) ?? null,
		setItem: (k: string, v: string) => void map.set(k, v),
		removeItem: (k: string) => void map.delete(k)
	};
}

describe('composerAction', () => {
	it.each([
		['Enter sends', key('Enter'), 'hi', 'send'],
		['Shift+Enter adds a line', key('Enter', { shiftKey: true }), 'hi', 'newline'],
		[
			'Enter while an input method composes belongs to it',
			key('Enter', { isComposing: true }),
			'か',
			null
		],
		['Up on an empty composer edits the last message', key('ArrowUp'), '', 'edit-last'],
		['Up with text moves the caret', key('ArrowUp'), 'text', null],
		['Escape cancels', key('Escape'), '', 'cancel'],
		['other keys do nothing', key('a'), '', null]
	] as const)('%s', (_title, event, text, expected) => {
		expect(composerAction(event, text)).toBe(expected);
	});
});

describe('ComposerState', () => {
	it('sends the trimmed text and clears the draft', () => {
		const composer = new ComposerState(new Drafts('me'), 'c1');
		composer.text = '  hello  ';
		const sent: string[] = [];
		expect(composer.submit((t) => sent.push(t))).toBe(true);
		expect(sent).toEqual(['hello']);
		expect(composer.text).toBe('');
	});

	it('keeps the draft when sending fails', () => {
		const composer = new ComposerState(new Drafts('me'), 'c1');
		composer.text = 'important';
		expect(() =>
			composer.submit(() => {
				throw new Error('refused');
			})
		).toThrow('refused');
		expect(composer.text).toBe('important');
	});

	it('sends nothing when there is only whitespace', () => {
		const composer = new ComposerState(new Drafts('me'), 'c1');
		composer.text = ' \n ';
		expect(composer.submit(() => expect.unreachable())).toBe(false);
	});

	it('keeps drafts per conversation across sessions on the device', () => {
		const storage = memoryStorage();
		new ComposerState(new Drafts('me', storage), 'c1').text = 'half-written';
		new ComposerState(new Drafts('me', storage), 'c2').text = 'other';
		expect(new ComposerState(new Drafts('me', storage), 'c1').text).toBe('half-written');
		new ComposerState(new Drafts('me', storage), 'c1').text = '';
		expect(storage.map.has('kith:draft:me:c1')).toBe(false);
	});
});
