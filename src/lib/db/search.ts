/**
 * Search over the local index: every conversation on the device, offline, from the multiEntry
 * `*words` index of the `messages` table (docs/ARCHITECTURE.md, "Search").
 *
 * A query word is a key range (`startsWith`) of that index; its matches are read as primary keys
 * only (`getAllKeys`: no row is deserialised). The longest word goes first, since it is usually
 * the rarest; once the candidates are few, the other words are checked on the rows themselves
 * instead of scanning their (possibly huge) ranges. Candidates are then read newest first, by
 * id (ids are time-ordered), in pages, until `limit` rows pass the filters.
 */
import { Dexie } from 'dexie';
import { compareIds } from '$lib/model';
import type { KithDb } from './database';
import { messageRowSchema, type MessageIndexRow, type StoredMessageRow } from './rows';

export interface SearchQuery {
	/** Normalised words (`parseQuery(...).words`); each must prefix one of a message's words. */
	words: readonly string[];
	/** Only messages by these people (null or absent: anyone). */
	authors?: ReadonlySet<string> | null;
	/** Only messages in these conversations (null or absent: all). */
	conversations?: ReadonlySet<string> | null;
	/** At most this many results (default 50). */
	limit?: number;
}

/** Below this many candidates, the remaining words are checked on the rows. */
const CHECK_ON_ROWS_BELOW = 2_000;
/** Rows read per step while filtering candidates, newest first. */
const PAGE = 200;

/**
 * Messages that match every word (prefix, accent- and case-insensitive) and the filters, newest
 * first. Deleted messages have no words, so a word query never returns one; a filter-only query
 * (no words) skips them too.
 *
 * @example
 * const q = parseQuery('from:@ada cafe');
 * await searchMessages(db, { words: q.words, authors: new Set([adaId]) });
 */
export async function searchMessages(db: KithDb, query: SearchQuery): Promise<MessageIndexRow[]> {
	const limit = query.limit ?? 50;
	const authors = query.authors ?? null;
	const conversations = query.conversations ?? null;
	if (limit <= 0 || authors?.size === 0 || conversations?.size === 0) return [];
	const words = [...new Set(query.words)].filter((w) => w !== '');
	words.sort((a, b) => b.length - a.length);

	let ids: string[];
	let unchecked: string[] = [];
	if (words.length > 0) {
		let candidates: Set<string> | null = null;
		for (let i = 0; i < words.length; i++) {
			if (candidates !== null && candidates.size < CHECK_ON_ROWS_BELOW) {
				unchecked = words.slice(i);
				break;
			}
			const keys = await db.messages.where('words').startsWith(words[i]!).primaryKeys();
			const found: Set<string> = new Set(keys);
			if (candidates !== null) {
				const before: Set<string> = candidates;
				candidates = new Set([...found].filter((id) => before.has(id)));
			} else candidates = found;
			if (candidates.size === 0) return [];
		}
		ids = [...(candidates ?? [])];
	} else if (conversations !== null) {
		ids = [];
		for (const c of conversations) {
			ids.push(
				...(await db.messages
					.where('[conversation_id+created_at]')
					.between([c, Dexie.minKey], [c, Dexie.maxKey])
					.primaryKeys())
			);
		}
	} else if (authors !== null) {
		ids = await db.messages
			.where('created_by')
			.anyOf([...authors])
			.primaryKeys();
	} else {
		return [];
	}
	ids.sort((a, b) => compareIds(b, a));

	const out: MessageIndexRow[] = [];
	for (let i = 0; i < ids.length && out.length < limit; i += PAGE) {
		const rows = await db.messages.bulkGet(ids.slice(i, i + PAGE));
		for (const raw of rows) {
			if (raw === undefined || !matches(raw, unchecked, authors, conversations)) continue;
			out.push(messageRowSchema.parse(raw, 'messages'));
			if (out.length === limit) break;
		}
	}
	return out.sort(
		(a, b) =>
			(a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0) ||
			compareIds(b.id, a.id)
	);
}

function matches(
	row: StoredMessageRow,
	words: readonly string[],
	authors: ReadonlySet<string> | null,
	conversations: ReadonlySet<string> | null
): boolean {
	if (row.deleted) return false;
	if (authors !== null && !authors.has(row.created_by)) return false;
	if (conversations !== null && !conversations.has(row.conversation_id)) return false;
	const own = Array.isArray(row.words) ? row.words : [];
	return words.every((w) => own.some((x) => typeof x === 'string' && x.startsWith(w)));
}
