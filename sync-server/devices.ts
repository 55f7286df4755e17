/**
 * A person's devices (docs/PROTOCOL.md, "Devices"; docs/ARCHITECTURE.md, "One person, several
 * devices").
 *
 * A person is their identity key: the Ed25519 key whose hash is their user id, made by the
 * first device they used. That device signs in with the identity key itself; its device id is
 * the user id. Another device gets a key of its own, made by the identity device, signed for
 * (`deviceLinkMessage`) with the identity key and registered here when the one-time link that
 * carries it is created. The linked device signs challenges with its own key and names its
 * person (`user_id`); the relay finds the key here. So revoking a linked device revokes its
 * key: it cannot come back under another device id, because only the identity key can register
 * one, and the identity key never leaves the identity device.
 *
 * The link itself (`device_links`) holds only ciphertext: the secret that decrypts it travels
 * in the link's fragment, which browsers never send. It is single use (deleted when fetched) and
 * expires after LINK_TTL_S.
 *
 * Tables live in the relay's SQLite database (storage.ts's `db`), next to the workspace's.
 */
import type Database from 'better-sqlite3';
import {
	deviceLinkMessage,
	fromBase64Url,
	Patterns,
	PUBLIC_KEY_BYTES,
	SIGNATURE_BYTES,
	userIdFromPublicKey
} from '../src/lib/model/index.ts';
import { AuthError, verifyEd25519, type DeviceHooks } from './auth.ts';

/** What a person sees of one of their devices. */
export interface DeviceInfo {
	id: string;
	name: string;
	/** Milliseconds since the epoch. */
	created_at: number;
	last_seen_at: number;
	/** The device holding the identity key (cannot be signed out from another device). */
	identity: boolean;
}

/** Characters of a link id: base64url of 16 random bytes. */
const LINK_ID = /^[A-Za-z0-9_-]{22}$/;
/**
 * Largest link ciphertext (base64url): a key, a user id and a name take a few hundred; the
 * rest is room for the conversation ids the identity device hands over (300 × 22 bytes).
 */
const MAX_CIPHERTEXT_CHARS = 12_000;
/** Links a person may have open at once. */
const MAX_OPEN_LINKS = 5;
/** After its link is fetched, a new device has this long to sign in for the first time. */
const FIRST_SIGN_IN_GRACE_MS = 5 * 60_000;
/** `last_seen_at` is written at most this often per device on connection. */
const TOUCH_EVERY_MS = 60_000;
const MAX_NAME_CHARS = 80;

function cleanName(name: string): string {
	// Control characters out (a name is shown, and logged); the UI escapes the rest.
	let out = '';
	for (const ch of name) out += ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127 ? ' ' : ch;
	return out.trim().slice(0, MAX_NAME_CHARS);
}

function str(body: Record<string, unknown>, key: string): string {
	const v = body[key];
	if (typeof v !== 'string') throw new AuthError(400, 'bad_request', `Expected a string ${key}.`);
	return v;
}

export class Devices implements DeviceHooks {
	readonly #db: Database.Database;
	readonly #linkTtlMs: number;
	readonly #touched = new Map<string, number>();

	constructor(db: Database.Database, options: { linkTtlS: number }) {
		this.#db = db;
		this.#linkTtlMs = options.linkTtlS * 1000;
		db.exec(`
			CREATE TABLE IF NOT EXISTS devices (
				user_id TEXT NOT NULL,
				device_id TEXT NOT NULL,
				public_key TEXT NOT NULL,
				name TEXT NOT NULL DEFAULT '',
				created_at INTEGER NOT NULL,
				last_seen_at INTEGER,
				pending_until INTEGER,
				revoked_at INTEGER,
				PRIMARY KEY (user_id, device_id)
			);
			CREATE TABLE IF NOT EXISTS device_links (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL,
				device_id TEXT NOT NULL,
				ciphertext TEXT NOT NULL,
				expires_at INTEGER NOT NULL
			);
		`);
	}

