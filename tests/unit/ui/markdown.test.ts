import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	HtmlCache,
	SAFE_URL,
	isPlainParagraph,
	ALLOWED_TAGS,
	markdownToHtml,
	needsNoSanitizing,
	plainParagraph,
	type MarkdownEnv
} from '../../../src/lib/components/markdown';

describe('needsNoSanitizing', () => {
	const cases: Array<[source: string, bare: boolean]> = [
		['ships tomorrow', true],
		['m11 **the plan** for _tomorrow_', true],
		['one\n\nwith a second paragraph', true],
		['a `code` span and ~~gone~~', true],
		['- one\n- two\n\n> quoted', true],
		['<script>alert(1)</script><img src=x onerror=alert(2)>', true],
		['[a link](https://example.com)', false],
		['see https://example.com', false],
		['hi <@ada>', false],
		['3. starts at three', false],
		['```js\ncode\n```', false]
	];
	for (const [source, bare] of cases)
		it(`${bare ? 'skips' : 'keeps'} DOMPurify for ${JSON.stringify(source)}`, () => {
			expect(needsNoSanitizing(markdownToHtml(source, { nameOf: () => 'Ada' }))).toBe(bare);
		});

	it('passes only text and allowed tags without attributes', () => {
		const part = fc.constantFrom(
			...['a', ' ', '\n', '**', '_', '`', '~~', '- ', '> ', '1. ', '3) ', '<', '>', '&', '"'],
			...['[x](https://e.com)', '<@ada>', 'www.e.com', '```', '<b onclick=x>', '<p>', '\\']
		);
		fc.assert(
			fc.property(fc.array(part, { maxLength: 30 }), (parts) => {
				const html = markdownToHtml(parts.join(''), { nameOf: () => 'Ada', me: 'ada' });
				if (!needsNoSanitizing(html)) return;
				for (const [, tag, rest] of html.matchAll(/<\/?([a-z0-9]+)([^>]*)>/g)) {
					expect(ALLOWED_TAGS).toContain(tag);
					expect(rest).toBe('');
				}
				// Every `<` and `>` is part of such a tag.
				expect(html.replace(/<\/?[a-z0-9]+>/g, '')).not.toMatch(/[<>]/);
			}),
			{ numRuns: 5_000, seed: 8 }
		);
	});
});

describe('plainParagraph', () => {
	const cases: Array<[source: string, plain: boolean]> = [
		['ships tomorrow', true],
		['m29 the plan for tomorrow', true],
		['Did it ship? Yes, "today" (finally). Mañana, 3 más', true],
		['ends with a stop.', true],
		['wait... what', false],
		['see example.com', false],
		['e.g. this', false],
		['1. a list', false],
		['- a list', false],
		['> a quote', false],
		['    code', false],
		['trailing  ', false],
		['**bold**', false],
		['fish & chips', false],
		['hi <@ada>', false],
		['mail ada@example.com', false],
		['see https://example.com', false],
		['two\nlines', false],
		['snake_case', false],
		['', false]
	];
	for (const [source, plain] of cases)
		it(`${plain ? 'makes' : 'leaves to markdown-it'} ${JSON.stringify(source)}`, () => {
			const html = plainParagraph(source);
			expect(html !== null).toBe(plain);
			if (html !== null) expect(html).toBe(markdownToHtml(source));
		});

	it('renders exactly what markdown-it renders whenever it renders at all', () => {
		// Strings of the characters plain text may hold, and of those that start Markdown or
		// linkify rules, so that both sides of every boundary are tried.
		const char = fc.oneof(
			{ weight: 3, arbitrary: fc.constantFrom('a', 'Zé', '漢', ' ', '.', 'com', 'www', 'http') },
			{ weight: 1, arbitrary: fc.constantFrom(...'09,;\'"?()!:/@&<>*_`~[]#|+-=\\\n\t'.split('')) }
		);
		fc.assert(
			fc.property(fc.array(char, { maxLength: 24 }), (parts) => {
				const source = parts.join('');
				const html = plainParagraph(source);
				if (html !== null) {
					expect(html).toBe(markdownToHtml(source));
					expect(isPlainParagraph(source, html)).toBe(true);
				}
			}),
			{ numRuns: 20_000, seed: 8 }
		);
	});
});

describe('isPlainParagraph', () => {
	const cases: Array<[source: string, plain: boolean]> = [
		['ships tomorrow', true],
		['m29 the plan for tomorrow', true],
		['fish & chips "today" <b>not bold</b>', true],
		['<script>alert(1)</script><img src=x onerror=alert(2)>', true],
		['**bold**', false],
		['see https://example.com', false],
		['[x](https://example.com)', false],
		['hi <@ada>', false],
		['two\nlines', false],
		['&amp; an entity', false],
		['', false]
	];
	for (const [source, plain] of cases)
		it(`${plain ? 'passes' : 'does not pass'} ${JSON.stringify(source)} as plain text`, () => {
			const html = markdownToHtml(source, { nameOf: () => 'Ada' });
			expect(isPlainParagraph(source, html)).toBe(plain);
			// What skips DOMPurify holds no tag but its paragraph.
			if (plain) expect(html.replace(/^<p>|<\/p>\n$/g, '')).not.toMatch(/[<>]/);
		});
});

