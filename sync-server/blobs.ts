/**
 * The blob store: attachment and voice-message bytes, content-addressed by sha256
 * (docs/PROTOCOL.md, "Blobs"; docs/ARCHITECTURE.md, "Files and voice messages").
 *
 * - Files: `DATA_DIR/blobs/<sha[0..2]>/<sha[2..4]>/<sha256>`, written atomically: the body
 *   streams into `DATA_DIR/blobs/tmp/<random>.part` while being hashed; only when it is
 *   complete, of the announced length and hashes to the name is it fsynced, renamed into place
 *   and its directory fsynced. A refused or interrupted upload deletes its temporary file, and
 *   `tmp/` is emptied at start (a crash mid-upload).
 * - SQLite (the relay's database): `blob_files` (sha256 → size), `blob_conversations` (which
 *   conversation an upload named, recorded only after a member of it sent the whole bytes) and
 *   `blob_uploads` (who uploaded what: the per-user quota is the sum of the sizes of the distinct
 *   blobs a user uploaded).
 * - Read rule: a user reads blob H when some conversation C has (H, C) recorded, the user may
 *   open C now (a member, or any workspace member for a listed public channel), and a message of
 *   C (top level or reply, not deleted) references H. Knowing a hash is never enough: linking a
 *   blob to a conversation takes its bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
	createReadStream,
	createWriteStream,
	existsSync,
	mkdirSync,
	readdirSync,
	statSync
} from 'node:fs';
import { open, rename, rm, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import type * as Y from 'yjs';
import {
	Patterns,
	conversationDocName,
	blobsOf,
	conversationTypes,
	formatBytes
} from '../src/lib/model/index.ts';
import { conversationKind, mayOpenConversation } from './access.ts';
import type { Auth } from './auth.ts';
import { OverloadedError, type Docs } from './docs.ts';
import type { Logger } from './log.ts';

export interface BlobLimits {
	/** Largest upload in bytes (MAX_UPLOAD_BYTES). */
	maxUploadBytes: number;
	/** Bytes of distinct blobs one user may upload in total (UPLOAD_QUOTA_BYTES). */
	uploadQuotaBytes: number;
}

/** A refusal with an HTTP status and a machine-readable code (the JSON error body). */
export class BlobError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string
	) {
		super(message);
	}
}

async function fsyncDir(dir: string): Promise<void> {
	const fh = await open(dir, 'r');
	try {
		await fh.sync();
	} finally {
		await fh.close();
	}
}

/** One `Range: bytes=…` header against a size: the inclusive span, 'bad' (416) or null (whole). */
export function parseRange(
	header: string | undefined,
	size: number
): { start: number; end: number } | 'bad' | null {
	if (!header) return null;
	const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
	// Several ranges (multipart/byteranges) are legal but unused by media elements: whole file.
	if (!m) return header.includes(',') ? null : 'bad';
	const [, a, b] = m;
	if (a === '' && b === '') return 'bad';
	let start: number;
	let end: number;
	if (a === '') {
		const suffix = Number(b);
		if (suffix === 0) return 'bad';
		start = Math.max(0, size - suffix);
		end = size - 1;
	} else {
		start = Number(a);
		end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
	}
	if (start > end || start >= size) return 'bad';
	return { start, end };
}

export class BlobStore {
	readonly root: string;
	readonly tmp: string;
	readonly #db: Database.Database;
	readonly #refs = new WeakMap<Y.Doc, Set<string>>();

	constructor(
		dataDir: string,
		db: Database.Database,
		readonly limits: BlobLimits,
		readonly log: Logger
	) {
		this.root = join(dataDir, 'blobs');
		this.tmp = join(this.root, 'tmp');
		mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
		// Leftovers of uploads cut short by a crash: never renamed into place, so never served.
		for (const name of readdirSync(this.tmp)) void rm(join(this.tmp, name), { force: true });
		this.#db = db;
		db.exec(`
			CREATE TABLE IF NOT EXISTS blob_files (
				sha256 TEXT PRIMARY KEY,
				size INTEGER NOT NULL,
				created_at TEXT NOT NULL
			);
			CREATE TABLE IF NOT EXISTS blob_conversations (
				sha256 TEXT NOT NULL,
				conversation_id TEXT NOT NULL,
				user_id TEXT NOT NULL,
				created_at TEXT NOT NULL,
				PRIMARY KEY (sha256, conversation_id)
			);
			CREATE TABLE IF NOT EXISTS blob_uploads (
				user_id TEXT NOT NULL,
				sha256 TEXT NOT NULL,
				size INTEGER NOT NULL,
				PRIMARY KEY (user_id, sha256)
			);
		`);
	}

