/**
 * The one place that names Kith's Yjs documents, their keys and the limits on what goes in
 * them. The relay, the device and bots all read documents through these names; changing one is
 * a protocol change (docs/PROTOCOL.md).
 */

/** The workspace document: directory of people and of public channels. */
export const WORKSPACE_DOC = 'workspace';
/** Prefix of a conversation document's name: `conv:<id>`. */
export const CONVERSATION_DOC_PREFIX = 'conv:';
/**
 * `inbox:<userId>`: a person's own list of the conversations they are in, written by the
 * relay as it accepts membership changes (docs/PROTOCOL.md, "Inbox"). Readable only by them.
 */
export const INBOX_DOC_PREFIX = 'inbox:';

/** Keys of the top-level types of the workspace document. */
export const WorkspaceKey = {
	/** Y.Map user_id → {@link UserRecord}. Each person writes only their own entry. */
	users: 'users',
	/** Y.Map conversation id → {@link ChannelRecord}: the public channels anyone may join. */
	channels: 'channels'
} as const;

/** Keys of the top-level types of a conversation document. */
export const ConversationKey = {
	/** Y.Map of {@link ConversationMeta} fields. */
	meta: 'meta',
	/** Y.Map user_id → {@link MemberRecord}. */
	members: 'members',
	/** Y.Array of top-level {@link MessageRecord}s (plain JSON, immutable once pushed). */
	messages: 'messages',
	/**
	 * Y.Array of reply {@link MessageRecord}s, each with its `parent_message_id`. One flat array
	 * rather than a Y.Array per thread: two people starting the same thread at once would each
	 * create the per-thread array, and Y.Map keeps only one of them (the other's reply is lost).
	 */
	replies: 'replies',
	/**
	 * Y.Map `${message_id}|${emoji}|${user_id}` → created_at. Flat for the same reason as
	 * `replies`: concurrent toggles by different people touch different keys and never conflict.
	 */
	reactions: 'reactions',
	/** Y.Map message id → {@link EditRecord}: the latest edit wins (Y.Map's rule). */
	edits: 'edits'
} as const;

/** The meta map's keys. */
export const MetaKey = {
	id: 'id',
	name: 'name',
	kind: 'kind',
	createdAt: 'created_at',
	createdBy: 'created_by'
} as const;

/**
 * Limits. Chosen against peers (Matrix 65,536-byte events, Mattermost 16,383 characters, Slack
 * 40,000) and Kith's own costs: one message record must stay small next to a 100,000-message
 * channel held in memory by the relay and every device.
 */
export const Limits = {
	/** Characters (UTF-16 code units, what a textarea counts) of a message's content. */
	contentMaxChars: 16_000,
	/** Characters of a conversation name. */
	nameMaxChars: 80,
	/** Characters of a display name. */
	displayNameMaxChars: 64,
	/** Attachments on one message. */
	attachmentsPerMessage: 10,
	/** Characters of an attachment's file name. */
	fileNameMaxChars: 255,
	/** Bytes of one attachment (the relay may configure a lower one; the default is 25 MiB). */
	attachmentMaxBytes: 2 ** 31,
	/** Characters of a URL (attachment or audio). */
	urlMaxChars: 2_048,
	/** Characters of one emoji (a ZWJ family sequence is about 11). */
	emojiMaxChars: 32,
	/** Distinct reactions (emoji × person) on one message. */
	reactionsPerMessage: 1_000,
	/** Members of a group or channel. */
	membersPerConversation: 10_000,
	/** Characters of a user id. */
	userIdMaxChars: 64
} as const;

/** Patterns that a field must match. */
export const Patterns = {
	/** User ids are base64url (the identity module derives them from a public key). */
	userId: /^[A-Za-z0-9_-]{1,64}$/,
	/** A conversation or message id: a positive int8 in decimal, no leading zero. */
	id: /^[1-9][0-9]{0,18}$/,
	/** CSS hex colour for a person's profile. */
	color: /^#[0-9a-fA-F]{6}$/,
	/** MIME type of an attachment. */
	mimeType: /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(?:;.*)?$/i,
	/** Hex sha256 of an attachment's bytes. */
	sha256: /^[0-9a-f]{64}$/,
	/** A single emoji (Unicode RGI emoji sequence). */
	emoji: /^\p{RGI_Emoji}$/v
} as const;

