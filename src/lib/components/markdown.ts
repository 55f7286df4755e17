/**
 * Safe Markdown, step one: markdown-it with raw HTML off (`<script>` becomes text) and
 * linkify on. markdown-it already refuses `javascript:`, `vbscript:`, `file:` and most `data:`
 * link targets; images and headings are off (images would load from outside Kith's origin;
 * headings make no sense in a chat line). Step two, DOMPurify, runs in `Markdown.svelte`
 * beside the one `{@html}`.
 */
import MarkdownIt from 'markdown-it';

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.disable(['image', 'heading', 'lheading']);

/** Markdown to HTML; not yet sanitised. */
export function markdownToHtml(source: string): string {
	return md.render(source);
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
	'td'
];
