import * as Y from 'yjs';
import { conversationDocName } from '$lib/model';
import { ConversationIndexer, type IndexerOptions, type KithDb } from '$lib/db';
import { LocalDoc, type LocalDocOptions } from './local-doc';

/** An open conversation: its document, its storage and its index. */
export interface OpenConversation {
	readonly doc: Y.Doc;
	readonly local: LocalDoc;
	readonly indexer: ConversationIndexer;
	/** Writes what is pending to both databases, then closes them. */
	close(): Promise<void>;
}

/**
 * Opens a conversation on this device: loads its document from IndexedDB, then starts its
 * index (which rebuilds in the background when it is behind). The index is attached only after
 * loading, so that a reload is not replayed through it as one huge transaction.
 *
 * @example
 * const conv = await openConversation(db, '42');
 * readMessages(conv.doc);
 * await conv.close();
 */
export async function openConversation(
	db: KithDb,
	conversationId: string,
	options: LocalDocOptions & { indexer?: IndexerOptions; doc?: Y.Doc; dbName?: string } = {}
): Promise<OpenConversation> {
	const doc = options.doc ?? new Y.Doc();
	const local = new LocalDoc(options.dbName ?? conversationDocName(conversationId), doc, options);
	await local.whenLoaded;
	const indexer = new ConversationIndexer(db, conversationId, doc, options.indexer);
	await indexer.start();
	return {
		doc,
		local,
		indexer,
		async close() {
			await Promise.all([indexer.stop(), local.close()]);
		}
	};
}
