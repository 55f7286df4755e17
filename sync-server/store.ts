/**
 * What the relay needs from durable storage, whichever backend holds it: the embedded SQLite
 * store (storage.ts, the default) or PostgreSQL for several relay processes (cluster/pg-store.ts).
 *
 * Every method is synchronous, as better-sqlite3 is: a document is read and a commit completes
 * before any other event is handled (docs.ts relies on it to restore a document without
 * another connection ever seeing a bad state). The PostgreSQL store keeps this contract by
 * waiting for a worker thread (cluster/sync-bridge.ts), exactly as the relay waits for SQLite's
 * fsync today.
 */
import type { StoredDoc } from './storage.ts';

export interface Store {
	/** Everything stored for a document: the snapshot (if any), then the log, in order. */
	load(doc: string): StoredDoc;
	/**
	 * Appends a batch of updates, and the Yjs client ids they claim, in one transaction; returns
	 * an id per update. Throws (and stores none of them) when the write fails.
	 */
	append(
		batch: ReadonlyArray<{ doc: string; data: Uint8Array }>,
		claims?: ReadonlyArray<{ doc: string; clients: readonly number[]; user: string }>
	): number[];
	/** Replaces the log rows up to `lastUpdateId` by `state` (a backend may compact on its own). */
	compact(doc: string, state: Uint8Array, lastUpdateId: number): void;
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
