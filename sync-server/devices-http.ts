/**
 * The devices endpoints (docs/PROTOCOL.md, "Devices"), on the relay's HTTP server:
 *
 *   GET  /devices                 (Bearer)  → { devices: DeviceInfo[], current }
 *   POST /devices/links           (Bearer)  { id, identity_key, device_key, signature, ciphertext }
 *                                           → { id, expires_at }
 *   POST /devices/links/<id>/claim          → { ciphertext } once, then 404 link_gone
 *   POST /devices/<id>/revoke     (Bearer)  → { revoked: id }; the device's sockets close (4411)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError, type Auth } from './auth.ts';
import type { Connections } from './connection.ts';
import type { Devices } from './devices.ts';
import { bearer, json, readJson } from './http-json.ts';
import type { Logger } from './log.ts';
import { CloseCode } from './protocol.ts';

export async function handleDevices(
	req: IncomingMessage,
	res: ServerResponse,
	path: string,
	deps: { auth: Auth; devices: Devices; connections: Connections; log: Logger }
): Promise<void> {
	const { auth, devices, connections, log } = deps;
	try {
		const claim = /^\/devices\/links\/([^/]+)\/claim$/.exec(path);
		if (claim) {
			if (req.method !== 'POST') throw new AuthError(405, 'method', 'Use POST.');
			return json(res, 200, devices.claimLink(claim[1]));
		}
		const me = auth.authenticateDevice(bearer(req));
		if (me === null) throw new AuthError(401, 'unauthorized', 'A member token is required.');
		if ('revoked' in me) {
			throw new AuthError(403, 'device_revoked', 'This device was signed out from another device.');
		}
		if (path === '/devices') {
			if (req.method !== 'GET') throw new AuthError(405, 'method', 'Use GET.');
			return json(res, 200, { devices: devices.list(me.user), current: me.device });
		}
		if (req.method !== 'POST') throw new AuthError(405, 'method', 'Use POST.');
		const body = await readJson(req);
		if (path === '/devices/links') return json(res, 200, devices.createLink(me.user, body));
		const revoke = /^\/devices\/([^/]+)\/revoke$/.exec(path);
		if (revoke) {
			const id = revoke[1]!;
			devices.revoke(me.user, me.device, id);
			// Its open connections go now, not when their token would have expired.
			let closed = 0;
			for (const entry of connections.docs.docs.values()) {
				for (const conn of [...entry.conns]) {
					if (conn.user === me.user && conn.device === id) {
						connections.docs.close(conn, CloseCode.deviceRevoked, 'device signed out');
						closed++;
					}
				}
			}
			log.info({ user: me.user, device: id, closed }, 'device signed out');
			return json(res, 200, { revoked: id });
		}
		throw new AuthError(404, 'not_found', 'Unknown devices endpoint.');
	} catch (err) {
		if (err instanceof AuthError)
			return json(res, err.status, { error: err.code, message: err.message });
		throw err;
	}
}
