/**
 * Mentions. A message's content stores a mention as `<@userId>` (the form Slack and Discord
 * use): the id survives renames, the token cannot be confused with Markdown (markdown-it leaves
 * `<@…>` as text: it is no autolink), and a reader that knows nothing of mentions still shows
 * who was meant. People type and edit `@Display Name`; {@link encodeMentions} turns the names of
 * the conversation's members into tokens when the message is sent, {@link decodeMentions} turns
 * tokens back into names for editing, and the UI renders a token as a chip with the person's
 * current name.
 */
import { Patterns } from './schema';

/** A mention token in stored content; group 1 is the user id. Global: use with matchAll/replace. */
export const MENTION_PATTERN = /<@([A-Za-z0-9_-]{1,64})>/g;

/** The token for one person. */
export function mentionToken(userId: string): string {
	if (!Patterns.userId.test(userId)) throw new Error(`Not a user id: ${JSON.stringify(userId)}`);
	return `<@${userId}>`;
}

/**
 * The distinct user ids a message's content mentions, in order of first appearance.
 *
 * @example mentionsOf('hi <@ada>, <@bob> and <@ada>') // ['ada', 'bob']
 */
export function mentionsOf(content: string): string[] {
	return [...new Set([...content.matchAll(MENTION_PATTERN)].map((m) => m[1]!))];
}

/** True when `content` mentions `userId` (cheap: one substring search). */
export function mentions(content: string, userId: string): boolean {
	return content.includes(`<@${userId}>`);
}

/** Someone who can be mentioned: a member of the conversation. */
export interface Mentionable {
	id: string;
	name: string;
}

/**
 * Turns `@Name` into `<@id>` for each person in `people` (longest names first, so "@Ada
 * Lovelace" wins over "@Ada"; case-insensitive; the name must end at a non-word character).
 * Text that names nobody stays as typed. With two people of one name, the first in `people` is
 * meant: the picker inserts names, and a name is what the person saw.
 *
 * @example encodeMentions('hi @Ada!', [{ id: 'u1', name: 'Ada' }]) === 'hi <@u1>!'
 */
export function encodeMentions(text: string, people: readonly Mentionable[]): string {
	const named = people
		.filter((p) => p.name.trim() !== '' && Patterns.userId.test(p.id))
		.sort((a, b) => b.name.length - a.name.length);
	if (named.length === 0 || !text.includes('@')) return text;
	let out = '';
	let i = 0;
	while (i < text.length) {
		const at = text.indexOf('@', i);
		if (at < 0) break;
		out += text.slice(i, at);
		// A mention starts a word: "mail@ada" is an address, not a mention.
		const before = at > 0 ? text[at - 1]! : ' ';
		const person = /[\p{L}\p{N}_]/u.test(before)
			? undefined
			: named.find((p) => {
					const candidate = text.slice(at + 1, at + 1 + p.name.length);
					const after = text[at + 1 + p.name.length] ?? ' ';
					return candidate.toLowerCase() === p.name.toLowerCase() && !/[\p{L}\p{N}_]/u.test(after);
				});
		if (person) {
			out += mentionToken(person.id);
			i = at + 1 + person.name.length;
		} else {
			out += '@';
			i = at + 1;
		}
	}
	return out + text.slice(i);
}

/**
 * Turns tokens back into `@Name` for editing (an unknown person stays a token, so saving the
 * edit keeps the mention).
 *
 * @example decodeMentions('hi <@u1>', (id) => (id === 'u1' ? 'Ada' : null)) === 'hi @Ada'
 */
export function decodeMentions(content: string, nameOf: (userId: string) => string | null): string {
	return content.replace(MENTION_PATTERN, (token, id: string) => {
		const name = nameOf(id);
		return name ? `@${name}` : token;
	});
}

/**
 * The `@query` being typed at the caret, if any: an `@` at the start of a word, followed by up
 * to 40 characters without a line break. Spaces are allowed (names have them); the suggestions
 * close when nobody's name starts with the query.
 *
 * @example mentionQueryAt('hello @ad', 9) // { start: 6, query: 'ad' }
 */
export function mentionQueryAt(
	text: string,
	caret: number
): { start: number; query: string } | null {
	const head = text.slice(0, caret);
	const at = head.lastIndexOf('@');
	if (at < 0) return null;
	const query = head.slice(at + 1);
	if (query.length > 40 || /[\n<>@]/u.test(query) || query.startsWith(' ')) return null;
	const before = at > 0 ? head[at - 1]! : ' ';
	if (/[\p{L}\p{N}_]/u.test(before)) return null;
	return { start: at, query };
}

/**
 * Inserts `@Name ` for the mention being typed, replacing `@query`; returns the new text and
 * where the caret goes.
 */
export function insertMention(
	text: string,
	caret: number,
	start: number,
	name: string
): { text: string; caret: number } {
	const inserted = `@${name} `;
	const after = text.slice(caret).replace(/^ /u, '');
	return { text: text.slice(0, start) + inserted + after, caret: start + inserted.length };
}
