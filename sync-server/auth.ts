/**
 * Authentication (docs/PROTOCOL.md, "Authentication"):
 *
 * 1. `POST /auth/challenge` → a random single-use challenge, valid CHALLENGE_TTL_S.
 * 2. The device signs `authMessage(challenge, publicKey)` with its Ed25519 key and posts
 *    `{ public_key, challenge, signature, invite? }` to `/auth/session`. The relay consumes the
 *    challenge first (so a replayed response fails), verifies the signature, derives the user
 *    id from the key, admits the user to the workspace (open join, an invite, or already a
 *    member) and answers with a session token.
 * 3. The token goes in the `token` query parameter of `ws://…/sync/<doc-name>`.
 *
 * Token: `base64url(JSON payload) "." base64url(HMAC-SHA256(secret, payload))`, payload
 * `{ v: 1, sub: userId, dev?: deviceId, iat, exp }` (seconds). A linked device (devices.ts)
 * signs with its own device key and names its person in `user_id`; `dev` lets the relay
 * refuse a revoked device's tokens. The secret is 32 random bytes generated into
 * DATA_DIR/secret.key (mode 0600); deleting it revokes every token.
 */
import { createHmac, createPublicKey, randomBytes, timingSafeEqual, verify } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
	authMessage,
	fromBase64Url,
	PUBLIC_KEY_BYTES,
	SIGNATURE_BYTES,
	toBase64Url,
	userIdFromPublicKey,
	Patterns
} from '../src/lib/model/index.ts';
import type { Store } from './store.ts';

export class AuthError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string
	) {
		super(message);
	}
}

/** Reads DATA_DIR/secret.key, creating it (0600) on first start. */
export function loadSecret(dataDir: string): Buffer {
	mkdirSync(dataDir, { recursive: true, mode: 0o700 });
	const file = join(dataDir, 'secret.key');
	if (!existsSync(file)) {
		// 'wx': never overwrite a secret another process created in between.
		try {
			writeFileSync(file, randomBytes(32).toString('base64url') + '\n', {
				mode: 0o600,
				flag: 'wx'
			});
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
		}
	}
	const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
	if (secret.length < 32) throw new Error(`${file} is damaged: expected 32 random bytes.`);
	return secret;
}

export interface TokenPayload {
	v: 1;
	sub: string;
	/** The device the token was issued to (absent on operator tokens). */
	dev?: string;
	iat: number;
	exp: number;
}

export function signToken(
	secret: Buffer,
	userId: string,
	ttlS: number,
	now = Date.now(),
	deviceId?: string
): string {
	const iat = Math.floor(now / 1000);
	const payload: TokenPayload = {
		v: 1,
		sub: userId,
		...(deviceId ? { dev: deviceId } : {}),
		iat,
		exp: iat + ttlS
	};
	const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
	const mac = createHmac('sha256', secret).update(body).digest('base64url');
	return `${body}.${mac}`;
}

/** The user id of a valid, unexpired token, or null. */
export function verifyToken(secret: Buffer, token: unknown, now = Date.now()): string | null {
	return verifyTokenClaims(secret, token, now)?.user ?? null;
}

/** The user and device of a valid, unexpired token, or null. */
export function verifyTokenClaims(
	secret: Buffer,
	token: unknown,
	now = Date.now()
): { user: string; device: string | null } | null {
	if (typeof token !== 'string' || token.length > 512) return null;
	const dot = token.indexOf('.');
	if (dot <= 0) return null;
	const body = token.slice(0, dot);
	const mac = Buffer.from(token.slice(dot + 1), 'base64url');
	const expected = createHmac('sha256', secret).update(body).digest();
	if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return null;
	try {
		const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<TokenPayload>;
		if (p.v !== 1 || typeof p.sub !== 'string' || !Patterns.userId.test(p.sub)) return null;
		if (typeof p.exp !== 'number' || p.exp * 1000 <= now) return null;
		const device = typeof p.dev === 'string' && Patterns.userId.test(p.dev) ? p.dev : null;
		return { user: p.sub, device };
	} catch {
		return null;
	}
}

export function verifyEd25519(
	publicKey: Uint8Array,
	message: Uint8Array,
	signature: Uint8Array
): boolean {
	try {
		const key = createPublicKey({
			key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) },
			format: 'jwk'
		});
		return verify(null, message, key, signature);
	} catch {
		return false;
	}
}

const MAX_OPEN_CHALLENGES = 10_000;

/**
 * Where open challenges wait for their answer. In memory by default; shared through the
 * database when several relays serve one address (a challenge asked of one relay may be
 * answered to another: cluster/pg-store.ts).
 */
export interface Challenges {
	/** Records a new challenge; false when too many are open. */
	add(challenge: string, expires: number, now: number): boolean;
	/** Removes a challenge and returns its expiry (ms), or undefined when unknown or used. */
	take(challenge: string): number | undefined;
}

/** The device registry's part in signing in (devices.ts; null: devices are not tracked). */
export interface DeviceHooks {
	/** The device id of a linked device key of `userId`; throws AuthError when refused. */
	resolveLinked(userId: string, publicKey: string, now: number): string;
	/** Records a successful sign-in (registers the identity key's own device on first use). */
	recordSignIn(
		userId: string,
		deviceId: string,
		publicKey: string,
		name: string,
		now: number
	): void;
	isRevoked(userId: string, deviceId: string): boolean;
	/** Notes that a device is in use (a connection opened). */
	touch?(userId: string, deviceId: string): void;
}

