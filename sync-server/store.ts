/**
 * What the relay needs from durable storage, whichever backend holds it: the embedded SQLite
 * store (storage.ts, the default) or PostgreSQL for several relay processes (cluster/pg-store.ts).
 *
 * Reads are synchronous: a document is read before any other event is handled (docs.ts relies
 * on it to load or restore a document without another connection ever seeing a bad state). The
 * log's writes, `append` and `compact`, are asynchronous: each backend makes them on a worker
 * thread (SQLite's writer, storage.ts; PostgreSQL's, cluster/pg-worker.ts), so the relay's
 * event loop goes on reading sockets and forwarding while a commit is made durable. docs.ts
 * keeps at most one commit in flight and forwards nothing of it before it resolves. The rest
 * (membership, invites, client ids) is synchronous: rare, outside the message path.
 */
import type { StoredDoc } from './storage.ts';

export interface Store {
	/** Everything stored for a document: the snapshot (if any), then the log, in order. */
	load(doc: string): StoredDoc;
	/**
	 * Appends a batch of updates, and the Yjs client ids they claim, in one transaction; resolves
	 * to an id per update once the transaction is committed. Rejects (and stores none of them)
	 * when the write fails. Writes asked for one after another are made in that order.
	 */
	append(
		batch: ReadonlyArray<{ doc: string; data: Uint8Array }>,
		claims?: ReadonlyArray<{ doc: string; clients: readonly number[]; user: string }>
	): Promise<number[]>;
	/**
	 * Replaces the log rows up to `lastUpdateId` by `state`, after every append asked for before
	 * it (a backend may compact on its own, and resolve at once).
	 */
	compact(doc: string, state: Uint8Array, lastUpdateId: number): Promise<void>;
	isMember(userId: string): boolean;
	memberCount(): number;
	addMember(userId: string, publicKey: string, via: string): void;
	createInvite(code: string, createdBy: string, expiresAt: number, uses: number): void;
	/** Spends one use of an invite; false when unknown, used up or expired. */
	useInvite(code: string, now: number): boolean;
	clientOwners(doc: string): Map<number, string>;
	claimClients(doc: string, clients: readonly number[], userId: string): void;
	close(): void;
}
