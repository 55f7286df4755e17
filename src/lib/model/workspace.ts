/**
 * Operations on the workspace document: the directory of people and of public channels.
 */
import * as Y from 'yjs';
import { check } from './errors';
import { compareText } from './read';
import { localOrigin, type Origin } from './origin';
import { WorkspaceKey, type ChannelRecord, type ConversationMeta, type UserRecord } from './schema';
import {
	checkColor,
	checkConversationName,
	checkDisplayName,
	checkId,
	checkTimestamp,
	checkUserId
} from './validate';

export interface WorkspaceTypes {
	users: Y.Map<UserRecord>;
	channels: Y.Map<ChannelRecord>;
}

export function workspaceTypes(doc: Y.Doc): WorkspaceTypes {
	return {
		users: doc.getMap<UserRecord>(WorkspaceKey.users),
		channels: doc.getMap<ChannelRecord>(WorkspaceKey.channels)
	};
}

/**
 * Sets one's own profile (display name and colour; the public key once known). A person
 * writes only their own entry, and the latest write wins.
 *
 * @example setProfile(ws, { user_id: me, display_name: 'Ada', color: '#3b82f6' })
 */
export function setProfile(
	doc: Y.Doc,
	input: {
		user_id: string;
		display_name: string;
		color: string;
		public_key?: string;
		updated_at?: string;
	},
	origin: Origin = localOrigin('set-profile')
): UserRecord {
	checkUserId(input.user_id);
	checkDisplayName(input.display_name);
	checkColor(input.color);
	const public_key = input.public_key ?? '';
	check(
		/^[A-Za-z0-9_-]{0,128}$/.test(public_key),
		'bad_user_id',
		'A public key must be base64url text.'
	);
	const updated_at = input.updated_at ?? new Date().toISOString();
	checkTimestamp(updated_at, 'updated_at');
	const { users } = workspaceTypes(doc);
	const previous = users.get(input.user_id);
	const record: UserRecord = {
		id: input.user_id,
		display_name: input.display_name.trim(),
		color: input.color,
		public_key: public_key || previous?.public_key || '',
		created_at: previous?.created_at ?? updated_at,
		updated_at
	};
	doc.transact(() => users.set(input.user_id, record), origin);
	return record;
}

/** Lists a public channel in the workspace directory, so that anyone can find and join it. */
export function listChannel(
	doc: Y.Doc,
	meta: ConversationMeta,
	origin: Origin = localOrigin('create-conversation')
): ChannelRecord {
	check(
		meta.kind === 'channel',
		'bad_kind',
		'Only channels are listed in the workspace; groups and direct messages are private.'
	);
	checkId(meta.id, 'conversation id');
	checkConversationName(meta.name);
	checkUserId(meta.created_by, 'creator');
	checkTimestamp(meta.created_at);
	const record: ChannelRecord = {
		id: meta.id,
		name: meta.name,
		created_at: meta.created_at,
		created_by: meta.created_by
	};
	doc.transact(() => workspaceTypes(doc).channels.set(meta.id, record), origin);
	return record;
}

/** Every person in the workspace, ordered by display name then id. */
export function readUsers(doc: Y.Doc): UserRecord[] {
	return [...workspaceTypes(doc).users.values()]
		.map((u) => ({ ...u }))
		.sort((a, b) => compareText(a.display_name, b.display_name) || compareText(a.id, b.id));
}

/** Every public channel, ordered by name then id. */
export function readChannels(doc: Y.Doc): ChannelRecord[] {
	return [...workspaceTypes(doc).channels.values()]
		.map((c) => ({ ...c }))
		.sort((a, b) => compareText(a.name, b.name) || compareText(a.id, b.id));
}
