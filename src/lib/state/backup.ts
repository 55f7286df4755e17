/**
 * Export and import of a person's conversations (docs/ARCHITECTURE.md, "Export and import").
 *
 * The file is JSON whose tables are exactly the seed's (`user_status`, `conversations`,
 * `conversation_members`, `messages`, with the seed's column names, via `projectConversation`),
 * so any tool that reads the seed reads an export. Beside them it carries each conversation's
 * Yjs document (`documents`, base64): rows alone cannot be written back faithfully (edits,
 * tombstones and reactions are CRDT state, and the relay only accepts a person's own writes),
 * while the document merges back losslessly, any number of times, on any device.
 *
 * Import checks the whole file before touching anything: the shape of every row, and that the
 * rows are what the documents project to (a file whose rows were edited by hand is refused
 * rather than half applied).
 */
import * as Y from 'yjs';
import { fromBase64, toBase64 } from 'lib0/buffer';
import {
	conversationDocName,
	projectConversation,
	type ConversationMemberRow,
	type ConversationRow,
	type MessageRow,
	type UserStatusRow
} from '$lib/model';
import { array, boolean, nullable, object, record, string, unknown } from '$lib/db/shape';
import type { DocOpener } from './doc-opener';

export const BACKUP_FORMAT = 'kith-export';
export const BACKUP_VERSION = 1;
/** A larger file is refused before it is read (the whole file is parsed in memory). */
export const BACKUP_MAX_BYTES = 512 * 2 ** 20;

/** The file could not be imported; nothing was changed. */
export class BackupError extends Error {
	override readonly name = 'BackupError';
}

const backupSchema = object({
	format: string,
	version: unknown,
	exported_at: string,
	exported_by: string,
	user_status: array(object({ id: string, is_online: boolean, user_id: string })),
	conversations: array(
		object({ id: string, created_at: string, name: nullable(string), created_by: string })
	),
	conversation_members: array(
		object({ user_id: string, created_at: string, conversation_id: string })
	),
	messages: array(
		object({
			id: string,
			created_at: string,
			content: string,
			created_by: string,
			reactions: record(array(string)),
			conversation_id: string,
			file_attachments: array(unknown),
			parent_message_id: nullable(string),
			audio_url: nullable(string)
		})
	),
	documents: record(string)
});

export interface Backup {
	format: typeof BACKUP_FORMAT;
	version: typeof BACKUP_VERSION;
	exported_at: string;
	exported_by: string;
	user_status: UserStatusRow[];
	conversations: ConversationRow[];
	conversation_members: ConversationMemberRow[];
	messages: MessageRow[];
	/** Conversation id → the whole Yjs document, base64. */
	documents: Record<string, string>;
}

/**
 * Reads every given conversation through the opener (from the device) into one backup.
 *
 * @example
 * const backup = await exportBackup({ opener, me, conversationIds, userStatus });
 * download(new Blob([JSON.stringify(backup)], { type: 'application/json' }));
 */
export async function exportBackup(options: {
	opener: DocOpener;
	me: string;
	conversationIds: Iterable<string>;
	userStatus: UserStatusRow[];
	now?: Date;
}): Promise<Backup> {
	const backup: Backup = {
		format: BACKUP_FORMAT,
		version: BACKUP_VERSION,
		exported_at: (options.now ?? new Date()).toISOString(),
		exported_by: options.me,
		user_status: options.userStatus,
		conversations: [],
		conversation_members: [],
		messages: [],
		documents: {}
	};
	for (const id of [...new Set(options.conversationIds)].sort()) {
		const name = conversationDocName(id);
		const doc = await options.opener.open(name);
		try {
			const rows = projectConversation(doc);
			if (rows.conversations.length === 0) continue;
			backup.conversations.push(...rows.conversations);
			backup.conversation_members.push(...rows.conversation_members);
			backup.messages.push(...rows.messages);
			backup.documents[id] = toBase64(Y.encodeStateAsUpdate(doc));
		} finally {
			options.opener.release(name);
		}
	}
	return backup;
}

