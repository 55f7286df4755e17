import type { MessageRecord } from './schema';

/**
 * Which of two records of one id is in force: a tombstone over a live copy, and of two
 * tombstones (two devices deleted at once) the earlier deletion. Decided by the records alone,
 * never by the order they arrived in, so every reader and every replica agrees.
 */
export function prefers(current: MessageRecord | undefined, candidate: MessageRecord): boolean {
	if (!current) return true;
	if (!candidate.deleted_at) return false;
	if (!current.deleted_at) return true;
	return candidate.deleted_at < current.deleted_at;
}
