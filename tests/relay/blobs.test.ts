import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	blobUrl,
	createConversation,
	deleteMessage,
	newId,
	postMessage,
	postVoiceMessage
} from '../../src/lib/model';
import {
	connect,
	newDevice,
	removeDir,
	startRelay,
	synced,
	until,
	type Device,
	type Relay
} from './helpers/relay';

const KiB = 1024;
let relay: Relay;
let alice: Device;
let bob: Device;
let carol: Device;

beforeAll(async () => {
	relay = await startRelay({
		env: { MAX_UPLOAD_BYTES: String(64 * KiB), UPLOAD_QUOTA_BYTES: String(160 * KiB) }
	});
	[alice, bob, carol] = [await newDevice(relay), await newDevice(relay), await newDevice(relay)];
});
afterAll(async () => {
	await relay.stop();
	removeDir(relay.dataDir);
});

function sha(bytes: Uint8Array): string {
	return createHash('sha256').update(bytes).digest('hex');
}

function put(who: Device, conversation: string, bytes: Uint8Array<ArrayBuffer>, name = sha(bytes)) {
	return fetch(`${relay.http}/blobs/${name}?conversation=${conversation}`, {
		method: 'PUT',
		headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/octet-stream' },
		body: bytes
	});
}

function get(
	who: Device,
	hash: string,
	conversation?: string,
	headers: Record<string, string> = {}
) {
	const q = conversation ? `?conversation=${conversation}` : '';
	return fetch(`${relay.http}/blobs/${hash}${q}`, {
		headers: { authorization: `Bearer ${who.token}`, ...headers }
	});
}