/** The rows of a backup as compared: sorted, canonical JSON per table. */
function canonical(rows: Pick<Backup, 'conversations' | 'conversation_members' | 'messages'>) {
	const key = (r: object) => JSON.stringify(r, Object.keys(r).sort());
	return {
		conversations: rows.conversations.map(key).sort(),
		conversation_members: rows.conversation_members.map(key).sort(),
		messages: rows.messages
			.map((m) => key({ ...m, reactions: sortedReactions(m.reactions) }))
			.sort()
	};
}

function sortedReactions(r: Record<string, string[]>): Record<string, string[]> {
	return Object.fromEntries(
		Object.keys(r)
			.sort()
			.map((k) => [k, [...r[k]!].sort()])
	);
}

/**
 * Parses and checks a backup file completely; throws {@link BackupError} saying what is wrong.
 * Returns each conversation's document, ready to merge.
 */
export function readBackup(text: string): { backup: Backup; docs: Map<string, Uint8Array> } {
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		throw new BackupError('This file is not a Kith export: it is not JSON.');
	}
	const head = json as { format?: unknown; version?: unknown } | null;
	if (typeof head !== 'object' || head === null || head.format !== BACKUP_FORMAT)
		throw new BackupError('This file is not a Kith export (its "format" is not "kith-export").');
	if (head.version !== BACKUP_VERSION)
		throw new BackupError(
			`This export is version ${JSON.stringify(head.version)}; this Kith reads version ${BACKUP_VERSION}. Update Kith and try again.`
		);
	let backup: Backup;
	try {
		backup = backupSchema.parse(json, 'the export') as Backup;
	} catch (error) {
		throw new BackupError(`This export is damaged: ${(error as Error).message}`);
	}
	const docs = new Map<string, Uint8Array>();
	const projected: Pick<Backup, 'conversations' | 'conversation_members' | 'messages'> = {
		conversations: [],
		conversation_members: [],
		messages: []
	};
	for (const [id, encoded] of Object.entries(backup.documents)) {
		const doc = new Y.Doc();
		try {
			const update = fromBase64(encoded);
			Y.applyUpdate(doc, update);
			const rows = projectConversation(doc);
			if (rows.conversations[0]?.id !== id)
				throw new BackupError(`The document stored for conversation ${id} is another one's.`);
			projected.conversations.push(...rows.conversations);
			projected.conversation_members.push(...rows.conversation_members);
			projected.messages.push(...rows.messages);
			docs.set(id, update);
		} catch (error) {
			if (error instanceof BackupError) throw error;
			throw new BackupError(`The document stored for conversation ${id} is damaged.`);
		} finally {
			doc.destroy();
		}
	}
	const want = canonical(projected);
	const have = canonical(backup);
	for (const table of ['conversations', 'conversation_members', 'messages'] as const) {
		if (JSON.stringify(want[table]) !== JSON.stringify(have[table]))
			throw new BackupError(
				`This export's ${table} rows do not match its documents (was the file edited?). Nothing was imported.`
			);
	}
	return { backup, docs };
}

/** What an import brought in. */
export interface ImportSummary {
	conversations: number;
	messages: number;
	/** Conversation ids, so the caller can list them. */
	ids: string[];
}

/**
 * Merges a checked backup into the device's documents (and from there the relay). Merging is
 * idempotent: importing the same file twice changes nothing the second time.
 */
export async function importBackup(
	text: string,
	options: { opener: DocOpener }
): Promise<ImportSummary> {
	const { backup, docs } = readBackup(text);
	for (const [id, update] of docs) {
		const name = conversationDocName(id);
		const doc = await options.opener.open(name);
		try {
			Y.applyUpdate(doc, update, { kind: 'remote', source: 'import' });
		} finally {
			options.opener.release(name);
		}
	}
	return {
		conversations: docs.size,
		messages: backup.messages.length,
		ids: [...docs.keys()]
	};
}

/** The file name of an export made now. */
export function backupFileName(now = new Date()): string {
	return `kith-export-${now.toISOString().slice(0, 10)}.json`;
}
