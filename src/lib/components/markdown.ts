/**
 * Safe Markdown, step one: markdown-it with raw HTML off (`<script>` becomes text) and
 * linkify on. markdown-it already refuses `javascript:`, `vbscript:`, `file:` and most `data:`
 * link targets; images and headings are off (images would load from outside Kith's origin;
 * headings make no sense in a chat line). Step two, DOMPurify, runs in `message-html.ts`,
 * whose output is what the one `{@html}` (MessageItem.svelte) shows.
 */
import MarkdownIt from 'markdown-it';

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.disable(['image', 'heading', 'lheading']);

/** What rendering needs to know beyond the text: names for mention chips, and who reads. */
export type MarkdownEnv = {
	nameOf?: (userId: string) => string;
	me?: string;
};

// Mentions (`<@userId>`, src/lib/model/mentions.ts) become a chip with the person's current name.
// Before `autolink`, which would otherwise see `<…>`; inside code spans the rule never runs.
const MENTION_AT_START = /^<@([A-Za-z0-9_-]{1,64})>/;
md.inline.ruler.before('autolink', 'mention', (state, silent) => {
	if (state.src.charCodeAt(state.pos) !== 0x3c || state.src.charCodeAt(state.pos + 1) !== 0x40)
		return false;
	const found = MENTION_AT_START.exec(state.src.slice(state.pos, state.pos + 68));
	if (!found) return false;
	if (!silent) state.push('mention', '', 0).meta = { userId: found[1] };
	state.pos += found[0].length;
	return true;
});
md.renderer.rules['mention'] = (tokens, idx, _options, rendering) => {
	const env = (rendering ?? {}) as MarkdownEnv;
	const userId = (tokens[idx]!.meta as { userId: string }).userId;
	const name = env.nameOf?.(userId) ?? userId;
	const self = env.me === userId ? ' data-mention-self=""' : '';
	const esc = md.utils.escapeHtml;
	return `<span data-mention="${esc(userId)}"${self}>@${esc(name)}</span>`;
};

/** Markdown to HTML; not yet sanitised. */
export function markdownToHtml(source: string, env: MarkdownEnv = {}): string {
	return md.render(source, env);
}

/**
 * Whether `html` (markdownToHtml's output for `source`) is one paragraph of `source` as text:
 * markdown-it's own escaping of it in `<p>…</p>`, so it holds no tag or attribute but the `<p>`
 * and sanitising cannot change it. Most chat lines are such; DOMPurify's parse of each (a new
 * HTML document per call) was most of a message's first render while scrolling.
 *
 * @example isPlainParagraph('ships tomorrow', markdownToHtml('ships tomorrow')) // true
 */
export function isPlainParagraph(source: string, html: string): boolean {
	return html === `<p>${md.utils.escapeHtml(source)}</p>\n`;
}

// Tags markdown-it makes with no attribute at all, and that DOMPurify keeps (ALLOWED_TAGS).
const BARE_TAGS = 'p|br|strong|em|s|code|pre|blockquote|ul|ol|li|hr';
const ONLY_BARE_TAGS = new RegExp(`^(?:[^<>]|<\\/?(?:${BARE_TAGS})>)*$`);

/**
 * Whether markdown-it's `html` holds nothing DOMPurify could remove or change: text (in which
 * markdown-it escaped every `<` and `>`) and allowed tags without a single attribute. Links,
 * mentions, ordered lists that start elsewhere and fenced code (attributes) still go through
 * DOMPurify. Bold text and second paragraphs no longer do: DOMPurify's parse of each (a new HTML
 * document per call) was most of such a message's first render while scrolling.
 *
 * @example needsNoSanitizing('<p><strong>ships</strong> tomorrow</p>\n') // true
 * @example needsNoSanitizing('<p><a href="https://example.com">x</a></p>\n') // false
 */
export function needsNoSanitizing(html: string): boolean {
	return ONLY_BARE_TAGS.test(html);
}

// Text markdown-it can only make one paragraph of, unchanged but for escaping: it starts with a
// letter (no list, quote, code block or fence), ends with no space (nothing trimmed, no hard
// break), and holds only letters, digits, single-line spaces and punctuation that starts no
// Markdown or linkify rule. `.` only before a space or the end: `example.com`, `e.g` or `1.5`
// could be a link. No `&` (entities), `<`/`>` (autolinks, mentions), `:`/`/` (URLs), `@`
// (e-mail addresses), `*_~\`[]\\|#+-=!` (inline rules), no line break.
const PLAIN_TEXT = /^\p{L}(?:[\p{L}\p{N} ,;'"?()]|\.(?= |$))*$/u;

/**
 * The HTML of `source` when markdown-it would render it as one plain paragraph, made without
 * parsing it (markdown-it was most of a plain message's first render while scrolling); null
 * for anything else, which goes through {@link markdownToHtml}. Its output passes
 * {@link isPlainParagraph}.
 *
 * @example plainParagraph('ships tomorrow') // '<p>ships tomorrow</p>\n'
 * @example plainParagraph('**bold**') // null
 */
export function plainParagraph(source: string): string | null {
	if (source.endsWith(' ') || !PLAIN_TEXT.test(source)) return null;
	return `<p>${md.utils.escapeHtml(source)}</p>\n`;
}

const MENTION = /<@([A-Za-z0-9_-]{1,64})>/g;

/**
 * Rendered HTML, by what it is rendered from: the source, who reads, and the current names of
 * the people it mentions (a rename shows at once). Markdown plus DOMPurify cost ~0.1 ms per
 * message, paid again on every mount (scrolling) and every re-render (~55 ms per post into
 * 100,000 messages before this cache); an unchanged message now costs a key. Least recently
 * used entries go first beyond `limit`.
 *
 * @example
 * const cache = new HtmlCache(5000);
 * const html = cache.get(source, env, () => sanitize(markdownToHtml(source, env)));
 */
export class HtmlCache {
	readonly #limit: number;
	readonly #entries = new Map<string, string>();

	constructor(limit: number) {
		this.#limit = limit;
	}

	get size(): number {
		return this.#entries.size;
	}

	/** The HTML for `source` read with `env`: cached, or made by `render` and kept. */
	get(source: string, env: MarkdownEnv, render: () => string): string {
		const names: string[] = [];
		if (source.includes('<@'))
			for (const [, userId] of source.matchAll(MENTION))
				names.push(env.nameOf?.(userId!) ?? userId!);
		const key = JSON.stringify([env.me ?? '', source, names]);
		let html = this.#entries.get(key);
		if (html === undefined) html = render();
		else this.#entries.delete(key); // re-inserted below: the most recently used
		this.#entries.set(key, html);
		if (this.#entries.size > this.#limit) this.#entries.delete(this.#entries.keys().next().value!);
		return html;
	}
}

/** Link targets that may stay: http(s) and mailto only. */
export const SAFE_URL = /^(?:https?:|mailto:)/i;

/** Tags a message may contain after sanitising. */
export const ALLOWED_TAGS = [
	'p',
	'br',
	'strong',
	'em',
	's',
	'del',
	'code',
	'pre',
	'blockquote',
	'ul',
	'ol',
	'li',
	'a',
	'hr',
	'table',
	'thead',
	'tbody',
	'tr',
	'th',
	'td',
	// Mention chips (data-mention, data-mention-self: DOMPurify keeps data-* attributes).
	'span'
];