class MemoryChallenges implements Challenges {
	/** challenge → expiry (ms). Single use: deleted when presented. */
	readonly #open = new Map<string, number>();
	add(challenge: string, expires: number, now: number): boolean {
		if (this.#open.size >= MAX_OPEN_CHALLENGES) {
			for (const [c, exp] of this.#open) if (exp <= now) this.#open.delete(c);
			if (this.#open.size >= MAX_OPEN_CHALLENGES) return false;
		}
		this.#open.set(challenge, expires);
		return true;
	}
	take(challenge: string): number | undefined {
		const expires = this.#open.get(challenge);
		this.#open.delete(challenge);
		return expires;
	}
}

export class Auth {
	devices: DeviceHooks | null = null;

	constructor(
		readonly secret: Buffer,
		readonly storage: Store,
		readonly options: {
			joinMode: 'open' | 'invite';
			tokenTtlS: number;
			challengeTtlS: number;
			inviteTtlS: number;
		},
		readonly challenges: Challenges = new MemoryChallenges()
	) {}

	challenge(now = Date.now()): { challenge: string; expires_at: number } {
		const challenge = randomBytes(24).toString('base64url');
		const expires = now + this.options.challengeTtlS * 1000;
		if (!this.challenges.add(challenge, expires, now)) {
			throw new AuthError(503, 'busy', 'Too many open challenges; retry in a minute.');
		}
		return { challenge, expires_at: expires };
	}

	/** Checks a signed challenge and returns a session token (see the module comment). */
	session(
		body: unknown,
		now = Date.now()
	): { token: string; user_id: string; expires_at: number; joined: boolean } {
		const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
		const { challenge, public_key, signature, invite, ttl_s, user_id, device_name } = b;
		if (
			typeof challenge !== 'string' ||
			typeof public_key !== 'string' ||
			typeof signature !== 'string'
		) {
			throw new AuthError(400, 'bad_request', 'Expected { public_key, challenge, signature }.');
		}
		// Consumed before anything else: a response can be presented once, right or wrong.
		const expires = this.challenges.take(challenge);
		if (expires === undefined || expires <= now) {
			throw new AuthError(
				401,
				'bad_challenge',
				'Unknown, used or expired challenge; ask for a new one.'
			);
		}
		const key = fromBase64Url(public_key);
		const sig = fromBase64Url(signature);
		if (!key || key.length !== PUBLIC_KEY_BYTES || !sig || sig.length !== SIGNATURE_BYTES) {
			throw new AuthError(
				400,
				'bad_request',
				'public_key and signature must be base64url Ed25519 values.'
			);
		}
		if (!verifyEd25519(key, authMessage(challenge, public_key), sig)) {
			throw new AuthError(401, 'bad_signature', 'The signature does not verify.');
		}
		const derived = userIdFromPublicKey(key);
		// A linked device's key is its own: it names its person, and devices.ts vouches for it.
		const linked = typeof user_id === 'string' && user_id !== derived ? user_id : null;
		if (linked !== null && (!Patterns.userId.test(linked) || !this.devices)) {
			throw new AuthError(
				400,
				'bad_request',
				'user_id does not name a person with linked devices.'
			);
		}
		const userId = linked ?? derived;
		const deviceId =
			linked !== null ? this.devices!.resolveLinked(linked, public_key, now) : derived;
		let joined = false;
		if (!this.storage.isMember(userId)) {
			if (linked !== null) {
				throw new AuthError(
					403,
					'invite_required',
					'This person no longer belongs to the workspace.'
				);
			} else if (this.options.joinMode === 'open') {
				this.storage.addMember(userId, public_key, 'open');
			} else if (
				typeof invite === 'string' &&
				invite.length <= 128 &&
				this.storage.useInvite(invite, now)
			) {
				this.storage.addMember(userId, public_key, `invite:${invite.slice(0, 6)}`);
			} else {
				throw new AuthError(
					403,
					'invite_required',
					'This workspace is invite-only: ask a member for an invite link.'
				);
			}
			joined = true;
		}
		const ttl =
			typeof ttl_s === 'number' && ttl_s >= 1
				? Math.min(Math.floor(ttl_s), this.options.tokenTtlS)
				: this.options.tokenTtlS;
		const name = typeof device_name === 'string' ? device_name : '';
		this.devices?.recordSignIn(userId, deviceId, public_key, name, now);
		return {
			token: signToken(this.secret, userId, ttl, now, deviceId),
			user_id: userId,
			expires_at: now + ttl * 1000,
			joined
		};
	}

	/** A token for a user, without a challenge (the operator's CLI). */
	issue(userId: string, ttlS: number): string {
		return signToken(this.secret, userId, ttlS);
	}

	/** The user of a token that is valid and whose user still belongs to the workspace. */
	authenticate(token: unknown, now = Date.now()): string | null {
		const claims = this.authenticateDevice(token, now);
		return claims && !('revoked' in claims) ? claims.user : null;
	}

	/**
	 * The user and device of a valid token of a workspace member; `{ revoked: true }` when its
	 * device was signed out (devices.ts); null otherwise.
	 */
	authenticateDevice(
		token: unknown,
		now = Date.now()
	): { user: string; device: string | null } | { revoked: true } | null {
		const claims = verifyTokenClaims(this.secret, token, now);
		if (claims === null || !this.storage.isMember(claims.user)) return null;
		if (claims.device !== null && this.devices?.isRevoked(claims.user, claims.device)) {
			return { revoked: true };
		}
		return claims;
	}

	/** A new invite code, made by a member (or the operator, `createdBy` = 'operator'). */
	createInvite(
		createdBy: string,
		uses = 1,
		now = Date.now()
	): { code: string; expires_at: number } {
		const code = randomBytes(18).toString('base64url');
		const expires = now + this.options.inviteTtlS * 1000;
		this.storage.createInvite(code, createdBy, expires, Math.max(1, Math.min(uses, 1000)));
		return { code, expires_at: expires };
	}
}
