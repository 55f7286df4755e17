/**
 * Files with several relays: the blob index (who uploaded what, which conversation a file
 * belongs to, quotas) lives in PostgreSQL; the bytes live in DATA_DIR/blobs, a directory every
 * relay mounts (README, "Running several relays"). A file uploaded through one relay is served
 * through another, to members only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { blobUrl, createConversation, newId, postMessage } from '../../src/lib/model';
import {
	connect,
	newDevice,
	removeDir,
	synced,
	tempDataDir,
	until,
	type Device,
	type Relay
} from '../relay/helpers/relay';
import { clusterRelay, clusterUnavailable, freePort, freshDatabase, REDIS_URL } from './helpers';

const unavailable = await clusterUnavailable();
if (unavailable) console.warn(`SKIPPED cluster blobs test: ${unavailable}`);

(unavailable ? describe.skip : describe)('files on two relays', () => {
	let db: Awaited<ReturnType<typeof freshDatabase>>;
	const shared = tempDataDir();
	let r1: Relay;
	let r2: Relay;

	beforeAll(async () => {
		db = await freshDatabase();
		const env = {
			DATABASE_URL: db.url,
			REDIS_URL,
			REDIS_PREFIX: `kith-test-${randomBytes(4).toString('hex')}:`
		};
		r1 = await clusterRelay(await freePort(), env, shared);
		r2 = await clusterRelay(await freePort(), env, shared);
	});

	afterAll(async () => {
		await r1?.kill();
		await r2?.kill();
		await db?.drop();
		removeDir(shared);
	});

	it('serves through one relay a file uploaded through another, and counts it once', async () => {
		const alice: Device = await newDevice(r1);
		const bob: Device = await newDevice(r2);
		const carol: Device = await newDevice(r2);
		const id = newId();
		const a = connect(r1, `conv:${id}`, alice.token);
		await synced(a.provider);
		createConversation(a.doc, {
			kind: 'group',
			name: 'files',
			id,
			created_by: alice.user,
			members: [alice.user, bob.user]
		});
		const bytes = new Uint8Array(randomBytes(50_000));
		const hash = createHash('sha256').update(bytes).digest('hex');
		postMessage(a.doc, {
			content: '',
			created_by: alice.user,
			file_attachments: [
				{
					id: newId(),
					name: 'a.bin',
					type: 'application/octet-stream',
					size: bytes.length,
					sha256: hash,
					url: blobUrl(hash)
				}
			]
		});
		// Relay 2 learns of the message through Redis (its read rule looks at the document).
		const b = connect(r2, `conv:${id}`, bob.token);
		await synced(b.provider);
		await until(() => b.doc.getArray('messages').length === 1, 3000, 'message on relay 2');

		const put = await fetch(`${r1.http}/blobs/${hash}?conversation=${id}`, {
			method: 'PUT',
			headers: {
				authorization: `Bearer ${alice.token}`,
				'content-type': 'application/octet-stream'
			},
			body: bytes
		});
		expect(put.status).toBeLessThan(300);
		const got = await fetch(`${r2.http}/blobs/${hash}?conversation=${id}`, {
			headers: { authorization: `Bearer ${bob.token}` }
		});
		expect(got.status).toBe(200);
		expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
		// Not a member: refused on either relay.
		const refused = await fetch(`${r2.http}/blobs/${hash}?conversation=${id}`, {
			headers: { authorization: `Bearer ${carol.token}` }
		});
		expect(refused.status).toBeGreaterThanOrEqual(400);
		// The quota is one index: relay 2 counts what Alice uploaded through relay 1.
		const limits = (await (
			await fetch(`${r2.http}/blobs/limits`, {
				headers: { authorization: `Bearer ${alice.token}` }
			})
		).json()) as { used_bytes?: number };
		expect(limits.used_bytes).toBe(bytes.length);
		a.provider.destroy();
		b.provider.destroy();
	});
});
