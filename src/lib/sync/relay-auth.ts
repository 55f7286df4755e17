/**
 * Getting a session token from the relay (docs/PROTOCOL.md, "Authentication"): ask for a
 * single-use challenge, sign it with the device key, receive a short-lived token to pass as the
 * `token` query parameter of `ws://…/sync/<doc-name>`. Uses only `fetch`, so it runs in Node
 * 20 and in browsers.
 */
import { authMessage, toBase64Url } from '../model/identity';
import { holdsIdentityKey, sign, type DeviceKeyPair } from './identity';

export interface SessionToken {
	token: string;
	userId: string;
	/** Milliseconds since the epoch. */
	expiresAt: number;
}

/** The relay refused: `status` is the HTTP status, `code` the relay's error code. */
export class RelayAuthError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string
	) {
		super(message);
		this.name = 'RelayAuthError';
	}
}

export interface SessionOptions {
	/** An invite code, needed to join an invite-only workspace the first time. */
	invite?: string;
	/** Ask for a shorter lifetime than the relay's default, in seconds. */
	ttlSeconds?: number;
	/** How the person's device list names this device (e.g. "Chrome on Linux"). */
	deviceName?: string;
	fetch?: typeof fetch;
}

/** A JSON request to the relay; a refusal throws {@link RelayAuthError}. */
export async function post<T>(
	f: typeof fetch,
	url: string,
	body: unknown,
	token?: string,
	method = 'POST'
): Promise<T> {
	const headers: Record<string, string> = { 'content-type': 'application/json' };
	if (token) headers.authorization = `Bearer ${token}`;
	const res = await f(url, {
		method,
		headers,
		...(method === 'GET' ? {} : { body: JSON.stringify(body) })
	});
	const json = (await res.json().catch(() => ({}))) as {
		error?: string;
		message?: string;
	} & T;
	if (!res.ok) {
		throw new RelayAuthError(
			res.status,
			json.error ?? 'http_error',
			json.message ?? res.statusText
		);
	}
	return json;
}

/** `http(s)://host:port` for a relay address given as http(s):// or ws(s)://. */
export function httpBase(relay: string): string {
	const url = new URL(relay);
	if (url.protocol === 'ws:') url.protocol = 'http:';
	if (url.protocol === 'wss:') url.protocol = 'https:';
	return url.origin;
}

/**
 * A session token for this device.
 *
 * @example
 * const { token } = await getSessionToken('http://localhost:8787', me)
 * new WebsocketProvider('ws://localhost:8787/sync', 'workspace', doc, { params: { token } })
 */
export async function getSessionToken(
	relay: string,
	pair: DeviceKeyPair,
	options: SessionOptions = {}
): Promise<SessionToken> {
	const f = options.fetch ?? fetch;
	const base = httpBase(relay);
	const { challenge } = await post<{ challenge: string }>(f, `${base}/auth/challenge`, {});
	const publicKey = toBase64Url(pair.publicKey);
	const signature = toBase64Url(sign(pair, authMessage(challenge, publicKey)));
	const body: Record<string, unknown> = { public_key: publicKey, challenge, signature };
	// A linked device signs with its own key and names its person (docs/PROTOCOL.md, "Devices").
	if (!holdsIdentityKey(pair)) body.user_id = pair.userId;
	if (options.deviceName) body.device_name = options.deviceName;
	if (options.invite) body.invite = options.invite;
	if (options.ttlSeconds) body.ttl_s = options.ttlSeconds;
	const res = await post<{ token: string; user_id: string; expires_at: number }>(
		f,
		`${base}/auth/session`,
		body
	);
	return { token: res.token, userId: res.user_id, expiresAt: res.expires_at };
}

/** Makes an invite code (and link) that lets one more person join the workspace. */
export async function createInvite(
	relay: string,
	token: string,
	options: { uses?: number; fetch?: typeof fetch } = {}
): Promise<{ code: string; url: string; expiresAt: number }> {
	const res = await post<{ code: string; url: string; expires_at: number }>(
		options.fetch ?? fetch,
		`${httpBase(relay)}/auth/invite`,
		{ uses: options.uses ?? 1 },
		token
	);
	return { code: res.code, url: res.url, expiresAt: res.expires_at };
}

/**
 * Close codes after which reconnecting with the same token cannot succeed (docs/PROTOCOL.md):
 * a client should get a new token (4401) or stop (the others) rather than retry in a loop.
 */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([4401, 4403, 4404, 4410, 4411, 4422]);