/** Kinds of conversation. A `channel` is public (listed in the workspace, anyone may join). */
export type ConversationKind = 'channel' | 'group' | 'dm';
export const CONVERSATION_KINDS: readonly ConversationKind[] = ['channel', 'group', 'dm'];

/** An attachment's metadata (the bytes live in the blob stores). */
export interface FileAttachment {
	id: string;
	name: string;
	type: string;
	size: number;
	sha256: string;
	url: string;
}

/**
 * A message as stored in the `messages` or `replies` array: plain JSON, never mutated.
 * Editing writes to `edits`; deleting replaces the record in place by a tombstone
 * (`deleted_at` set, content, attachments and audio gone).
 */
export interface MessageRecord {
	id: string;
	created_at: string;
	content: string;
	created_by: string;
	conversation_id: string;
	file_attachments: FileAttachment[];
	parent_message_id: string | null;
	audio_url: string | null;
	deleted_at?: string;
}

/** A value of the `edits` map. */
export interface EditRecord {
	content: string;
	edited_at: string;
	edited_by: string;
}

/** A value of the `members` map. */
export interface MemberRecord {
	created_at: string;
	added_by: string;
}

/** The `meta` map as a plain object. */
export interface ConversationMeta {
	id: string;
	name: string | null;
	kind: ConversationKind;
	created_at: string;
	created_by: string;
}

/** A value of the workspace's `users` map. */
export interface UserRecord {
	id: string;
	display_name: string;
	color: string;
	/** The person's public key, base64url; the user id derives from it. Empty until known. */
	public_key: string;
	created_at: string;
	updated_at: string;
}

/** A value of the workspace's `channels` map. */
export interface ChannelRecord {
	id: string;
	name: string;
	created_at: string;
	created_by: string;
}

/** The awareness state a device publishes on the workspace document. */
export interface PresenceState {
	user: { id: string; name: string; color: string };
	/** Conversation id the person is typing in, if any. */
	typing?: string | null;
}

/** `inbox:<userId>`: the person's list of their conversations. */
export function inboxDocName(userId: string): string {
	return INBOX_DOC_PREFIX + userId;
}

/** A value of an inbox's `conversations` map (keyed by conversation id). */
export interface InboxEntry {
	kind: ConversationKind;
	/** When the relay recorded the membership (ISO 8601). */
	added_at: string;
}

/** `conv:<id>` for a conversation id. */
export function conversationDocName(id: string): string {
	return CONVERSATION_DOC_PREFIX + id;
}

/**
 * What a document name refers to, or null when it is not one of Kith's names.
 * @example parseDocName('conv:42') // { kind: 'conversation', id: '42' }
 */
export function parseDocName(
	name: string
):
	| { kind: 'workspace' }
	| { kind: 'conversation'; id: string }
	| { kind: 'inbox'; user: string }
	| null {
	if (name === WORKSPACE_DOC) return { kind: 'workspace' };
	if (name.startsWith(INBOX_DOC_PREFIX)) {
		const user = name.slice(INBOX_DOC_PREFIX.length);
		return Patterns.userId.test(user) ? { kind: 'inbox', user } : null;
	}
	if (name.startsWith(CONVERSATION_DOC_PREFIX)) {
		const id = name.slice(CONVERSATION_DOC_PREFIX.length);
		if (Patterns.id.test(id) && BigInt(id) < 2n ** 63n) return { kind: 'conversation', id };
	}
	return null;
}

/** The key of a reaction in the flat `reactions` map. */
export function reactionKey(messageId: string, emoji: string, userId: string): string {
	return `${messageId}|${emoji}|${userId}`;
}

/** The parts of a `reactions` key, or null when malformed. */
export function parseReactionKey(
	key: string
): { messageId: string; emoji: string; userId: string } | null {
	const first = key.indexOf('|');
	const last = key.lastIndexOf('|');
	if (first <= 0 || last === first || last === key.length - 1) return null;
	return {
		messageId: key.slice(0, first),
		emoji: key.slice(first + 1, last),
		userId: key.slice(last + 1)
	};
}
