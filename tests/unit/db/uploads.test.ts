import { describe, expect, it } from 'vitest';
import { noteUploadAttempt, queuedUploads, queueUploads, removeUpload } from '../../../src/lib/db';
import { freshIndexedDb, openIndex } from './helpers';

const A = 'aa'.repeat(32);
const B = 'bb'.repeat(32);

describe('the upload queue', () => {
	it('keeps queued files across a reopen, oldest first, one entry per file and conversation', async () => {
		const factory = freshIndexedDb();
		const db = openIndex(factory);
		await queueUploads(db, [{ sha256: A, conversation_id: '1', name: 'a.txt', size: 3 }]);
		await new Promise((r) => setTimeout(r, 5));
		await queueUploads(db, [
			{ sha256: B, conversation_id: '1', name: 'b.txt', size: 4 },
			{ sha256: A, conversation_id: '2', name: 'a.txt', size: 3 }
		]);
		db.close();
		const reopened = openIndex(factory);
		const rows = await queuedUploads(reopened);
		const keys = rows.map((r) => [r.sha256, r.conversation_id]);
		// The older batch first; within a batch, any order.
		expect(keys[0]).toEqual([A, '1']);
		expect(keys.slice(1)).toEqual(
			expect.arrayContaining([
				[B, '1'],
				[A, '2']
			])
		);
		expect(keys).toHaveLength(3);
		expect(rows[0]).toMatchObject({ attempts: 0, failed: null });
	});

	it('counts attempts, remembers a refusal, and forgets an uploaded file', async () => {
		const db = openIndex();
		await queueUploads(db, [{ sha256: A, conversation_id: '1', name: 'a.txt', size: 3 }]);
		await noteUploadAttempt(db, A, '1', null);
		await noteUploadAttempt(db, A, '1', 'too large');
		expect(await queuedUploads(db)).toEqual([
			expect.objectContaining({ attempts: 2, failed: 'too large' })
		]);
		await removeUpload(db, A, '1');
		expect(await queuedUploads(db)).toEqual([]);
	});
});
