/**
 * A message's Markdown as safe HTML, cached: markdown-it (`markdown.ts`), then DOMPurify. The
 * one `{@html}` in Kith (MessageItem.svelte) shows only what {@link messageHtml} returns.
 */
import DOMPurify from 'dompurify';
import {
	ALLOWED_TAGS,
	HtmlCache,
	SAFE_URL,
	markdownToHtml,
	needsNoSanitizing,
	plainParagraph,
	type MarkdownEnv
} from './markdown';

// Our own DOMPurify instance, so the link hook below applies to messages only.
const purify = DOMPurify(window);
purify.addHook('afterSanitizeAttributes', (node) => {
	if (node.tagName !== 'A') return;
	const href = node.getAttribute('href') ?? '';
	if (!SAFE_URL.test(href.trim())) {
		node.removeAttribute('href');
		return;
	}
	node.setAttribute('target', '_blank');
	node.setAttribute('rel', 'noopener noreferrer');
});

/** Step two of safe Markdown: only harmless tags, only http(s)/mailto links. */
function sanitize(html: string): string {
	return purify.sanitize(html, {
		ALLOWED_TAGS,
		ALLOWED_ATTR: ['href', 'data-mention', 'data-mention-self'],
		ALLOWED_URI_REGEXP: SAFE_URL
	});
}

// Enough for the messages on screen and a few screens of scrolling back and forth.
const rendered = new HtmlCache(5_000);

function render(source: string, env: MarkdownEnv): string {
	const plain = plainParagraph(source);
	if (plain !== null) return plain;
	const html = markdownToHtml(source, env);
	// Text and bare allowed tags only (markdown-it escaped every `<`): nothing for DOMPurify to
	// remove.
	return needsNoSanitizing(html) ? html : sanitize(html);
}

/**
 * The sanitised HTML of a message's Markdown, from the cache when it was rendered before.
 * `nameOf` names mention chips (the person's current name: mentions survive renames, and the
 * cache key reads those names, so a rename renders again); a mention of `me` stands out.
 *
 * @example messageHtml('**ships** tomorrow', nameOf, me) // '<p><strong>ships</strong> tomorrow</p>\n'
 */
export function messageHtml(
	source: string,
	nameOf?: (userId: string) => string,
	me?: string
): string {
	const env: MarkdownEnv = { ...(nameOf ? { nameOf } : {}), ...(me ? { me } : {}) };
	return rendered.get(source, env, () => render(source, env));
}
