/**
 * HTTP: the built app (build/, every unknown path answered 200 with index.html, as an SPA
 * needs), `GET /healthz`, `GET /metrics`, the auth endpoints, the blob store (`/blobs/…`,
 * blobs.ts), and the WebSocket upgrade on `/sync/<doc-name>`.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import { AuthError, type Auth } from './auth.ts';
import { handleBlobRequest, type BlobStore } from './blobs.ts';
import type { Config } from './config.ts';
import type { Connections } from './connection.ts';
import type { Docs } from './docs.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { handleDevices } from './devices-http.ts';
import type { Devices } from './devices.ts';
import { json, readJson } from './http-json.ts';

const TYPES: Record<string, string> = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.json': 'application/json',
	'.webmanifest': 'application/manifest+json',
	'.svg': 'image/svg+xml',
	'.png': 'image/png',
	'.ico': 'image/x-icon',
	'.woff2': 'font/woff2',
	'.txt': 'text/plain; charset=utf-8',
	'.wasm': 'application/wasm'
};

export function createHttpServer(deps: {
	config: Config;
	auth: Auth;
	connections: Connections;
	metrics: Metrics;
	log: Logger;
	healthy: () => boolean;
	devices: Devices;
	blobs: { store: BlobStore; docs: Docs };
}): { server: Server; wss: WebSocketServer } {
	const { config, auth, connections, metrics, log } = deps;
	const wss = new WebSocketServer({
		noServer: true,
		maxPayload: config.maxFrameBytes,
		perMessageDeflate: false
	});
	wss.on('error', (err) => log.error({ err }, 'websocket server error'));

	function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string): void {
		const root = config.buildDir;
		const index = join(root, 'index.html');
		if (!config.serveApp || !existsSync(index)) {
			res.writeHead(404, { 'content-type': 'text/plain' });
			res.end('The app is not built (run npm start, or npm run build).\n');
			return;
		}
		let file = normalize(join(root, decodeURIComponent(pathname)));
		if (!file.startsWith(root + sep) && file !== root) file = index;
		let stat = existsSync(file) ? statSync(file) : null;
		if (stat?.isDirectory()) {
			file = join(file, 'index.html');
			stat = existsSync(file) ? statSync(file) : null;
		}
		if (!stat?.isFile()) {
			file = index;
			stat = statSync(file);
		}
		const immutable = pathname.startsWith('/_app/immutable/');
		res.writeHead(200, {
			'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
			'content-length': stat.size,
			'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
			'x-content-type-options': 'nosniff'
		});
		if (req.method === 'HEAD') {
			res.end();
			return;
		}
		createReadStream(file)
			.on('error', () => res.destroy())
			.pipe(res);
	}

	async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://relay');
		const path = url.pathname;
		if (path === '/healthz') return json(res, deps.healthy() ? 200 : 503, { ok: deps.healthy() });
		if (path === '/metrics') {
			res.writeHead(200, { 'content-type': metrics.registry.contentType });
			res.end(await metrics.registry.metrics());
			return;
		}
		if (path.startsWith('/auth/')) {
			if (req.method !== 'POST') return json(res, 405, { error: 'method', message: 'Use POST.' });
			try {
				const body = await readJson(req);
				if (path === '/auth/challenge') return json(res, 200, auth.challenge());
				if (path === '/auth/session') {
					const session = auth.session(body);
					if (session.joined) log.info({ user: session.user_id }, 'user joined the workspace');
					return json(res, 200, session);
				}
				if (path === '/auth/invite') {
					const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
					const user = auth.authenticate(bearer);
					if (!user) throw new AuthError(401, 'unauthorized', 'A member token is required.');
					const uses = (body as { uses?: unknown }).uses;
					const invite = auth.createInvite(user, typeof uses === 'number' ? uses : 1);
					const base = config.publicUrl || `http://${req.headers.host ?? 'localhost'}`;
					return json(res, 200, { ...invite, url: `${base}/?invite=${invite.code}` });
				}
				return json(res, 404, { error: 'not_found', message: 'Unknown auth endpoint.' });
			} catch (err) {
				if (err instanceof AuthError)
					return json(res, err.status, { error: err.code, message: err.message });
				throw err;
			}
		}
		if (path === '/devices' || path.startsWith('/devices/'))
			return handleDevices(req, res, path, deps);
		if (path.startsWith('/blobs/'))
			return handleBlobRequest({ ...deps.blobs, auth, log }, req, res, url);
		if (path.startsWith('/sync'))
			return json(res, 426, { error: 'upgrade', message: 'Connect with a WebSocket.' });
		if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method' });
		serveStatic(req, res, path);
	}

	const server = createServer((req, res) => {
		handle(req, res).catch((err: unknown) => {
			log.error({ err }, 'http handler failed');
			if (!res.headersSent) json(res, 500, { error: 'internal' });
			else res.destroy();
		});
	});
	server.on('clientError', (_err, socket) => socket.destroy());
	server.on('upgrade', (req, socket, head) => {
		socket.on('error', () => socket.destroy());
		const path = new URL(req.url ?? '/', 'http://relay').pathname;
		if (!path.startsWith('/sync/')) {
			socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
			return;
		}
		wss.handleUpgrade(req, socket, head, (ws) => connections.accept(ws, req));
	});
	return { server, wss };
}