// Step one of safe Markdown (markdown-it); DOMPurify, step two, is covered in the browser by
// tests/e2e/chat.spec.ts.
describe('markdownToHtml', () => {
	it('escapes raw HTML instead of passing it through', () => {
		const html = markdownToHtml('<script>alert(1)</script><img src=x onerror=alert(2)>');
		expect(html).not.toContain('<script');
		expect(html).not.toContain('<img');
		expect(html).toContain('&lt;script&gt;');
	});

	it('makes no link out of javascript: or data: targets', () => {
		expect(markdownToHtml('[x](javascript:alert(1))')).not.toContain('<a');
		expect(markdownToHtml('[x](data:text/html;base64,PHNjcmlwdD4=)')).not.toContain('<a');
	});

	it('links bare URLs and keeps Markdown emphasis and code', () => {
		const html = markdownToHtml('see https://example.com and **bold** `code`');
		expect(html).toContain('<a href="https://example.com">https://example.com</a>');
		expect(html).toContain('<strong>bold</strong>');
		expect(html).toContain('<code>code</code>');
	});

	it('renders no images (they would load from outside Kith) and no headings', () => {
		expect(markdownToHtml('![a](https://example.com/a.png)')).not.toContain('<img');
		expect(markdownToHtml('# big')).not.toContain('<h1');
	});

	it('keeps a single newline as a line break, as chat expects', () => {
		expect(markdownToHtml('one\ntwo')).toContain('one<br>\ntwo');
	});

	it.each([
		['https://example.com', true],
		['http://example.com', true],
		['mailto:a@example.com', true],
		['javascript:alert(1)', false],
		['JAVASCRIPT:alert(1)', false],
		['data:text/html,x', false],
		['vbscript:x', false]
	])('allows %s as a link target: %s', (url, ok) => {
		expect(SAFE_URL.test(url)).toBe(ok);
	});
});

describe('mentions in Markdown', () => {
	const nameOf = (id: string) => (id === 'u1' ? 'Ada <b>Lovelace</b>' : 'Bo');

	it('renders a mention token as a chip with the current name, escaped', () => {
		const html = markdownToHtml('hi <@u1>!', { nameOf, me: 'u2' });
		expect(html).toContain('<span data-mention="u1">@Ada &lt;b&gt;Lovelace&lt;/b&gt;</span>!');
	});

	it('marks a mention of the reader', () => {
		expect(markdownToHtml('<@u2> look', { nameOf, me: 'u2' })).toContain(
			'<span data-mention="u2" data-mention-self="">@Bo</span>'
		);
	});

	it('leaves tokens in code, and malformed ones, as text', () => {
		const html = markdownToHtml('`<@u1>` and <@bad id>', { nameOf });
		expect(html).toContain('<code>&lt;@u1&gt;</code>');
		expect(html).toContain('&lt;@bad id&gt;');
		expect(html).not.toContain('data-mention');
	});
});

describe('HtmlCache', () => {
	const env = { me: 'ada', nameOf: (u: string) => names[u] ?? u };
	let names: Record<string, string> = {};

	it('renders a source once and again only when who reads or a mentioned name changes', () => {
		names = { bo: 'Bo' };
		const cache = new HtmlCache(10);
		let renders = 0;
		const get = (source: string, e: MarkdownEnv = env) =>
			cache.get(source, e, () => `${++renders}:${markdownToHtml(source, e)}`);
		expect(get('hi <@bo>')).toBe('1:<p>hi <span data-mention="bo">@Bo</span></p>\n');
		expect(get('hi <@bo>')).toBe('1:<p>hi <span data-mention="bo">@Bo</span></p>\n');
		expect(get('plain')).toBe('2:<p>plain</p>\n');
		names = { bo: 'Bob' };
		expect(get('hi <@bo>')).toBe('3:<p>hi <span data-mention="bo">@Bob</span></p>\n');
		expect(get('plain')).toBe('2:<p>plain</p>\n');
		expect(get('plain', { ...env, me: 'bo' })).toBe('4:<p>plain</p>\n');
	});

	it('keeps at most its limit, dropping the least recently used first', () => {
		const cache = new HtmlCache(2);
		let renders = 0;
		const get = (source: string) => cache.get(source, {}, () => `${++renders}`);
		expect([get('a'), get('b'), get('a'), get('c')]).toEqual(['1', '2', '1', '3']);
		expect(cache.size).toBe(2);
		expect(get('a')).toBe('1'); // used more recently than b
		expect(get('b')).toBe('4');
	});
});
