import { Dexie, type DexieOptions, type Table } from 'dexie';
import type {
	BlobRow,
	ConversationIndexRow,
	IndexStateRow,
	MemberIndexRow,
	SearchWordRow,
	SettingRow,
	UploadRow,
	StoredMessageRow,
	UserStatusIndexRow
} from './rows';
import { vocabularyOf, withWords } from './search';

/** The default name of the device's index database. */
export const KITH_DB_NAME = 'kith';

/**
 * The device's local relational index (Dexie). The documents hold the truth; this database is a
 * rebuildable view of them for lists, unread counts and search across conversations without
 * opening every document, plus attachment bytes and local settings.
 *
 * Indexes, and the query each serves:
 * - `messages [conversation_id+created_at]`: a conversation's newest messages (reverse, limit N)
 * - `messages parent_message_id`: a thread's replies
 * - `messages created_by`: messages by author
 * - `messages *words` (multiEntry `[word, rank]`), `messages rank`, `search_words`: search
 *   (`searchMessages` in search.ts; docs/ARCHITECTURE.md says why this and no library)
 * - `conversation_members user_id`: a person's conversations
 *
 * @example
 * const db = new KithDb(); // or new KithDb('test', { indexedDB, IDBKeyRange }) with fake-indexeddb
 * await newestMessages(db, conversationId, 50);
 */
export class KithDb extends Dexie {
	// `declare`: a class field would be defined after super() and hide the tables Dexie sets up.
	declare conversations: Table<ConversationIndexRow, string>;
	declare conversation_members: Table<MemberIndexRow, [string, string]>;
	declare messages: Table<StoredMessageRow, string>;
	declare user_status: Table<UserStatusIndexRow, string>;
	declare blobs: Table<BlobRow, string>;
	declare index_state: Table<IndexStateRow, string>;
	declare settings: Table<SettingRow, string>;
	declare uploads: Table<UploadRow, [string, string]>;
	declare search_words: Table<SearchWordRow, string>;

	constructor(name: string = KITH_DB_NAME, options?: DexieOptions) {
		super(name, options);
		this.version(1).stores({
			conversations: 'id, created_at',
			conversation_members: '[conversation_id+user_id], user_id',
			messages: 'id, [conversation_id+created_at], parent_message_id, created_by',
			user_status: 'id, &user_id',
			blobs: 'sha256',
			index_state: 'conversation_id',
			settings: 'key'
		});
		// The upload queue of files attached on this device (uploads.ts).
		this.version(2).stores({ uploads: '[sha256+conversation_id], created_at' });
		// Search (search.ts): each row carries its words and rank; rows written by version 1 get
		// theirs here, so search finds them before their conversation is next opened.
		this.version(3)
			.stores({
				messages:
					'id, [conversation_id+created_at], parent_message_id, created_by, *words, *cwords, rank, [conversation_id+rank], [created_by+rank]',
				search_words: 'word'
			})
			.upgrade(async (tx) => {
				const messages = tx.table<StoredMessageRow, string>('messages');
				const stored: StoredMessageRow[] = [];
				await messages.toCollection().modify((row) => {
					Object.assign(row, withWords(row));
					stored.push(row);
				});
				await tx.table<SearchWordRow, string>('search_words').bulkPut(vocabularyOf(stored));
			});
	}
}
