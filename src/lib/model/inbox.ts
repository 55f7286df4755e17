/**
 * A person's inbox document (`inbox:<userId>`): the ids of the conversations they are in, so a
 * device opens (and holds a relay connection for) only those, instead of one document per
 * public channel and per possible direct message. The relay writes it as it accepts
 * membership changes (docs/PROTOCOL.md, "Inbox"); devices read it.
 */
import * as Y from 'yjs';
import { CONVERSATION_KINDS, Patterns, type ConversationKind, type InboxEntry } from './schema';

export interface InboxTypes {
	conversations: Y.Map<InboxEntry>;
}

export function inboxTypes(doc: Y.Doc): InboxTypes {
	return { conversations: doc.getMap<InboxEntry>('conversations') };
}

/** The conversation ids listed in an inbox (well-formed entries only), in no order. */
export function readInbox(doc: Y.Doc): string[] {
	const out: string[] = [];
	for (const [id, entry] of inboxTypes(doc).conversations) {
		if (!Patterns.id.test(id)) continue;
		if (
			!CONVERSATION_KINDS.includes((entry as Partial<InboxEntry> | null)?.kind as ConversationKind)
		)
			continue;
		out.push(id);
	}
	return out;
}

/**
 * Records that the inbox's person joined (`kind` given) or left (`kind` null) a conversation.
 * Returns whether anything changed (nothing does when the inbox already says so).
 *
 * @example noteMembership(inbox, '42', 'channel'); noteMembership(inbox, '42', null)
 */
export function noteMembership(
	doc: Y.Doc,
	convId: string,
	kind: ConversationKind | null,
	origin: unknown = null,
	now: () => string = () => new Date().toISOString()
): boolean {
	const { conversations } = inboxTypes(doc);
	const current = conversations.get(convId);
	if (kind === null) {
		if (current === undefined) return false;
		doc.transact(() => conversations.delete(convId), origin);
		return true;
	}
	if (current?.kind === kind) return false;
	doc.transact(() => conversations.set(convId, { kind, added_at: now() }), origin);
	return true;
}
