/**
 * Text for search: the one normalisation shared by what the index stores (the words of each
 * message) and what a query looks up, so that "Cafe" finds "café" and "CAFÉS", and the query
 * language of the search box (`from:@name in:#channel words…`). Pure: the Dexie index, the
 * state layer and tests all use it.
 */
import { MENTION_PATTERN } from './mentions';

/**
 * Longest word kept, in characters after normalisation. A query word longer than this matches
 * by its first {@link MAX_WORD_CHARS} characters (index keys stay small; nobody searches for a
 * 40-character word that differs only after the 32nd).
 */
export const MAX_WORD_CHARS = 32;

// A word is a run of letters, digits and combining marks (the marks go in normalisation): "l'été"
// is two words, "e-mail" two, "naïve" one. Scripts written without spaces (Chinese, Japanese)
// give one word per run, found by its beginning only (docs/ARCHITECTURE.md, known gotchas).
const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const MARKS = /\p{M}+/gu;

/**
 * One word as the index keeps it: compatibility-decomposed (NFKD: "ﬁ" → "fi", "²" → "2"),
 * diacritics stripped, lower-cased, cut at {@link MAX_WORD_CHARS}.
 *
 * @example normalizeWord('Éte\u0301') === 'etee'
 */
export function normalizeWord(word: string): string {
	return word.normalize('NFKD').replace(MARKS, '').toLowerCase().slice(0, MAX_WORD_CHARS);
}

/** Each word of `text` with where it starts and ends in `text` (for highlighting). */
export function wordSpans(text: string): Array<{ start: number; end: number; word: string }> {
	const out: Array<{ start: number; end: number; word: string }> = [];
	for (const m of text.matchAll(WORD)) {
		const word = normalizeWord(m[0]);
		if (word) out.push({ start: m.index, end: m.index + m[0].length, word });
	}
	return out;
}

/**
 * The distinct normalised words of a message's content, what the `words` index holds. Mention
 * tokens (`<@userId>`) are left out: a person's id is no word anyone types.
 *
 * @example searchWords('Café au lait, café!') // ['cafe', 'au', 'lait']
 */
export function searchWords(content: string): string[] {
	const text = content.replace(MENTION_PATTERN, ' ');
	return [...new Set(wordSpans(text).map((s) => s.word))];
}

/** A parsed search: words to prefix-match (all of them), and filters by name. */
export interface ParsedQuery {
	/** Normalised words; a message matches when each is a prefix of one of its words. */
	words: string[];
	/** `from:` values (author names, without the `@`), as typed. */
	from: string[];
	/** `in:` values (conversation names, without the `#` or `@`), as typed. */
	in: string[];
}

// `from:ada`, `from:@ada`, `in:#general`, `in:"design team"`, `from:"Ada Lovelace"`.
const FILTER = /(^|\s)(from|in):(?:"([^"]*)"?|(\S*))/giu;

/**
 * Parses what was typed into the search box. Words are normalised and deduplicated, and a word
 * that is a prefix of another query word is dropped (the longer one implies it).
 *
 * @example parseQuery('from:@ada in:#general Café plans')
 * // { words: ['cafe', 'plans'], from: ['ada'], in: ['general'] }
 */
export function parseQuery(input: string): ParsedQuery {
	const from: string[] = [];
	const inside: string[] = [];
	const rest = input.replace(
		FILTER,
		(_all, lead: string, key: string, quoted?: string, bare?: string) => {
			const value = (quoted ?? bare ?? '').trim().replace(/^[@#]/u, '').trim();
			if (value) (key.toLowerCase() === 'from' ? from : inside).push(value);
			return lead;
		}
	);
	const all = [...new Set(searchWords(rest))];
	const words = all.filter((w) => !all.some((other) => other !== w && other.startsWith(w)));
	return { words, from, in: inside };
}

/**
 * True when a name (a person's, a conversation's) matches what was typed (a `from:`/`in:`
 * value, an `@mention` being typed): the name starts with it, ignoring case, accents and
 * punctuation. With `anyWord`, any word of the name may start it ("love" finds "Ada Lovelace").
 */
export function nameMatches(
	name: string,
	value: string,
	options: { anyWord?: boolean } = {}
): boolean {
	const words = (s: string) => wordSpans(s).map((w) => w.word);
	const n = words(name);
	const v = words(value).join(' ');
	if (v === '') return false;
	if (n.join(' ').startsWith(v)) return true;
	return options.anyWord === true && n.some((_, i) => n.slice(i).join(' ').startsWith(v));
}

/** A piece of a snippet: text, and whether it matched a query word. */
export interface Segment {
	text: string;
	match: boolean;
}

/**
 * The part of `text` around its first match, split into plain and matching pieces (a word
 * matches when a query word is a prefix of it; only that prefix is marked). Render the pieces
 * as text (escaped) with `<mark>` around the matches: nothing here is HTML.
 *
 * @example highlight('Le café est prêt', ['cafe'], 40)
 * // [{ text: 'Le ', match: false }, { text: 'caf', match: true }, …]
 */
export function highlight(text: string, words: readonly string[], context = 60): Segment[] {
	const spans: Array<{ start: number; end: number }> = [];
	for (const s of wordSpans(text)) {
		const hit = words.filter((w) => s.word.startsWith(w)).sort((a, b) => b.length - a.length)[0];
		if (hit !== undefined) spans.push({ start: s.start, end: matchEnd(text, s, hit.length) });
	}
	const first = spans[0];
	let from = 0;
	let to = text.length;
	if (text.length > context * 2) {
		const center = first ? first.start : 0;
		from = Math.max(0, center - Math.floor(context / 2));
		to = Math.min(text.length, from + context * 2);
		from = Math.max(0, Math.min(from, to - context * 2));
		// Cut at word boundaries, never inside a surrogate pair or a match.
		while (from > 0 && /\S/u.test(text[from - 1] ?? '') && !spans.some((s) => s.start === from))
			from--;
		while (to < text.length && /\S/u.test(text[to] ?? '')) to++;
	}
	const out: Segment[] = [];
	const push = (t: string, match: boolean) => {
		if (t) out.push({ text: t, match });
	};
	if (from > 0) push('…', false);
	let at = from;
	for (const s of spans) {
		if (s.end <= from || s.start >= to) continue;
		push(text.slice(at, Math.max(at, s.start)), false);
		push(text.slice(Math.max(at, s.start), Math.min(s.end, to)), true);
		at = Math.min(s.end, to);
	}
	push(text.slice(at, to), false);
	if (to < text.length) push('…', false);
	return out;
}

/**
 * Where the matched prefix of a word ends in the original text: walks the original characters
 * until their normalised form is `length` long (a decomposed "é" is two code units, one letter).
 */
function matchEnd(text: string, span: { start: number; end: number }, length: number): number {
	let end = span.start;
	while (end < span.end && normalizeWord(text.slice(span.start, end)).length < length) {
		end += (text.codePointAt(end) ?? 0) > 0xffff ? 2 : 1;
	}
	// Trailing combining marks belong to the last matched letter.
	while (end < span.end && /\p{M}/u.test(text[end] ?? '')) end++;
	return end;
}
