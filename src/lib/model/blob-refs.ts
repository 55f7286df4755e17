/**
 * How messages point at stored bytes: an attachment's `url` and a voice message's `audio_url`
 * are `/blobs/<sha256>` on the relay that serves the app (docs/PROTOCOL.md, "Blobs"). The relay
 * uses {@link referencesBlob} to decide who may read a blob; the app, to find the bytes.
 */
import { Patterns, type MessageRecord } from './schema';

/** The path prefix of the relay's blob store. */
export const BLOB_PATH = '/blobs/';

/**
 * The URL a message stores for bytes with this sha256.
 *
 * @example blobUrl('ab12…') // '/blobs/ab12…'
 */
export function blobUrl(sha256: string): string {
	return BLOB_PATH + sha256;
}

/** The sha256 a blob URL names (`/blobs/<sha256>`, any query ignored), or null. */
export function blobShaOfUrl(url: string | null | undefined): string | null {
	if (typeof url !== 'string' || !url.startsWith(BLOB_PATH)) return null;
	const sha = url.slice(BLOB_PATH.length).split(/[?#]/, 1)[0]!;
	return Patterns.sha256.test(sha) ? sha : null;
}

/**
 * The blobs a message record (not deleted) references: its attachments' sha256 and its voice
 * recording's. The relay's read rule and the app agree through this one function.
 */
export function blobsOf(record: MessageRecord | null | undefined): string[] {
	if (!record || typeof record !== 'object' || record.deleted_at) return [];
	const out: string[] = [];
	const audio = blobShaOfUrl(record.audio_url);
	if (audio) out.push(audio);
	const list: unknown = record.file_attachments;
	if (Array.isArray(list)) {
		for (const a of list as unknown[]) {
			const sha = (a as { sha256?: unknown } | null)?.sha256;
			if (typeof sha === 'string' && Patterns.sha256.test(sha)) out.push(sha);
		}
	}
	return out;
}

/** Whether a message record (not deleted) references a blob (see {@link blobsOf}). */
export function referencesBlob(record: MessageRecord | null | undefined, sha256: string): boolean {
	return blobsOf(record).includes(sha256);
}

/**
 * A size for people: bytes, KiB, MiB or GiB, with one decimal below 10.
 *
 * @example formatBytes(5 * 1024 * 1024) // '5 MiB'
 */
export function formatBytes(n: number): string {
	const units = ['bytes', 'KiB', 'MiB', 'GiB'];
	let value = n;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	if (unit === 0) return n === 1 ? '1 byte' : `${n} bytes`;
	const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
	return `${shown} ${units[unit]}`;
}
