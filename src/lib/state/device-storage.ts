/**
 * What Kith keeps on this device, per conversation, and freeing a conversation's share of it
 * (docs/ARCHITECTURE.md, "Storage on the device").
 *
 * Freeing is only allowed when the relay has stored everything the device holds of the
 * conversation (its acknowledged state vector covers the document's): the history then comes
 * back from the relay when the person opens the conversation again, and nothing is lost.
 */
import * as Y from 'yjs';
import { conversationDocName } from '$lib/model';
import {
	conversationIndexUsage,
	dropUnreferencedBlobs,
	forgetConversation,
	queuedUploads,
	type KithDb
} from '$lib/db';
import { deleteStoredDoc, storedDocBytes } from '$lib/sync';
import type { DocOpener } from './doc-opener';
import type { ConversationItem, FreedConversations } from './conversation-list.svelte';

/** One conversation's share of the device's storage. */
export interface ConversationUsage {
	id: string;
	label: string;
	kind: ConversationItem['kind'];
	freed: boolean;
	/** Bytes of the Yjs document in IndexedDB. */
	documentBytes: number;
	/** Bytes of its rows in the index (estimated as JSON). */
	indexBytes: number;
	/** Bytes of the attachments its messages hold that are stored here. */
	blobBytes: number;
	messages: number;
}

export interface StorageReport {
	conversations: ConversationUsage[];
	/** The browser's own figure for this site (all of IndexedDB, caches and the app). */
	usage: number | null;
	quota: number | null;
	persisted: boolean | null;
}

/** Freeing was refused; nothing changed. */
export class FreeSpaceError extends Error {
	override readonly name = 'FreeSpaceError';
}

/**
 * Measures every listed conversation, largest first.
 *
 * @example const report = await storageReport(db, indexedDB, session.conversations.items);
 */
export async function storageReport(
	db: KithDb,
	factory: IDBFactory,
	items: readonly ConversationItem[],
	storage: StorageManager | null = typeof navigator !== 'undefined' ? navigator.storage : null
): Promise<StorageReport> {
	const conversations: ConversationUsage[] = [];
	for (const item of items) {
		const [documentBytes, index] = await Promise.all([
			storedDocBytes(factory, conversationDocName(item.id)),
			conversationIndexUsage(db, item.id)
		]);
		const blobs = await db.blobs.bulkGet([...index.blobShas]);
		conversations.push({
			id: item.id,
			label: item.label,
			kind: item.kind,
			freed: item.freed === true,
			documentBytes,
			indexBytes: index.bytes,
			blobBytes: blobs.reduce((sum, b) => sum + (b?.size ?? 0), 0),
			messages: index.messages
		});
	}
	const total = (c: ConversationUsage) => c.documentBytes + c.indexBytes + c.blobBytes;
	conversations.sort((a, b) => total(b) - total(a) || a.label.localeCompare(b.label));
	const estimate = await storage?.estimate?.().catch(() => null);
	const persisted = await storage?.persisted?.().catch(() => null);
	return {
		conversations,
		usage: estimate?.usage ?? null,
		quota: estimate?.quota ?? null,
		persisted: persisted ?? null
	};
}

/** How many of the document's updates the relay's acknowledged state vector does not cover. */
export function unstoredClocks(doc: Y.Doc, stored: ReadonlyMap<number, number>): number {
	let missing = 0;
	for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc)))
		missing += Math.max(0, clock - (stored.get(client) ?? 0));
	return missing;
}

/**
 * Frees a conversation's storage on this device: its document, index rows and files go; it stays in
 * the list, and opening it again fetches its history from the relay. Refused, with the reason,
 * when the relay does not yet hold everything this device has of it.
 *
 * @example await freeConversation({ db, factory: indexedDB, opener, freed, item, connected });
 */
export async function freeConversation(options: {
	db: KithDb;
	factory: IDBFactory;
	opener: DocOpener;
	freed: FreedConversations;
	item: ConversationItem;
	/** Whether the relay is reachable right now. */
	connected: boolean;
}): Promise<void> {
	const { item, opener } = options;
	if (item.freed) return;
	const closed = opener.closed?.bind(opener);
	const isOpen = opener.isOpen?.bind(opener);
	if (!closed || !isOpen)
		throw new FreeSpaceError('This device keeps conversations in memory only: nothing to free.');
	const name = conversationDocName(item.id);
	const doc = await opener.open(name);
	try {
		const tracker = opener.delivery?.(name) ?? null;
		if (!tracker)
			throw new FreeSpaceError(
				`“${item.label}” is kept only on this device (no relay): freeing it would lose it.`
			);
		if (!options.connected)
			throw new FreeSpaceError(
				`Kith is not connected to the relay, so it cannot check that the relay holds all of “${item.label}”. Try again when connected.`
			);
		const uploading = (await queuedUploads(options.db)).filter(
			(u) => u.conversation_id === item.id
		).length;
		if (uploading > 0)
			throw new FreeSpaceError(
				`${uploading} file${uploading === 1 ? '' : 's'} of “${item.label}” ${uploading === 1 ? 'has' : 'have'} not reached the relay yet. Try again once uploaded.`
			);
		const missing = unstoredClocks(doc, tracker.storedVector);
		if (missing > 0)
			throw new FreeSpaceError(
				`The relay has not yet stored everything of “${item.label}” (${missing} change${missing === 1 ? '' : 's'} waiting). Try again in a moment.`
			);
		// From here the list lets go of the document.
		options.freed.add({
			id: item.id,
			kind: item.kind,
			label: item.label,
			otherUserId: item.otherUserId
		});
	} finally {
		opener.release(name);
	}
	// The list releases it on its next update; a screen showing it would keep it open.
	const deadline = Date.now() + 5_000;
	while (isOpen(name)) {
		if (Date.now() > deadline) {
			options.freed.restore(item.id);
			throw new FreeSpaceError(
				`“${item.label}” is open in Kith right now; close it, then free its space.`
			);
		}
		await new Promise((r) => setTimeout(r, 20));
	}
	await closed(name);
	const { blobShas } = await conversationIndexUsage(options.db, item.id);
	await deleteStoredDoc(options.factory, name);
	await forgetConversation(options.db, item.id);
	// Its files go too, unless another conversation here holds the same bytes.
	await dropUnreferencedBlobs(options.db, blobShas);
}
