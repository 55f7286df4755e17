import { describe, expect, it } from 'vitest';
import {
	MAX_WORD_CHARS,
	highlight,
	nameMatches,
	normalizeWord,
	parseQuery,
	searchWords
} from '../../../src/lib/model';

describe('normalizeWord', () => {
	it.each([
		['Café', 'cafe'],
		['CAFÉ', 'cafe'],
		['cafe\u0301', 'cafe'], // decomposed é
		['Ångström', 'angstrom'],
		['naïve', 'naive'],
		['Straße', 'straße'],
		['ﬁancé', 'fiance'], // the fi ligature decomposes (NFKD)
		['x²', 'x2'],
		['ÇA', 'ca'],
		['Łódź', 'łodz'], // Ł has no decomposition: only the marks go
		['Ελληνικά', 'ελληνικα'],
		['١٢٣', '١٢٣']
	])('normalises %s to %s', (input, expected) => {
		expect(normalizeWord(input)).toBe(expected);
	});

	it('cuts words at MAX_WORD_CHARS', () => {
		expect(normalizeWord('a'.repeat(100))).toHaveLength(MAX_WORD_CHARS);
	});
});

describe('searchWords', () => {
	it.each([
		['Café au lait, café!', ['cafe', 'au', 'lait']],
		["l'été est là", ['l', 'ete', 'est', 'la']],
		['**bold** `code` [link](https://x.org)', ['bold', 'code', 'link', 'https', 'x', 'org']],
		['', []],
		['🎉 !!! ...', []],
		['hi <@aB3_-x> and <@bob>', ['hi', 'and']],
		['e-mail 2026-11-25', ['e', 'mail', '2026', '11', '25']]
	])('finds the words of %j', (content, words) => {
		expect(searchWords(content)).toEqual(words);
	});
});

describe('parseQuery', () => {
	it.each([
		['Café plans', { words: ['cafe', 'plans'], from: [], in: [] }],
		['from:@ada in:#general hello', { words: ['hello'], from: ['ada'], in: ['general'] }],
		['FROM:ada IN:general', { words: [], from: ['ada'], in: ['general'] }],
		['from:"Ada Lovelace" notes', { words: ['notes'], from: ['Ada Lovelace'], in: [] }],
		['in:"design team', { words: [], from: [], in: ['design team'] }],
		['from: hello', { words: ['hello'], from: [], in: [] }],
		['in:@bob lunch', { words: ['lunch'], from: [], in: ['bob'] }],
		// A word that prefixes another is implied by it.
		['hel hello help', { words: ['hello', 'help'], from: [], in: [] }],
		['hello hello HELLO', { words: ['hello'], from: [], in: [] }],
		['info:x', { words: ['info', 'x'], from: [], in: [] }],
		['   ', { words: [], from: [], in: [] }]
	])('parses %j', (input, expected) => {
		expect(parseQuery(input)).toEqual(expected);
	});
});

describe('nameMatches', () => {
	it.each([
		['Ada Lovelace', 'ada', true],
		['Ada Lovelace', 'Ada Lovelace', true],
		['Ada Lovelace', 'lovelace', false],
		['Zoë', 'zoe', true],
		['general', 'GEN', true],
		['general', '', false],
		['design-team', 'design team', true]
	])('%j matches %j: %s', (name, value, expected) => {
		expect(nameMatches(name, value)).toBe(expected);
	});
});

describe('highlight', () => {
	const marked = (segments: { text: string; match: boolean }[]) =>
		segments.filter((s) => s.match).map((s) => s.text);
	const joined = (segments: { text: string }[]) => segments.map((s) => s.text).join('');

	it('marks the matching prefix of each word, in the original spelling', () => {
		const s = highlight('Le Café est prêt, cafés pour tous', ['caf', 'pret']);
		expect(marked(s)).toEqual(['Caf', 'prêt', 'caf']);
		expect(joined(s)).toBe('Le Café est prêt, cafés pour tous');
	});

	it('marks decomposed accents with their letter', () => {
		expect(marked(highlight('cafe\u0301 noir', ['cafe']))).toEqual(['cafe\u0301']);
	});

	it('shows the context around the first match of a long text, with ellipses', () => {
		const text = `${'lorem '.repeat(50)}needle ${'ipsum '.repeat(50)}`;
		const s = highlight(text, ['needle'], 30);
		expect(marked(s)).toEqual(['needle']);
		expect(s[0]).toEqual({ text: '…', match: false });
		expect(s.at(-1)).toEqual({ text: '…', match: false });
		expect(joined(s).length).toBeLessThan(90);
	});

	it('returns the text as plain pieces (never HTML) when nothing matches', () => {
		expect(highlight('<b>hi</b>', ['zzz'])).toEqual([{ text: '<b>hi</b>', match: false }]);
	});
});

describe('nameMatches with anyWord (mention suggestions)', () => {
	it.each([
		['Ada Lovelace', 'love', true],
		['Ada Lovelace', 'lovelace', true],
		['Ada Lovelace', 'ada l', true],
		['Ada Lovelace', 'ovel', false]
	])('%j matches %j: %s', (name, value, expected) => {
		expect(nameMatches(name, value, { anyWord: true })).toBe(expected);
	});
});

describe('nameMatches with anyWord (mention suggestions)', () => {
	it.each([
		['Ada Lovelace', 'love', true],
		['Ada Lovelace', 'lovelace', true],
		['Ada Lovelace', 'ada l', true],
		['Ada Lovelace', 'ovel', false]
	])('%j matches %j: %s', (name, value, expected) => {
		expect(nameMatches(name, value, { anyWord: true })).toBe(expected);
	});
});
