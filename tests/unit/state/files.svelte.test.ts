import { describe, expect, it, vi } from 'vitest';
import { getBlob, queuedUploads, sha256Hex } from '../../../src/lib/db';
import { BlobTransferError, FileTooLargeError } from '../../../src/lib/sync/blob-transfer';
import { Files, type Transfer } from '../../../src/lib/state/files.svelte';
import { freshIndexedDb, openIndex } from '../db/helpers';

const CONV = '7000';
const LIMITS = { maxUploadBytes: 1000, uploadQuotaBytes: 10_000, usedBytes: 0 };

function files(
	db: ReturnType<typeof openIndex>,
	transfer: Partial<Transfer> = {},
	onError: (e: unknown, what: string) => void = () => {}
) {
	return new Files({
		db,
		baseUrl: 'http://relay.test',
		token: () => Promise.resolve('token'),
		network: new EventTarget(),
		onError,
		transfer: { limits: () => Promise.resolve(LIMITS), ...transfer }
	});
}

const text = (s: string, name = 'a.txt') => new File([s], name, { type: 'text/plain' });

describe('Files', () => {
	it('refuses a file over the relay’s limit before storing or sending a byte', async () => {
		const db = openIndex();
		const upload = vi.fn();
		const f = files(db, { upload });
		await f.refreshLimits();
		const error = await f.stage(text('x'.repeat(1001), 'big.txt')).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(FileTooLargeError);
		expect((error as Error).message).toBe(
			'"big.txt" is 1001 bytes; this relay accepts files up to 1000 bytes.'
		);
		expect(await db.blobs.count()).toBe(0);
		expect(upload).not.toHaveBeenCalled();
	});

	it('posts at once, keeps the file queued while the relay cannot be reached, and uploads it after a reload', async () => {
		const factory = freshIndexedDb();
		const db = openIndex(factory);
		const offline = vi.fn(() =>
			Promise.reject(new BlobTransferError(0, 'network', 'The relay could not be reached.'))
		);
		const before = files(db, { upload: offline });
		const staged = await before.stage(text('hello'));
		expect(staged.sha256).toBe(await sha256Hex(new TextEncoder().encode('hello')));
		const posted = before.post(CONV, [staged], (attachments) => attachments);
		expect(posted).toEqual([
			expect.objectContaining({
				name: 'a.txt',
				type: 'text/plain',
				size: 5,
				sha256: staged.sha256,
				url: `/blobs/${staged.sha256}`
			})
		]);
		await vi.waitFor(() => expect(offline).toHaveBeenCalled());
		await vi.waitFor(() => expect(before.upload(staged.sha256, CONV)?.state).toBe('queued'));
		before.destroy();
		expect(await queuedUploads(db)).toEqual([
			expect.objectContaining({ sha256: staged.sha256, conversation_id: CONV, attempts: 1 })
		]);

		// A reload: a new Files on the same database finds the queue and uploads.
		const sent: Array<{ sha256: string; conversationId: string; bytes: string }> = [];
		const after = files(openIndex(factory), {
			upload: async (o) => {
				sent.push({
					sha256: o.sha256,
					conversationId: o.conversationId,
					bytes: await o.data.text()
				});
				o.onProgress?.(5, 5);
			}
		});
		after.start();
		await vi.waitFor(() => expect(sent).toHaveLength(1));
		expect(sent[0]).toEqual({ sha256: staged.sha256, conversationId: CONV, bytes: 'hello' });
		await vi.waitFor(async () => expect(await queuedUploads(db)).toEqual([]));
		expect(after.upload(staged.sha256, CONV)).toBeNull();
		after.destroy();
	});

	it('marks a file the relay refuses for good, says why, and does not retry it', async () => {
		const db = openIndex();
		const refuse = vi.fn(() =>
			Promise.reject(new BlobTransferError(413, 'quota_exceeded', 'Your quota is full.'))
		);
		const errors: string[] = [];
		const f = files(db, { upload: refuse }, (e, what) =>
			errors.push(`${what}: ${(e as Error).message}`)
		);
		const staged = await f.stage(text('bytes', 'report.txt'));
		f.post(CONV, [staged], () => null);
		await vi.waitFor(() => expect(f.upload(staged.sha256, CONV)?.state).toBe('failed'));
		expect(f.upload(staged.sha256, CONV)?.error).toBe('Your quota is full.');
		expect(errors).toEqual(['Uploading "report.txt": Your quota is full.']);
		await f.pump();
		expect(refuse).toHaveBeenCalledTimes(1);
		f.destroy();
	});

	it('a post the model refuses queues nothing', async () => {
		const db = openIndex();
		const f = files(db);
		const staged = await f.stage(text('bytes'));
		expect(() =>
			f.post(CONV, [staged], () => {
				throw new Error('refused');
			})
		).toThrow('refused');
		await new Promise((r) => setTimeout(r, 20));
		expect(await queuedUploads(db)).toEqual([]);
	});

	it('downloads a received file once, checks its hash, and opens it from the device afterwards', async () => {
		const factory = freshIndexedDb();
		const db = openIndex(factory);
		const bytes = 'received bytes';
		const sha = await sha256Hex(new TextEncoder().encode(bytes));
		const download = vi.fn(() => Promise.resolve(new Blob([bytes])));
		const online = files(db, { download });
		const handle = online.media(sha, CONV, 'text/plain');
		expect(handle.status).toBe('loading');
		await vi.waitFor(() => expect(handle.status).toBe('ready'));
		expect(handle.url).toMatch(/^blob:/);
		expect(download).toHaveBeenCalledWith(
			expect.objectContaining({ sha256: sha, conversationId: CONV, token: 'token' })
		);
		expect(await (await getBlob(db, sha))!.data.text()).toBe(bytes);

		// Offline, on another run: the bytes come from the device.
		const offline = files(openIndex(factory), {
			download: () => Promise.reject(new BlobTransferError(0, 'network', 'offline'))
		});
		const again = offline.media(sha, CONV, 'text/plain');
		await vi.waitFor(() => expect(again.status).toBe('ready'));
	});

	it('refuses downloaded bytes that do not match the sha256, and waits for a file not uploaded yet', async () => {
		const db = openIndex();
		const wrongSha = await sha256Hex(new TextEncoder().encode('expected'));
		const f = files(db, {
			download: (o) =>
				o.sha256 === wrongSha
					? Promise.resolve(new Blob(['something else']))
					: Promise.reject(new BlobTransferError(404, 'not_uploaded', 'Not uploaded yet.'))
		});
		const bad = f.media(wrongSha, CONV, 'text/plain');
		await vi.waitFor(() => expect(bad.status).toBe('error'));
		expect(await db.blobs.count()).toBe(0);
		const pending = f.media('ee'.repeat(32), CONV, 'image/png');
		await vi.waitFor(() => expect(pending.status).toBe('waiting'));
		expect(pending.waitingFor).toBe('sender');
	});
});
