/**
 * The persistent upload queue: a file attached on this device is stored in `blobs` and queued
 * here before its message is posted, so a file attached offline, or a tab closed mid-upload,
 * uploads when the relay is reachable again (src/lib/state/files.svelte.ts pumps it).
 */
import type { KithDb } from './database';
import { uploadRowSchema, type UploadRow } from './rows';

/** Queues files for upload (idempotent per sha256 and conversation). */
export async function queueUploads(
	db: KithDb,
	items: ReadonlyArray<Pick<UploadRow, 'sha256' | 'conversation_id' | 'name' | 'size'>>
): Promise<void> {
	const created_at = new Date().toISOString();
	await db.uploads.bulkPut(
		items.map((i) => ({ ...i, created_at, attempts: 0, failed: null }) satisfies UploadRow)
	);
}

/** Every queued upload, oldest first (failed ones included: the UI shows why). */
export async function queuedUploads(db: KithDb): Promise<UploadRow[]> {
	const rows = await db.uploads.orderBy('created_at').toArray();
	return rows.map((r) => uploadRowSchema.parse(r, 'uploads'));
}

export async function removeUpload(
	db: KithDb,
	sha256: string,
	conversationId: string
): Promise<void> {
	await db.uploads.delete([sha256, conversationId]);
}

/** Counts a failed attempt; `failed` set means the relay refused it for good. */
export async function noteUploadAttempt(
	db: KithDb,
	sha256: string,
	conversationId: string,
	failed: string | null
): Promise<void> {
	await db.uploads
		.where('[sha256+conversation_id]')
		.equals([sha256, conversationId])
		.modify((row) => {
			row.attempts += 1;
			row.failed = failed;
		});
}
