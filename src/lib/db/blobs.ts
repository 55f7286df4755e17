/**
 * Attachment and voice-message bytes, content-addressed by sha256 so that the same file sent
 * twice (or received from the relay after being sent from here) is stored once.
 */
import type { KithDb } from './database';
import { blobRowSchema, type BlobRow } from './rows';

/** The bytes did not hash to the sha256 they were stored under. */
export class BlobHashMismatchError extends Error {
	override readonly name = 'BlobHashMismatchError';
	constructor(
		readonly expected: string,
		readonly actual: string
	) {
		super(`The bytes hash to ${actual}, not to the expected ${expected}.`);
	}
}

/** Hex sha256 of some bytes (WebCrypto, in the browser and in Node). */
export async function sha256Hex(data: Blob | Uint8Array): Promise<string> {
	const buffer = data instanceof Blob ? await data.arrayBuffer() : data.slice().buffer;
	const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer));
	return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Stores bytes under their sha256 and returns it. With `expectedSha256` (the attachment record's
 * `sha256`), refuses bytes that do not match it.
 *
 * @example const sha256 = await putBlob(db, file, { type: file.type });
 */
export async function putBlob(
	db: KithDb,
	data: Blob | Uint8Array,
	options: { type?: string; expectedSha256?: string } = {}
): Promise<string> {
	const sha256 = await sha256Hex(data);
	if (options.expectedSha256 !== undefined && options.expectedSha256 !== sha256)
		throw new BlobHashMismatchError(options.expectedSha256, sha256);
	const type = options.type ?? (data instanceof Blob ? data.type : '') ?? '';
	const row: BlobRow = {
		sha256,
		// Stored as a Blob: browsers keep large Blobs out of the database's row storage.
		data: data instanceof Blob ? data : new Blob([data.slice()], { type }),
		type,
		size: data instanceof Blob ? data.size : data.byteLength,
		created_at: new Date().toISOString()
	};
	await db.blobs.put(row);
	return sha256;
}

/** The stored bytes for a sha256, or undefined. */
export async function getBlob(db: KithDb, sha256: string): Promise<BlobRow | undefined> {
	const row = await db.blobs.get(sha256);
	return row === undefined ? undefined : blobRowSchema.parse(row, 'blobs');
}
