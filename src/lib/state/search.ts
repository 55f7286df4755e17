/**
 * One search, from parsed query to results ready to show: names in `from:`/`in:` resolved to
 * ids, rows from the Dexie index (`searchMessages`), snippets with the matches marked.
 */
import {
	decodeMentions,
	highlight,
	nameMatches,
	type ConversationKind,
	type ParsedQuery,
	type Segment,
	type UserRecord
} from '$lib/model';
import { getConversation, searchMessages, type KithDb } from '$lib/db';

/** One search result, ready to show. */
export interface SearchResult {
	id: string;
	conversationId: string;
	/** `general`, or the other person's name for a direct message. */
	conversationLabel: string;
	conversationKind: ConversationKind | null;
	/** The thread's parent when the message is a reply. */
	parentId: string | null;
	authorName: string;
	created_at: string;
	/** The text around the first match; render each piece as text, the matches in `<mark>`. */
	segments: Segment[];
}

/** Why a search found nothing, when the filters already say so. */
export type SearchProblem =
	{ kind: 'no-person'; name: string } | { kind: 'no-conversation'; name: string };

export interface SearchOutcome {
	results: SearchResult[];
	problem: SearchProblem | null;
}

/** What search needs of the workspace directory. */
export interface PeopleDirectory {
	readonly users: readonly UserRecord[];
	user(id: string): UserRecord | undefined;
	name(id: string): string;
}

/** What search needs of the conversation list: the person's conversations, by label. */
export interface ListedConversation {
	id: string;
	label: string;
	kind: ConversationKind;
}

/**
 * Runs one parsed search. `from:` names match people of the workspace, `in:` names the
 * person's conversations (a channel's name, or the other person's for a direct message); a name
 * that matches nobody is reported rather than ignored.
 *
 * @example await findMessages(db, session.workspace, session.conversations.items, parseQuery('in:#general cafe'))
 */
export async function findMessages(
	db: KithDb,
	directory: PeopleDirectory,
	conversationsListed: readonly ListedConversation[],
	parsed: ParsedQuery,
	limit = 50
): Promise<SearchOutcome> {
	if (parsed.words.length === 0 && parsed.from.length === 0 && parsed.in.length === 0)
		return { results: [], problem: null };
	const authors: string[] = [];
	for (const name of parsed.from) {
		const ids = directory.users.filter((u) => nameMatches(u.display_name, name)).map((u) => u.id);
		if (ids.length === 0) return { results: [], problem: { kind: 'no-person', name } };
		// Several `from:` mean any of them.
		authors.push(...ids);
	}
	const conversations: string[] = [];
	for (const name of parsed.in) {
		const ids = conversationsListed.filter((c) => nameMatches(c.label, name)).map((c) => c.id);
		if (ids.length === 0) return { results: [], problem: { kind: 'no-conversation', name } };
		conversations.push(...ids);
	}
	const rows = await searchMessages(db, {
		words: parsed.words,
		authors: parsed.from.length > 0 ? new Set(authors) : null,
		conversations: parsed.in.length > 0 ? new Set(conversations) : null,
		limit
	});
	const labels = new Map<string, { label: string; kind: ConversationKind | null }>();
	for (const c of conversationsListed) labels.set(c.id, { label: c.label, kind: c.kind });
	for (const id of new Set(rows.map((r) => r.conversation_id))) {
		if (labels.has(id)) continue;
		// A conversation this person has left, still on the device.
		const row = await getConversation(db, id);
		labels.set(id, { label: row?.name ?? 'a conversation', kind: row?.kind ?? null });
	}
	const nameOf = (u: string) => directory.user(u)?.display_name ?? null;
	const results = rows.map((r): SearchResult => {
		const where = labels.get(r.conversation_id);
		return {
			id: r.id,
			conversationId: r.conversation_id,
			conversationLabel: where?.label ?? '',
			conversationKind: where?.kind ?? null,
			parentId: r.parent_message_id,
			authorName: directory.name(r.created_by),
			created_at: r.created_at,
			segments: highlight(decodeMentions(r.content, nameOf), parsed.words)
		};
	});
	return { results, problem: null };
}
