import { describe, expect, it } from 'vitest';
import {
	decodeMentions,
	encodeMentions,
	insertMention,
	mentionQueryAt,
	mentions,
	mentionsOf,
	mentionToken
} from '../../../src/lib/model';

const people = [
	{ id: 'u-ada', name: 'Ada' },
	{ id: 'u-adal', name: 'Ada Lovelace' },
	{ id: 'u-bob', name: 'bob' }
];

describe('mentions', () => {
	it('stores a mention as <@userId> and refuses what is no user id', () => {
		expect(mentionToken('u-ada')).toBe('<@u-ada>');
		expect(() => mentionToken('a b>')).toThrow(/Not a user id/);
	});

	it('lists who a message mentions, once each, in order', () => {
		expect(mentionsOf('hi <@u-ada>, <@bob> and <@u-ada>; <@bad id> <@>')).toEqual(['u-ada', 'bob']);
		expect(mentions('ping <@u-bob>', 'u-bob')).toBe(true);
		expect(mentions('ping <@u-bob>', 'u-bo')).toBe(false);
	});

	it.each([
		['hi @Ada!', 'hi <@u-ada>!'],
		['hi @ada', 'hi <@u-ada>'],
		['@Ada Lovelace wrote this', '<@u-adal> wrote this'],
		['@Ada Lovelaces', '<@u-ada> Lovelaces'],
		['mail ada@bob.org', 'mail ada@bob.org'],
		['@Adam is not here', '@Adam is not here'],
		['@bob @bob', '<@u-bob> <@u-bob>'],
		['no one @ all', 'no one @ all'],
		['', '']
	])('encodes %j as %j', (text, stored) => {
		expect(encodeMentions(text, people)).toBe(stored);
	});

	it('round-trips through decoding for editing, with current names (renames)', () => {
		const stored = encodeMentions('hey @Ada Lovelace and @bob', people);
		const renamed = (id: string) => (id === 'u-adal' ? 'Countess' : id === 'u-bob' ? 'bob' : null);
		expect(decodeMentions(stored, renamed)).toBe('hey @Countess and @bob');
		// Someone unknown stays a token, so saving the edit keeps the mention.
		expect(decodeMentions('hi <@ghost>', () => null)).toBe('hi <@ghost>');
	});

	it.each([
		['@', 1, { start: 0, query: '' }],
		['hello @ad', 9, { start: 6, query: 'ad' }],
		['hello @Ada Lo', 13, { start: 6, query: 'Ada Lo' }],
		['mail a@b', 8, null],
		['@ada\nnext', 9, null],
		['@ x', 3, null],
		['no at', 5, null]
	])('finds the mention typed at the caret in %j', (text, caret, expected) => {
		expect(mentionQueryAt(text, caret)).toEqual(expected);
	});

	it('inserts the chosen name in place of the query', () => {
		expect(insertMention('hi @ad there', 6, 3, 'Ada')).toEqual({
			text: 'hi @Ada there',
			caret: 8
		});
		expect(insertMention('@b', 2, 0, 'bob')).toEqual({ text: '@bob ', caret: 5 });
	});
});
