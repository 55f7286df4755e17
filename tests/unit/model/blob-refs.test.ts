import { describe, expect, it } from 'vitest';
import {
	blobShaOfUrl,
	blobUrl,
	formatBytes,
	referencesBlob,
	type MessageRecord
} from '../../../src/lib/model';

const H = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);

function record(over: Partial<MessageRecord>): MessageRecord {
	return {
		id: '1',
		created_at: '2026-01-01T00:00:00.000Z',
		content: '',
		created_by: 'u1',
		conversation_id: '7',
		file_attachments: [],
		parent_message_id: null,
		audio_url: null,
		...over
	};
}

const attachment = (sha256: string) => ({
	id: '2',
	name: 'a.png',
	type: 'image/png',
	size: 1,
	sha256,
	url: blobUrl(sha256)
});

describe('blob references', () => {
	it.each([
		[blobUrl(H), H],
		[`/blobs/${H}?conversation=7`, H],
		[`/blobs/${H}#t=3`, H],
		[`/blobs/${H.toUpperCase()}`, null],
		['/blobs/abc', null],
		[`https://elsewhere.example/blobs/${H}`, null],
		[null, null]
	])('reads the sha256 of %s as %s', (url, sha) => {
		expect(blobShaOfUrl(url)).toBe(sha);
	});

	it.each([
		['an attachment with that sha256', record({ file_attachments: [attachment(H)] }), true],
		['a voice message stored under it', record({ audio_url: blobUrl(H) }), true],
		['another file', record({ file_attachments: [attachment(OTHER)] }), false],
		[
			'a deleted message',
			record({ file_attachments: [attachment(H)], deleted_at: '2026-01-02T00:00:00.000Z' }),
			false
		],
		['a record without attachments', record({ file_attachments: undefined as never }), false]
	])('a message references a blob through %s: %s', (_, r, expected) => {
		expect(referencesBlob(r, H)).toBe(expected);
	});

	it.each([
		[0, '0 bytes'],
		[1, '1 byte'],
		[1023, '1023 bytes'],
		[1536, '1.5 KiB'],
		[64 * 1024, '64 KiB'],
		[5 * 1024 * 1024, '5 MiB'],
		[6 * 1024 * 1024 + 1, '6 MiB'],
		[25 * 1024 * 1024, '25 MiB'],
		[3 * 1024 ** 3, '3 GiB']
	])('writes %i bytes as %s', (n, text) => {
		expect(formatBytes(n)).toBe(text);
	});
});