/** A group of `members` created by the first, synced to the relay; returns a poster. */
async function group(members: Device[]) {
	const id = newId();
	const c = connect(relay, `conv:${id}`, members[0]!.token);
	await synced(c.provider);
	createConversation(c.doc, {
		kind: 'group',
		name: 'files',
		id,
		created_by: members[0]!.user,
		members: members.map((m) => m.user)
	});
	await new Promise((r) => setTimeout(r, 150));
	return {
		id,
		doc: c.doc,
		/** Posts a message with one attachment of these bytes, and waits until stored. */
		async attach(bytes: Uint8Array, by = members[0]!) {
			const hash = sha(bytes);
			const record = postMessage(c.doc, {
				content: '',
				created_by: by.user,
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
			await new Promise((r) => setTimeout(r, 150));
			return record;
		},
		close: () => c.provider.destroy()
	};
}

/** Every file under DATA_DIR/blobs (temporary ones included). */
function storedFiles(): string[] {
	const root = join(relay.dataDir, 'blobs');
	const out: string[] = [];
	const walk = (dir: string) => {
		for (const e of readdirSync(dir, { withFileTypes: true })) {
			if (e.isDirectory()) walk(join(dir, e.name));
			else out.push(join(dir, e.name).slice(root.length + 1));
		}
	};
	if (existsSync(root)) walk(root);
	return out;
}

describe('the blob store', () => {
	it('advertises its limits, so the app refuses a large file before sending a byte', async () => {
		const res = await fetch(`${relay.http}/blobs/limits`, {
			headers: { authorization: `Bearer ${alice.token}` }
		});
		expect(await res.json()).toEqual({
			max_upload_bytes: 64 * KiB,
			upload_quota_bytes: 160 * KiB,
			used_bytes: 0
		});
	});

	it('stores a member’s upload under its sha256 and lets members whose messages reference it read it', async () => {
		const g = await group([alice, bob]);
		const bytes = randomBytes(10 * KiB);
		const hash = sha(bytes);
		const up = await put(alice, g.id, bytes);
		expect(up.status).toBe(201);
		expect(await up.json()).toEqual({ sha256: hash, size: bytes.length });
		// Stored, but no message references it yet: nobody reads it.
		expect((await get(bob, hash, g.id)).status).toBe(403);
		await g.attach(bytes);
		const res = await get(bob, hash, g.id);
		expect(res.status).toBe(200);
		expect(res.headers.get('etag')).toBe(`"${hash}"`);
		expect(res.headers.get('cache-control')).toMatch(/immutable/);
		expect(res.headers.get('content-type')).toBe('application/octet-stream');
		expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
		// Without naming the conversation, the recorded ones are tried.
		expect((await get(bob, hash)).status).toBe(200);
		expect(storedFiles()).toContain(join(hash.slice(0, 2), hash.slice(2, 4), hash));
		// Uploading the same bytes again stores nothing new.
		expect((await put(alice, g.id, bytes)).status).toBe(200);
		g.close();
	});

	it('refuses a non-member, and a member of another conversation who only knows the hash', async () => {
		const g = await group([alice, bob]);
		const bytes = randomBytes(4 * KiB);
		const hash = sha(bytes);
		expect((await put(alice, g.id, bytes)).status).toBe(201);
		await g.attach(bytes);
		const denied = await get(carol, hash, g.id);
		expect(denied.status).toBe(403);
		expect(await denied.json()).toMatchObject({ error: 'forbidden' });
		expect((await get(carol, hash)).status).toBe(403);
		// Carol references the hash in her own conversation: still no bytes (linking takes them).
		const mine = await group([carol]);
		await mine.attach(bytes, carol);
		const pending = await get(carol, hash, mine.id);
		expect(pending.status).toBe(404);
		expect(await pending.json()).toMatchObject({ error: 'not_uploaded' });
		// Nor may she upload into a conversation she is not in, nor one the relay does not have
		// (retryable: a conversation created offline may not have arrived yet).
		expect((await put(carol, g.id, bytes)).status).toBe(403);
		const unknown = await put(carol, newId(), bytes);
		expect(unknown.status).toBe(404);
		expect(await unknown.json()).toMatchObject({ error: 'unknown_conversation' });
		// No token at all.
		expect((await fetch(`${relay.http}/blobs/${hash}?conversation=${g.id}`)).status).toBe(401);
		// A deleted message no longer grants access.
		const h2 = randomBytes(KiB);
		expect((await put(alice, g.id, h2)).status).toBe(201);
		const record = await g.attach(h2);
		expect((await get(bob, sha(h2), g.id)).status).toBe(200);
		deleteMessage(g.doc, record.id, { deleted_by: alice.user });
		await new Promise((r) => setTimeout(r, 150));
		expect((await get(bob, sha(h2), g.id)).status).toBe(403);
		g.close();
		mine.close();
	});

	it('reads a voice message through its audio_url', async () => {
		const g = await group([alice, bob]);
		const bytes = randomBytes(3 * KiB);
		expect((await put(alice, g.id, bytes)).status).toBe(201);
		postVoiceMessage(g.doc, {
			content: '',
			created_by: alice.user,
			audio_url: blobUrl(sha(bytes))
		});
		await new Promise((r) => setTimeout(r, 150));
		expect((await get(bob, sha(bytes), g.id)).status).toBe(200);
		g.close();
	});

	it('refuses bytes that do not hash to the name, with a JSON error, and keeps nothing', async () => {
		const g = await group([alice]);
		const before = storedFiles();
		const bytes = randomBytes(2 * KiB);
		const wrong = sha(randomBytes(8));
		const res = await put(alice, g.id, bytes, wrong);
		expect(res.status).toBe(400);
		const body = (await res.json()) as { error: string; message: string };
		expect(body.error).toBe('hash_mismatch');
		expect(body.message).toContain(sha(bytes));
		expect(storedFiles()).toEqual(before);
		expect((await put(alice, g.id, bytes, 'not-a-hash')).status).toBe(404);
		g.close();
	});

	it('refuses a file over MAX_UPLOAD_BYTES before reading its body', async () => {
		const g = await group([alice]);
		const res = await put(alice, g.id, randomBytes(65 * KiB));
		expect(res.status).toBe(413);
		expect(await res.json()).toMatchObject({
			error: 'too_large',
			message: expect.stringContaining('up to 64 KiB') as unknown
		});
		g.close();
	});

	it('leaves nothing half-written when an upload is cut off mid-body', async () => {
		const g = await group([alice]);
		const before = storedFiles();
		const bytes = randomBytes(48 * KiB);
		const hash = sha(bytes);
		const url = new URL(`${relay.http}/blobs/${hash}?conversation=${g.id}`);
		let partial: string[] = [];
		await new Promise<void>((resolve) => {
			const req = request(url, {
				method: 'PUT',
				headers: {
					authorization: `Bearer ${alice.token}`,
					'content-length': String(bytes.length)
				}
			});
			req.on('error', () => resolve());
			req.write(bytes.subarray(0, 20 * KiB), () => {
				// The relay has part of the body in a temporary file now; cut the connection.
				setTimeout(() => {
					partial = storedFiles().filter((f) => f.startsWith('tmp'));
					req.destroy();
					resolve();
				}, 200);
			});
		});
		expect(partial).toEqual([expect.stringMatching(/^tmp\/[0-9a-f]+\.part$/)]);
		await until(() => storedFiles().length === before.length, 5000, 'the partial upload to go');
		expect(storedFiles()).toEqual(before);
		const stored = await get(alice, hash, g.id);
		expect(stored.status).toBe(403);
		// The same upload, complete, then works.
		expect((await put(alice, g.id, bytes)).status).toBe(201);
		g.close();
	});

	it('enforces the per-user quota over distinct blobs', async () => {
		const dave = await newDevice(relay);
		const g = await group([dave]);
		const a = randomBytes(60 * KiB);
		const b = randomBytes(60 * KiB);
		expect((await put(dave, g.id, a)).status).toBe(201);
		expect((await put(dave, g.id, b)).status).toBe(201);
		// The same bytes again cost nothing.
		expect((await put(dave, g.id, a)).status).toBe(200);
		const over = await put(dave, g.id, randomBytes(50 * KiB));
		expect(over.status).toBe(413);
		expect(await over.json()).toMatchObject({ error: 'quota_exceeded' });
		const limits = await fetch(`${relay.http}/blobs/limits`, {
			headers: { authorization: `Bearer ${dave.token}` }
		});
		expect(await limits.json()).toMatchObject({ used_bytes: 120 * KiB });
		g.close();
	});

	it('answers range requests (206, Content-Range), refuses bad ranges (416) and revalidates (304)', async () => {
		const g = await group([alice, bob]);
		const bytes = randomBytes(10_000);
		const hash = sha(bytes);
		expect((await put(alice, g.id, bytes)).status).toBe(201);
		await g.attach(bytes);
		const part = await get(bob, hash, g.id, { range: 'bytes=100-199' });
		expect(part.status).toBe(206);
		expect(part.headers.get('content-range')).toBe('bytes 100-199/10000');
		expect(part.headers.get('accept-ranges')).toBe('bytes');
		expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
		const tail = await get(bob, hash, g.id, { range: 'bytes=-10' });
		expect(tail.headers.get('content-range')).toBe('bytes 9990-9999/10000');
		expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(9990))).toBe(true);
		const open = await get(bob, hash, g.id, { range: 'bytes=9000-' });
		expect((await open.arrayBuffer()).byteLength).toBe(1000);
		const bad = await get(bob, hash, g.id, { range: 'bytes=20000-' });
		expect(bad.status).toBe(416);
		expect(bad.headers.get('content-range')).toBe('bytes */10000');
		const cached = await get(bob, hash, g.id, { 'if-none-match': `"${hash}"` });
		expect(cached.status).toBe(304);
		const head = await fetch(`${relay.http}/blobs/${hash}?conversation=${g.id}`, {
			method: 'HEAD',
			headers: { authorization: `Bearer ${bob.token}` }
		});
		expect(head.status).toBe(200);
		expect(head.headers.get('content-length')).toBe('10000');
		g.close();
	});
});