	/** Where the bytes of a blob live. */
	path(sha256: string): string {
		return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
	}

	/** Bytes a user's distinct uploads take. */
	used(user: string): number {
		const row = this.#db
			.prepare('SELECT coalesce(sum(size), 0) AS n FROM blob_uploads WHERE user_id = ?')
			.get(user) as { n: number };
		return row.n;
	}

	#charged(user: string, sha256: string): boolean {
		return (
			this.#db
				.prepare('SELECT 1 FROM blob_uploads WHERE user_id = ? AND sha256 = ?')
				.get(user, sha256) !== undefined
		);
	}

	conversationsOf(sha256: string): string[] {
		return (
			this.#db
				.prepare('SELECT conversation_id AS c FROM blob_conversations WHERE sha256 = ?')
				.all(sha256) as Array<{ c: string }>
		).map((r) => r.c);
	}

	#linked(sha256: string, conversationId: string): boolean {
		return (
			this.#db
				.prepare('SELECT 1 FROM blob_conversations WHERE sha256 = ? AND conversation_id = ?')
				.get(sha256, conversationId) !== undefined
		);
	}

	/** The stored size of a blob, or null when its bytes are not here. */
	size(sha256: string): number | null {
		try {
			const s = statSync(this.path(sha256));
			return s.isFile() ? s.size : null;
		} catch {
			return null;
		}
	}

	/**
	 * Streams an upload into place (see the module comment). `size` is the announced
	 * Content-Length, already checked against the limits. Resolves once the bytes are durable
	 * and recorded; rejects with a BlobError (and leaves nothing) otherwise.
	 */
	async put(
		req: IncomingMessage,
		upload: { sha256: string; size: number; user: string; conversationId: string }
	): Promise<{ created: boolean }> {
		const temp = join(this.tmp, `${randomBytes(12).toString('hex')}.part`);
		const hash = createHash('sha256');
		let received = 0;
		const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
		try {
			await new Promise<void>((resolve, reject) => {
				let failed = false;
				const fail = (err: unknown) => {
					if (failed) return;
					failed = true;
					req.unpipe(out);
					out.destroy();
					reject(err instanceof Error ? err : new Error(String(err)));
				};
				req.on('data', (chunk: Buffer) => {
					received += chunk.length;
					if (received > upload.size)
						return fail(
							new BlobError(400, 'length_mismatch', 'The body is longer than Content-Length.')
						);
					hash.update(chunk);
				});
				// An interrupted request: the socket closed before the whole body arrived.
				req.on('aborted', () => fail(new BlobError(400, 'aborted', 'The upload was interrupted.')));
				req.on('error', fail);
				req.on('close', () => {
					if (!req.complete) fail(new BlobError(400, 'aborted', 'The upload was interrupted.'));
				});
				out.on('error', fail);
				out.on('finish', () => {
					if (!failed) resolve();
				});
				req.pipe(out);
			});
			if (received !== upload.size || !req.complete)
				throw new BlobError(400, 'aborted', 'The upload was interrupted before its last byte.');
			const actual = hash.digest('hex');
			if (actual !== upload.sha256) {
				throw new BlobError(
					400,
					'hash_mismatch',
					`The bytes hash to ${actual}, not to ${upload.sha256}: nothing was stored. Upload the file again.`
				);
			}
			const fh = await open(temp, 'r');
			try {
				await fh.sync();
			} finally {
				await fh.close();
			}
			const final = this.path(upload.sha256);
			const created = !existsSync(final);
			if (created) {
				mkdirSync(dirname(final), { recursive: true, mode: 0o700 });
				await rename(temp, final);
				await fsyncDir(dirname(final));
			} else {
				// Same name, same bytes (the hash says so): keep the stored copy.
				await unlink(temp);
			}
			this.#db.transaction(() => {
				const now = new Date().toISOString();
				this.#db
					.prepare('INSERT OR IGNORE INTO blob_files (sha256, size, created_at) VALUES (?, ?, ?)')
					.run(upload.sha256, upload.size, now);
				this.#db
					.prepare('INSERT OR IGNORE INTO blob_uploads (user_id, sha256, size) VALUES (?, ?, ?)')
					.run(upload.user, upload.sha256, upload.size);
				this.#db
					.prepare(
						'INSERT OR IGNORE INTO blob_conversations (sha256, conversation_id, user_id, created_at) VALUES (?, ?, ?, ?)'
					)
					.run(upload.sha256, upload.conversationId, upload.user, now);
			})();
			return { created };
		} catch (err) {
			await rm(temp, { force: true }).catch(() => {});
			throw err;
		}
	}

	/**
	 * Whether `user` may upload `size` bytes named `sha256` into a conversation: the limits,
	 * the quota and membership. Throws a BlobError; checked before any byte of the body is read.
	 */
	checkUpload(
		docs: Docs,
		upload: { sha256: string; size: number; user: string; conversationId: string }
	): void {
		const { maxUploadBytes, uploadQuotaBytes } = this.limits;
		if (upload.size > maxUploadBytes) {
			throw new BlobError(
				413,
				'too_large',
				`The file is ${formatBytes(upload.size)}; this relay accepts files up to ${formatBytes(maxUploadBytes)}.`
			);
		}
		if (!this.#charged(upload.user, upload.sha256)) {
			const used = this.used(upload.user);
			if (used + upload.size > uploadQuotaBytes) {
				throw new BlobError(
					413,
					'quota_exceeded',
					`Your uploads would take ${formatBytes(used + upload.size)}; your quota on this relay is ${formatBytes(uploadQuotaBytes)}.`
				);
			}
		}
		const doc = docs.get(conversationDocName(upload.conversationId)).doc;
		if (conversationKind(doc) === null) {
			// Likely created offline and not synced yet: the app retries.
			throw new BlobError(
				404,
				'unknown_conversation',
				'The relay does not have this conversation yet.'
			);
		}
		if (!conversationTypes(doc).members.has(upload.user)) {
			throw new BlobError(403, 'forbidden', 'Only members of a conversation upload files to it.');
		}
	}

	/**
	 * The blobs a conversation's messages reference, computed once per document state: a page
	 * of images asks for each, and scanning a 100,000-message channel each time would add up.
	 */
	#referenced(doc: Y.Doc): Set<string> {
		let set = this.#refs.get(doc);
		if (set) return set;
		set = new Set();
		const t = conversationTypes(doc);
		for (const array of [t.messages, t.replies]) {
			for (const r of array.toArray()) for (const sha of blobsOf(r)) set.add(sha);
		}
		this.#refs.set(doc, set);
		doc.once('update', () => this.#refs.delete(doc));
		return set;
	}

	/**
	 * Whether `user` may read `sha256` through conversation `conversationId` (or any recorded
	 * one when null): 'ok', 'pending' (allowed by a message, but the bytes were not uploaded to
	 * that conversation yet) or 'forbidden'.
	 */
	mayRead(
		docs: Docs,
		sha256: string,
		user: string,
		conversationId: string | null
	): 'ok' | 'pending' | 'forbidden' {
		const candidates = conversationId !== null ? [conversationId] : this.conversationsOf(sha256);
		const workspace = () => docs.get('workspace').doc;
		let pending = false;
		for (const c of candidates) {
			const doc = docs.get(conversationDocName(c)).doc;
			if (conversationKind(doc) === null) continue;
			if (!mayOpenConversation(doc, c, user, workspace)) continue;
			if (!this.#referenced(doc).has(sha256)) continue;
			if (this.#linked(sha256, c) && this.size(sha256) !== null) return 'ok';
			pending = true;
		}
		return pending ? 'pending' : 'forbidden';
	}
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
	res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
	res.end(JSON.stringify(body));
}

function bearer(req: IncomingMessage): string | undefined {
	return /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * The `/blobs/…` routes: `GET /blobs/limits`, `PUT /blobs/<sha256>?conversation=<id>`,
 * `GET|HEAD /blobs/<sha256>?conversation=<id>` (docs/PROTOCOL.md, "Blobs"). Returns false when
 * the path is not a blob route.
 */
export async function handleBlobRequest(
	deps: { store: BlobStore; auth: Auth; docs: Docs; log: Logger },
	req: IncomingMessage,
	res: ServerResponse,
	url: URL
): Promise<void> {
	const { store, auth, docs, log } = deps;
	const refuse = (err: BlobError) => {
		// The body of a refused upload is not read: close the connection after the answer, so the
		// client stops sending (and the socket is not left with an unread body).
		if (req.method === 'PUT' && !req.complete) res.setHeader('connection', 'close');
		sendJson(res, err.status, { error: err.code, message: err.message });
	};
	try {
		const user = auth.authenticate(bearer(req));
		const rest = url.pathname.slice('/blobs/'.length);
		if (rest === 'limits') {
			if (req.method !== 'GET') throw new BlobError(405, 'method', 'Use GET.');
			return sendJson(res, 200, {
				max_upload_bytes: store.limits.maxUploadBytes,
				upload_quota_bytes: store.limits.uploadQuotaBytes,
				...(user ? { used_bytes: store.used(user) } : {})
			});
		}
		if (!user)
			throw new BlobError(
				401,
				'unauthorized',
				'A session token is required (Authorization: Bearer).'
			);
		const sha256 = rest;
		if (!Patterns.sha256.test(sha256))
			throw new BlobError(
				404,
				'not_found',
				'A blob is named by its sha256 (64 lowercase hex digits).'
			);
		const conversation = url.searchParams.get('conversation');
		if (conversation !== null && !Patterns.id.test(conversation))
			throw new BlobError(400, 'bad_request', 'conversation must be a conversation id.');

		if (req.method === 'PUT') {
			if (conversation === null)
				throw new BlobError(
					400,
					'bad_request',
					'Name the conversation: PUT /blobs/<sha256>?conversation=<id>.'
				);
			const length = req.headers['content-length'];
			if (length === undefined || !/^\d+$/.test(length))
				throw new BlobError(411, 'length_required', 'Send the size in Content-Length.');
			const upload = { sha256, size: Number(length), user, conversationId: conversation };
			store.checkUpload(docs, upload);
			const { created } = await store.put(req, upload);
			log.info({ user, sha256, size: upload.size, conversation, created }, 'blob stored');
			return sendJson(res, created ? 201 : 200, { sha256, size: upload.size });
		}

		if (req.method !== 'GET' && req.method !== 'HEAD')
			throw new BlobError(405, 'method', 'Use GET, HEAD or PUT.');
		const access = store.mayRead(docs, sha256, user, conversation);
		if (access === 'forbidden')
			throw new BlobError(403, 'forbidden', 'No conversation of yours references this file.');
		const size = access === 'ok' ? store.size(sha256) : null;
		if (size === null)
			throw new BlobError(404, 'not_uploaded', 'The sender has not uploaded this file yet.');
		const etag = `"${sha256}"`;
		const headers: Record<string, string | number> = {
			etag,
			// Content-addressed: the bytes under this name never change. Private: access is per user.
			'cache-control': 'private, max-age=31536000, immutable',
			'accept-ranges': 'bytes',
			// Never rendered as a page of this origin: the app gives the bytes their type itself.
			'content-type': 'application/octet-stream',
			'content-disposition': 'attachment',
			'x-content-type-options': 'nosniff',
			'content-security-policy': "default-src 'none'; sandbox"
		};
		if (req.headers['if-none-match'] === etag) {
			res.writeHead(304, headers);
			return void res.end();
		}
		const range = parseRange(req.headers.range, size);
		if (range === 'bad') {
			res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` });
			return void res.end();
		}
		const { start, end } = range ?? { start: 0, end: size - 1 };
		res.writeHead(range ? 206 : 200, {
			...headers,
			'content-length': size === 0 ? 0 : end - start + 1,
			...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {})
		});
		if (req.method === 'HEAD' || size === 0) return void res.end();
		createReadStream(store.path(sha256), { start, end })
			.on('error', () => res.destroy())
			.pipe(res);
	} catch (err) {
		if (err instanceof BlobError) return refuse(err);
		if (err instanceof OverloadedError)
			return refuse(new BlobError(503, 'overloaded', 'The relay is busy; try again shortly.'));
		throw err;
	}
}