	#row(userId: string, deviceId: string) {
		return this.#db
			.prepare(
				'SELECT public_key, last_seen_at, pending_until, revoked_at FROM devices WHERE user_id = ? AND device_id = ?'
			)
			.get(userId, deviceId) as
			| {
					public_key: string;
					last_seen_at: number | null;
					pending_until: number | null;
					revoked_at: number | null;
			  }
			| undefined;
	}

	resolveLinked(userId: string, publicKey: string, now: number): string {
		const key = fromBase64Url(publicKey);
		if (!key || key.length !== PUBLIC_KEY_BYTES) {
			throw new AuthError(400, 'bad_request', 'public_key must be a base64url Ed25519 key.');
		}
		const deviceId = userIdFromPublicKey(key);
		const row = this.#row(userId, deviceId);
		if (row?.revoked_at != null) {
			throw new AuthError(403, 'device_revoked', 'This device was signed out from another device.');
		}
		const usable =
			row !== undefined &&
			row.public_key === publicKey &&
			(row.last_seen_at !== null || (row.pending_until ?? 0) > now);
		if (!usable) {
			throw new AuthError(
				401,
				'unknown_device',
				'This device is not linked to that person, or its link expired: link it again.'
			);
		}
		return deviceId;
	}

	recordSignIn(
		userId: string,
		deviceId: string,
		publicKey: string,
		name: string,
		now: number
	): void {
		this.#db
			.prepare(
				`INSERT INTO devices (user_id, device_id, public_key, name, created_at, last_seen_at)
				 VALUES (?, ?, ?, ?, ?, ?)
				 ON CONFLICT (user_id, device_id) DO UPDATE SET last_seen_at = excluded.last_seen_at,
				 pending_until = NULL,
				 name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE devices.name END`
			)
			.run(userId, deviceId, publicKey, cleanName(name), now, now);
		this.#touched.set(`${userId}/${deviceId}`, now);
	}

	isRevoked(userId: string, deviceId: string): boolean {
		return this.#row(userId, deviceId)?.revoked_at != null;
	}

	/** Notes that a device is in use (a connection opened), at most once a minute. */
	touch(userId: string, deviceId: string, now = Date.now()): void {
		const key = `${userId}/${deviceId}`;
		if (now - (this.#touched.get(key) ?? 0) < TOUCH_EVERY_MS) return;
		this.#touched.set(key, now);
		this.#db
			.prepare('UPDATE devices SET last_seen_at = ? WHERE user_id = ? AND device_id = ?')
			.run(now, userId, deviceId);
	}

	/** A person's devices in use (signed in at least once, not revoked), oldest first. */
	list(userId: string): DeviceInfo[] {
		const rows = this.#db
			.prepare(
				`SELECT device_id, name, created_at, last_seen_at FROM devices
				 WHERE user_id = ? AND revoked_at IS NULL AND last_seen_at IS NOT NULL
				 ORDER BY created_at, device_id`
			)
			.all(userId) as Array<{
			device_id: string;
			name: string;
			created_at: number;
			last_seen_at: number;
		}>;
		return rows.map((r) => ({
			id: r.device_id,
			name: r.name,
			created_at: r.created_at,
			last_seen_at: r.last_seen_at,
			identity: r.device_id === userId
		}));
	}

	/**
	 * Stores a one-time link made by `userId`'s identity device: body `{ id, identity_key,
	 * device_key, signature, ciphertext }`, where `signature` is the identity key's over
	 * `deviceLinkMessage(userId, device_key, id)`. Registers the device key as pending.
	 */
	createLink(userId: string, body: unknown, now = Date.now()): { id: string; expires_at: number } {
		const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
		const id = str(b, 'id');
		const identityKey = str(b, 'identity_key');
		const deviceKey = str(b, 'device_key');
		const signature = str(b, 'signature');
		const ciphertext = str(b, 'ciphertext');
		if (!LINK_ID.test(id)) throw new AuthError(400, 'bad_request', 'id must be 16 random bytes.');
		if (ciphertext.length > MAX_CIPHERTEXT_CHARS || !fromBase64Url(ciphertext)) {
			throw new AuthError(
				400,
				'bad_request',
				'ciphertext must be base64url, at most 12,000 characters.'
			);
		}
		const identity = fromBase64Url(identityKey);
		const device = fromBase64Url(deviceKey);
		const sig = fromBase64Url(signature);
		if (
			identity?.length !== PUBLIC_KEY_BYTES ||
			device?.length !== PUBLIC_KEY_BYTES ||
			sig?.length !== SIGNATURE_BYTES
		) {
			throw new AuthError(
				400,
				'bad_request',
				'Keys and signature must be base64url Ed25519 values.'
			);
		}
		if (userIdFromPublicKey(identity) !== userId) {
			throw new AuthError(
				403,
				'not_identity_device',
				'Only the device that holds your identity key (the first one you used Kith on) can link devices.'
			);
		}
		if (!verifyEd25519(identity, deviceLinkMessage(userId, deviceKey, id), sig)) {
			throw new AuthError(401, 'bad_signature', 'The signature does not verify.');
		}
		const deviceId = userIdFromPublicKey(device);
		if (deviceId === userId) {
			throw new AuthError(400, 'bad_request', 'A linked device needs a key of its own.');
		}
		const expires = now + this.#linkTtlMs;
		return this.#db.transaction(() => {
			this.#db.prepare('DELETE FROM device_links WHERE expires_at <= ?').run(now);
			this.#db
				.prepare(
					'DELETE FROM devices WHERE last_seen_at IS NULL AND revoked_at IS NULL AND pending_until <= ?'
				)
				.run(now);
			const open = this.#db
				.prepare('SELECT count(*) AS n FROM device_links WHERE user_id = ?')
				.get(userId) as { n: number };
			if (open.n >= MAX_OPEN_LINKS) {
				throw new AuthError(429, 'too_many_links', 'Too many open links: wait for one to expire.');
			}
			if (this.#row(userId, deviceId) !== undefined || this.#linkExists(id)) {
				throw new AuthError(409, 'exists', 'This link or device key is already registered.');
			}
			this.#db
				.prepare(
					`INSERT INTO devices (user_id, device_id, public_key, created_at, pending_until)
					 VALUES (?, ?, ?, ?, ?)`
				)
				.run(userId, deviceId, deviceKey, now, expires);
			this.#db
				.prepare(
					'INSERT INTO device_links (id, user_id, device_id, ciphertext, expires_at) VALUES (?, ?, ?, ?, ?)'
				)
				.run(id, userId, deviceId, ciphertext, expires);
			return { id, expires_at: expires };
		})();
	}

	#linkExists(id: string): boolean {
		return this.#db.prepare('SELECT 1 FROM device_links WHERE id = ?').get(id) !== undefined;
	}

	/** The ciphertext of a link, once: it is deleted as it is read. */
	claimLink(id: unknown, now = Date.now()): { ciphertext: string } {
		const gone = new AuthError(
			404,
			'link_gone',
			'This link was already used or has expired: show a new one on your other device.'
		);
		if (typeof id !== 'string' || !LINK_ID.test(id)) throw gone;
		return this.#db.transaction(() => {
			const row = this.#db
				.prepare('SELECT user_id, device_id, ciphertext, expires_at FROM device_links WHERE id = ?')
				.get(id) as
				{ user_id: string; device_id: string; ciphertext: string; expires_at: number } | undefined;
			this.#db.prepare('DELETE FROM device_links WHERE id = ?').run(id);
			if (!row || row.expires_at <= now) throw gone;
			this.#db
				.prepare(
					`UPDATE devices SET pending_until = max(pending_until, ?)
					 WHERE user_id = ? AND device_id = ? AND last_seen_at IS NULL`
				)
				.run(now + FIRST_SIGN_IN_GRACE_MS, row.user_id, row.device_id);
			return { ciphertext: row.ciphertext };
		})();
	}

	/**
	 * Signs a device out for good. The identity device may sign out any other device; any
	 * device may sign out itself; nobody signs out the identity device (its key is the person).
	 */
	revoke(userId: string, byDevice: string | null, deviceId: unknown, now = Date.now()): void {
		const unknown = new AuthError(404, 'unknown_device', 'You have no such device.');
		if (typeof deviceId !== 'string' || !Patterns.userId.test(deviceId)) throw unknown;
		const row = this.#row(userId, deviceId);
		if (!row || row.revoked_at !== null) throw unknown;
		if (deviceId === userId) {
			throw new AuthError(
				403,
				'identity_device',
				'This device holds your identity key: it cannot be signed out from another device.'
			);
		}
		if (byDevice !== userId && byDevice !== deviceId) {
			throw new AuthError(
				403,
				'not_identity_device',
				'Only the device that holds your identity key can sign out other devices.'
			);
		}
		this.#db.transaction(() => {
			this.#db
				.prepare('UPDATE devices SET revoked_at = ? WHERE user_id = ? AND device_id = ?')
				.run(now, userId, deviceId);
			this.#db
				.prepare('DELETE FROM device_links WHERE user_id = ? AND device_id = ?')
				.run(userId, deviceId);
		})();
	}
}
